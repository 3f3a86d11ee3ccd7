from __future__ import annotations
import json
from typing import Any
from urllib.parse import quote
from conftest import DELETE, capture, CURP
from django.test import Client

def show(label, r):
    try:
        b = r.json()
    except Exception:
        b = r.content[:200]
    print("\n###", label, r.status_code, json.dumps(b, ensure_ascii=False)[:400] if not isinstance(b, bytes) else b)

def test_probe(api: Client, officer, db) -> None:
    api.raise_request_exception = False
    for q in ["from=" + quote("0001-01-01T00:00:00+05:00"), "to=" + quote("9999-12-31T23:59:59-05:00"),
              "from=" + quote("9999-12-31T23:59:59-05:00"), "institution=%00", "state=%00", "status=%00", "cursor=%00",
              "cursor=" + __import__("base64").urlsafe_b64encode(json.dumps(["9999-12-31T23:59:59-05:00", 1]).encode()).decode(),
              "cursor=" + __import__("base64").urlsafe_b64encode(json.dumps(["2020-01-01T00:00:00", 1]).encode()).decode(),
              "cursor=" + __import__("base64").urlsafe_b64encode(json.dumps(["2020-01-01T00:00:00Z", 10**30]).encode()).decode(),
              "cursor=" + __import__("base64").urlsafe_b64encode(json.dumps([1, 2]).encode()).decode(),
              "cursor=" + __import__("base64").urlsafe_b64encode(json.dumps({"a": 1}).encode()).decode(),
              "cursor=" + __import__("base64").urlsafe_b64encode(json.dumps(["2020-01-01T00:00:00Z", 1, 3]).encode()).decode(),
              "cursor=" + __import__("base64").urlsafe_b64encode(json.dumps(["2020-01-01T00:00:00Z", None]).encode()).decode(),
              "cursor=" + __import__("base64").urlsafe_b64encode(json.dumps(["2020-01-01T00:00:00Z", 1.5e300]).encode()).decode(),
              "cursor=" + __import__("base64").urlsafe_b64encode(json.dumps(["2020-01-01T00:00:00Z", "NaN"]).encode()).decode(),
              "cursor=" + __import__("base64").urlsafe_b64encode(b"[\"2020-01-01T00:00:00Z\", NaN]").decode(),
              "cursor=" + __import__("base64").urlsafe_b64encode(b"[\"2020-01-01T00:00:00Z\", Infinity]").decode(),
              ]:
        show("list " + q, api.get("/api/v1/detentions?" + q))
    show("events bad", api.get("/api/v1/detentions/xx/events"))
    c = Client(raise_request_exception=False); c.force_login(officer)
    for q in ["to=9999-12-31", "from=0001-01-01", "from=9999-12-31", "state=%00", "folio=%00", "cursor=zzz", "institution=%00"]:
        r = c.get("/detenciones/?" + q)
        print("WEBLIST", q, r.status_code, r.context["problems"] if r.context and "problems" in r.context else "")
    r = c.get("/detenciones/NOPE/")
    print("DETAIL", r.status_code)
    r = c.post("/detenciones/nueva/", {"place.municipality": "\x00", "detained_at": "9999-12-31T23:59", "place.state": "29"})
    print("FORM 9999", r.status_code, dict(r.context["errors"]) if r.context else r.content[:300])
    r = c.post("/detenciones/nueva/", {"detained_at": "0001-01-01T00:00", "place.state": "29"})
    print("FORM 0001", r.status_code, dict(r.context["errors"]) if r.context else r.content[:300])
    r = c.post("/detenciones/nueva/", {"detained_at": "2020-06-30T14:05+25:00", "place.state": "29"})
    print("FORM offs", r.status_code, dict(r.context["errors"]) if r.context else r.content[:300])
