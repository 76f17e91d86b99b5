"""factory-boy factories for test rows."""

import contextlib
from datetime import UTC, datetime

import factory
from django.contrib.auth import get_user_model

from cases.choices import CaseStatus, IncidentKind, Outcome, Role
from cases.models import Case, CaseMembership, Entity, Incident, SanctionsProvision, WeaponSystem

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@attest.invalid")
    is_staff = True
    password = factory.django.Password(PASSWORD)


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case
        skip_postgeneration_save = True

    reference = factory.Sequence(lambda n: f"PGO-2024-{n + 1:04d}")
    title = factory.Sequence(lambda n: f"North Korean missiles, strike series {n}")
    summary = "Hwasong-11 (KN-23) launches against Ukrainian cities."
    status = CaseStatus.UNDER_INVESTIGATION
    lead = factory.SubFactory(UserFactory)

    @factory.post_generation
    def lead_membership(case, create, extracted, **kwargs):
        if create and case.lead_id:
            CaseMembership.objects.get_or_create(case=case, user=case.lead, defaults={"role": Role.LEAD})


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseMembership

    case = factory.SubFactory(CaseFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.VIEWER


class WeaponSystemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WeaponSystem
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Test missile {n}")
    aliases = factory.LazyFunction(list)
    category = "ballistic_missile"
    country_of_origin = "DPRK"


class EntityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Entity

    kind = "organisation"
    name = factory.Sequence(lambda n: f"Trading corporation {n}")
    sanctioned = True


class ProvisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SanctionsProvision

    regime = factory.LazyFunction(lambda: SanctionsProvision.objects.first().regime)
    instrument = factory.Sequence(lambda n: f"Resolution {3000 + n} (2030)")
    paragraph = "1"
    text = "Test provision."
    adopted_on = datetime(2030, 1, 1).date()
    authority = "UN Security Council"


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident
        skip_postgeneration_save = True

    case = factory.SubFactory(CaseFactory)
    kind = IncidentKind.MISSILE_STRIKE
    occurred_at = factory.Sequence(lambda n: datetime(2024, 1, 1, 6, 0, tzinfo=UTC).replace(minute=n % 60))
    place_name = "Kharkiv"
    region = "Kharkiv"
    latitude = "49.993500"
    longitude = "36.230400"
    outcome = Outcome.IMPACT
    identification_basis = factory.LazyFunction(lambda: ["debris"])


class EvidenceItemFactory(factory.django.DjangoModelFactory):
    """Items are made through the service, so each one has its custody event as in real use."""

    class Meta:
        model = "evidence.EvidenceItem"

    case = factory.SubFactory(CaseFactory)
    kind = "physical_debris"
    title = factory.Sequence(lambda n: f"Missile debris fragment {n}")
    description = "Fragment of a rocket motor casing with a stamped plate."
    recovered_by = "Regional police explosives team"
    recovery_place = "Kharkiv, Saltivka district"
    custodian = "Kharkiv regional prosecutor's office"

    @classmethod
    def _create(cls, model_class, *args, actor=None, **kwargs):
        from evidence.services import create_item

        case = kwargs.pop("case")
        return create_item(actor=actor or case.lead, case=case, **kwargs)


@contextlib.contextmanager
def celery_eager(eager: bool):
    """Tasks run in this process (True, the embedded default) or go to a worker elsewhere (False)."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


class PhotoFactory(factory.django.DjangoModelFactory):
    """A generated JPEG with a little EXIF, accepted through the service like an upload.

    processed=True processes it within its upload, as the embedded default does (tasks in this
    process); processed=False accepts it for a worker elsewhere, so it stays pending (its task is
    queued at a commit the test's transaction holds back); None does what this run's settings do."""

    class Meta:
        model = "evidence.Photo"

    item = factory.SubFactory(EvidenceItemFactory)
    width, height = 64, 48
    seed = factory.Sequence(lambda n: n)

    @classmethod
    def _create(cls, model_class, *args, item, width, height, seed, actor=None, processed=None, **kwargs):
        import io
        import uuid

        from PIL import Image

        from evidence.filestore import hashed_copy
        from evidence.services import add_photo

        buffer = io.BytesIO()
        image = Image.new("RGB", (width, height), (seed * 37 % 256, seed * 91 % 256, 120))
        exif = Image.Exif()
        exif[0x010F], exif[0x0110] = "Attest", "Test camera"
        exif[0x010E] = uuid.uuid4().hex  # ImageDescription: unique bytes, so tests never share an original
        image.save(buffer, "JPEG", quality=90, exif=exif)
        buffer.seek(0)
        tasks = contextlib.nullcontext() if processed is None else celery_eager(processed)
        with hashed_copy(buffer) as upload, tasks:
            accepted = add_photo(
                actor=actor or item.case.lead, item=item, upload=upload, original_name=f"debris-{seed}.jpg", **kwargs
            )
        return accepted.photo


class ManufacturerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "evidence.Manufacturer"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Component maker {n}")
    country = "United States"


def _analyst_of(case):
    """Someone with the analyst right on the case: its lead will do."""
    return case.lead


class MarkingFactory(factory.django.DjangoModelFactory):
    """Markings are recorded through the service, so each one has its custody event."""

    class Meta:
        model = "evidence.Marking"

    item = factory.SubFactory(EvidenceItemFactory, kind="component")
    transcription = factory.Sequence(lambda n: f"AD7541A {2300 + n % 52:04d}")
    marking_type = "part_number"
    confidence = "probable"

    @classmethod
    def _create(cls, model_class, *args, item, actor=None, **kwargs):
        from evidence.services import record_marking

        return record_marking(actor=actor or _analyst_of(item.case), item=item, **kwargs)


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "evidence.Source"

    case = factory.SubFactory(CaseFactory)
    kind = "un_report"
    title = factory.Sequence(lambda n: f"Final report of the Panel of Experts, part {n}")
    publisher = "United Nations Security Council"
    document_reference = "S/2024/215"
    reliability = "B"

    @classmethod
    def _create(cls, model_class, *args, case, actor=None, **kwargs):
        from evidence.services import add_source

        return add_source(actor=actor or _analyst_of(case), case=case, **kwargs)


class AttributionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "evidence.Attribution"

    case = factory.SubFactory(CaseFactory)
    claim = "The missile that struck Kharkiv on 2 January 2024 was a Hwasong-11."
    subject_type = "case"
    credibility = 2
    stance = "supports"

    @classmethod
    def _create(cls, model_class, *args, case, actor=None, source=None, subject=None, **kwargs):
        from evidence.services import add_attribution

        source = source or SourceFactory(case=case)
        return add_attribution(actor=actor or _analyst_of(case), case=case, source=source, subject=subject, **kwargs)


class ExportFactory(factory.django.DjangoModelFactory):
    """An export as asked for; it is built only when the test runs the on-commit task."""

    class Meta:
        model = "evidence.Export"

    case = factory.SubFactory(CaseFactory)
    kind = "dossier"

    @classmethod
    def _create(cls, model_class, *args, case, actor=None, **kwargs):
        from evidence.services import request_export

        return request_export(actor=actor or case.lead, case=case, **kwargs)
