"""`custodia ledger verify`: an independent check of the log, local or against a remote server.

It trusts nothing the server computes: it downloads every leaf hash, rebuilds the tree itself
(merkle.StreamingRoot), checks the checkpoint's Ed25519 signature, and checks that every checkpoint
it saw before (kept under var/) is a prefix of the current tree, both directly and with the
server's consistency proof. Locally it also recomputes every leaf from the stored event.
"""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

from django.conf import settings
from tqdm import tqdm

from . import merkle, signing

PAGE = 10_000


class Source(Protocol):
    name: str

    def checkpoint(self) -> dict[str, Any]: ...
    def public_key(self) -> bytes: ...
    def leaves(self, start: int, end: int) -> list[bytes]: ...
    def consistency(self, first: int, second: int) -> list[bytes]: ...


class SourceError(Exception):
    pass


class RemoteSource:
    def __init__(self, url: str, timeout: float):
        if not url.startswith(("http://", "https://")):
            raise SourceError("La URL debe empezar con http:// o https://")
        self.base = url.rstrip("/") + "/api/v1/ledger/"
        self.name = url
        self.timeout = timeout

    def _get(self, path: str, **params: Any) -> Any:
        query = ("?" + urllib.parse.urlencode(params)) if params else ""
        try:
            with urllib.request.urlopen(self.base + path + query, timeout=self.timeout) as r:  # noqa: S310
                return json.loads(r.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            raise SourceError(f"{path}: el servidor respondió HTTP {error.code}") from error
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
            raise SourceError(f"{path}: no se pudo consultar ({error})") from error

    def checkpoint(self) -> dict[str, Any]:
        data: dict[str, Any] = self._get("checkpoint")
        return data

    def public_key(self) -> bytes:
        return base64.b64decode(self._get("key")["public_key_base64"])

    def leaves(self, start: int, end: int) -> list[bytes]:
        data = self._get("leaves", start=start, end=end)["leaves"]
        if [leaf["index"] for leaf in data] != list(range(start, end)):
            raise SourceError(f"hojas {start} a {end}: el servidor no devolvió índices contiguos")
        return [bytes.fromhex(leaf["leaf_hash"]) for leaf in data]

    def consistency(self, first: int, second: int) -> list[bytes]:
        data = self._get("proof/consistency", first=first, second=second)
        return [bytes.fromhex(h) for h in data["proof"]]


class LocalSource:
    def __init__(self) -> None:
        database = settings.DATABASES["default"]
        self.name = f"local:{database.get('HOST') or ''}:{database['NAME']}"

    def checkpoint(self) -> dict[str, Any]:
        from .api import checkpoint_body
        from .models import Checkpoint

        latest = Checkpoint.objects.order_by("-id").first()
        if latest is None:
            raise SourceError("No hay puntos de control firmados (custodia ledger checkpoint).")
        return checkpoint_body(latest)

    def public_key(self) -> bytes:
        return signing.raw_public(signing.load_private().public_key())

    def leaves(self, start: int, end: int) -> list[bytes]:
        from .models import LedgerLeaf

        rows = list(
            LedgerLeaf.objects.filter(index__gte=start, index__lt=end)
            .order_by("index")
            .values_list("index", "leaf_hash")
        )
        if [i for i, _ in rows] != list(range(start, end)):
            raise SourceError(f"hojas {start} a {end}: faltan índices (el libro tiene huecos)")
        return [bytes.fromhex(h) for _, h in rows]

    def consistency(self, first: int, second: int) -> list[bytes]:
        from .services import consistency

        return consistency(first, second)


def _state_dir(source: Source, explicit: str | None, origin: str) -> Path:
    if explicit:
        return Path(explicit)
    tag = hashlib.sha256(f"{origin}|{source.name}".encode()).hexdigest()[:16]
    return Path(settings.VAR_DIR) / "ledger-seen" / tag


def _check_signature(cp: dict[str, Any], public: bytes, origin: str) -> list[str]:
    problems = []
    text = cp["text"]
    lines = text.split("\n")
    if len(lines) < 4:
        return ["el texto del punto de control no tiene la forma origen/tamaño/raíz"]
    if lines[1] != str(cp["tree_size"]):
        problems.append("el tamaño del texto firmado no coincide con tree_size")
    if base64.b64decode(lines[2]).hex() != cp["root_hash"]:
        problems.append("la raíz del texto firmado no coincide con root_hash")
    if not signing.verify(text, base64.b64decode(cp["signature"]), public):
        problems.append("la firma Ed25519 del punto de control NO es válida")
    if signing.key_id(lines[0], public).hex() != cp["key_id"]:
        problems.append("el identificador de la llave no corresponde a la clave pública")
    return problems


def _pages(source: Source, size: int, out: TextIO) -> Iterator[list[bytes]]:
    with tqdm(total=size, desc="Hojas", unit="hoja", file=out, disable=None) as bar:
        for start in range(0, size, PAGE):
            batch = source.leaves(start, min(start + PAGE, size))
            bar.update(len(batch))
            yield batch


def _local_recomputation(out: TextIO) -> list[str]:
    """Every stored event, hashed again, must give its leaf; every leaf must have its event."""
    from custodia.registry.models import CustodyEvent

    from . import commitments
    from .models import LedgerLeaf
    from .records import checkers as registered_checkers
    from .services import document_of

    problems = []
    records: dict[int, tuple[str, str]] = {}  # leaves of other records than events
    leaves = LedgerLeaf.objects.select_related("event", "event__detention").order_by("index")
    total = leaves.count()
    for leaf in tqdm(
        leaves.iterator(chunk_size=2000),
        total=total,
        desc="Eventos",
        unit="evento",
        file=out,
        disable=None,
    ):
        event = leaf.event
        if event is None:
            if leaf.event_id is not None:
                # On PostgreSQL the link is not a foreign key (events are partitioned): an
                # event removed behind the triggers' back shows here.
                problems.append(
                    f"la hoja {leaf.index} apunta al evento {leaf.event_id}, que ya no existe"
                )
            else:
                records[leaf.index] = (leaf.leaf_hash, leaf.salt)
            continue
        recomputed = commitments.leaf_hash(document_of(event, event.detention.folio, leaf.salt))
        if recomputed.hex() != leaf.leaf_hash:
            problems.append(
                f"el evento {event.pk} (folio {event.detention.folio}, movimiento "
                f"#{event.sequence}) fue alterado: su hoja {leaf.index} ya no coincide"
            )
    from .services import person_document

    registrations = CustodyEvent.objects.filter(kind="registered", detention__redactions=None)
    for event in registrations.select_related("detention__person", "leaf").iterator(
        chunk_size=2000
    ):
        digest = event.data.get("person_digest")
        if (
            digest
            and commitments.person_digest(person_document(event.detention.person), event.leaf.salt)
            != digest
        ):
            problems.append(
                f"los datos de la persona del folio {event.detention.folio} fueron alterados "
                "(no coinciden con la huella del registro)"
            )
    claimed: set[int] = set()
    for checker in registered_checkers():
        checked = checker(records)
        claimed |= checked.indexes
        problems += checked.problems
    problems += [
        f"la hoja {index} no corresponde a ningún evento ni registro"
        for index in sorted(set(records) - claimed)
    ]
    orphans = CustodyEvent.objects.filter(leaf__isnull=True).count()
    if orphans:
        problems.append(f"{orphans} evento(s) no tienen hoja en el libro")
    return problems


def run_verification(
    *, url: str | None, state_dir: str | None, timeout: float, out: TextIO
) -> bool:
    started = datetime.now(UTC)
    problems: list[str] = []
    size = 0
    try:
        source: Source = RemoteSource(url, timeout) if url else LocalSource()
        cp = source.checkpoint()
        size = int(cp["tree_size"])
        origin = cp["text"].split("\n")[0]
        out.write(f"Punto de control: {size} hojas, raíz {cp['root_hash']} ({cp['timestamp']})\n")
        problems += _check_signature(cp, source.public_key(), origin)
        folder = _state_dir(source, state_dir, origin)
        seen = (
            sorted(
                (json.loads(p.read_text()) for p in folder.glob("*.json")),
                key=lambda c: int(c["tree_size"]),
            )
            if folder.exists()
            else []
        )
        wanted = {int(c["tree_size"]) for c in seen if int(c["tree_size"]) <= size}
        tree = merkle.StreamingRoot()
        prefix_roots: dict[int, bytes] = {}
        for page in _pages(source, size, out):
            start = tree.size
            # Stop at each earlier checkpoint's size inside this page to read its root.
            for cut in sorted(w for w in wanted if start < w <= start + len(page)):
                tree.extend(page[tree.size - start : cut - start])
                prefix_roots[cut] = tree.root()
            tree.extend(page[tree.size - start :])
        if tree.root().hex() != cp["root_hash"]:
            problems.append(
                "la raíz reconstruida con las hojas NO coincide con el punto de control"
            )
        for old in seen:
            old_size, old_root = int(old["tree_size"]), bytes.fromhex(old["root_hash"])
            if old_size > size:
                problems.append(
                    f"un punto de control anterior tenía {old_size} hojas y el actual sólo {size}: "
                    "el libro se acortó"
                )
                continue
            if prefix_roots.get(old_size, old_root) != old_root:
                problems.append(
                    f"el punto de control anterior de {old_size} hojas NO es prefijo del actual"
                )
            if old_size < size:
                proof = source.consistency(old_size, size)
                if not merkle.verify_consistency(
                    old_size, size, old_root, bytes.fromhex(cp["root_hash"]), proof
                ):
                    problems.append(f"la prueba de consistencia {old_size}→{size} NO verifica")
        out.write(f"Puntos de control anteriores revisados: {len(seen)}\n")
        if not url:
            problems += _local_recomputation(out)
        if not problems:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{size:012d}.json").write_text(json.dumps(cp, indent=1))
    except (SourceError, signing.KeyMissing, KeyError, ValueError) as error:
        problems.append(str(error))
    ok = not problems
    for problem in problems:
        out.write(f"FALLA: {problem}\n")
    out.write(("Verificación correcta." if ok else "Verificación FALLIDA.") + "\n")
    if not url:
        _record(started, ok, size, problems)
    return ok


def _record(started: datetime, ok: bool, size: int, problems: list[str]) -> None:
    from .models import VerificationRun

    VerificationRun.objects.create(
        started_at=started,
        finished_at=datetime.now(UTC),
        ok=ok,
        tree_size=size,
        summary="\n".join(problems) or "Correcta",
        source="local",
    )
