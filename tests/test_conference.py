"""The Conference's own records (issue 8): the XXIII plenary as seeded, the Secretariat's
services and their rules, permissions, bad input, the evidence ledger, the exports, the pages
and the read API. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from conftest import capture
from custodia.conference import composition, exports, ordinals, seed, services
from custodia.conference.models import (
    Agreement,
    Commitment,
    Communique,
    EvidenceFile,
    FollowUp,
    GroupMember,
    Revision,
    Session,
    WorkingGroup,
)
from custodia.core.access import AccessDenied
from custodia.core.errors import InvalidFields
from custodia.core.models import ApiToken, Role, State, User
from custodia.ledger.models import LedgerLeaf


@pytest.fixture
def plenary(institutions: Any) -> Session:
    return seed.load().session


@pytest.fixture
def secretariat(make_user: Callable[..., User]) -> User:
    return make_user(Role.NATIONAL_ANALYST, "st-cnssp", first_name="Ana", last_name="Secretaría")


@pytest.fixture
def tlaxcala_analyst(make_user: Callable[..., User]) -> User:
    return make_user(Role.STATE_ANALYST, "ssc-tlax")


def page_for(user: User) -> Client:
    """A browser-like client with the user's session (pages, not the API)."""
    client = Client()
    client.force_login(user)
    return client


def agreement(plenary: Session, ordinal: str) -> Agreement:
    return plenary.agreements.get(number=ordinals.ordinal_number(ordinal))


def counts() -> tuple[int, ...]:
    """Everything a failed write must leave as it was."""
    return (
        Session.objects.count(),
        Agreement.objects.count(),
        Commitment.objects.count(),
        FollowUp.objects.count(),
        EvidenceFile.objects.count(),
        GroupMember.objects.count(),
        Communique.objects.count(),
        Revision.objects.count(),
        LedgerLeaf.objects.count(),
    )


def verify() -> str:
    """`custodia ledger verify`, with no checkpoints seen before (each test has a new ledger)."""
    import tempfile

    from django.core.management import CommandError

    out = io.StringIO()
    try:
        with tempfile.TemporaryDirectory() as seen:
            call_command("ledger", "verify", "--state-dir", seen, stdout=out, stderr=io.StringIO())
    except CommandError:
        pass  # the report says why
    return out.getvalue()


def messages_of(invalid: pytest.ExceptionInfo[InvalidFields]) -> str:
    return " | ".join(message for _, message in invalid.value.errors)


# --- The seed: the XXIII plenary of 30 June 2020 ----------------------------------------------


def test_ordinals_as_the_conference_writes_them() -> None:
    assert ordinals.roman(23) == "XXIII" and ordinals.roman(44) == "XLIV"
    assert [ordinals.ordinal_word(n) for n in (1, 3, 6, 10, 11, 21)] == [
        "PRIMERO",
        "TERCERO",
        "SEXTO",
        "DÉCIMO",
        "DÉCIMO PRIMERO",
        "VIGÉSIMO PRIMERO",
    ]
    assert all(ordinals.ordinal_number(ordinals.ordinal_word(n)) == n for n in range(1, 50))
    with pytest.raises(ValueError):
        ordinals.ordinal_number("CENTÉSIMO")


def test_the_seed_loads_the_six_agreements_as_written(plenary: Session) -> None:
    assert plenary.title == "XXIII Asamblea Plenaria"
    assert plenary.held_on == date(2020, 6, 30)
    rows = [(a.ordinal, a.code, a.title) for a in plenary.agreements.all()]
    assert rows == [
        ("PRIMERO", "01/XXIII/20", "ORDEN DEL DÍA"),
        ("SEGUNDO", "02/XXIII/20", "ATENTADO EN CONTRA DEL LIC. OMAR HAMID GARCÍA HARFUCH"),
        ("TERCERO", "03/XXIII/20", "REGISTRO NACIONAL DE DETENCIONES"),
        (
            "CUARTO",
            "04/XXIII/20",
            "MODELO DE PROXIMIDAD DEL MODELO NACIONAL DE POLICÍA Y JUSTICIA CÍVICA",
        ),
        ("QUINTO", "05/XXIII/20", "PROTOCOLO DE USO DE LA FUERZA"),
        ("SEXTO", "06/XXIII/20", "MESA DE TRABAJO DEL CERTIFICADO ÚNICO POLICIAL"),
    ]
    tercero = agreement(plenary, "TERCERO")
    assert "informe mensual con la información de cada entidad federativa" in tercero.text
    assert tercero.instrument_codes() == ["rnd"]
    assert agreement(plenary, "SEXTO").instrument_codes() == ["cup"]
    assert set(agreement(plenary, "QUINTO").instrument_codes()) == {"use_of_force"}
    assert plenary.agenda_approved_on == date(2020, 6, 30)
    assert plenary.agenda_approved_by == agreement(plenary, "PRIMERO")
    assert [i.title for i in plenary.agenda.all()][2] == "Registro Nacional de Detenciones"


