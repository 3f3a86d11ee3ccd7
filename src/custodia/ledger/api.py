"""The ledger's public endpoints (API.md, "Ledger"): hashes and proofs, no personal data."""

from __future__ import annotations

import base64
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from . import services, signing
from .models import Checkpoint, LedgerLeaf

router = Router(tags=["Libro verificable"])
MAX_LEAVES = 10_000


class LedgerError(Exception):
    def __init__(self, field: str, message: str, status: int = 400):
        super().__init__(message)
        self.field, self.message, self.status = field, message, status


def checkpoint_body(cp: Checkpoint) -> dict[str, Any]:
    return {
        "tree_size": cp.tree_size,
        "root_hash": cp.root_hash,
        "timestamp": cp.timestamp.isoformat().replace("+00:00", "Z"),
        "signature": cp.signature,
        "key_id": cp.key_id,
        "text": cp.text,
        "note": signing.Signed(
            cp.text, base64.b64decode(cp.signature), bytes.fromhex(cp.key_id)
        ).note(cp.text.split("\n")[0]),
    }


def _latest() -> Checkpoint:
    cp = Checkpoint.objects.order_by("-id").first()
    if cp is None:
        raise LedgerError("", "Aún no hay puntos de control firmados.", 404)
    return cp


@router.get("/ledger/checkpoint", summary="Último punto de control firmado")
def checkpoint(request: HttpRequest) -> Any:
    return checkpoint_body(_latest())


@router.get("/ledger/key", summary="Clave pública de los puntos de control")
def key(request: HttpRequest) -> Any:
    try:
        public_key = signing.load_private().public_key()
    except signing.KeyMissing as error:
        raise LedgerError("", "El servidor aún no tiene llave de firma.", 404) from error
    raw = signing.raw_public(public_key)
    origin = settings.CUSTODIA_LEDGER_ORIGIN
    return {
        "algorithm": "Ed25519",
        "origin": origin,
        "key_id": signing.key_id(origin, raw).hex(),
        "public_key_base64": base64.b64encode(raw).decode(),
        "public_key_pem": signing.public_pem(public_key),
    }


class LeafRange(Schema):
    start: int = Field(ge=0)
    end: int = Field(ge=1)


@router.get("/ledger/leaves", summary="Hashes de hojas (máximo 10 000 por llamada)")
def leaves(request: HttpRequest, q: Query[LeafRange]) -> Any:
    size = services.tree_size()
    if q.end <= q.start:
        raise LedgerError("end", "end debe ser mayor que start.")
    if q.end - q.start > MAX_LEAVES:
        raise LedgerError("end", f"Se piden como máximo {MAX_LEAVES} hojas por llamada.")
    if q.end > size:
        raise LedgerError("end", f"El libro tiene {size} hojas.")
    rows = LedgerLeaf.objects.filter(index__gte=q.start, index__lt=q.end).order_by("index")
    return {
        "leaves": [{"index": i, "leaf_hash": h} for i, h in rows.values_list("index", "leaf_hash")]
    }


class InclusionQuery(Schema):
    index: int = Field(ge=0)
    tree_size: int = Field(ge=1)


@router.get("/ledger/proof/inclusion", summary="Prueba de inclusión (RFC 6962)")
def inclusion(request: HttpRequest, q: Query[InclusionQuery]) -> Any:
    size = services.tree_size()
    if q.tree_size > size:
        raise LedgerError("tree_size", f"El libro tiene {size} hojas.")
    if q.index >= q.tree_size:
        raise LedgerError("index", "El índice debe ser menor que tree_size.")
    leaf, proof = services.inclusion(q.index, q.tree_size)
    return {
        "index": q.index,
        "tree_size": q.tree_size,
        "leaf_hash": leaf.hex(),
        "proof": [p.hex() for p in proof],
    }


class ConsistencyQuery(Schema):
    first: int = Field(ge=1)
    second: int = Field(ge=1)


@router.get("/ledger/proof/consistency", summary="Prueba de consistencia (RFC 6962)")
def consistency(request: HttpRequest, q: Query[ConsistencyQuery]) -> Any:
    size = services.tree_size()
    if q.second > size:
        raise LedgerError("second", f"El libro tiene {size} hojas.")
    if q.first > q.second:
        raise LedgerError("first", "first no puede ser mayor que second.")
    proof = services.consistency(q.first, q.second)
    return {"first": q.first, "second": q.second, "proof": [p.hex() for p in proof]}
