from __future__ import annotations
import json
import time
from conftest import capture, DELETE
from django.test import Client

def show(label, r):
    try:
        b = r.json()
    except Exception:
        b = r.content[:200]
    print("\n###", label, r.status_code, json.dumps(b, ensure_ascii=False)[:300] if not isinstance(b, bytes) else b)

def test_probe(api: Client, officer, db) -> None:
    api.raise_request_exception = False
    p = lambda b: api.post("/api/v1/detentions", b, content_type="application/json")
    show("dt int", p(capture(detained_at=int(time.time()) - 600)))
    show("dt float", p(capture(detained_at=time.time() - 600)))
    show("dt numeric string", p(capture(detained_at=str(int(time.time()) - 600))))
    show("birth int", p(capture(person__birth_date=508464000)))
    show("officers none", p(capture(officers=[None])))
    show("officers str", p(capture(officers=["Pedro"])))
    show("contact empty", p(capture(contact={})))
    show("age float", p(capture(person__age=40.5)))
    show("age str", p(capture(person__age="40")))
    show("force 1", p(capture(force_used=1)))
    show("force yes", p(capture(force_used="yes")))
    show("name int", p(capture(person__given_names=123)))
    show("newline name", p(capture(person__given_names="Juan\nCarlos")))
    show("bom", api.post("/api/v1/detentions", b"\xef\xbb\xbf" + json.dumps(capture()).encode(), content_type="application/json"))
    show("dup keys", api.post("/api/v1/detentions", b'{"a":1,"a":2}', content_type="application/json"))
    show("deep", api.post("/api/v1/detentions", b"[" * 100000 + b"]" * 100000, content_type="application/json"))
