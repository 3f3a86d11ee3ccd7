"""The verifiable ledger through its public surface: the signed checkpoint, leaves and RFC 6962
proofs of /api/v1/ledger/, `custodia ledger verify` (local and --url), tamper detection, and
dense leaf indexes under concurrent writers on a real server.

Everything the server claims is recomputed here independently: leaf hashes from the event rows
(with this file's own canonical JSON), roots with ``merkle.StreamingRoot``, signatures with the
``cryptography`` package, and the C2SP key ID by hand.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone as dj_timezone

from conftest import CURP, DELETE, capture, client_for
from custodia.core.models import User
from custodia.ledger import merkle
from custodia.ledger.merkle import MemoryTree
from custodia.ledger.models import (
    Checkpoint,
    LedgerHead,
    LedgerLeaf,
    LedgerNode,
    VerificationRun,
)
from custodia.ledger.services import append_leaf, check_detention
from custodia.registry.models import CustodyEvent, DetainedPerson, Detention
from custodia.registry.services import detention_register, event_record
from live_api import LiveApi
from live_server import (
    custodia_executable,
    free_port,
    fresh_database,
    is_postgres,
    run_custodia,
    running_server,
    server_env,
)

LEDGER = "/api/v1/ledger"
PROSECUTOR = {"kind": "public_prosecutor", "name": "MP Centro", "institution": "fgje-tlax"}
# Events written by the ``history`` fixture: 4 before the early checkpoint, 7 in all.
EARLY_SIZE = 4
SIZE = 7
# Personal data the captures below contain; none of it may appear in a public ledger answer.
PERSONAL = (
    "Juan Carlos",
    "Hernández",
    "López",
    "El Güero",
    CURP,
    "María López",
    "+522461234567",
    "Pedro Ruiz Soto",
    "tatuaje brazo izquierdo",
    "Rosa Elena",
    "Martínez",
    "Ñuñez",
    "Av. Juárez 12",
)
ON_POSTGRES = is_postgres(settings.DATABASES["default"])
WRITERS = 8
CST = timezone(timedelta(hours=-6))
ENGLISH = ("Input should", "Field required", "valid integer", "greater than", "Value error")


# --- Independent recomputation -------------------------------------------------------------


def canonical_json(document: Any) -> bytes:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def expected_leaf_hash(event: CustodyEvent, salt: str) -> bytes:
    """SHA-256(0x00 ‖ SHA-256(canonical JSON of the event document with its salt))."""
    document = {
        "detention": event.detention.folio,
        "sequence": event.sequence,
        "kind": event.kind,
        "occurred_at": utc_iso(event.occurred_at),
        "recorded_at": utc_iso(event.recorded_at),
        "recorded_by": event.recorded_by_id,
        "institution": event.institution_id,
        "local_zone": event.local_zone,
        "data": event.data,
        "salt": salt,
    }
    commitment = hashlib.sha256(canonical_json(document)).digest()
    return hashlib.sha256(b"\x00" + commitment).digest()


def prefix_roots(leaves: Sequence[bytes]) -> list[bytes]:
    """roots[k] is the root of the first k leaves, rebuilt from the leaf hashes alone."""
    tree = merkle.StreamingRoot()
    roots = [tree.root()]
    for leaf in leaves:
        tree.add(leaf)
        roots.append(tree.root())
    return roots


def c2sp_key_id(origin: str, raw_key: bytes) -> str:
    return hashlib.sha256(origin.encode() + b"\n" + b"\x01" + raw_key).digest()[:4].hex()


def signature_valid(raw_key: bytes, signature: bytes, text: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(raw_key).verify(signature, text.encode())
    except InvalidSignature:
        return False
    return True


# --- Writing through the services and the API ----------------------------------------------


def get_json(client: Client, path: str) -> Any:
    response = client.get(path)
    assert response.status_code == 200, (path, response.content)
    return response.json()


def leaves_of(client: Client, size: int) -> list[bytes]:
    body = get_json(client, f"{LEDGER}/leaves?start=0&end={size}")
    assert [leaf["index"] for leaf in body["leaves"]] == list(range(size))
    return [bytes.fromhex(leaf["leaf_hash"]) for leaf in body["leaves"]]


def register(officer: User, **overrides: Any) -> str:
    return detention_register(
        actor=officer, data=capture(**overrides), channel="api"
    ).detention.folio


def note(officer: User, folio: str, details: str) -> None:
    event_record(
        actor=officer, folio=folio, data={"kind": "note", "details": details}, channel="api"
    )


@dataclass(frozen=True)
class History:
    folios: list[str]
    early: dict[str, Any]  # the checkpoint served after the first EARLY_SIZE events


@pytest.fixture
def public() -> Client:
    """The ledger endpoints need no token."""
    return Client()


@pytest.fixture
def history(officer: User, public: Client) -> History:
    """Registrations and events through the services and through the API."""
    api = client_for(officer)
    first = register(officer)
    response = api.post("/api/v1/detentions", capture(), content_type="application/json")
    assert response.status_code == 201, response.content
    second: str = response.json()["folio"]
    note(officer, first, "Revisión médica: sin lesiones; se informó a la madre.")
    handed_over = {
        "kind": "handed_over",
        "occurred_at": (dj_timezone.now() - timedelta(minutes=5)).isoformat(),
        "authority": PROSECUTOR,
        "place": {"name": "Agencia del MP Centro", "state": "29"},
        "legal_status": "retencion_ministerial",
    }
    response = api.post(
        f"/api/v1/detentions/{second}/events", handed_over, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    early = get_json(public, f"{LEDGER}/checkpoint")
    third = register(
        officer,
        person__given_names="Rosa Elena",
        person__first_surname="Martínez",
        person__second_surname="Ñuñez",
        person__sex="female",
        person__curp=DELETE,
    )
    note(officer, third, "Pertenencias: cartera, llaves y teléfono — inventario «completo».")
    note(officer, first, "Llamada a la familia realizada.")
    assert CustodyEvent.objects.count() == SIZE
    assert early["tree_size"] == EARLY_SIZE
    return History([first, second, third], early)


# --- 1. The public API ---------------------------------------------------------------------


def test_checkpoint_root_signature_and_key_id_check_out_independently(
    history: History, public: Client
) -> None:
    checkpoint = get_json(public, f"{LEDGER}/checkpoint")
    key = get_json(public, f"{LEDGER}/key")

    assert checkpoint["tree_size"] == SIZE == CustodyEvent.objects.count()
    root = prefix_roots(leaves_of(public, SIZE))[SIZE]
    assert checkpoint["root_hash"] == root.hex()

    # The key served is the one the server signs with.
    pem = Path(settings.CUSTODIA_LEDGER_KEY_PATH).read_bytes()
    private = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(private, Ed25519PrivateKey)
    raw_key = base64.b64decode(key["public_key_base64"])
    assert raw_key == private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert key["algorithm"] == "Ed25519"

    # The signed text is the C2SP checkpoint body: origin, size, base64 root, then a timestamp.
    origin, size_line, root_line, stamp_line, tail = checkpoint["text"].split("\n")
    assert tail == ""
    assert origin == key["origin"] == settings.CUSTODIA_LEDGER_ORIGIN
    assert size_line == str(SIZE)
    assert base64.b64decode(root_line) == root
    assert stamp_line == checkpoint["timestamp"]
    assert datetime.fromisoformat(stamp_line.replace("Z", "+00:00")).tzinfo is not None

    signature = base64.b64decode(checkpoint["signature"])
    assert signature_valid(raw_key, signature, checkpoint["text"])
    forged_text = checkpoint["text"].replace(f"\n{SIZE}\n", f"\n{SIZE + 1}\n")
    assert not signature_valid(raw_key, signature, forged_text)

    assert checkpoint["key_id"] == key["key_id"] == c2sp_key_id(origin, raw_key)
    signature_line = base64.b64encode(bytes.fromhex(checkpoint["key_id"]) + signature).decode()
    assert checkpoint["note"] == f"{checkpoint['text']}\n\u2014 {origin} {signature_line}\n"

    # The early checkpoint is signed too, and is the root of the first EARLY_SIZE leaves.
    early = history.early
    assert early["root_hash"] == prefix_roots(leaves_of(public, SIZE))[EARLY_SIZE].hex()
    assert signature_valid(raw_key, base64.b64decode(early["signature"]), early["text"])


def test_every_inclusion_proof_verifies_against_recomputed_roots(
    history: History, public: Client
) -> None:
    leaves = leaves_of(public, SIZE)
    roots = prefix_roots(leaves)
    for size in range(1, SIZE + 1):
        for index in range(size):
            body = get_json(public, f"{LEDGER}/proof/inclusion?index={index}&tree_size={size}")
            assert (body["index"], body["tree_size"]) == (index, size)
            assert body["leaf_hash"] == leaves[index].hex()
            proof = [bytes.fromhex(h) for h in body["proof"]]
            assert merkle.verify_inclusion(index, size, leaves[index], proof, roots[size]), (
                index,
                size,
            )
            # The same proof does not vouch for another leaf.
            other = leaves[(index + 1) % SIZE]
            if other != leaves[index]:
                assert not merkle.verify_inclusion(index, size, other, proof, roots[size])


def test_consistency_proofs_verify_between_checkpoints_and_every_pair_of_sizes(
    history: History, public: Client
) -> None:
    late = get_json(public, f"{LEDGER}/checkpoint")
    early = history.early
    body = get_json(
        public,
        f"{LEDGER}/proof/consistency?first={early['tree_size']}&second={late['tree_size']}",
    )
    assert (body["first"], body["second"]) == (EARLY_SIZE, SIZE)
    proof = [bytes.fromhex(h) for h in body["proof"]]
    early_root, late_root = bytes.fromhex(early["root_hash"]), bytes.fromhex(late["root_hash"])
    assert merkle.verify_consistency(EARLY_SIZE, SIZE, early_root, late_root, proof)
    assert not merkle.verify_consistency(EARLY_SIZE, SIZE, late_root, late_root, proof)

    roots = prefix_roots(leaves_of(public, SIZE))
    for second in range(1, SIZE + 1):
        for first in range(1, second + 1):
            body = get_json(public, f"{LEDGER}/proof/consistency?first={first}&second={second}")
            proof = [bytes.fromhex(h) for h in body["proof"]]
            assert merkle.verify_consistency(first, second, roots[first], roots[second], proof), (
                first,
                second,
            )


def test_each_leaf_commits_to_its_event_row_and_salt(
    history: History, officer: User, public: Client
) -> None:
    served = leaves_of(public, SIZE)
    rows = list(LedgerLeaf.objects.select_related("event__detention").order_by("index"))
    assert [row.index for row in rows] == list(range(SIZE))
    events = CustodyEvent.objects.all()
    assert {row.event_id for row in rows} == {e.pk for e in events}
    for row, leaf in zip(rows, served, strict=True):
        assert row.event is not None
        assert len(row.salt) == 32 and int(row.salt, 16) >= 0
        assert expected_leaf_hash(row.event, row.salt) == leaf, (row.index, row.event.kind)
        assert row.leaf_hash == leaf.hex()
    # Salts are per leaf: two leaves never share one.
    assert len({row.salt for row in rows}) == SIZE
    # Each event's history entry names its leaf, and a detention's leaves follow its sequence.
    index_of = {row.event_id: row.index for row in rows}
    api = client_for(officer)
    for folio in history.folios:
        listed = get_json(api, f"/api/v1/detentions/{folio}/events")["events"]
        assert [e["sequence"] for e in listed] == list(range(1, len(listed) + 1))
        assert [e["ledger_leaf_index"] for e in listed] == [index_of[e["id"]] for e in listed]
        indexes = [e["ledger_leaf_index"] for e in listed]
        assert indexes == sorted(indexes)


def test_stored_subtree_hashes_are_the_pure_trees(db: Any) -> None:
    """This database's append path (the ledger_append function on PostgreSQL, Python on SQLite)
    stores, for every complete subtree, the hash the pure merkle module computes: 300 leaves
    reach level 8."""
    leaves = [hashlib.sha256(b"leaf %d" % i).digest() for i in range(300)]
    assert LedgerHead.objects.get(pk=1).size == 0
    indexes = []
    for leaf in leaves:
        with transaction.atomic():
            indexes.append(append_leaf(leaf, "ab" * 16, None))
    assert indexes == list(range(300))
    expected = MemoryTree(leaves)
    stored = {(n.level, n.index): n.hash for n in LedgerNode.objects.all()}
    assert stored == {
        (level, i): h.hex()
        for level in range(1, len(expected.levels))
        for i, h in enumerate(expected.levels[level])
    }
    assert len(stored) == 300 - bin(300).count("1")  # one node per leaf, less the open ones
    assert [row.leaf_hash for row in LedgerLeaf.objects.order_by("index")] == [
        leaf.hex() for leaf in leaves
    ]
    assert LedgerHead.objects.get(pk=1).size == 300


def test_public_ledger_answers_reveal_no_personal_data(history: History, public: Client) -> None:
    # The people really are in the database, under the names searched for below.
    assert DetainedPerson.objects.filter(given_names="Rosa Elena").exists()
    assert DetainedPerson.objects.filter(curp=CURP).exists()
    answers = [
        public.get(f"{LEDGER}/leaves?start=0&end={SIZE}"),
        public.get(f"{LEDGER}/checkpoint"),
        public.get(f"{LEDGER}/key"),
        public.get(f"{LEDGER}/proof/inclusion?index=0&tree_size={SIZE}"),
        public.get(f"{LEDGER}/proof/consistency?first=2&second={SIZE}"),
    ]
    for response in answers:
        assert response.status_code == 200
        text = response.content.decode("utf-8")
        for value in (*PERSONAL, *history.folios):
            assert value not in text, (value, text[:200])
            assert json.dumps(value)[1:-1] not in text, value
    leaves = answers[0].json()
    assert set(leaves) == {"leaves"}
    assert all(set(leaf) == {"index", "leaf_hash"} for leaf in leaves["leaves"])


def test_empty_ledger_has_no_checkpoint_but_a_key(db: Any, public: Client) -> None:
    response = public.get(f"{LEDGER}/checkpoint")
    assert response.status_code == 404
    assert response.json()["errors"][0]["message"] == "Aún no hay puntos de control firmados."
    response = public.get(f"{LEDGER}/leaves?start=0&end=1")
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "El libro tiene 0 hojas."
    assert get_json(public, f"{LEDGER}/key")["algorithm"] == "Ed25519"


NOT_INTEGER = "Debe ser un número entero."
TOO_SMALL = "El valor es demasiado pequeño."
REQUIRED = "Este dato es obligatorio."
BEYOND = f"El libro tiene {SIZE} hojas."
END_AFTER_START = "end debe ser mayor que start."
INDEX_BELOW_SIZE = "El índice debe ser menor que tree_size."
HUGE = 10**30
BAD_QUERIES = [
    # (path and query, expected status, the Spanish messages in order)
    ("leaves?start=3&end=3", 400, [END_AFTER_START]),
    ("leaves?start=5&end=2", 400, [END_AFTER_START]),
    ("leaves?start=0&end=10001", 400, ["Se piden como máximo 10000 hojas por llamada."]),
    (f"leaves?start=0&end={SIZE + 1}", 400, [BEYOND]),
    (f"leaves?start={HUGE}&end={HUGE + 1}", 400, [BEYOND]),
    ("leaves?start=-1&end=2", 422, [TOO_SMALL]),
    ("leaves?start=0&end=0", 422, [TOO_SMALL]),
    ("leaves?start=uno&end=2", 422, [NOT_INTEGER]),
    ("leaves?start=0&end=2.5", 422, [NOT_INTEGER]),
    ("leaves?start=0&end=", 422, [NOT_INTEGER]),
    ("leaves?start=0", 422, [REQUIRED]),
    (f"proof/inclusion?index={SIZE}&tree_size={SIZE}", 400, [INDEX_BELOW_SIZE]),
    ("proof/inclusion?index=3&tree_size=2", 400, [INDEX_BELOW_SIZE]),
    (f"proof/inclusion?index=0&tree_size={SIZE + 1}", 400, [BEYOND]),
    (f"proof/inclusion?index=0&tree_size={HUGE}", 400, [BEYOND]),
    ("proof/inclusion?index=-1&tree_size=2", 422, [TOO_SMALL]),
    ("proof/inclusion?index=0&tree_size=0", 422, [TOO_SMALL]),
    ("proof/inclusion?index=x&tree_size=2", 422, [NOT_INTEGER]),
    ("proof/inclusion?tree_size=2", 422, [REQUIRED]),
    ("proof/consistency?first=3&second=2", 400, ["first no puede ser mayor que second."]),
    (f"proof/consistency?first=1&second={SIZE + 1}", 400, [BEYOND]),
    ("proof/consistency?first=0&second=2", 422, [TOO_SMALL]),
    ("proof/consistency?first=-2&second=2", 422, [TOO_SMALL]),
    ("proof/consistency?first=a&second=b", 422, [NOT_INTEGER, NOT_INTEGER]),
    ("proof/consistency?first=1", 422, [REQUIRED]),
]


@pytest.mark.parametrize(("query", "status", "messages"), BAD_QUERIES)
def test_bad_parameters_get_a_spanish_4xx(
    history: History, public: Client, query: str, status: int, messages: list[str]
) -> None:
    response = public.get(f"{LEDGER}/{query}")
    assert response.status_code == status, response.content
    errors = response.json()["errors"]
    assert [e["message"] for e in errors] == messages, errors
    for error in errors:
        assert error["code"] in {f"HTTP-{status}", "RND-E101", "RND-E143"}, error
        assert not any(phrase in error["message"] for phrase in ENGLISH), error


# --- 2. `custodia ledger verify`, local ----------------------------------------------------


def ledger(*args: str) -> str:
    out = io.StringIO()
    call_command("ledger", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_local_verify_records_runs_and_rechecks_earlier_checkpoints(
    history: History, officer: User, settings: Any, tmp_path: Path
) -> None:
    settings.VAR_DIR = tmp_path / "var"
    out = ledger("verify")
    assert "Verificación correcta." in out
    assert "Puntos de control anteriores revisados: 0" in out
    assert f"Punto de control: {SIZE} hojas" in out
    assert "FALLA" not in out
    (run,) = VerificationRun.objects.all()
    assert (run.ok, run.tree_size, run.source) == (True, SIZE, "local")
    # Without --state-dir the checkpoint seen is kept under VAR_DIR/ledger-seen/.
    assert [p.name for p in (tmp_path / "var" / "ledger-seen").glob("*/*.json")] == [
        f"{SIZE:012d}.json"
    ]

    state = tmp_path / "seen"
    out = ledger("verify", "--state-dir", str(state))
    assert "Verificación correcta." in out
    saved = json.loads((state / f"{SIZE:012d}.json").read_text())
    assert saved["root_hash"] == Checkpoint.objects.order_by("-id")[0].root_hash

    folio = register(officer)
    note(officer, folio, "Segunda ronda de escritura.")
    ledger("checkpoint")
    assert Checkpoint.objects.order_by("-id")[0].tree_size == SIZE + 2

    out = ledger("verify", "--state-dir", str(state))
    assert "Puntos de control anteriores revisados: 1" in out
    assert f"Punto de control: {SIZE + 2} hojas" in out
    assert "Verificación correcta." in out
    assert sorted(p.name for p in state.glob("*.json")) == [
        f"{SIZE:012d}.json",
        f"{SIZE + 2:012d}.json",
    ]
    assert [r.ok for r in VerificationRun.objects.order_by("id")] == [True, True, True]


def test_remote_verify_refuses_a_non_http_url_with_a_spanish_message(tmp_path: Path) -> None:
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "ledger",
            "verify",
            "--url",
            "ftp://registro.example/",
            "--state-dir",
            str(tmp_path),
            stdout=out,
            stderr=io.StringIO(),
        )
    assert "FALLA: La URL debe empezar con http:// o https://" in out.getvalue()
    assert "Verificación FALLIDA." in out.getvalue()


# Run by `custodia shell -c` on a database of its own: two threads, each with its own database
# connection, hold a writer's and a signer's transactions open so that they interleave the way
# concurrent requests and `custodia ledger checkpoint` (or a worker) can.
RACE_SCRIPT = """
import io, json, os, threading
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import Client
from custodia.core.models import User
from custodia.registry.services import detention_register

