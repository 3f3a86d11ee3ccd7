"""Notifications end to end (`custodia notify`): the outbox, fan-out, signed webhooks delivered
to a real HTTP receiver on 127.0.0.1, retries, leases, breaches by e-mail and the command."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from conftest import CURP, capture
from custodia.core.models import Institution, Role, User
from custodia.notify.models import (
    ChannelKind,
    Delivery,
    DeliveryStatus,
    OutboxMessage,
    Scope,
    Subscription,
    Topic,
)
from custodia.notify.worker import RunReport, backoff, deliver_due, fan_out, run_once, scan_breaches
from custodia.registry.models import CustodyEvent, Detention
from custodia.registry.services import EventRejected, detention_register, event_record

MEXICO = timezone.get_fixed_timezone(-360)
# Everything personal that capture() puts in a record: none of it may leave in a notification.
PERSONAL = (
    "Juan Carlos",
    "Hernández",
    "López",
    "El Güero",
    CURP,
    "María López",
    "+522461234567",
    "Pedro Ruiz Soto",
    "tatuaje",
)


# --- A real webhook receiver -------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One request as the receiver saw it (header names lower-cased)."""

    path: str
    headers: dict[str, str]
    body: bytes
    signature_valid: bool

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body.decode("utf-8"))
        return data

    @property
    def delivery_id(self) -> str:
        return self.headers["x-custodia-delivery"]


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The receiver's own computation, independent of custodia.notify.worker.signature."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