def test_the_seed_holds_the_commitments_groups_and_communique(plenary: Session) -> None:
    by_agreement = {
        a.ordinal: [(c.owner_kind, c.status) for c in a.commitments.all()]
        for a in plenary.agreements.all()
    }
    assert by_agreement["PRIMERO"] == []
    assert by_agreement["SEGUNDO"] == [("secretariat", "done")]  # the plenary approved it
    assert [kind for kind, _ in by_agreement["TERCERO"]] == ["conference", "secretariat"] * 1 + [
        "secretariat"
    ]
    assert [kind for kind, _ in by_agreement["QUINTO"]] == ["conference", "outside"]
    assert Commitment.objects.count() == 11
    quinto = agreement(plenary, "QUINTO").commitments.get(position=2)
    assert quinto.owner_label == "Secretaría de Seguridad y Protección Ciudadana"

    rnd, cup = WorkingGroup.objects.order_by("agreement__number")
    assert rnd.agreement.ordinal == "TERCERO" and rnd.rule == "two_conferences"
    assert rnd.counterpart == "Conferencia Nacional de Procuración de Justicia"
    assert [x.institution for x in rnd.liaisons.all()] == [rnd.counterpart]
    assert cup.agreement.ordinal == "SEXTO" and cup.rule == "proponent_and_zones"
    assert cup.proponent_state_id == "29"
    assert [m.seat for m in cup.current_members()] == ["proponent"]
    assert cup.status == "forming"
    assert cup.composition_problems() == [
        "Falta representante de la zona: Noroeste, Noreste, Occidente, Centro, Sureste."
    ]
    assert {c.position for c in cup.commitments.all()} == {1, 2, 3}

    communique = Communique.objects.get()
    assert communique.agreement.ordinal == "SEGUNDO"
    assert communique.status == "approved" and communique.approved_on == date(2020, 6, 30)
    assert communique.text_in_record is False and communique.body == ""


def test_the_seed_loads_once_and_every_row_is_a_verified_leaf(plenary: Session) -> None:
    before = counts()
    assert seed.load().new is False
    assert counts() == before
    # Every change the seed made is a revision and a leaf; the ledger verifies.
    assert Revision.objects.count() == LedgerLeaf.objects.filter(event=None).count() > 20
    assert "Verificación correcta." in verify()


def test_load_seed_command_and_a_second_run(institutions: Any) -> None:
    out = io.StringIO()
    call_command("conference", "load-seed", stdout=out)
    assert "XXIII Asamblea Plenaria (30/06/2020) cargada: 6 acuerdos, 11 compromisos" in (
        out.getvalue()
    )
    again = io.StringIO()
    call_command("conference", "load-seed", stdout=again)
    assert "ya estaba cargada; no se agregó nada" in again.getvalue()


def test_load_seed_refuses_a_file_of_another_shape(db: Any, tmp_path: Path) -> None:
    from django.core.management import CommandError

    bad = tmp_path / "acta.json"
    bad.write_text('{"agreements": []}', encoding="utf-8")
    with pytest.raises(CommandError, match="no tiene la forma del acta"):
        call_command("conference", "load-seed", "--file", str(bad))
    with pytest.raises(CommandError, match="No existe el archivo"):
        call_command("conference", "load-seed", "--file", str(tmp_path / "nada.json"))
    assert Session.objects.count() == 0


# --- Working groups: the rules the software checks --------------------------------------------


def zone_states() -> dict[str, State]:
    found: dict[str, State] = {}
    for state in State.objects.order_by("code"):
        found.setdefault(state.zone, state)
    return found


def test_the_cup_group_is_the_proponent_plus_one_per_zone(
    plenary: Session, secretariat: User
) -> None:
    cup = WorkingGroup.objects.get(rule="proponent_and_zones")
    states = zone_states()
    assert len(states) == 5
    for n, (_zone, state) in enumerate(sorted(states.items())):
        services.add_member(
            actor=secretariat,
            group=cup,
            name=f"Representante {state.name}",
            seat="zone_representative",
            state=state.code,
            joined_on="2020-07-15",
        )
        cup.refresh_from_db()
        assert cup.status == ("active" if n == 4 else "forming")
    assert cup.composition_problems() == []
    # A second representative of a zone, a second proponent, or a plain member: refused.
    before = counts()
    with pytest.raises(InvalidFields) as twice:
        services.add_member(
            actor=secretariat,
            group=cup,
            name="Otra persona",
            seat="zone_representative",
            zone="centro",
        )
    assert "La zona Centro ya tiene representante." in messages_of(twice)
    with pytest.raises(InvalidFields) as proponent:
        services.add_member(actor=secretariat, group=cup, name="Alguien", seat="proponent")
    assert "La mesa ya tiene proponente." in messages_of(proponent)
    with pytest.raises(InvalidFields):
        services.add_member(actor=secretariat, group=cup, name="Invitado", seat="member")
    assert counts() == before
    # A state's zone must match the zone it represents.
    with pytest.raises(InvalidFields) as wrong_zone:
        services.add_member(
            actor=secretariat,
            group=cup,
            name="X",
            seat="zone_representative",
            state="29",
            zone="noroeste",
        )
    assert "Tlaxcala pertenece a la zona" in messages_of(wrong_zone)
    # Leaving frees the seat, and the group is told what it now lacks.
    member = cup.members.get(zone="centro")
    services.end_membership(actor=secretariat, member=member, left_on="2021-01-10")
    cup.refresh_from_db()
    assert cup.composition_problems() == ["Falta representante de la zona: Centro."]