officer = User.objects.get(username="captura")
capture = json.loads(os.environ["LEDGER_RACE_CAPTURE"])
state = os.environ["LEDGER_RACE_STATE"]
public = Client(HTTP_HOST="127.0.0.1")
wait = 20


def register():
    detention_register(actor=officer, data=capture, channel="api")


def latest():
    return public.get("/api/v1/ledger/checkpoint").json()["tree_size"]


def verify():
    out = io.StringIO()
    try:
        call_command("ledger", "verify", "--state-dir", state, stdout=out, stderr=io.StringIO())
    except CommandError:
        pass
    return out.getvalue()


settings.CUSTODIA_CHECKPOINT_INTERVAL_SECONDS = 3600
register()  # the first checkpoint is signed at once: size 1
register()  # within the interval: size 2, unsigned
before = latest()
settings.CUSTODIA_CHECKPOINT_INTERVAL_SECONDS = 0
appended, signed = threading.Event(), threading.Event()
writer_may_commit, signer_may_commit = threading.Event(), threading.Event()


def writer():
    try:
        with transaction.atomic():
            register()  # leaf 2, and a checkpoint of size 3
            appended.set()
            writer_may_commit.wait(wait)
    finally:
        connection.close()


def signer():
    try:
        with transaction.atomic():
            call_command("ledger", "checkpoint", stdout=io.StringIO())  # it sees size 2
            signed.set()
            signer_may_commit.wait(wait)
    finally:
        connection.close()


