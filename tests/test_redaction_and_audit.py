"""Redaction keeps every proof valid; auditors read the ledger and the access log (logged)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from conftest import capture, client_for
from custodia.core.models import AccessLog, Role, User
from custodia.ledger import merkle
from custodia.ledger.models import Checkpoint, Redaction
from custodia.ledger.services import check_detention, make_checkpoint
from custodia.registry.models import CustodyEvent, DetainedPerson, Detention
from custodia.registry.services import detention_register


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_user(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN, "st-cnssp", is_staff=True)


def redact(folio: str, by: str, reason: str = "Resolución del INAI 123/2026 (supresión)") -> str:
    out = io.StringIO()
    call_command("registry", "redact", folio, "--reason", reason, "--by", by, stdout=out)
    return out.getvalue()


def test_redaction_replaces_the_data_and_keeps_every_proof_valid(
    officer: User, admin_user: User
) -> None:
    folio = detention_register(actor=officer, data=capture(), channel="api").detention.folio
    detention_register(actor=officer, data=capture(), channel="api")
    before = Checkpoint.objects.order_by("-id").first()
    assert before is not None
    leaves_before = list(
        CustodyEvent.objects.filter(detention__folio=folio).values_list(
            "leaf__leaf_hash", flat=True
        )
    )

    out = redact(folio, admin_user.username)

    assert "suprimidos" in out
    person = DetainedPerson.objects.get(detention__folio=folio)
    assert (person.given_names, person.first_surname, person.curp) == ("[SUPRIMIDO]",) * 2 + ("",)
    assert Detention.objects.get(folio=folio).contact_name == ""
    events = CustodyEvent.objects.filter(detention__folio=folio).order_by("sequence")
    assert [e.kind for e in events] == ["registered", "redacted"]
    assert list(events.values_list("leaf__leaf_hash", flat=True))[:1] == leaves_before
    assert Redaction.objects.get(detention__folio=folio).redacted_by == admin_user
    # The old checkpoint is a prefix of the new one, and every event still proves inclusion.
    after = make_checkpoint(force=True) or Checkpoint.objects.order_by("-id").first()
    assert after is not None and after.tree_size > before.tree_size
    checks = check_detention(Detention.objects.get(folio=folio), after)
    assert all(c.leaf_matches and c.proof_verifies for c in checks)
    assert checks[0].person == "redacted"
    from custodia.ledger.services import consistency

    assert merkle.verify_consistency(
        before.tree_size,
        after.tree_size,
        bytes.fromhex(before.root_hash),
        bytes.fromhex(after.root_hash),
        consistency(before.tree_size, after.tree_size),
    )
    assert AccessLog.objects.filter(folio=folio, action="detention.redact").exists()


def test_redaction_needs_an_administrator_a_reason_and_happens_once(
    officer: User, admin_user: User
) -> None:
    folio = detention_register(actor=officer, data=capture(), channel="api").detention.folio
    with pytest.raises(CommandError, match="administración"):
        redact(folio, officer.username)
    with pytest.raises(CommandError, match="fundamento"):
        redact(folio, admin_user.username, reason="porque sí")
    with pytest.raises(CommandError, match="no existe"):
        redact(folio, "nadie")
    with pytest.raises(CommandError, match="folio"):
        redact("29-2020-XXXX", admin_user.username)
    redact(folio, admin_user.username)
    with pytest.raises(CommandError, match="ya fueron suprimidos"):
        redact(folio, admin_user.username)
    assert CustodyEvent.objects.filter(detention__folio=folio, kind="redacted").count() == 1


def test_the_auditor_ledger_page_shows_the_checkpoint_and_each_events_proof(
    officer: User, make_user: Callable[..., User]
) -> None:
    folio = detention_register(actor=officer, data=capture(), channel="api").detention.folio
    auditor = make_user(Role.AUDITOR, "cndh")
    page = logged_in(auditor).get("/auditoria/libro/", {"folio": folio})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="cp-signature"' in html and "válida" in html
    assert "Todos los movimientos" in html
    assert AccessLog.objects.filter(
        username=auditor.username, action="ledger.inspect", folio=folio
    ).exists()
    assert logged_in(officer).get("/auditoria/libro/").status_code == 403


def test_the_ledger_page_reports_altered_person_data(
    officer: User, make_user: Callable[..., User]
) -> None:
    folio = detention_register(actor=officer, data=capture(), channel="api").detention.folio
    DetainedPerson.objects.filter(detention__folio=folio).update(first_surname="Otro")
    html = (
        logged_in(make_user(Role.AUDITOR, "cndh"))
        .get("/auditoria/libro/", {"folio": folio})
        .content.decode()
    )
    assert "ALTERACIÓN" in html and "ALTERADOS" in html


def test_access_log_page_filters_and_logs_its_own_queries(
    officer: User, make_user: Callable[..., User]
) -> None:
    folio = detention_register(actor=officer, data=capture(), channel="api").detention.folio
    reader = make_user(Role.NATIONAL_ANALYST, "st-cnssp")
    client_for(reader).get(f"/api/v1/detentions/{folio}")
    auditor = make_user(Role.AUDITOR, "cndh")
    web = logged_in(auditor)
    html = web.get("/auditoria/accesos/", {"username": reader.username}).content.decode()
    assert folio in html and "detention.read" in html
    assert officer.username not in html.split("Lecturas anómalas")[1]
    logged = AccessLog.objects.filter(username=auditor.username, action="accesslog.query")
    assert logged.count() == 1
    assert reader.username in logged.get().purpose
    bad = web.get("/auditoria/accesos/", {"from": "ayer", "folio": "x"})
    assert bad.status_code == 200 and "AAAA-MM-DD" in bad.content.decode()
    assert logged_in(reader).get("/auditoria/accesos/").status_code == 403


def test_a_user_reading_far_more_than_peers_is_flagged(
    officer: User, make_user: Callable[..., User]
) -> None:
    from custodia.core.accesslog import log_access
    from custodia.ledger.audit import anomalies

    analysts = [make_user(Role.STATE_ANALYST, "ssc-tlax") for _ in range(5)]
    for analyst in analysts[:4]:
        log_access(user=analyst, channel="web", action="detention.read", folios=["x"] * 10)
    log_access(user=analysts[4], channel="api", action="detention.read", folios=["x"] * 400)
    now = timezone.now()
    flagged = anomalies(now - timedelta(days=1), now + timedelta(minutes=1))
    assert [a.username for a in flagged] == [analysts[4].username]
    assert flagged[0].reads == 400 and flagged[0].factor == pytest.approx(40)