def test_composition_rules_are_pure_and_name_what_is_missing() -> None:
    seats = [composition.Seat("A", "member", "", "own")]
    problems = composition.composition_problems(
        composition.TWO_CONFERENCES, seats, "Conferencia Nacional de Procuración de Justicia"
    )
    assert problems == [
        "Falta quien represente a la Conferencia Nacional de Procuración de Justicia."
    ]
    assert composition.composition_problems(composition.OPEN, [], "") == []


def test_meetings_deliverables_and_the_report_session(plenary: Session, secretariat: User) -> None:
    rnd = WorkingGroup.objects.get(rule="two_conferences")
    meeting = services.add_meeting(
        actor=secretariat,
        group=rnd,
        held_on="2020-08-20",
        place="Videoconferencia",
        attendees="Secretaría Técnica; CNPJ",
        minutes="Se acordó un calendario de trabajo.",
    )
    assert meeting.held_on == date(2020, 8, 20)
    item = services.add_deliverable(
        actor=secretariat, group=rnd, title="Diagnóstico de la coordinación", due_on="2020-11-30"
    )
    services.mark_delivered(actor=secretariat, deliverable=item, delivered_on="2020-11-25")
    with pytest.raises(InvalidFields, match="ya estaba entregado"):
        services.mark_delivered(actor=secretariat, deliverable=item, delivered_on="2020-11-26")
    later = services.create_session(
        actor=secretariat, number="24", kind="ordinary", held_on="2020-12-10", place="En línea"
    )
    services.schedule_report(actor=secretariat, group=rnd, session=later, presented=True)
    rnd.refresh_from_db()
    assert rnd.report_session == later and rnd.status == "reported"
    summaries = [r.summary for r in Revision.objects.filter(group=rnd).order_by("id")]
    assert "Resultados presentados en la XXIV Asamblea Plenaria" in summaries
    assert "Verificación correcta." in verify()


# --- Sessions, agreements, commitments, follow-up ---------------------------------------------


def test_a_session_from_creation_to_approved_agenda(secretariat: User) -> None:
    session = services.create_session(
        actor=secretariat, number="44", kind="extraordinary", held_on="2021-03-01", place="CDMX"
    )
    assert session.title == "XLIV Asamblea Plenaria Extraordinaria"
    services.set_agenda(
        actor=secretariat,
        session=session,
        items=[("Lista de asistencia", ""), ("", ""), ("Informe", "Secretaría Técnica")],
    )
    assert [i.title for i in session.agenda.all()] == ["Lista de asistencia", "Informe"]
    first = services.add_agreement(
        actor=secretariat,
        session=session,
        number="1",
        title="Orden del día",
        text="Se aprueba el orden del día.",
        instruments=["agenda"],
    )
    assert first.code == "01/EXLIV/21" and first.ordinal == "PRIMERO"
    services.approve_agenda(
        actor=secretariat, session=session, approved_on="2021-03-01", agreement=first
    )
    with pytest.raises(InvalidFields, match="ya fue aprobado"):
        services.set_agenda(actor=secretariat, session=session, items=[("Otro punto", "")])
    services.record_attendance(
        actor=secretariat, session=session, state="29", mode="in_person", attendee="Titular"
    )
    services.record_attendance(
        actor=secretariat, session=session, state="29", mode="remote", attendee="Suplente"
    )
    assert session.attendance.get().mode == "remote"  # one row per state, corrected
    with pytest.raises(InvalidFields, match="Ya existe la XLIV Asamblea Plenaria"):
        services.create_session(
            actor=secretariat, number="44", kind="extraordinary", held_on="2021-04-01"
        )