writing = threading.Thread(target=writer)
writing.start()
appended.wait(wait)
signing = threading.Thread(target=signer)
signing.start()
# With the head lock the signer waits for the writer; without it, it signs the older size now.
signer_ran = signed.wait(2)
writer_may_commit.set()
writing.join(wait)
between = latest()  # an auditor looks between the two commits
verify_between = verify()
signer_may_commit.set()
signing.join(wait)
after = latest()
verify_after = verify()
print(json.dumps({
    "before": before, "signer_ran": signer_ran, "between": between,
    "verify_between": verify_between, "after": after, "verify_after": verify_after,
}))
"""


@pytest.mark.skipif(
    not ON_POSTGRES, reason="SQLite runs one write transaction at a time: nothing interleaves"
)
def test_latest_checkpoint_never_shrinks_when_signing_races_a_writer(tmp_path: Path) -> None:
    with fresh_database(settings.DATABASES["default"], tmp_path) as database_url:
        env = server_env(database_url, tmp_path / "var")
        # An empty log: the first registration signs the first checkpoint.
        run_custodia(env, "demo", "--detentions", "0", "--without-conference")
        env["LEDGER_RACE_CAPTURE"] = json.dumps(live_capture("Carrera"))
        env["LEDGER_RACE_STATE"] = str(tmp_path / "seen")
        result = run_custodia(env, "shell", "-c", RACE_SCRIPT)
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["before"] == 1
    assert seen["between"] == 3
    assert "Verificación correcta." in seen["verify_between"], seen["verify_between"]
    assert "Verificación correcta." in seen["verify_after"], seen["verify_after"]
    assert seen["after"] >= seen["between"], seen


# --- 3. Tamper detection -------------------------------------------------------------------

EVENT_TABLE = "registry_custodyevent"
SQLITE_UPDATE_TRIGGER = f"{EVENT_TABLE}_append_only_update"


@contextmanager
def custody_event_updates_allowed() -> Iterator[None]:
    """Switch off the append-only trigger for UPDATE on custody events, as someone with direct
    database access could; switch it back on however the block ends."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f'DROP TRIGGER "{SQLITE_UPDATE_TRIGGER}"')
        else:
            # Deferred foreign-key checks of this transaction's inserts are "pending trigger
            # events", which forbid ALTER TABLE: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                f'ALTER TABLE "{EVENT_TABLE}" DISABLE TRIGGER "{EVENT_TABLE}_append_only"'
            )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                # The same statement as custodia.core.append_only.install.
                cursor.execute(
                    f'CREATE TRIGGER "{SQLITE_UPDATE_TRIGGER}" BEFORE UPDATE ON "{EVENT_TABLE}" '
                    f"BEGIN SELECT RAISE(ABORT, 'custodia: la tabla {EVENT_TABLE} es de sólo "
                    f"anexión'); END;"
                )
            else:
                cursor.execute(
                    f'ALTER TABLE "{EVENT_TABLE}" ENABLE TRIGGER "{EVENT_TABLE}_append_only"'
                )
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def test_altered_event_and_person_are_detected(
    history: History, settings: Any, tmp_path: Path
) -> None:
    settings.VAR_DIR = tmp_path  # where the local verifier keeps the checkpoints it saw
    first, second, _ = history.folios
    target = CustodyEvent.objects.get(detention__folio=first, sequence=1)
    assert target.kind == "registered" and target.data["arrest_basis"] == "flagrante"

    with custody_event_updates_allowed():
        tampered = {**target.data, "arrest_basis": "orden_de_aprehension"}
        assert CustodyEvent.objects.filter(pk=target.pk).update(data=tampered) == 1

    # The trigger is back: the database refuses changes again.
    with pytest.raises(DatabaseError, match="sólo anexión"), transaction.atomic():
        CustodyEvent.objects.filter(pk=target.pk).update(data=target.data)
    assert CustodyEvent.objects.get(pk=target.pk).data["arrest_basis"] == "orden_de_aprehension"

    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("ledger", "verify", stdout=out, stderr=io.StringIO())
    failures = [line for line in out.getvalue().splitlines() if line.startswith("FALLA")]
    assert len(failures) == 1, out.getvalue()
    assert f"folio {first}" in failures[0]
    assert f"evento {target.pk} " in failures[0]
    assert "Verificación FALLIDA." in out.getvalue()
    run = VerificationRun.objects.get()
    assert not run.ok and first in run.summary

    latest = Checkpoint.objects.order_by("-id").first()
    assert latest is not None and latest.tree_size == SIZE
    checks = check_detention(Detention.objects.get(folio=first), latest)
    by_sequence = {c.sequence: c for c in checks}
    assert sorted(by_sequence) == [1, 2, 3]
    assert by_sequence[1].event_id == target.pk
    assert not by_sequence[1].leaf_matches
    assert not by_sequence[1].proof_verifies
    assert not by_sequence[1].ok
    assert by_sequence[1].person == "ok"
    assert all(c.leaf_matches and c.proof_verifies and c.ok for c in checks if c.sequence > 1)

    # The person's data are not in the event, only their salted digest: a changed name shows.
    clean = check_detention(Detention.objects.get(folio=second), latest)
    assert all(c.ok for c in clean) and clean[0].person == "ok"
    DetainedPerson.objects.filter(detention__folio=second).update(given_names="Pedro Pablo")
    altered = check_detention(Detention.objects.get(folio=second), latest)
    registered = next(c for c in altered if c.kind == "registered")
    assert registered.person == "altered"
    assert registered.leaf_matches and registered.proof_verifies
    assert not registered.ok
    assert all(c.person == "not applicable" and c.ok for c in altered if c.kind != "registered")


