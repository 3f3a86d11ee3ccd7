"""The XXIII plenary session of 30 June 2020, as its record of agreements states it
(``data/xxiii-asamblea-plenaria-2020-06-30.json``; docs/conference.md says what the record left
open and how it is modelled). Loaded through the services, so every row has its ledger leaf."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.db import transaction

from custodia.core.models import Institution, InstitutionKind, Role, User

from . import ordinals, services
from .models import Agreement, Session, WorkingGroup

SEED = Path(__file__).parent / "data" / "xxiii-asamblea-plenaria-2020-06-30.json"
SECRETARIAT_CODE = "st-cnssp"
LOADER_USERNAME = "secretaria.tecnica.carga"


@dataclass(frozen=True)
class Loaded:
    session: Session
    new: bool


def secretariat_actor() -> User:
    """Who the seed's rows are recorded by: an account of the Secretariat that cannot log in."""
    institution, _ = Institution.objects.get_or_create(
        code=SECRETARIAT_CODE,
        defaults={
            "name": "Secretaría Técnica de la CNSSP",
            "kind": InstitutionKind.SECRETARIAT,
            "state_id": "09",
        },
    )
    user, created = User.objects.get_or_create(
        username=LOADER_USERNAME,
        defaults={
            "role": Role.NATIONAL_ANALYST,
            "institution": institution,
            "first_name": "Carga del acta",
        },
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def load(path: Path = SEED) -> Loaded:
    """Load the session once; a second call finds it and writes nothing."""
    seed: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    spec = seed["session"]
    existing = Session.objects.filter(kind=spec["kind"], number=spec["number"]).first()
    if existing is not None:
        return Loaded(existing, new=False)
    actor = secretariat_actor()
    with transaction.atomic():
        session = services.create_session(actor=actor, **spec)
        services.set_agenda(
            actor=actor,
            session=session,
            items=[(title, "") for title in seed["agenda"]],
        )
        agreements: dict[str, Agreement] = {}
        for spec_agreement in seed["agreements"]:
            agreements[spec_agreement["ordinal"]] = services.add_agreement(
                actor=actor,
                session=session,
                number=ordinals.ordinal_number(spec_agreement["ordinal"]),
                title=spec_agreement["title"],
                text=spec_agreement["text"],
                instruments=spec_agreement["instruments"],
                public=True,
            )
        services.approve_agenda(
            actor=actor,
            session=session,
            approved_on=spec["held_on"],
            agreement=agreements[seed["agenda_approved_by"]],
        )
        groups = {
            key: _group(actor, agreements[group["agreement"]], group)
            for key, group in seed["working_groups"].items()
        }
        for spec_agreement in seed["agreements"]:
            for item in spec_agreement["commitments"]:
                fields = {k: v for k, v in item.items() if k != "working_group"}
                services.add_commitment(
                    actor=actor,
                    agreement=agreements[spec_agreement["ordinal"]],
                    working_group=groups.get(item.get("working_group", "")),
                    **fields,
                )
        _communique(actor, agreements, seed["communique"])
    session.refresh_from_db()  # the services changed it through their own (locked) copies
    return Loaded(session, new=True)


def _group(actor: User, agreement: Agreement, spec: dict[str, Any]) -> WorkingGroup:
    group = services.create_working_group(
        actor=actor,
        agreement=agreement,
        name=spec["name"],
        purpose=spec["purpose"],
        rule=spec["rule"],
        proponent=spec.get("proponent", ""),
        proponent_state=spec.get("proponent_state", ""),
        counterpart=spec.get("counterpart", ""),
        coordinator=spec["coordinator"],
    )
    for member in spec.get("members", []):
        services.add_member(actor=actor, group=group, joined_on=agreement.session.held_on, **member)
    for liaison in spec.get("liaisons", []):
        services.add_liaison(actor=actor, group=group, **liaison)
    return group


def _communique(actor: User, agreements: dict[str, Agreement], spec: dict[str, Any]) -> None:
    agreement = agreements[spec["agreement"]]
    communique = services.draft_communique(
        actor=actor,
        agreement=agreement,
        title=spec["title"],
        text_in_record=spec["text_in_record"],
        note=spec["note"],
    )
    services.approve_communique(actor=actor, communique=communique, approved_on=spec["approved_on"])
    # The plenary approved the communiqué and annexed it: its commitment is met.
    commitment = agreement.commitments.get(position=1)
    services.add_follow_up(
        actor=actor,
        commitment=commitment,
        reported_on=date.fromisoformat(spec["approved_on"]),
        progress="El Pleno aprobó la emisión del comunicado, que se anexa al acta de la sesión.",
        status="done",
    )
