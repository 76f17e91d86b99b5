"""Build the demo cases through the services, with an actor for every change, as users would.

Each case is built in one transaction, so an interrupted run leaves no half-built case: the
next run builds it again. A case whose reference exists already is left alone, apart from
finishing what may have been cut short after its commit (its first signed checkpoint, its
links to sanctioned entities imported since) and reporting its photos that are not processed.
Photos are processed after the commit: in-process on the embedded default, by a worker when
a broker is configured.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone

from cases import reference_data
from cases import services as case_services
from cases.choices import Role
from cases.models import Case, CaseMembership, Entity, Incident, SanctionsProvision, WeaponSystem
from evidence import custody, services
from evidence.choices import AttributionSubject, ItemKind, ItemStatus, MarkingType, PhotoStatus, RecipientKind
from evidence.demo import data
from evidence.demo.photos import Exif, render
from evidence.lib.datecodes import parse_date_code
from evidence.models import Component, DateCodeReading, EvidenceItem, Manufacturer, Marking, Photo, TraceRequest
from evidence.services.components import record_component, record_reading, verify_reading
from evidence.services.tracing import (
    draft_trace_request,
    issue_letter,
    mark_overdue,
    record_response,
    send_trace_request,
)

REGION_CODES = {"Kyiv City": "KV", "Kyiv": "KO", "Kharkiv": "KH", "Poltava": "PL", "Donetsk": "DN", "Kirovohrad": "KR"}
CHECKPOINT_REASON = "demo data loaded"


@dataclass
class Login:
    username: str
    password: str | None  # None: changed since the demo created it
    role: str


@dataclass
class Context:
    """What one case's build needs and collects."""

    case: Case
    users: dict[str, object]
    folder: Path
    incidents: dict[str, Incident] = field(default_factory=dict)
    items: dict[str, EvidenceItem] = field(default_factory=dict)
    markings: dict[str, Marking] = field(default_factory=dict)
    components: dict[str, Component] = field(default_factory=dict)
    sources: dict[str, object] = field(default_factory=dict)

    @property
    def lead(self):
        return self.users[Role.LEAD]

    @property
    def investigator(self):
        return self.users[Role.INVESTIGATOR]

    @property
    def analyst(self):
        return self.users[Role.ANALYST]


# --- Users -----------------------------------------------------------------------------------------


def ensure_users() -> tuple[dict[str, object], list[Login]]:
    """The demo users, one per role, created with the published password if they do not exist."""
    user_model = get_user_model()
    users, logins = {}, []
    add_case = Permission.objects.get(content_type__app_label="cases", codename="add_case")
    editors = reference_data.editors_group()
    for demo in data.USERS:
        user, created = user_model.objects.get_or_create(
            username=demo.username,
            defaults={
                "is_staff": True,
                "first_name": demo.first_name,
                "last_name": demo.last_name,
                "email": f"{demo.username}@attest.invalid",
            },
        )
        if created:
            user.set_password(data.PASSWORD)
            user.save(update_fields=["password"])
        if demo.role == Role.LEAD:
            user.user_permissions.add(add_case)  # opening cases needs it; the lead opens the demo cases
        if demo.role in (Role.LEAD, Role.ANALYST):
            user.groups.add(editors)  # they keep entities and manufacturers; investigators and viewers read them
        users[demo.role] = user
        logins.append(Login(demo.username, data.PASSWORD if user.check_password(data.PASSWORD) else None, demo.role))
    return users, logins


# --- Shared steps ------------------------------------------------------------------------------------


def _provisions(pairs) -> list[SanctionsProvision]:
    found = []
    for instrument, paragraph in pairs:
        provision = SanctionsProvision.objects.filter(instrument=instrument, paragraph=paragraph).first()
        if provision is not None:
            found.append(provision)
    return found


def _weapon(name: str) -> WeaponSystem | None:
    weapon = WeaponSystem.objects.filter(name=name).first()
    if weapon is None:
        weapon = next((each for each in WeaponSystem.objects.all() if name in (each.aliases or [])), None)
    return weapon


def _sdn_entities(list_ids) -> list[Entity]:
    return list(Entity.objects.filter(list_name="OFAC SDN", list_id__in=list_ids).order_by("list_id"))


def _open_case(spec: dict, users: dict, entities=()) -> Case:
    lead = users[Role.LEAD]
    case = case_services.create_case(
        actor=lead,
        reference=spec["reference"],
        title=spec["title"],
        summary=spec["summary"],
        status=spec["status"],
        opened_on=spec["opened_on"],
        legal_basis=_provisions(spec["provisions"]),
        entities=entities,
        lead=lead,
    )
    for role, user in users.items():
        if role != Role.LEAD:
            case_services.set_membership(actor=lead, case=case, user=user, role=role)
    return case