# --- 4 and 5. A real server: parallel writers, remote verification -------------------------


class LedgerApi(LiveApi):
    def register(self, surname: str) -> str:
        reply = self.call("POST", "/api/v1/detentions", live_capture(surname))
        assert reply.status == 201, reply
        folio: str = reply.body["folio"]
        return folio


def live_capture(surname: str) -> dict[str, Any]:
    detained = (datetime.now(CST) - timedelta(minutes=20)).replace(microsecond=0)
    return {
        "person": {
            "given_names": "Mario",
            "first_surname": surname,
            "sex": "male",
            "age": 29,
            "physical_condition": "sin lesiones visibles",
        },
        "detained_at": detained.isoformat(),
        "place": {"state": "29", "municipality": "29033", "address": "Av. Juárez 12, Centro"},
        "arrest_basis": "flagrante",
        "reason": "robo a transeúnte",
        "officers": [{"name": "Pedro Ruiz Soto", "rank": "policía tercero"}],
        "receiving_authority": PROSECUTOR,
    }


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LedgerApi]:
    workdir = tmp_path_factory.mktemp("custodia-ledger")
    with running_server(settings.DATABASES["default"], workdir, detentions=0) as server:
        created = run_custodia(server.env, "token", "create", "captura")
        token = created.stdout.strip().splitlines()[-1].strip()
        assert token, created.stdout
        yield LedgerApi(server, token)