def test_bad_input_is_named_in_spanish_and_writes_nothing(
    plenary: Session, secretariat: User
) -> None:
    before = counts()
    with pytest.raises(InvalidFields) as session:
        services.create_session(
            actor=secretariat, number="XXIII", kind="solemne", held_on="2020-13-01"
        )
    assert messages_of(session) == (
        "Número de la sesión: escriba un número entero. | Tipo: elija una de las opciones "
        "(Ordinaria, Extraordinaria). | Fecha: use una fecha AAAA-MM-DD."
    )
    tercero = agreement(plenary, "TERCERO")
    with pytest.raises(InvalidFields) as commitment:
        services.add_commitment(
            actor=secretariat,
            agreement=tercero,
            description="",
            owner_kind="state",
            owner_state="99",
            due_on="mañana",
            link="https://ejemplo.com/",
        )
    text = messages_of(commitment)
    for expected in (
        "Compromiso: es obligatorio.",
        "no existe la entidad «99»",
        "Fecha compromiso: use una fecha AAAA-MM-DD.",
        "Página de Custodia",
    ):
        assert expected in text, text
    with pytest.raises(InvalidFields, match="Página de Custodia"):
        services.add_commitment(
            actor=secretariat,
            agreement=tercero,
            description="x",
            owner_kind="secretariat",
            link="/api/v1/detentions",
        )
    target = tercero.commitments.get(position=1)
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(InvalidFields) as follow_up:
        services.add_follow_up(
            actor=secretariat,
            commitment=target,
            reported_on=tomorrow,
            progress="  ",
            status="casi",
            files=[services.Upload("vacío.pdf", "application/pdf", b"")] * 6,
        )
    text = messages_of(follow_up)
    for expected in (
        "no puede ser posterior a hoy",
        "Avance: es obligatorio.",
        "Estado: elija una de las opciones",
        "a lo más 5 archivos",
        "el archivo «vacío.pdf» está vacío",
    ):
        assert expected in text, text
    with pytest.raises(InvalidFields, match="máximo 300 caracteres"):
        services.add_agreement(
            actor=secretariat, session=plenary, number="7", title="x" * 301, text="t"
        )
    with pytest.raises(InvalidFields, match="La sesión ya tiene el acuerdo SEXTO"):
        services.add_agreement(
            actor=secretariat, session=plenary, number="6", title="Otro", text="t"
        )
    assert counts() == before


def test_a_commitment_links_to_a_custodia_page(plenary: Session, secretariat: User) -> None:
    made = services.add_commitment(
        actor=secretariat,
        agreement=agreement(plenary, "CUARTO"),
        owner_kind="state",
        owner_state="29",
        description="Informar la adopción del modelo",
        due_on="2020-12-31",
        link="/reportes/calidad/?mes=2020-11",
    )
    assert made.position == 3 and made.owner_label == "Tlaxcala"
    assert made.overdue_on(date(2021, 1, 1)) and not made.overdue_on(date(2020, 12, 31))


def test_follow_up_moves_the_status_and_keeps_the_evidence(
    plenary: Session, secretariat: User
) -> None:
    target = agreement(plenary, "TERCERO").commitments.get(position=2)
    pdf = b"%PDF-1.4 informe de junio"
    entry = services.add_follow_up(
        actor=secretariat,
        commitment=target,
        reported_on="2020-07-31",
        progress="Se envió el primer informe mensual a las 32 entidades.",
        status="in_progress",
        files=[services.Upload("../../informe junio.pdf", "application/pdf", pdf)],
    )
    target.refresh_from_db()
    assert target.status == "in_progress"
    (kept,) = entry.files.all()
    assert kept.name == "informe junio.pdf" and bytes(kept.content) == pdf
    assert kept.sha256 == __import__("hashlib").sha256(pdf).hexdigest()
    revision = Revision.objects.get(record="follow_up", record_id=entry.pk)
    assert revision.document["data"]["files"][0]["sha256"] == kept.sha256
    assert revision.agreement == target.agreement
    assert "Verificación correcta." in verify()


def test_only_the_secretariat_writes_and_a_state_follows_up_its_own(
    plenary: Session, tlaxcala_analyst: User, make_user: Callable[..., User], secretariat: User
) -> None:
    before = counts()
    with pytest.raises(AccessDenied, match="Sólo la Secretaría Técnica"):
        services.create_session(
            actor=tlaxcala_analyst, number="30", kind="ordinary", held_on="2022-01-01"
        )
    # A national analyst outside a secretariat institution is not the Secretariat either.
    auditor_like = make_user(Role.NATIONAL_ANALYST, "cndh")
    with pytest.raises(AccessDenied):
        services.add_agreement(actor=auditor_like, session=plenary, number="7", title="t", text="t")
    cuarto = agreement(plenary, "CUARTO")
    conference_wide = cuarto.commitments.get(position=1)
    with pytest.raises(AccessDenied, match="análisis estatal de la entidad responsable"):
        services.add_follow_up(
            actor=tlaxcala_analyst,
            commitment=conference_wide,
            reported_on="2020-08-01",
            progress="Avance",
        )
    assert counts() == before
    own = services.add_commitment(
        actor=secretariat,
        agreement=cuarto,
        owner_kind="state",
        owner_state="29",
        description="Tlaxcala informa",
    )
    other = services.add_commitment(
        actor=secretariat,
        agreement=cuarto,
        owner_kind="state",
        owner_state="08",
        description="Chihuahua informa",
    )
    services.add_follow_up(
        actor=tlaxcala_analyst,
        commitment=own,
        reported_on="2020-08-01",
        progress="Capacitación a 120 policías estatales.",
    )
    with pytest.raises(AccessDenied):
        services.add_follow_up(
            actor=tlaxcala_analyst,
            commitment=other,
            reported_on="2020-08-01",
            progress="No es suya",
        )
    assert own.follow_ups.count() == 1 and other.follow_ups.count() == 0