class Receiver:
    """A ThreadingHTTPServer on 127.0.0.1 (port 0) in a daemon thread. Each path is one
    subscriber: it records every request, verifies the HMAC with that subscriber's secret, and
    answers the scripted statuses in order (then 200), optionally after a delay, or raw bytes."""

    def __init__(self, port: int = 0) -> None:
        self.hits: list[Hit] = []
        self.secrets: dict[str, str] = {}
        self.script: dict[str, list[int]] = {}
        self.delay: dict[str, float] = {}
        self.raw: dict[str, bytes] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length", "0")))
        headers = {name.lower(): value for name, value in request.headers.items()}
        secret = self.secrets.get(request.path, "")
        timestamp = headers.get("x-custodia-timestamp", "")
        valid = bool(secret) and hmac.compare_digest(
            expected_signature(secret, timestamp, body), headers.get("x-custodia-signature", "")
        )
        with self._lock:
            self.hits.append(Hit(request.path, headers, body, valid))
            queue = self.script.get(request.path, [])
            status = queue.pop(0) if queue else 200
            delay = self.delay.get(request.path, 0.0)
            raw = self.raw.get(request.path)
        if delay:
            time.sleep(delay)
        try:
            if raw is not None:
                request.wfile.write(raw)
                request.close_connection = True
                return
            request.send_response(status)
            request.send_header("Content-Length", "0")
            request.end_headers()
        except OSError:
            pass  # the worker stopped waiting (timeout): nothing to answer to

    def to(self, path: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def dead_port() -> Iterator[int]:
    """A port that is bound but not listening: connecting to it is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


# --- Registry helpers --------------------------------------------------------------------------


def local(moment: datetime) -> str:
    return moment.astimezone(MEXICO).isoformat()


def register(actor: User, **overrides: Any) -> Detention:
    """A registered detention, with its own announcement set aside: the tests below are about
    what happens after registration (the announcement is tested on its own)."""
    detention = detention_register(actor=actor, data=capture(**overrides), channel="api").detention
    announced = OutboxMessage.objects.filter(detention=detention, key__startswith="event:")
    assert announced.count() == 1
    announced.delete()
    return detention


def overdue(actor: User, **overrides: Any) -> Detention:
    """Held 5 h without a handover: its "handover" clock is breached (a warning) and open."""
    return register(actor, detained_at=local(timezone.now() - timedelta(hours=5)), **overrides)


def register_in_chihuahua(actor: User) -> Detention:
    return register(
        actor,
        place__state="08",
        place__municipality="08019",
        place__address="Calle Libertad 5, Centro",
        place__latitude=28.6353,
        place__longitude=-106.0889,
        receiving_authority__name="Fiscalía General del Estado de Chihuahua",
        receiving_authority__institution="fge-chih",
    )


def hand_over(actor: User, folio: str, institution: str = "fgje-tlax") -> CustodyEvent:
    data = {
        "kind": "handed_over",
        "occurred_at": local(timezone.now() - timedelta(minutes=10)),
        "authority": {
            "kind": "public_prosecutor",
            "name": "Agencia del Ministerio Público",
            "institution": institution,
        },
    }
    return event_record(actor=actor, folio=folio, data=data, channel="api").event


def subscribe(
    institutions: dict[str, Institution],
    by: User,
    code: str,
    target: str,
    channel: str = ChannelKind.WEBHOOK,
    **fields: Any,
) -> Subscription:
    return Subscription.objects.create(
        institution=institutions[code], channel=channel, target=target, created_by=by, **fields
    )


def webhook(
    receiver: Receiver,
    institutions: dict[str, Institution],
    by: User,
    code: str,
    path: str,
    **fields: Any,
) -> Subscription:
    subscription = subscribe(institutions, by, code, receiver.url(path), **fields)
    receiver.secrets[path] = subscription.secret
    return subscription


def delivery_of(subscription: Subscription) -> Delivery:
    return Delivery.objects.get(subscription=subscription)


# --- 1. The outbox is written with the event, or not at all ------------------------------------


def test_a_handover_is_in_the_outbox_as_soon_as_it_is_recorded(
    officer: User, receiver: Receiver
) -> None:
    detention = register(officer)
    before = OutboxMessage.objects.count()

    event = hand_over(officer, detention.folio)

    message = OutboxMessage.objects.get(key=f"event:{event.pk}")
    assert OutboxMessage.objects.count() == before + 1
    assert message.topic == Topic.CUSTODY_CHANGED
    assert message.detention_id == detention.pk
    assert message.payload["folio"] == detention.folio
    assert message.payload["event"]["kind"] == "handed_over"
    assert message.payload["version"] == 2
    assert message.fanned_out_at is None  # no worker has run
    assert not Delivery.objects.exists()
    assert receiver.hits == []


def test_a_registration_is_announced_to_the_institution_named_to_receive(
    officer: User, institutions: dict[str, Institution], receiver: Receiver
) -> None:
    webhook(receiver, institutions, officer, "fgje-tlax", "/fgje")
    webhook(receiver, institutions, officer, "fge-chih", "/chih")
    detention = detention_register(actor=officer, data=capture(), channel="api").detention

    run_once()

    assert [(h.json["topic"], h.json["data"]["event"]["kind"]) for h in receiver.to("/fgje")] == [
        ("custody.changed", "registered")
    ]
    assert receiver.to("/fgje")[0].json["data"]["folio"] == detention.folio
    assert receiver.to("/chih") == []


class Abort(Exception):
    pass


def test_the_outbox_message_shares_the_event_transaction(
    officer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    detention = register(officer)
    events = CustodyEvent.objects.filter(detention=detention)

    # The caller's transaction rolls back: the event and its message go together.
    with pytest.raises(Abort), transaction.atomic():
        hand_over(officer, detention.folio)
        assert OutboxMessage.objects.filter(detention=detention).count() == 1
        raise Abort
    assert not OutboxMessage.objects.filter(detention=detention).exists()
    assert events.count() == 1

    # The outbox write fails: the event is not recorded either.
    def broken(detention: Any, event: Any) -> None:
        raise Abort

    monkeypatch.setattr("custodia.notify.outbox.enqueue_custody_change", broken)
    with pytest.raises(Abort):
        hand_over(officer, detention.folio)
    assert events.count() == 1
    assert Detention.objects.get(pk=detention.pk).version == 1


def test_rejected_events_leave_no_outbox_message(officer: User) -> None:
    detention = register(officer)
    released = {"kind": "released", "occurred_at": local(timezone.now() - timedelta(minutes=5))}
    event_record(actor=officer, folio=detention.folio, data=released, channel="api")
    assert OutboxMessage.objects.filter(detention=detention).count() == 1

    with pytest.raises(EventRejected) as twice:
        event_record(actor=officer, folio=detention.folio, data=released, channel="api")
    assert "RND-E306" in str(twice.value)

    other = register(officer)
    future = {
        "kind": "handed_over",
        "occurred_at": local(timezone.now() + timedelta(hours=1)),
        "authority": {"kind": "public_prosecutor", "name": "MP", "institution": "fgje-tlax"},
    }
    with pytest.raises(EventRejected) as ahead:
        event_record(actor=officer, folio=other.folio, data=future, channel="api")
    assert "RND-E303" in str(ahead.value)

    assert OutboxMessage.objects.filter(detention=detention).count() == 1
    assert not OutboxMessage.objects.filter(detention=other).exists()


# --- 2. Fan-out to the matching subscriptions only ---------------------------------------------


def test_messages_reach_the_matching_subscriptions_only(
    institutions: dict[str, Institution],
    make_user: Callable[..., User],
    officer: User,
    receiver: Receiver,
) -> None:
    hooks = {
        "/fgje-all": webhook(receiver, institutions, officer, "fgje-tlax", "/fgje-all"),
        "/fgje-breaches": webhook(
            receiver, institutions, officer, "fgje-tlax", "/fgje-breaches", custody_changes=False
        ),
        "/fgje-custody": webhook(
            receiver, institutions, officer, "fgje-tlax", "/fgje-custody", breaches=False
        ),
        "/chih": webhook(receiver, institutions, officer, "sspe-chih", "/chih"),
        # A national body watching one state: the subscription's state decides, not its own.
        "/tlax-state": webhook(
            receiver,
            institutions,
            officer,
            "st-cnssp",
            "/tlax-state",
            scope=Scope.STATE,
            state_id="29",
        ),
        "/inactive": webhook(
            receiver, institutions, officer, "fgje-tlax", "/inactive", active=False
        ),
    }
    # A: Tlaxcala, named to and handed over to fgje-tlax.
    handed = register(officer)
    hand_over(officer, handed.folio)
    # B: Tlaxcala, named to fgje-tlax, held 5 h without handover: an open breach.
    late = overdue(officer)
    # C: Chihuahua, handed over to its own prosecutor.
    chih_officer = make_user(Role.CAPTURE, "sspe-chih")
    north = register_in_chihuahua(chih_officer)
    hand_over(chih_officer, north.folio, institution="fge-chih")
    # D: Tlaxcala, an administrative arrest before the civic judge: nothing to do with fgje-tlax.
    civic = register(
        officer,
        arrest_basis="administrative",
        receiving_authority__kind="civic_judge",
        receiving_authority__name="Juzgado Cívico de Tlaxcala",
        receiving_authority__institution="jc-tlaxcala",
    )
    note = {"kind": "note", "details": "Se avisó a la familia."}
    event_record(actor=officer, folio=civic.folio, data=note, channel="api")

    report = run_once(now=timezone.now())

    custody, breach = Topic.CUSTODY_CHANGED.value, Topic.CLOCK_BREACHED.value
    expected = {
        ("/fgje-all", custody, handed.folio),
        ("/fgje-all", breach, late.folio),
        ("/fgje-breaches", breach, late.folio),
        ("/fgje-custody", custody, handed.folio),
        ("/chih", custody, north.folio),
        ("/tlax-state", custody, handed.folio),
        ("/tlax-state", breach, late.folio),
        ("/tlax-state", custody, civic.folio),
    }
    received = {(h.path, h.json["topic"], h.json["data"]["folio"]) for h in receiver.hits}
    assert received == expected
    assert len(receiver.hits) == len(expected)
    assert (report.breaches, report.fanned_out, report.delivered) == (1, 8, 8)
    assert (report.retried, report.failed) == (0, 0)
    assert not Delivery.objects.filter(subscription=hooks["/inactive"]).exists()
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert not OutboxMessage.objects.filter(fanned_out_at__isnull=True).exists()


# --- 3. Signed requests, no personal data ------------------------------------------------------


def test_the_webhook_is_signed_and_carries_no_personal_data(
    institutions: dict[str, Institution], officer: User, receiver: Receiver
) -> None:
    subscription = webhook(receiver, institutions, officer, "fgje-tlax", "/hook")
    detention = overdue(officer)
    now = timezone.now()

    run_once(now=now)

    [hit] = receiver.to("/hook")
    delivery = delivery_of(subscription)
    assert hit.signature_valid
    assert hit.headers["x-custodia-timestamp"] == str(int(now.timestamp()))
    assert hit.headers["x-custodia-signature"] == expected_signature(
        subscription.secret, hit.headers["x-custodia-timestamp"], hit.body
    )
    assert hit.headers["x-custodia-signature"] != expected_signature(
        "not-the-secret", hit.headers["x-custodia-timestamp"], hit.body
    )
    assert hit.delivery_id == str(delivery.pk)
    assert hit.headers["content-type"].startswith("application/json")
    body = hit.json
    assert body["topic"] == Topic.CLOCK_BREACHED
    assert body["data"]["folio"] == detention.folio
    assert body["data"]["clock"] == "handover"
    assert body["data"]["started_at"].endswith("Z")
    assert body["data"]["due_at"].endswith("Z")
    assert body["delivery"] == delivery.pk
    text = hit.body.decode("utf-8")
    for personal in PERSONAL:
        assert personal not in text, personal
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1


def test_the_instant_of_a_custody_change_is_sent_in_utc(
    institutions: dict[str, Institution], officer: User, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    subscribe(institutions, officer, "fgje-tlax", "mp@fgje-tlax.example", channel="email")
    detention = register(officer)
    event = hand_over(officer, detention.folio)

    run_once(now=timezone.now())

    sent = OutboxMessage.objects.get(key=f"event:{event.pk}").payload["event"]["occurred_at"]
    assert datetime.fromisoformat(sent) == event.occurred_at
    [email] = mail.outbox
    assert detention.folio in str(email.subject)
    assert sent.endswith("Z"), sent
    assert f"({sent} UTC)" in str(email.body)


# --- 4. Retries, backoff, unreachable and slow receivers, giving up ----------------------------


def test_a_500_is_retried_after_backoff_and_then_delivered(
    institutions: dict[str, Institution], officer: User, receiver: Receiver, settings: Any
) -> None:
    subscription = webhook(receiver, institutions, officer, "fgje-tlax", "/flaky")
    receiver.script["/flaky"] = [500]
    detention = overdue(officer)
    start = timezone.now()

    first = run_once(now=start)

    delivery = delivery_of(subscription)
    assert (first.delivered, first.retried, first.failed) == (0, 1, 0)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.next_attempt_at == start + backoff(1)
    base = settings.CUSTODIA_NOTIFY["backoff_base_seconds"]
    assert backoff(1) == timedelta(seconds=base) > timedelta(0)
    assert backoff(2) == timedelta(seconds=2 * base)
    assert delivery.locked_until is None
    assert "500" in delivery.last_error

    early = run_once(now=start + backoff(1) - timedelta(seconds=1))
    assert early.delivered == 0
    assert len(receiver.to("/flaky")) == 1

    later = run_once(now=start + backoff(1) + timedelta(seconds=1))

    delivery.refresh_from_db()
    assert later.delivered == 1
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 2
    assert delivery.last_error == ""
    hits = receiver.to("/flaky")
    assert [h.delivery_id for h in hits] == [str(delivery.pk)] * 2
    assert all(h.signature_valid for h in hits)
    assert hits[0].json["data"] == hits[1].json["data"]
    assert hits[1].json["data"]["folio"] == detention.folio


def test_unreachable_and_slow_receivers_cost_retries_not_data(
    institutions: dict[str, Institution],
    officer: User,
    receiver: Receiver,
    dead_port: int,
    settings: Any,
) -> None:
    settings.CUSTODIA_NOTIFY = {**settings.CUSTODIA_NOTIFY, "webhook_timeout_seconds": 0.5}
    down = subscribe(institutions, officer, "fgje-tlax", f"http://127.0.0.1:{dead_port}/down")
    slow = webhook(receiver, institutions, officer, "fgje-tlax", "/slow")
    receiver.delay["/slow"] = 2.0
    detention = overdue(officer)
    start = timezone.now()

    began = time.monotonic()
    first = run_once(now=start)
    elapsed = time.monotonic() - began

    assert elapsed < 1.8, "the slow receiver was waited for beyond the timeout"
    assert (first.delivered, first.retried, first.failed) == (0, 2, 0)
    for subscription in (down, slow):
        delivery = delivery_of(subscription)
        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.attempts == 1
        assert delivery.next_attempt_at == start + backoff(1)
        assert delivery.locked_until is None
        assert delivery.last_error
    assert len(receiver.to("/slow")) == 1

    # The slow one now answers at once; the down one is still down (it costs one more attempt).
    receiver.delay["/slow"] = 0.0
    second = run_once(now=start + backoff(1) + timedelta(seconds=1))

    assert second.delivered == 1  # the slow one; the down one is still down
    assert delivery_of(slow).status == DeliveryStatus.DELIVERED
    assert delivery_of(down).attempts == 2
    assert delivery_of(down).status == DeliveryStatus.PENDING
    slow_hits = receiver.to("/slow")
    assert len(slow_hits) == 2
    assert slow_hits[-1].json["data"]["folio"] == detention.folio


def test_a_receiver_that_comes_back_up_gets_the_message(
    institutions: dict[str, Institution], officer: User
) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    subscription = subscribe(institutions, officer, "fgje-tlax", f"http://127.0.0.1:{port}/up")
    detention = overdue(officer)
    start = timezone.now()

    first = run_once(now=start)
    sock.close()
    assert first.retried == 1
    delivery = delivery_of(subscription)
    assert "conexión" in delivery.last_error

    revived = Receiver(port=port)
    try:
        revived.secrets["/up"] = subscription.secret
        later = run_once(now=start + backoff(1) + timedelta(seconds=1))
        [hit] = revived.to("/up")
    finally:
        revived.close()
    assert later.delivered == 1
    assert hit.signature_valid
    assert hit.json["data"]["folio"] == detention.folio
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)


def test_after_max_attempts_the_delivery_is_failed_and_kept(
    institutions: dict[str, Institution], officer: User, receiver: Receiver, settings: Any
) -> None:
    settings.CUSTODIA_NOTIFY = {**settings.CUSTODIA_NOTIFY, "max_attempts": 3}
    subscription = webhook(receiver, institutions, officer, "fgje-tlax", "/broken")
    receiver.script["/broken"] = [500] * 100
    detention = overdue(officer)
    now = timezone.now()

    reports: list[RunReport] = []
    for attempt in range(1, 4):
        reports.append(run_once(now=now))
        delivery = delivery_of(subscription)
        assert delivery.attempts == attempt
        now = delivery.next_attempt_at + timedelta(seconds=1)

    assert [(r.retried, r.failed) for r in reports] == [(1, 0), (1, 0), (0, 1)]
    delivery = delivery_of(subscription)
    assert delivery.status == DeliveryStatus.FAILED
    assert "500" in delivery.last_error
    assert OutboxMessage.objects.filter(pk=delivery.message_id, detention=detention).exists()

    after = run_once(now=now + timedelta(hours=1))
    assert (after.delivered, after.retried, after.failed) == (0, 0, 0)
    assert len(receiver.to("/broken")) == 3
    assert delivery_of(subscription).attempts == 3


def test_a_receiver_answering_garbage_costs_a_retry_not_a_crash(
    institutions: dict[str, Institution], officer: User, receiver: Receiver
) -> None:
    subscription = webhook(receiver, institutions, officer, "fgje-tlax", "/garbage")
    receiver.raw["/garbage"] = b"SURPRISE\r\n\r\n"
    overdue(officer)

    report = run_once(now=timezone.now())

    delivery = delivery_of(subscription)
    assert report.retried == 1
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.locked_until is None


# --- 5. Never twice to the same subscriber -----------------------------------------------------


def in_threads(count: int, work: Callable[[], None]) -> list[BaseException]:
    """Run ``work`` in ``count`` threads released together, sharing the test's connection (and
    so its transaction, as Django's live server does), and return what they raised."""
    shared = connections[DEFAULT_DB_ALIAS]
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        connections[DEFAULT_DB_ALIAS] = shared
        try:
            barrier.wait(timeout=10)
            work()
        except BaseException as error:
            errors.append(error)

    shared.inc_thread_sharing()
    try:
        threads = [threading.Thread(target=run) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        shared.dec_thread_sharing()
    return errors


def test_a_message_is_delivered_once_however_often_the_worker_runs(
    institutions: dict[str, Institution], officer: User, receiver: Receiver
) -> None:
    webhook(receiver, institutions, officer, "fgje-tlax", "/once")
    webhook(
        receiver,
        institutions,
        officer,
        "st-cnssp",
        "/once-state",
        scope=Scope.STATE,
        state_id="29",
    )
    overdue(officer)
    now = timezone.now()
    for step in range(6):
        run_once(now=now + timedelta(seconds=step))

    # Two workers at the same instant, over deliveries already fanned out.
    overdue(officer)
    now = timezone.now()
    scan_breaches(now)
    fan_out(now)
    receiver.delay["/once"] = receiver.delay["/once-state"] = 0.2
    errors = in_threads(2, lambda: deliver_due(now, RunReport()))
    assert errors == []
    for _ in range(3):
        run_once(now=now + timedelta(minutes=5))

    per_delivery = Counter(h.delivery_id for h in receiver.hits)
    assert len(per_delivery) == 4  # two messages x two subscribers
    assert set(per_delivery.values()) == {1}, per_delivery
    assert set(per_delivery) == {str(pk) for pk in Delivery.objects.values_list("pk", flat=True)}
    assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 4


def test_a_live_lease_is_respected_and_an_expired_one_is_taken_over(
    institutions: dict[str, Institution], officer: User, receiver: Receiver, settings: Any
) -> None:
    subscription = webhook(receiver, institutions, officer, "fgje-tlax", "/leased")
    overdue(officer)
    now = timezone.now()
    scan_breaches(now)
    fan_out(now)
    delivery = delivery_of(subscription)
    lease = timedelta(seconds=settings.CUSTODIA_NOTIFY["lease_seconds"])

    # Another worker claimed it a moment ago and is sending it now.
    Delivery.objects.filter(pk=delivery.pk).update(locked_until=now + lease)
    report = RunReport()
    deliver_due(now, report)
    assert report.delivered == 0
    assert receiver.hits == []
    assert delivery_of(subscription).status == DeliveryStatus.PENDING

    # That worker died mid-send: once its lease runs out, the delivery is picked up again.
    later = now + lease + timedelta(seconds=1)
    report = run_once(now=later)
    assert report.delivered == 1
    [hit] = receiver.to("/leased")
    assert hit.delivery_id == str(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.locked_until is None


# --- 6. A crash between commit and delivery loses nothing --------------------------------------


def test_a_crash_after_commit_loses_nothing(
    institutions: dict[str, Institution], officer: User, receiver: Receiver
) -> None:
    subscription = webhook(receiver, institutions, officer, "fgje-tlax", "/later")
    committed = register(officer)
    hand_over(officer, committed.folio)  # committed; the worker never ran (the process died)
    fanned = register(officer)
    hand_over(officer, fanned.folio)
    now = timezone.now()
    fan_out(now)  # this one was fanned out, then the process died before delivering
    fan_out_only = Delivery.objects.get(message__detention=fanned)
    assert fan_out_only.status == DeliveryStatus.PENDING
    assert fan_out_only.attempts == 0
    assert receiver.hits == []

    report = run_once(now=now + timedelta(hours=1))  # a fresh worker, later

    assert report.delivered == 2
    assert {h.json["data"]["folio"] for h in receiver.to("/later")} == {
        committed.folio,
        fanned.folio,
    }
    assert (
        Delivery.objects.filter(subscription=subscription, status=DeliveryStatus.DELIVERED).count()
        == 2
    )


# --- 7. New breaches: one message per breach and severity; e-mail ------------------------------


def test_a_new_breach_is_announced_once_per_severity(officer: User) -> None:
    detained = timezone.now() - timedelta(hours=5)
    detention = register(officer, detained_at=local(detained))
    now = timezone.now()

    assert scan_breaches(now) == 1
    [message] = OutboxMessage.objects.filter(topic=Topic.CLOCK_BREACHED)
    assert message.detention_id == detention.pk
    assert message.payload["folio"] == detention.folio
    assert message.payload["clock"] == "handover"
    assert message.payload["severity"] == "warning"
    assert message.payload["overdue_seconds"] > 0

    assert scan_breaches(now) == 0
    assert scan_breaches(now + timedelta(minutes=30)) == 0
    assert OutboxMessage.objects.filter(topic=Topic.CLOCK_BREACHED).count() == 1

    # Past 12 h the same clock turns critical: that is news, once.
    critical = detained + timedelta(hours=13)
    assert scan_breaches(critical) == 1
    assert scan_breaches(critical) == 0
    severities = sorted(
        m.payload["severity"] for m in OutboxMessage.objects.filter(topic=Topic.CLOCK_BREACHED)
    )
    assert severities == ["critical", "warning"]


def test_a_correction_does_not_announce_the_same_breach_again(
    make_user: Callable[..., User], officer: User
) -> None:
    detention = overdue(officer)
    note = {"kind": "note", "details": "Se llamó a la familia."}
    noted = event_record(actor=officer, folio=detention.folio, data=note, channel="api").event
    now = timezone.now()
    assert scan_breaches(now) == 1

    supervisor = make_user(Role.SUPERVISOR, "ssc-tlax")
    correction = {
        "kind": "corrected",
        "corrects": noted.pk,
        "field": "details",
        "value": "Se llamó a la madre.",
        "reason": "Dato impreciso.",
    }
    event_record(actor=supervisor, folio=detention.folio, data=correction, channel="api")

    assert scan_breaches(now) == 0
    breaches = OutboxMessage.objects.filter(topic=Topic.CLOCK_BREACHED)
    assert [m.payload["clock"] for m in breaches] == ["handover"], [m.key for m in breaches]


def test_a_breach_is_sent_by_email_in_spanish(
    institutions: dict[str, Institution], officer: User, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    email = subscribe(
        institutions,
        officer,
        "fgje-tlax",
        "guardia@fgje-tlax.example",
        channel=ChannelKind.EMAIL,
        custody_changes=False,
    )
    detention = overdue(officer)

    report = run_once(now=timezone.now())

    assert (report.breaches, report.delivered) == (1, 1)
    [sent] = mail.outbox
    subject, body = str(sent.subject), str(sent.body)
    assert sent.to == ["guardia@fgje-tlax.example"]
    assert detention.folio in subject
    assert "Plazo vencido" in subject
    assert "Puesta a disposición" in subject
    assert detention.folio in body
    for personal in PERSONAL:
        assert personal not in subject + body, personal
    assert delivery_of(email).status == DeliveryStatus.DELIVERED

    run_once(now=timezone.now() + timedelta(minutes=1))
    assert len(mail.outbox) == 1


# --- 8. The command ----------------------------------------------------------------------------


def notify(*args: str) -> str:
    out = io.StringIO()
    call_command("notify", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_command_prints_a_one_line_spanish_report(
    institutions: dict[str, Institution], officer: User, receiver: Receiver
) -> None:
    webhook(receiver, institutions, officer, "fgje-tlax", "/cmd")
    detention = overdue(officer)

    output = notify()

    lines = output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("plazos vencidos nuevos: 1")
    assert "mensajes repartidos: 1" in lines[0]
    assert "entregas: 1" in lines[0]
    assert "fallidas: 0" in lines[0]
    [hit] = receiver.to("/cmd")
    assert hit.json["data"]["folio"] == detention.folio

    looped = notify("--loop", "--interval", "0.1", "--max-runs", "2")
    assert len(looped.strip().splitlines()) == 2
    assert len(receiver.to("/cmd")) == 1


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--interval", "0"), "--interval debe estar entre 0.1 y 3600 segundos"),
        (("--interval", "4000"), "--interval debe estar entre 0.1 y 3600 segundos"),
        (("--max-runs", "-1"), "--max-runs no puede ser negativo"),
    ],
)
def test_the_command_refuses_bad_options_in_spanish(
    db: Any, args: tuple[str, ...], words: str
) -> None:
    with pytest.raises(CommandError) as refused:
        notify(*args)
    assert words in str(refused.value)
    assert not OutboxMessage.objects.exists()