def _local(moment: dt.datetime, days: int, hour: int, minute: int = 0) -> dt.datetime:
    day = moment.astimezone(data.KYIV).date() + dt.timedelta(days=days)
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=data.KYIV)


def _add_photos(ctx: Context, item: EvidenceItem, shots, *, start: dt.datetime, place: data.Place, latitude, longitude):
    """Generate each photo with its EXIF, write it to the temporary folder and add it as an upload."""
    added = {}
    for shot in shots:
        taken_at = start + dt.timedelta(minutes=shot.minutes_after)
        exif = Exif(
            taken_at=taken_at, latitude=float(latitude), longitude=float(longitude), altitude_m=place.altitude_m
        )
        rendered = render(shot.spec, exif)
        path = ctx.folder / shot.spec.name
        path.write_bytes(rendered.jpeg)
        accepted = services.add_photo_from_path(
            actor=ctx.investigator,
            item=item,
            path=path,
            photographer="Forensic photographer [demo]",
            notes=f"{shot.notes} {data.DEMO} Generated image, not a photograph.".strip(),
        )
        added[shot.spec.name] = (accepted.photo, rendered.boxes)
    return added


def _reading(transcription: str, not_after: dt.date):
    readings = parse_date_code(transcription, not_after=not_after)
    return readings[0] if len(readings) == 1 else None


def _record_marks(ctx: Context, item: EvidenceItem, marks, photos, *, key: str) -> None:
    for mark in marks:
        photo, boxes = photos[mark.photo]
        fields = {
            "transcription": mark.transcription,
            "marking_type": mark.marking_type,
            "confidence": mark.confidence,
            "photo": photo,
            "region": boxes[mark.label],
            "part_number": mark.part_number,
        }
        if mark.manufacturer:
            fields["manufacturer"] = _manufacturer(ctx, mark.manufacturer)
        if mark.marking_type == MarkingType.DATE_CODE:
            reading = _reading(mark.transcription, item.recovered_at.date())
            if reading is not None:
                fields["interpreted_date"], fields["interpreted_date_precision"] = reading.start, reading.precision
        marking = services.record_marking(actor=ctx.analyst, item=item, **fields)
        if mark.verify:  # four eyes: a second member confirms the reading
            marking = services.verify_marking(actor=ctx.investigator, marking=marking)
        ctx.markings[f"{key}/{mark.label}"] = marking


def _manufacturer(ctx: Context, key: str) -> Manufacturer:
    """The maker, added by the analyst (a reference data editor) the first time, so the trail records it."""
    spec = data.MANUFACTURERS[key]
    manufacturer = Manufacturer.objects.filter(name=spec.name).first()
    if manufacturer is None:
        manufacturer = reference_data.create_reference(
            actor=ctx.analyst, model=Manufacturer, via="demo", name=spec.name, country=spec.country,
            aliases=list(spec.aliases), legal_name=spec.legal_name, may_be_named=spec.may_be_named,
            notes=f"{data.MANUFACTURER_NOTES} {spec.notes}".strip(),
        )  # fmt: skip
    return manufacturer


def _office(region: str) -> str:
    return "Kyiv city prosecutor's office" if region == "Kyiv City" else f"{region} regional prosecutor's office"