def test_communique_is_drafted_approved_and_published(plenary: Session, secretariat: User) -> None:
    communique = Communique.objects.get()
    public = Client()
    assert communique.title not in public.get("/conferencia/publico/").content.decode()
    assert public.get(f"/conferencia/publico/comunicados/{communique.pk}/").status_code == 404
    with pytest.raises(InvalidFields, match="Sólo se aprueba un comunicado en borrador"):
        services.approve_communique(
            actor=secretariat, communique=communique, approved_on="2020-07-01"
        )
    services.publish_communique(actor=secretariat, communique=communique)
    page = public.get("/conferencia/publico/").content.decode()
    assert communique.title in page and "su texto no consta en el registro" in page
    detail = public.get(f"/conferencia/publico/comunicados/{communique.pk}/")
    assert detail.status_code == 200
    with pytest.raises(InvalidFields, match="Sólo se publica un comunicado aprobado"):
        services.publish_communique(actor=secretariat, communique=communique)
    draft = services.draft_communique(
        actor=secretariat, session=plenary, title="Borrador", body="Texto en preparación."
    )
    assert "Borrador" not in public.get("/conferencia/publico/").content.decode()
    with pytest.raises(InvalidFields, match="Texto: es obligatorio"):
        services.draft_communique(actor=secretariat, title="Sin texto")
    assert draft.status == "draft"
    services.revise_communique(
        actor=secretariat, communique=draft, title="Borrador 2", body="Texto final."
    )
    draft.refresh_from_db()
    assert (draft.title, draft.body) == ("Borrador 2", "Texto final.")
    with pytest.raises(InvalidFields, match="Sólo se corrige un comunicado en borrador"):
        services.revise_communique(actor=secretariat, communique=communique, title="Otro", body="x")
    assert "Verificación correcta." in verify()


def test_the_public_page_shows_only_agreements_marked_public(
    plenary: Session, secretariat: User
) -> None:
    quinto = agreement(plenary, "QUINTO")
    services.update_agreement(
        actor=secretariat,
        agreement=quinto,
        title=quinto.title,
        text=quinto.text,
        instruments=quinto.instrument_codes(),
        public=False,
    )
    page = Client().get("/conferencia/publico/").content.decode()
    assert "REGISTRO NACIONAL DE DETENCIONES" in page and "03/XXIII/20" in page
    assert "PROTOCOLO DE USO DE LA FUERZA" not in page
    history = [r.summary for r in Revision.objects.filter(agreement=quinto)]
    assert any("retirado de la página pública" in s for s in history), history


# --- Append-only and the evidence ledger ------------------------------------------------------


def refused(statement: Callable[[], Any]) -> None:
    with pytest.raises(DatabaseError, match="sólo anexión"), transaction.atomic():
        statement()


@pytest.mark.parametrize("model", [FollowUp, EvidenceFile, Revision])
def test_follow_ups_evidence_and_revisions_are_append_only(
    plenary: Session, secretariat: User, model: Any
) -> None:
    target = agreement(plenary, "TERCERO").commitments.get(position=1)
    services.add_follow_up(
        actor=secretariat,
        commitment=target,
        reported_on="2020-07-01",
        progress="Avance",
        files=[services.Upload("a.txt", "text/plain", b"a")],
    )
    row = model.objects.order_by("-id").first()
    table = model._meta.db_table

    def raw(statement: str) -> Callable[[], None]:
        def run() -> None:
            with connection.cursor() as cursor:
                cursor.execute(statement, [row.pk])

        return run

    refused(raw(f'UPDATE "{table}" SET id = id WHERE id = %s'))
    refused(raw(f'DELETE FROM "{table}" WHERE id = %s'))
    assert model.objects.filter(pk=row.pk).exists()


