from __future__ import annotations
import json
from typing import Any
from conftest import DELETE, capture, CURP
from django.test import Client
from django.core.management import call_command
from django.core.management.base import CommandError

def post(api: Client, body: Any, ct: str = "application/json", **h: str) -> Any:
    return api.post("/api/v1/detentions", body, content_type=ct, headers=h)

def show(label, r):
    try:
        b = r.json()
    except Exception:
        b = r.content[:300]
    print("\n###", label, r.status_code, json.dumps(b, ensure_ascii=False)[:600] if not isinstance(b, bytes) else b)

def test_probe(api: Client, officer, db) -> None:
    show("age bool nobirth", post(api, capture(person__age=True, person__birth_date=DELETE, person__curp=DELETE, receiving_authority__kind="child_protection", receiving_authority__institution=DELETE)))
    show("curp chk", post(api, capture(person__curp=CURP[:-1] + "1")))
    show("curp fmt", post(api, capture(person__curp="ABC")))
    show("curp birth", post(api, capture(person__birth_date="1986-02-12")))
    show("curp sex", post(api, capture(person__sex="female")))
    show("state", post(api, capture(place__state="99", place__municipality=DELETE)))
    show("muni", post(api, capture(place__municipality="29999")))
    show("muni other", post(api, capture(place__municipality="08037")))
    show("coords", post(api, capture(place__latitude=40.7, place__longitude=-74.0)))
    show("only lat", post(api, capture(place__longitude=DELETE)))
    show("officers empty", post(api, capture(officers=[])))
    show("admin prosecutor", post(api, capture(arrest_basis="administrative")))
    show("age16", post(api, capture(person__age=16, person__birth_date=DELETE, person__curp=DELETE)))
    show("unk inst", post(api, capture(receiving_authority__institution="no-existe")))
    show("age130", post(api, capture(person__age=130, person__birth_date=DELETE, person__curp=DELETE)))
    show("future", post(api, capture(detained_at="2999-01-01T10:00:00-06:00")))
    show("before", post(api, capture(detained_at="2019-05-27T10:00:00-05:00")))
    show("top unknown", post(api, capture(folio="x")))
    show("missing person", post(api, capture(person=DELETE, officers=DELETE)))
    show("no auth", Client().post("/api/v1/detentions", capture(), content_type="application/json"))
    show("basic auth", Client(headers={"Authorization": "Basic dXNlcjpwYXNz"}).post("/api/v1/detentions", capture(), content_type="application/json"))
    show("bearer empty", Client(headers={"Authorization": "Bearer "}).post("/api/v1/detentions", capture(), content_type="application/json"))
    show("bearer long", Client(headers={"Authorization": "Bearer " + "x"*500}).post("/api/v1/detentions", capture(), content_type="application/json"))
    show("bearer nonascii", Client(headers={"Authorization": "Bearer ñandú"}).post("/api/v1/detentions", capture(), content_type="application/json"))
    show("multipart", api.post("/api/v1/detentions", {"person.given_names": "Juan"}))
    c = Client(); c.force_login(officer)
    r = c.post("/detenciones/nueva/", {})
    print("FORM EMPTY", r.status_code, dict(r.context["errors"]) if r.context else r.content[:300])
    r = c.post("/detenciones/nueva/", {"person.age": "treinta", "place.latitude": "abc", "detained_at": "ayer", "place.longitude": "1e999", "person.birth_date": "31/02/2020"})
    print("FORM GARBAGE", r.status_code, dict(r.context["errors"]) if r.context else r.content[:300])
    r = c.post("/detenciones/nueva/", {"person.age": "nan", "place.latitude": "nan", "place.longitude": "inf", "detained_at": "2020-02-30T25:61", "place.state": "\x00", "place.municipality": "0"*10})
    print("FORM GARBAGE2", r.status_code, dict(r.context["errors"]) if r.context else r.content[:300])
    r = c.post("/detenciones/nueva/", {"person.given_names": "Juan", "person.first_surname": "X", "person.sex": "male", "person.age": "30", "detained_at": "2020-06-30T14:05", "place.state": "29", "place.municipality": "29033", "arrest_basis": "flagrante", "reason": "robo", "officers[0].name": "Pedro", "receiving_authority.kind": "public_prosecutor", "receiving_authority.name": "MP"})
    print("FORM OK", r.status_code, r.get("Location"), dict(r.context["errors"]) if r.context else "")
    for args, kw in [
        (("institution", "create", "bad code!"), dict(name="X", kind="police_state", state="29")),
        (("institution", "create", "ok-code"), dict(name="X", kind="police_state", state="99")),
        (("institution", "create", "ok-code"), dict(name="X", kind="police_state")),
        (("institution", "create", "ok-code"), dict(name="   ", kind="police_state", state="29")),
        (("institution", "create", "ssc-tlax"), dict(name="X", kind="police_state", state="29")),
        (("institution", "create", "ok-code"), dict(name="X", kind="police_state", state="29", municipality="08037")),
        (("user", "create", "nuevo"), dict(role="capture", institution="no-existe")),
        (("user", "create", "mal usuario!"), dict(role="capture", institution="ssc-tlax")),
        (("user", "create", officer.username), dict(role="capture", institution="ssc-tlax")),
        (("token", "create", "fantasma"), {}),
        (("institution", "create", "ok-code"), dict(name="X", kind="comisaria", state="29")),
    ]:
        try:
            call_command(*args, **kw)
            print("NO ERROR", args, kw)
        except CommandError as e:
            print("CMDERR", args, repr(str(e)))
        except Exception as e:
            print("OTHER", args, type(e), e)