def _build_debris(ctx: Context, debris: data.Debris, *, incident: Incident, place: data.Place) -> EvidenceItem:
    """A debris exhibit: recovered by the police, handed to the prosecutor, then to the laboratory, examined."""
    rng = random.Random(f"{data.SEED}/{debris.key}")  # noqa: S311 - demo data, not security
    recovered_at = debris.recovered_at or incident.occurred_at + dt.timedelta(hours=debris.hours_after)
    latitude = Decimal(f"{place.latitude + rng.uniform(-0.01, 0.01):.6f}")
    longitude = Decimal(f"{place.longitude + rng.uniform(-0.01, 0.01):.6f}")
    code = REGION_CODES.get(place.region, "UA")
    police = f"National Police explosives unit, {place.name}"
    item = services.create_item(
        actor=ctx.investigator,
        case=ctx.case,
        kind=ItemKind.PHYSICAL_DEBRIS,
        title=debris.title,
        description=debris.description,
        incident=incident,
        recovered_at=recovered_at,
        recovered_by=debris.recovered_by or police,
        recovery_place=f"{place.name}, {debris.spot} {data.DEMO}",
        recovery_latitude=latitude,
        recovery_longitude=longitude,
        custodian=police,
        storage_location=f"Police evidence store, {place.name}",
        seal_number=f"NP-{code}-{debris.seal:05d}",
        condition=debris.condition,
    )
    photos = _add_photos(
        ctx, item, debris.photos, start=recovered_at, place=place, latitude=latitude, longitude=longitude
    )
    _record_marks(ctx, item, debris.marks, photos, key=debris.key)
    office = _office(place.region)
    services.transfer_custody(
        actor=ctx.investigator,
        item=item,
        to_custodian=office,
        occurred_at=_local(recovered_at, 1, 10),
        place=place.name,
        purpose="Handed over as material evidence in the criminal proceedings",
        seal_number=f"PGO-{code}-24-{debris.seal:04d}",
        storage_location=f"Evidence room, {office}",
        notes=f"{data.DEMO} Seal numbers invented.",
    )
    services.transfer_custody(
        actor=ctx.investigator,
        item=item,
        to_custodian=data.LAB_CUSTODIAN,
        occurred_at=_local(recovered_at, 4, 11, 30),
        place="Kyiv",
        purpose="Forensic examination: materials, markings and components",
        seal_number=f"LAB-24-{rng.randrange(1000, 9999)}",
        storage_location=f"Laboratory evidence store, bay {rng.randrange(1, 9)}",
        status=ItemStatus.IN_LABORATORY,
    )
    examined_at = _local(recovered_at, 7, 14)
    services.record_examination(
        actor=ctx.investigator,
        item=item,
        occurred_at=examined_at,
        examiner=data.EXAMINER,
        place=data.LAB.name,
        findings=debris.findings,
    )
    ctx.items[debris.key] = item
    for component in debris.components:
        _build_component(ctx, component, parent=item, incident=incident, taken_out_at=examined_at, rng=rng)
    return item


def _build_component(ctx: Context, component: data.Component, *, parent, incident, taken_out_at, rng) -> None:
    lab = data.LAB
    recovered_at = taken_out_at + dt.timedelta(hours=1)
    made = next(
        (
            reading
            for mark in component.marks
            if mark.marking_type == MarkingType.DATE_CODE
            and (reading := _reading(mark.transcription, recovered_at.date()))
        ),
        None,
    )
    if len(component.parts) > 1:
        made = None  # a board of several parts has no one date of manufacture
    item = services.create_item(
        actor=ctx.investigator,
        case=ctx.case,
        kind=ItemKind.COMPONENT,
        parent=parent,
        incident=incident,
        title=component.title,
        description=component.description,
        recovered_at=recovered_at,
        recovered_by=f"{data.EXAMINER}, taken out of {parent.exhibit_number}",
        recovery_place=lab.name,
        recovery_latitude=Decimal(f"{lab.latitude:.6f}"),
        recovery_longitude=Decimal(f"{lab.longitude:.6f}"),
        custodian=data.LAB_CUSTODIAN,
        storage_location=f"Laboratory evidence store, bay {rng.randrange(1, 9)}",
        seal_number=f"LAB-24-{rng.randrange(1000, 9999)}",
        condition=component.condition,
        status=ItemStatus.IN_LABORATORY,
        manufacturer=_manufacturer(ctx, component.manufacturer) if component.manufacturer else None,
        part_number=component.part_number,
        country_of_origin=component.country_of_origin,
        manufactured_on=made.start if made else None,
        manufactured_precision=made.precision if made else "",
    )
    photos = _add_photos(
        ctx, item, component.photos, start=recovered_at, place=lab, latitude=lab.latitude, longitude=lab.longitude
    )
    _record_marks(ctx, item, component.marks, photos, key=component.key)
    _record_parts(ctx, item, component.parts, key=component.key)
    ctx.items[component.key] = item


def _record_parts(ctx: Context, item: EvidenceItem, parts, *, key: str) -> None:
    """The component table of an exhibit: each part with its marks, its date code read by the analyst and,
    four eyes, verified by the investigator."""
    for part in parts:
        component = record_component(
            actor=ctx.analyst,
            item=item,
            function=part.function,
            designator=part.designator,
            manufacturer_as_marked=part.as_marked,
            manufacturer=_manufacturer(ctx, part.manufacturer) if part.manufacturer else None,
            part_number=part.part_number,
            lot_code=part.lot_code,
            notes=part.notes,
            markings=[ctx.markings[f"{key}/{label}"] for label in part.marks],
        )
        ctx.components[f"{key}/{part.designator}"] = component
        if part.date_mark:
            marking = ctx.markings[f"{key}/{part.date_mark}"]
            reading = record_reading(
                actor=ctx.analyst, component=component, raw_code=marking.transcription, marking=marking, rule=part.rule
            )
            if part.verify:
                verify_reading(actor=ctx.investigator, reading=reading)