@contextmanager
def revision_updates_allowed() -> Iterator[None]:
    """Switch off the revision table's append-only trigger, as someone with direct database
    access could; switch it back on however the block ends."""
    table = Revision._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f'DROP TRIGGER "{table}_append_only_update"')
        else:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER "{table}_append_only"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(
                    f'CREATE TRIGGER "{table}_append_only_update" BEFORE UPDATE ON "{table}" '
                    f"BEGIN SELECT RAISE(ABORT, 'custodia: la tabla {table} es de sólo "
                    f"anexión'); END;"
                )
            else:
                cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER "{table}_append_only"')
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def test_a_change_behind_the_services_back_fails_verification(
    plenary: Session, settings: Any, tmp_path: Path
) -> None:
    settings.VAR_DIR = tmp_path
    target = agreement(plenary, "TERCERO").commitments.get(position=1)
    Commitment.objects.filter(pk=target.pk).update(status="done")  # no revision, no leaf
    report = verify()
    assert "Verificación FALLIDA." in report
    assert f"el registro commitment {target.pk} cambió sin dejar constancia en el libro" in report


def test_an_altered_revision_fails_verification(
    plenary: Session, settings: Any, tmp_path: Path
) -> None:
    settings.VAR_DIR = tmp_path
    revision = Revision.objects.filter(record="agreement").order_by("id").first()
    assert revision is not None
    forged = {**revision.document, "data": {**revision.document["data"], "title": "OTRO"}}
    with revision_updates_allowed():
        assert Revision.objects.filter(pk=revision.pk).update(document=forged) == 1
    report = verify()
    assert "Verificación FALLIDA." in report
    assert f"fue alterado: su hoja {revision.leaf_index} ya no coincide" in report


# --- Exports -----------------------------------------------------------------------------------


def test_the_acta_de_acuerdos_is_a_pdf_with_every_agreement(plenary: Session) -> None:
    import pypdfium2

    document = pypdfium2.PdfDocument(exports.acta_pdf(seed.load().session))
    pages = len(document)
    text = "\n".join(document[i].get_textpage().get_text_range() for i in range(pages))
    text = " ".join(text.split())
    assert "XXIII ASAMBLEA PLENARIA" in text and "30 de junio de 2020" in text
    for code in ("01/XXIII/20", "03/XXIII/20", "06/XXIII/20"):
        assert code in text
    for ordinal in ("PRIMERO.", "SEGUNDO.", "TERCERO.", "CUARTO.", "QUINTO.", "SEXTO."):
        assert ordinal in text
    assert "Conferencia Nacional de Procuración de Justicia" in text
    assert "Anexo al acta; su texto no consta en el registro." in text
    assert f"Página 1 de {pages}" in text and f"Página {pages} de {pages}" in text


def test_the_follow_up_sheet_lists_open_commitments_as_text(
    plenary: Session, secretariat: User
) -> None:
    services.add_commitment(
        actor=secretariat,
        agreement=agreement(plenary, "CUARTO"),
        owner_kind="outside",
        owner_name='=HYPERLINK("x")',
        description="+1 fórmula que no debe correr",
        due_on="2020-09-30",
    )
    data = exports.follow_up_xlsx(date(2026, 12, 3))
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        workbook = book.read("xl/workbook.xml").decode()
        assert 'name="Compromisos abiertos"' in workbook and 'name="Resumen"' in workbook
        strings = book.read("xl/sharedStrings.xml").decode()
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # user text never becomes a formula
    assert "=HYPERLINK(&quot;x&quot;)" in strings or '=HYPERLINK("x")' in strings
    assert "Enviar a cada entidad federativa un informe mensual" in strings
    assert "Emitir un comunicado" not in strings  # done: not open
    open_count = Commitment.objects.filter(status__in=["pending", "in_progress"]).count()
    assert open_count == 11
    assert (
        sheet.count("<row ") == 3 + open_count - 1
    )  # title, header and one row each (row 2 empty)


# --- Pages ---------------------------------------------------------------------------------------


def test_pages_for_readers_and_refusals(
    plenary: Session, tlaxcala_analyst: User, secretariat: User
) -> None:
    tercero = agreement(plenary, "TERCERO")
    cup = WorkingGroup.objects.get(rule="proponent_and_zones")
    assert Client().get("/conferencia/").status_code == 302  # to the login page
    reader = page_for(tlaxcala_analyst)
    for path in (
        "/conferencia/",
        f"/conferencia/sesiones/{plenary.pk}/",
        f"/conferencia/acuerdos/{tercero.pk}/",
        f"/conferencia/mesas/{cup.pk}/",
    ):
        page = reader.get(path)
        assert page.status_code == 200, path
        assert 'name="action" value="session"' not in page.content.decode()
    refused_post = reader.post(
        f"/conferencia/sesiones/{plenary.pk}/",
        {"action": "agreement", "number": "7", "title": "t", "text": "t"},
    )
    assert refused_post.status_code == 403
    assert "Sólo la Secretaría Técnica" in refused_post.content.decode()
    assert Agreement.objects.count() == 6
    page = page_for(secretariat).get(f"/conferencia/mesas/{cup.pk}/").content.decode()
    assert "Falta representante de la zona: Noroeste, Noreste, Occidente, Centro, Sureste." in page
    assert page_for(secretariat).get("/conferencia/acuerdos/999999/").status_code == 404