def custodia(env: Any, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a ``custodia`` command and return its outcome, whatever its exit status."""
    return subprocess.run(
        [str(custodia_executable()), *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def remote_verify(live: LedgerApi, state: Path) -> subprocess.CompletedProcess[str]:
    """`custodia ledger verify --url` against the live server, as an outside auditor runs it."""
    url = live.server.base_url + "/"
    return custodia(live.server.env, "ledger", "verify", "--url", url, "--state-dir", str(state))


def database_counts(env: Any) -> tuple[int, int]:
    """(custody events, ledger leaves) as the server's database holds them."""
    result = run_custodia(
        env,
        "shell",
        "-c",
        "from custodia.registry.models import CustodyEvent;"
        "from custodia.ledger.models import LedgerLeaf;"
        "print(CustodyEvent.objects.count(), LedgerLeaf.objects.count())",
    )
    events, leaves = result.stdout.split()[-2:]
    return int(events), int(leaves)


def checkpoint_now(live: LedgerApi) -> dict[str, Any]:
    """Sign the whole tree now (the server's own interval may not have passed) and fetch it."""
    run_custodia(live.server.env, "ledger", "checkpoint")
    body: dict[str, Any] = live.get("/api/v1/ledger/checkpoint")
    return body


def test_parallel_writers_get_dense_gap_free_leaf_indexes(live: LedgerApi, tmp_path: Path) -> None:
    # The log also holds leaves that are not events (the demo's Conference records).
    events_before, leaves_before = database_counts(live.server.env)
    first = live.register("Primero")
    requests = [("/api/v1/detentions", live_capture(f"Paralelo{n}")) for n in range(WRITERS)]
    requests += [
        (f"/api/v1/detentions/{first}/events", {"kind": "note", "details": f"Nota {n}"})
        for n in range(WRITERS)
    ]
    replies = live.race(requests)
    assert [r.status for r in replies] == [201] * (2 * WRITERS), replies
    folios = [first] + [r.body["folio"] for r in replies[:WRITERS]]
    assert len(set(folios)) == WRITERS + 1

    checkpoint = checkpoint_now(live)
    verified = run_custodia(live.server.env, "ledger", "verify")
    assert "Verificación correcta." in verified.stdout, verified.stdout

    size = checkpoint["tree_size"]
    leaves = live.get(f"/api/v1/ledger/leaves?start=0&end={size}")["leaves"]
    assert [leaf["index"] for leaf in leaves] == list(range(size))
    hashes = [bytes.fromhex(leaf["leaf_hash"]) for leaf in leaves]
    assert len(set(hashes)) == size
    assert prefix_roots(hashes)[size].hex() == checkpoint["root_hash"]

    listed = {folio: live.get(f"/api/v1/detentions/{folio}/events")["events"] for folio in folios}
    assert [e["sequence"] for e in listed[first]] == list(range(1, WRITERS + 2))
    assert all(len(listed[folio]) == 1 for folio in folios[1:])
    written = sum(len(events) for events in listed.values())
    assert written == 1 + 2 * WRITERS == 17
    assert size == leaves_before + written
    # Every event written here has its own leaf, and together they fill the end of the log.
    indexes = sorted(e["ledger_leaf_index"] for events in listed.values() for e in events)
    assert indexes == list(range(leaves_before, size))
    # One detention's events were serialized by its row lock: leaf order is sequence order.
    first_indexes = [e["ledger_leaf_index"] for e in listed[first]]
    assert first_indexes == sorted(first_indexes)
    assert database_counts(live.server.env) == (size - leaves_before + events_before, size)

    # The verifier, run as a separate process against the server's public API.
    state = tmp_path / "seen"
    remote = remote_verify(live, state)
    assert remote.returncode == 0, remote.stdout + remote.stderr
    assert f"Punto de control: {size} hojas" in remote.stdout
    assert "Puntos de control anteriores revisados: 0" in remote.stdout
    assert "Verificación correcta." in remote.stdout

    live.register("Después")
    assert checkpoint_now(live)["tree_size"] == size + 1
    remote = remote_verify(live, state)
    assert remote.returncode == 0, remote.stdout + remote.stderr
    assert f"Punto de control: {size + 1} hojas" in remote.stdout
    assert "Puntos de control anteriores revisados: 1" in remote.stdout
    assert "Verificación correcta." in remote.stdout


def test_remote_verify_fails_on_an_unreachable_server(live: LedgerApi, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    result = custodia(
        live.server.env, "ledger", "verify", "--url", url, "--state-dir", str(tmp_path)
    )
    assert result.returncode != 0
    assert "FALLA: checkpoint: no se pudo consultar" in result.stdout, result.stdout
    assert "Verificación FALLIDA." in result.stdout
    assert "La verificación falló" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_remote_verify_fails_on_a_forged_earlier_checkpoint(
    live: LedgerApi, tmp_path: Path
) -> None:
    live.register("Antes")
    earlier = checkpoint_now(live)
    live.register("Luego")
    current = checkpoint_now(live)
    assert current["tree_size"] == earlier["tree_size"] + 1
    name = f"{earlier['tree_size']:012d}.json"

    genuine = tmp_path / "genuine"
    genuine.mkdir()
    (genuine / name).write_text(json.dumps(earlier))
    result = remote_verify(live, genuine)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Puntos de control anteriores revisados: 1" in result.stdout

    forged = tmp_path / "forged"
    forged.mkdir()
    fake_root = hashlib.sha256(b"otra historia").hexdigest()
    (forged / name).write_text(json.dumps({**earlier, "root_hash": fake_root}))
    result = remote_verify(live, forged)
    assert result.returncode != 0
    size = earlier["tree_size"]
    assert f"FALLA: el punto de control anterior de {size} hojas NO es prefijo" in result.stdout
    assert f"FALLA: la prueba de consistencia {size}→{current['tree_size']} NO verifica" in (
        result.stdout
    )
    assert "Verificación FALLIDA." in result.stdout
    assert "Traceback" not in result.stderr
    # A failed run does not record the current checkpoint as seen.
    assert [p.name for p in forged.iterdir()] == [name]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="on SQLite the leaf's event is a database foreign key: no leaf can name a missing event",
)
def test_a_leaf_whose_event_is_gone_is_detected(
    history: History, settings: Any, tmp_path: Path
) -> None:
    """On PostgreSQL the leaf's link to its partitioned event is not a foreign key (ledger
    0004), so the verifier itself notices a leaf that names no event."""
    settings.VAR_DIR = tmp_path
    target = CustodyEvent.objects.filter(detention__folio=history.folios[2]).latest("sequence")
    index = target.leaf.index
    missing = target.pk + 10_000
    with connection.cursor() as cursor:  # the leaf now names an event that does not exist
        cursor.execute(
            'ALTER TABLE ledger_ledgerleaf DISABLE TRIGGER "ledger_ledgerleaf_append_only"'
        )
        cursor.execute(
            "UPDATE ledger_ledgerleaf SET event_id = %s WHERE index = %s", [missing, index]
        )
        cursor.execute(
            'ALTER TABLE ledger_ledgerleaf ENABLE TRIGGER "ledger_ledgerleaf_append_only"'
        )
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("ledger", "verify", stdout=out, stderr=io.StringIO())
    assert f"la hoja {index} apunta al evento {missing}, que ya no existe" in out.getvalue()
    assert "1 evento(s) no tienen hoja en el libro" in out.getvalue()