def _plain_letter(request: TraceRequest, path: Path) -> None:
    """A one-page letter, for when evidence.export.letters is not there to render the real one."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    text = pdf.beginText(60, A4[1] - 72)
    text.setFont("Helvetica", 10)
    lines = [f"To: {request.recipient_name}", "", "Trace request [demo]", ""]
    lines += [f"- {component}" for component in request.components.all()]
    lines += ["", *_wrap(request.context, 95), "", f"Please answer within {request.deadline_days} days."]
    for line in lines:
        text.textLine(line)
    pdf.drawText(text)
    pdf.showPage()
    pdf.save()


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


def _render_letter(request: TraceRequest, path: Path) -> None:
    try:
        from evidence.export.letters import render_letter
    except ModuleNotFoundError as error:
        if error.name != "evidence.export.letters":
            raise
        _plain_letter(request, path)
        return
    render_letter(request, path)


def _add_traces(ctx: Context) -> None:
    """Trace requests to the makers of some parts: drafted and issued by the analyst, sent by the investigator;
    one answered (naming a distributor, which is screened), one left unanswered past its deadline."""
    for spec in data.TRACES:
        maker = _manufacturer(ctx, spec.manufacturer)
        request = draft_trace_request(
            actor=ctx.analyst,
            case=ctx.case,
            recipient_kind=RecipientKind.MANUFACTURER,
            recipient_name=maker.legal_name or maker.name,
            components=[ctx.components[key] for key in spec.parts],
            manufacturer=maker,
            context=spec.context,
            deadline_days=28,
        )
        request = issue_letter(actor=ctx.analyst, request=request, render=_render_letter)
        request = send_trace_request(
            actor=ctx.investigator, request=request, sent_on=spec.sent_on, channel=spec.channel
        )
        if spec.answer is not None:
            answer = spec.answer
            record_response(
                actor=ctx.investigator,
                request=request,
                received_on=answer.received_on,
                summary=answer.summary,
                upload=io.BytesIO(answer.text.encode("utf-8")),
                file_name=answer.file_name,
                distributor_name=answer.distributor_name,
                distributor_country=answer.distributor_country,
            )
    mark_overdue(today=timezone.localdate())  # what the daily sweep does: the unanswered one is overdue


def _subject(ctx: Context, reference: str):
    if reference == "case":
        return AttributionSubject.CASE, None
    kind, key = reference.split(":", 1)
    if kind in ("launch", "incident"):
        return AttributionSubject.INCIDENT, ctx.incidents[key]
    if kind in ("item", "component"):
        return AttributionSubject.EVIDENCE_ITEM, ctx.items[key]
    return AttributionSubject.MARKING, ctx.markings[key]


def _add_sources(ctx: Context, sources, claims) -> None:
    for spec in sources:
        ctx.sources[spec.key] = services.add_source(actor=ctx.analyst, case=ctx.case, **spec.fields)
    for claim in claims:
        subject_type, subject = _subject(ctx, claim.subject)
        services.add_attribution(
            actor=ctx.analyst,
            case=ctx.case,
            subject_type=subject_type,
            subject=subject,
            source=ctx.sources[claim.source],
            claim=claim.claim,
            credibility=claim.credibility,
            stance=claim.stance,
        )


# --- The two cases -----------------------------------------------------------------------------------


def build_main_case(users: dict, folder: Path) -> Case:
    ctx = Context(case=_open_case(data.MAIN_CASE, users), users=users, folder=folder)
    weapon = _weapon("Hwasong-11")
    for launch in sorted(data.LAUNCHES, key=lambda each: (each.occurred_at, each.key)):
        fields = data.incident_fields(launch, weapon)
        ctx.incidents[launch.key] = case_services.create_incident(actor=ctx.analyst, case=ctx.case, **fields)
    launches = {launch.key: launch for launch in data.LAUNCHES}
    for debris in data.DEBRIS:
        launch = launches[debris.launch]
        _build_debris(ctx, debris, incident=ctx.incidents[launch.key], place=data.PLACES[launch.place])
    _add_sources(ctx, data.MAIN_SOURCES, data.MAIN_CLAIMS)
    _add_traces(ctx)
    return ctx.case


def build_shipment_case(users: dict, folder: Path) -> Case:
    entities = _sdn_entities(data.SHIPMENT_CASE["sdn_entities"])
    ctx = Context(case=_open_case(data.SHIPMENT_CASE, users, entities), users=users, folder=folder)
    for spec in data.SHIPMENT_INCIDENTS:
        fields = {name: value for name, value in spec.items() if name not in ("key", "weapon")}
        fields["identification_basis"] = [str(value) for value in fields["identification_basis"]]
        fields["weapon_system"] = _weapon(spec["weapon"])
        ctx.incidents[spec["key"]] = case_services.create_incident(actor=ctx.analyst, case=ctx.case, **fields)
    _build_debris(ctx, data.ROCKET, incident=ctx.incidents[data.ROCKET.launch], place=data.ROCKET_PLACE)
    _add_sources(ctx, data.SHIPMENT_SOURCES, data.SHIPMENT_CLAIMS)
    return ctx.case


CASES: tuple[tuple[dict, Callable[[dict, Path], Case]], ...] = (
    (data.MAIN_CASE, build_main_case),
    (data.SHIPMENT_CASE, build_shipment_case),
)


# --- Running it ------------------------------------------------------------------------------------------


def _counts(case: Case) -> str:
    photos = Photo.objects.filter(item__case=case)
    states = {state: photos.filter(status=state).count() for state in PhotoStatus.values}
    photo_text = ", ".join(f"{count} {state}" for state, count in states.items() if count) or "none"
    return (
        f"{case.incidents.count()} incidents, {case.items.count()} exhibits, photos: {photo_text}, "
        f"{Marking.objects.filter(item__case=case).count()} markings, {case.sources.count()} sources, "
        f"{case.attributions.count()} attributions, "
        f"{Component.objects.filter(item__case=case).count()} components, "
        f"{DateCodeReading.objects.filter(component__item__case=case).counted().count()} verified date-code readings, "
        f"{case.trace_requests.count()} trace requests, {case.custody_events.count()} custody events"
    )


def _link_entities(case: Case, spec: dict, users: dict, write) -> None:
    """Entities imported (import_sdn) after the case was built are linked on a later run."""
    wanted = _sdn_entities(spec.get("sdn_entities", ()))
    missing = [entity for entity in wanted if not case.entities.filter(pk=entity.pk).exists()]
    if missing and CaseMembership.objects.filter(case=case, user=users[Role.LEAD], role=Role.LEAD).exists():
        case_services.update_case(actor=users[Role.LEAD], case=case, entities=[*case.entities.all(), *missing])
        write(f"  linked sanctioned entities imported since: {', '.join(entity.name for entity in missing)}")


def _first_checkpoint(case: Case, write) -> None:
    """Sign the ledger head once, so the demo ledgers start signed; later heads are beat's job."""
    if case.checkpoints.exists():
        return
    if not custody.signing_key_path().exists():
        write(f"  no ledger signing key at {custody.signing_key_path()}: run create_signing_key, then load_demo again")
        return
    report = custody.verify_case(case, files=False)
    if not report.intact:
        write(f"  the ledger of {case.reference} does not verify; not signing it: {report.problems[0]}")
        return
    checkpoint = custody.sign_checkpoint(case=case, reason=CHECKPOINT_REASON)
    write(f"  signed checkpoint of the ledger head {checkpoint.size}:{checkpoint.head_hash[:16]}…")


def load(*, write: Callable[[str], None]) -> list[Login]:
    """Build whichever demo case is missing; returns the demo logins. Safe to run again."""
    data.check()
    users, logins = ensure_users()
    with tempfile.TemporaryDirectory(prefix="attest-demo-") as folder:
        for spec, builder in CASES:
            reference = spec["reference"]
            case = Case.objects.filter(reference=reference).first()
            if case is None:
                started = time.monotonic()
                with transaction.atomic():  # all or nothing: a failed run leaves no half-built case
                    case = builder(users, Path(folder))
                # Committed: on the embedded default the photo pipeline has run by now.
                write(f"Demo case {reference} built in {time.monotonic() - started:.1f} s: {_counts(case)}")
            else:
                write(f"Demo case {reference} exists already, not rebuilt: {_counts(case)}")
                _link_entities(case, spec, users, write)
            _first_checkpoint(case, write)
            waiting = Photo.objects.filter(item__case=case).exclude(status=PhotoStatus.DONE).count()
            if waiting:
                write(
                    f"  {waiting} photos are not processed yet: a worker processes them (or the sweeper re-queues "
                    "them); `manage.py reprocess_photos --failed` queues failed ones again"
                )
    return logins