def test_a_bad_form_answers_400_with_its_errors_and_keeps_the_values(
    plenary: Session, secretariat: User
) -> None:
    before = counts()
    page = page_for(secretariat).post(
        "/conferencia/",
        {
            "action": "session",
            "number": "0",
            "kind": "ordinary",
            "held_on": "30/06/2020",
            "place": "Palacio Nacional",
        },
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert "Número de la sesión: debe estar entre 1 y 3999." in html
    assert "Fecha: use una fecha AAAA-MM-DD." in html
    assert 'value="Palacio Nacional"' in html
    unknown = page_for(secretariat).post("/conferencia/", {"action": "borrar"})
    assert unknown.status_code == 400 and "Formulario desconocido" in unknown.content.decode()
    assert counts() == before


def test_a_follow_up_with_a_file_through_the_agreement_page(
    plenary: Session, secretariat: User
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    tercero = agreement(plenary, "TERCERO")
    target = tercero.commitments.get(position=3)
    client = page_for(secretariat)
    upload = SimpleUploadedFile("minuta.pdf", b"%PDF-1.4 minuta", content_type="application/pdf")
    done = client.post(
        f"/conferencia/acuerdos/{tercero.pk}/",
        {
            "action": "follow_up",
            "commitment": str(target.pk),
            "reported_on": "2020-09-15",
            "progress": "Primera reunión con la CNPJ.",
            "status": "in_progress",
            "files": upload,
            "anchor": "commitments-title",
        },
    )
    assert done.status_code == 302 and done["Location"].endswith("#commitments-title")
    page = client.get(done["Location"]).content.decode()
    assert "Primera reunión con la CNPJ." in page and "minuta.pdf" in page
    assert "Avance del compromiso 3: Primera reunión con la CNPJ." in page  # the history
    evidence = EvidenceFile.objects.get(name="minuta.pdf")
    download = client.get(f"/conferencia/evidencia/{evidence.pk}/")
    assert download.status_code == 200 and download.content == b"%PDF-1.4 minuta"
    assert download["Content-Disposition"] == 'attachment; filename="minuta.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"


def test_tercero_shows_each_states_last_monthly_report(
    plenary: Session, secretariat: User, officer: User, make_user: Callable[..., User]
) -> None:
    from custodia.registry.services import detention_register
    from custodia.reports import sending

    make_user(Role.STATE_ANALYST, "ssc-tlax", email="analista@tlaxcala.gob.mx")
    detention_register(actor=officer, data=capture(), channel="api")
    today = timezone.localdate()
    month = f"{today:%Y-%m}"
    tlaxcala = State.objects.get(code="29")
    sending.queue_state_report(today.year, today.month, tlaxcala)
    tercero = agreement(plenary, "TERCERO")
    page = page_for(secretariat).get(f"/conferencia/acuerdos/{tercero.pk}/").content.decode()
    assert 'id="report-title">Informe mensual del RND por entidad' in page
    row = page.split(">Tlaxcala<", 1)[1].split("</tr>", 1)[0]
    assert row.count(month) == 2, row  # produced and sent
    other = page.split(">Chihuahua<", 1)[1].split("</tr>", 1)[0]
    assert "Sin datos" in other and "Ninguno" in other
    # Agreements without the tracking do not show the panel.
    cuarto = agreement(plenary, "CUARTO")
    assert (
        'id="report-title"'
        not in page_for(secretariat).get(f"/conferencia/acuerdos/{cuarto.pk}/").content.decode()
    )


def test_exports_through_their_urls(plenary: Session, tlaxcala_analyst: User) -> None:
    client = page_for(tlaxcala_analyst)
    pdf = client.get(f"/conferencia/sesiones/{plenary.pk}/acta.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert "acta-de-acuerdos-xxiii-asamblea-plenaria.pdf" in pdf["Content-Disposition"]
    sheet = client.get("/conferencia/seguimiento.xlsx")
    assert sheet.status_code == 200 and sheet.content.startswith(b"PK")
    assert Client().get("/conferencia/seguimiento.xlsx").status_code == 302


# --- The read API ------------------------------------------------------------------------------


def bearer(user: User) -> dict[str, str]:
    _, raw = ApiToken.issue(user, name="conferencia")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_api_reads_sessions_agreements_commitments_and_groups(
    plenary: Session, tlaxcala_analyst: User
) -> None:
    client, auth = Client(), bearer(tlaxcala_analyst)
    sessions = client.get("/api/v1/conference/sessions", **auth).json()
    assert [s["title"] for s in sessions["results"]] == ["XXIII Asamblea Plenaria"]
    assert sessions["next_cursor"] is None
    detail = client.get(f"/api/v1/conference/sessions/{plenary.pk}", **auth).json()
    assert detail["agenda_approved_on"] == "2020-06-30"
    assert [a["code"] for a in detail["agreements"]][2] == "03/XXIII/20"
    assert detail["communiques"][0]["text_in_record"] is False
    cup = client.get("/api/v1/conference/agreements?instrument=cup", **auth).json()["results"]
    assert [a["ordinal"] for a in cup] == ["SEXTO"]
    tercero = agreement(plenary, "TERCERO")
    full = client.get(f"/api/v1/conference/agreements/{tercero.pk}", **auth).json()
    assert [c["position"] for c in full["commitments"]] == [1, 2, 3]
    assert full["history"] and full["history"][0]["leaf_index"] >= 0
    open_items = client.get("/api/v1/conference/commitments?open=true", **auth).json()
    assert len(open_items["results"]) == 10
    secretariat_items = client.get(
        "/api/v1/conference/commitments?owner_kind=secretariat&status=done", **auth
    ).json()["results"]
    assert [c["agreement"] for c in secretariat_items] == ["02/XXIII/20"]
    groups = client.get("/api/v1/conference/working-groups", **auth).json()["results"]
    assert [g["rule"] for g in groups] == ["two_conferences", "proponent_and_zones"]
    one = client.get(f"/api/v1/conference/working-groups/{groups[1]['id']}", **auth).json()
    assert one["composition_problems"] and one["members"][0]["seat"] == "proponent"


def test_api_pages_with_a_cursor_and_rejects_bad_parameters(
    plenary: Session, tlaxcala_analyst: User
) -> None:
    client, auth = Client(), bearer(tlaxcala_analyst)
    seen, cursor = [], ""
    for _ in range(10):
        page = client.get(f"/api/v1/conference/commitments?limit=4&cursor={cursor}", **auth).json()
        seen += [c["id"] for c in page["results"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(Commitment.objects.values_list("pk", flat=True))
    assert len(seen) == len(set(seen)) == 11
    bad = client.get("/api/v1/conference/commitments?cursor=%%%", **auth)
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["message"].startswith("El cursor no es válido")
    wrong = client.get("/api/v1/conference/commitments?status=quizas", **auth)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["message"]
    huge = client.get("/api/v1/conference/sessions/99999999999999999999", **auth)
    assert huge.status_code in (404, 422)
    assert client.get("/api/v1/conference/agreements/987654", **auth).status_code == 404
    assert client.get("/api/v1/conference/sessions").status_code == 401


def test_api_refuses_an_account_without_an_institution(plenary: Session, db: Any) -> None:
    loose = User.objects.create_user(
        username="sin.institucion", password="x" * 12, role=Role.NATIONAL_ANALYST
    )
    answer = Client().get("/api/v1/conference/sessions", **bearer(loose))
    assert answer.status_code == 403
    assert (
        "no tiene acceso a los registros de la Conferencia" in answer.json()["errors"][0]["message"]
    )


def test_the_openapi_document_lists_the_conference_endpoints(db: Any) -> None:
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/conference/sessions",
        "/api/v1/conference/sessions/{session_id}",
        "/api/v1/conference/agreements",
        "/api/v1/conference/agreements/{agreement_id}",
        "/api/v1/conference/commitments",
        "/api/v1/conference/working-groups",
        "/api/v1/conference/working-groups/{group_id}",
    ):
        assert path in paths, path


def test_the_secretariat_creates_a_working_group_from_its_agreement_page(
    plenary: Session, secretariat: User
) -> None:
    quinto = agreement(plenary, "QUINTO")
    client = page_for(secretariat)
    missing = client.post(
        f"/conferencia/acuerdos/{quinto.pk}/",
        {
            "action": "group",
            "name": "Mesa del protocolo",
            "purpose": "Actualizar el protocolo",
            "rule": "proponent_and_zones",
        },
    )
    assert missing.status_code == 400
    assert "Proponente: esta integración lo requiere." in missing.content.decode()
    made = client.post(
        f"/conferencia/acuerdos/{quinto.pk}/",
        {
            "action": "group",
            "name": "Mesa del protocolo",
            "purpose": "Actualizar el protocolo",
            "rule": "open",
        },
    )
    assert made.status_code == 302
    group = WorkingGroup.objects.get(name="Mesa del protocolo")
    assert group.agreement == quinto and group.coordinator == "Secretaría Técnica"
    assert "Mesa del protocolo" in client.get(f"/conferencia/mesas/{group.pk}/").content.decode()
