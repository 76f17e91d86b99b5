from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.api.serializers import VisibleCaseField, VisibleRelatedField
from cases.fields import MAX_NAMES
from cases.models import TEXT_MAX_LENGTH, AccessLog, Incident
from core.api.serializers import BooleanField, CharField, FixedAfterCreateMixin, ModelSerializer
from evidence.choices import DossierLanguage, ItemStatus, PhotoStatus, TraceChannel
from evidence.models import (
    Attribution,
    Component,
    CustodyEvent,
    DateCodeReading,
    EvidenceItem,
    Export,
    Manufacturer,
    Marking,
    Photo,
    Source,
    TraceRequest,
    TraceResponse,
)
from evidence.selectors import date_readings


class VisibleIncidentField(VisibleRelatedField):
    model = Incident


class VisibleItemField(VisibleRelatedField):
    model = EvidenceItem


class EvidenceItemSerializer(FixedAfterCreateMixin, ModelSerializer):
    fixed_after_create = ("case", "custodian")  # the custodian changes by a custody transfer only
    case = VisibleCaseField()
    incident = VisibleIncidentField(required=False, allow_null=True)
    parent = VisibleItemField(required=False, allow_null=True)
    custodian = CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Set when the item is recorded; afterwards it changes only by a custody transfer.",
    )
    status = serializers.ChoiceField(choices=ItemStatus.choices, read_only=True)

    class Meta:
        model = EvidenceItem
        fields = [
            "id", "case", "exhibit_number", "kind", "title", "description", "incident", "parent",
            "recovered_at", "recovered_by", "recovery_place", "recovery_latitude", "recovery_longitude",
            "custodian", "storage_location", "seal_number", "condition", "status", "manufacturer", "part_number",
            "country_of_origin", "manufactured_on", "manufactured_precision", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["exhibit_number", "created_at", "updated_at"]


class CustodyEventSerializer(ModelSerializer):
    case_reference = serializers.CharField(source="case.reference", read_only=True)
    actor = serializers.CharField(source="actor_name", read_only=True)
    payload = serializers.JSONField(source="payload_data", read_only=True)
    corrects = serializers.SerializerMethodField(help_text="The sequence number of the event this one corrects.")

    class Meta:
        model = CustodyEvent
        fields = [
            "id", "case", "case_reference", "sequence", "event_type", "subject_type", "subject_id",
            "subject_label", "actor", "occurred_at", "recorded_at", "corrects", "payload", "prev_hash",
            "hash",
        ]  # fmt: skip
        read_only_fields = fields

    def get_corrects(self, event) -> int | None:
        return event.corrects.sequence if event.corrects_id else None


class CustodyTransferSerializer(serializers.Serializer):
    """The one write on the ledger endpoint: hand an exhibit to a new custodian."""

    item = VisibleItemField()
    to_custodian = CharField(max_length=200)
    occurred_at = serializers.DateTimeField()
    place = CharField(max_length=300, required=False, allow_blank=True, default="")
    purpose = CharField(max_length=300, required=False, allow_blank=True, default="")
    seal_intact = BooleanField(default=True)
    seal_number = CharField(max_length=100, required=False, allow_blank=True)
    storage_location = CharField(max_length=300, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=ItemStatus.choices, default=ItemStatus.TRANSFERRED)
    notes = CharField(max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True, default="")

    def validate_to_custodian(self, value):
        if not value.strip():
            raise serializers.ValidationError(_("Name who receives the item."))
        return value


class VerificationProblemSerializer(serializers.Serializer):
    where = serializers.CharField()
    reason = serializers.CharField()
    seq = serializers.IntegerField(allow_null=True)


class VerificationReportSerializer(serializers.Serializer):
    case = serializers.CharField()
    intact = serializers.BooleanField()
    size = serializers.IntegerField()
    head = serializers.CharField()
    checkpoints_checked = serializers.IntegerField()
    files_checked = serializers.IntegerField()
    problems = VerificationProblemSerializer(many=True)


class PhotoUploadSerializer(serializers.Serializer):
    item = VisibleItemField(help_text="The evidence item the photo shows.")
    file = serializers.FileField(help_text="JPEG, PNG, TIFF, WebP or HEIC; the type is read from the bytes.")
    photographer = CharField(max_length=200, required=False, allow_blank=True, default="")
    captured_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="Used when the photo has no EXIF time."
    )
    notes = CharField(max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True, default="")

    def to_internal_value(self, data):
        request = self.context["request"]
        if getattr(request, "upload_too_large", None):
            limit = settings.ATTEST_MAX_UPLOAD_BYTES
            message = _("The file is larger than the limit of %(n)s bytes.") % {"n": limit}
            raise serializers.ValidationError({"file": [message]})
        return super().to_internal_value(data)


class PhotoSerializer(ModelSerializer):
    case = serializers.IntegerField(source="item.case_id", read_only=True)
    exhibit_number = serializers.CharField(source="item.exhibit_number", read_only=True)
    sha256 = serializers.CharField(source="original.sha256", read_only=True)
    size = serializers.IntegerField(source="original.size", read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="photo-detail", help_text="Poll here for the status.")
    original_url = serializers.HyperlinkedIdentityField(view_name="photo-original")
    preview_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = Photo
        fields = [
            "id", "url", "case", "item", "exhibit_number", "sha256", "size", "original_name", "format",
            "width", "height", "photographer", "captured_at", "captured_at_source", "notes", "uploaded_by",
            "uploaded_at", "status", "error", "attempts", "processed_at", "camera_make", "camera_model",
            "lens", "exif_taken_at", "gps_latitude", "gps_longitude", "gps_altitude", "orientation",
            "preview_width", "preview_height", "phash", "dhash", "original_url", "preview_url",
            "thumbnail_url",
        ]  # fmt: skip
        read_only_fields = fields

    def _derivative_url(self, photo, name) -> str | None:
        if photo.status != PhotoStatus.DONE:
            return None
        return self.context["request"].build_absolute_uri(reverse(f"photo-{name}", args=[photo.pk]))

    def get_preview_url(self, photo) -> str | None:
        return self._derivative_url(photo, "preview")

    def get_thumbnail_url(self, photo) -> str | None:
        return self._derivative_url(photo, "thumbnail")


class PhotoExifSerializer(serializers.Serializer):
    exif = serializers.JSONField(help_text="Every EXIF tag, by IFD.")


class NearDuplicateSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="photo.pk")
    exhibit_number = serializers.CharField(source="photo.item.exhibit_number")
    case_reference = serializers.CharField(source="photo.item.case.reference")
    sha256 = serializers.CharField(source="photo.original.sha256")
    original_name = serializers.CharField(source="photo.original_name")
    distance = serializers.IntegerField(help_text="Hamming distance of the 64-bit pHashes.")


class VisibleMarkingField(VisibleRelatedField):
    model = Marking


class VisiblePhotoField(VisibleRelatedField):
    model = Photo


class VisibleSourceField(VisibleRelatedField):
    model = Source


class ManufacturerSerializer(ModelSerializer):
    aliases = serializers.ListField(child=CharField(max_length=200), max_length=MAX_NAMES, required=False)

    class Meta:
        model = Manufacturer
        fields = ["id", "name", "aliases", "country", "entity", "notes", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class RegionSerializer(serializers.Serializer):
    """A rectangle in the original's stored pixels (before any EXIF rotation)."""

    x = serializers.IntegerField(min_value=0)
    y = serializers.IntegerField(min_value=0)
    width = serializers.IntegerField(min_value=1)
    height = serializers.IntegerField(min_value=1)


class DateReadingSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    precision = serializers.CharField()
    format = serializers.CharField()
    explanation = serializers.CharField()


class MarkingSerializer(FixedAfterCreateMixin, ModelSerializer):
    fixed_after_create = ("item",)
    item = VisibleItemField()
    photo = VisiblePhotoField(required=False, allow_null=True)
    region = RegionSerializer(source="region_box", required=False, allow_null=True)
    exhibit_number = serializers.CharField(source="item.exhibit_number", read_only=True)
    transcribed_by = serializers.CharField(source="transcribed_by.username", read_only=True)
    verified_by = serializers.CharField(source="verified_by.username", read_only=True, allow_null=True)
    date_readings = serializers.SerializerMethodField(help_text="Every reading of a date code; never a guess.")
    reason = CharField(
        max_length=TEXT_MAX_LENGTH, write_only=True, required=False, help_text="Why a marking is corrected."
    )

    class Meta:
        model = Marking
        fields = [
            "id", "item", "exhibit_number", "photo", "region", "transcription", "marking_type", "manufacturer",
            "part_number", "interpreted_date", "interpreted_date_precision", "confidence", "transcribed_by",
            "verified_by", "verified_at", "withdrawn_at", "withdrawal_reason", "date_readings", "reason",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["verified_at", "withdrawn_at", "withdrawal_reason", "created_at", "updated_at"]

    @extend_schema_field(DateReadingSerializer(many=True))
    def get_date_readings(self, marking):
        return DateReadingSerializer(date_readings(marking), many=True).data

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if "region_box" in attrs:
            box = attrs.pop("region_box")
            attrs["region"] = None if box is None else (box["x"], box["y"], box["width"], box["height"])
        return attrs


class WithdrawalSerializer(serializers.Serializer):
    reason = CharField(max_length=TEXT_MAX_LENGTH)


class SourceSerializer(FixedAfterCreateMixin, ModelSerializer):
    fixed_after_create = ("case", "archive")  # an archived copy is written once, with the source
    case = VisibleCaseField()
    archive = serializers.FileField(write_only=True, required=False, help_text="An archived copy, stored write-once.")
    archived_sha256 = serializers.CharField(source="archived_copy.sha256", read_only=True, allow_null=True)
    archived_size = serializers.IntegerField(source="archived_copy.size", read_only=True, allow_null=True)
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)
    reason = CharField(
        max_length=TEXT_MAX_LENGTH, write_only=True, required=False, help_text="Why a source is changed."
    )

    class Meta:
        model = Source
        fields = [
            "id", "case", "kind", "title", "publisher", "author", "published_on", "url", "document_reference",
            "reliability", "notes", "archive", "archived_sha256", "archived_size", "archived_copy_name",
            "recorded_by", "withdrawn_at", "withdrawal_reason", "reason", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["archived_copy_name", "withdrawn_at", "withdrawal_reason", "created_at", "updated_at"]


class AttributionSerializer(ModelSerializer):
    case = VisibleCaseField()
    source = VisibleSourceField()
    incident = VisibleIncidentField(required=False, allow_null=True)
    item = VisibleItemField(required=False, allow_null=True)
    marking = VisibleMarkingField(required=False, allow_null=True)
    grade = serializers.CharField(read_only=True, help_text="Source reliability and claim credibility, e.g. B2.")
    analyst = serializers.CharField(source="analyst.username", read_only=True)
    source_withdrawn = serializers.SerializerMethodField()

    class Meta:
        model = Attribution
        fields = [
            "id", "case", "claim", "subject_type", "incident", "item", "marking", "entity", "source", "page",
            "paragraph", "quote", "credibility", "stance", "grade", "analyst", "source_withdrawn", "withdrawn_at",
            "withdrawal_reason", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["withdrawn_at", "withdrawal_reason", "created_at", "updated_at"]

    def get_source_withdrawn(self, attribution) -> bool:
        return attribution.source.withdrawn_at is not None


class SubjectAttributionsSerializer(serializers.Serializer):
    contradicted = serializers.BooleanField(help_text="True when active attributions both support and contradict.")
    attributions = AttributionSerializer(many=True)


class ReportGroupSerializer(serializers.Serializer):
    key = serializers.CharField()
    count = serializers.IntegerField()
    latest_manufacture = serializers.DateField(allow_null=True)
    made_after = serializers.IntegerField()
    exhibits = serializers.ListField(child=serializers.CharField())


class ReportRowSerializer(serializers.Serializer):
    exhibit = serializers.CharField()
    title = serializers.CharField()
    taken_from = serializers.CharField()
    manufacturer = serializers.CharField()
    sanctioned_entity = serializers.BooleanField()
    part_number = serializers.CharField()
    country_of_origin = serializers.CharField()
    manufactured_on = serializers.DateField(allow_null=True)
    manufactured_precision = serializers.CharField()
    made_after = serializers.BooleanField()


class SanctionsReportSerializer(serializers.Serializer):
    case = serializers.CharField()
    after = serializers.DateField(allow_null=True)
    components = serializers.IntegerField()
    by_country = ReportGroupSerializer(many=True)
    by_manufacturer = ReportGroupSerializer(many=True)
    rows = ReportRowSerializer(many=True)


class SeenElsewhereSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    case = serializers.CharField()
    exhibit = serializers.CharField()
    match = serializers.CharField()
    values = serializers.ListField(child=serializers.CharField())


class ExportSerializer(ModelSerializer):
    case = VisibleCaseField()
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    sha256 = serializers.CharField(source="file.sha256", read_only=True, allow_null=True)
    size = serializers.IntegerField(source="file.size", read_only=True, allow_null=True)
    ledger_head = serializers.SerializerMethodField(
        help_text="SIZE:SHA256 of the ledger head the export was made from."
    )
    url = serializers.HyperlinkedIdentityField(view_name="export-detail", help_text="Poll here for progress.")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = [
            "id", "url", "case", "kind", "language", "include_photos", "redact_names", "requested_by",
            "requested_at", "status", "progress", "stage", "error", "started_at", "finished_at", "sha256", "size",
            "ledger_head", "download_url",
        ]  # fmt: skip
        read_only_fields = ["requested_at", "status", "progress", "stage", "error", "started_at", "finished_at"]

    def get_ledger_head(self, export) -> str | None:
        return f"{export.checkpoint.size}:{export.checkpoint.head_hash}" if export.checkpoint_id else None

    def get_download_url(self, export) -> str | None:
        if export.file_id is None:
            return None
        return self.context["request"].build_absolute_uri(reverse("export-download", args=[export.pk]))


class DossierOptionsSerializer(ModelSerializer):
    """The options of a dossier asked for on its case's route, which gives the case and the kind."""

    class Meta:
        model = Export
        fields = ["language", "include_photos", "redact_names"]


class AccessLogSerializer(ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True, allow_null=True)

    class Meta:
        model = AccessLog
        fields = [
            "id", "at", "user", "username", "action", "object_type", "object_id", "object_label", "case", "method",
            "path", "status_code", "ip", "user_agent",
        ]  # fmt: skip
        read_only_fields = fields


# --- Components, date-code readings and trace requests ----------------------------------------------------


class VisibleComponentField(VisibleRelatedField):
    model = Component


class VisibleReadingField(VisibleRelatedField):
    model = DateCodeReading


class ReadingWindowSerializer(serializers.Serializer):
    rule = serializers.CharField()
    version = serializers.CharField()
    earliest = serializers.DateField()
    latest = serializers.DateField()


class ComponentReadingSerializer(ModelSerializer):
    """A reading as shown inside its component."""

    verified = serializers.SerializerMethodField()

    class Meta:
        model = DateCodeReading
        fields = ["id", "raw_code", "rule", "earliest", "latest", "verified", "withdrawn_at"]
        read_only_fields = fields

    def get_verified(self, reading) -> bool:
        return reading.verified_by_id is not None


class ComponentSerializer(FixedAfterCreateMixin, ModelSerializer):
    fixed_after_create = ("item",)
    item = VisibleItemField()
    case = serializers.IntegerField(source="item.case_id", read_only=True)
    exhibit_number = serializers.CharField(source="item.exhibit_number", read_only=True)
    markings = VisibleMarkingField(
        many=True,
        required=False,
        help_text="Markings read off the component (ids). On a change, the ones given are attached too.",
    )
    manufacturer_name = serializers.CharField(source="manufacturer.name", read_only=True, allow_null=True)
    manufacturer_legal_name = serializers.CharField(source="manufacturer.legal_name", read_only=True, allow_null=True)
    manufacturer_country = serializers.CharField(
        source="manufacturer.country", read_only=True, allow_null=True, help_text="Headquarters country."
    )
    distributor = serializers.PrimaryKeyRelatedField(read_only=True, help_text="As a trace response named it.")
    distributor_name = serializers.CharField(source="distributor.name", read_only=True, allow_null=True)
    readings = ComponentReadingSerializer(many=True, read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)
    reason = CharField(
        max_length=TEXT_MAX_LENGTH, write_only=True, required=False, help_text="Why a component is corrected."
    )

    class Meta:
        model = Component
        fields = [
            "id", "item", "case", "exhibit_number", "designator", "function", "manufacturer_as_marked",
            "manufacturer", "manufacturer_name", "manufacturer_legal_name", "manufacturer_country", "part_number",
            "lot_code", "distributor", "distributor_name", "notes", "markings", "readings", "recorded_by",
            "withdrawn_at", "withdrawal_reason", "reason", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["withdrawn_at", "withdrawal_reason", "created_at", "updated_at"]


class DateCodeReadingSerializer(ModelSerializer):
    component = VisibleComponentField()
    marking = VisibleMarkingField(required=False, allow_null=True, help_text="The marking it was read from.")
    rule = CharField(
        max_length=80,
        required=False,
        allow_blank=True,
        help_text="NAME or NAME/VERSION to read the code with one rule only; blank: every rule that reads it.",
    )
    not_after = serializers.DateField(
        write_only=True,
        required=False,
        allow_null=True,
        help_text="No window ends after this day (default: the day the exhibit was recovered, else today).",
    )
    case = serializers.IntegerField(source="component.item.case_id", read_only=True)
    windows = ReadingWindowSerializer(many=True, read_only=True, help_text="Every production window the rules allow.")
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)
    verified_by = serializers.CharField(source="verified_by.username", read_only=True, allow_null=True)

    class Meta:
        model = DateCodeReading
        fields = [
            "id", "component", "case", "marking", "raw_code", "rule", "not_after", "windows", "earliest", "latest",
            "recorded_by", "verified_by", "verified_at", "withdrawn_at", "withdrawal_reason", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "earliest", "latest", "verified_at", "withdrawn_at", "withdrawal_reason", "created_at", "updated_at",
        ]  # fmt: skip


class ComponentTableRowSerializer(serializers.Serializer):
    """One row of a case's component table."""

    component = serializers.IntegerField()
    exhibit = serializers.CharField()
    designator = serializers.CharField()
    function = serializers.CharField()
    manufacturer_as_marked = serializers.CharField()
    manufacturer = serializers.CharField()
    legal_name = serializers.CharField()
    country = serializers.CharField()
    part_number = serializers.CharField()
    lot_code = serializers.CharField()
    date_codes = serializers.CharField()
    earliest = serializers.DateField(allow_null=True)
    latest = serializers.DateField(allow_null=True)
    distributor = serializers.CharField()
    markings = serializers.ListField(child=serializers.IntegerField())


class ComponentCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Standing components of the case.")
    by_country = serializers.DictField(
        child=serializers.IntegerField(), help_text="Manufacturer's headquarters country -> components."
    )
    by_manufacturer = serializers.DictField(child=serializers.IntegerField())
    with_readable_code = serializers.IntegerField(help_text="Components with a verified, standing date-code reading.")
    share_with_code = serializers.FloatField(allow_null=True)


class ComponentElsewhereSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.CharField(source="item.case.reference")
    exhibit = serializers.CharField(source="item.exhibit_number")
    part_number = serializers.CharField()
    lot_code = serializers.CharField()
    manufacturer = serializers.CharField(source="manufacturer.name", allow_null=True)


class TraceResponseSerializer(ModelSerializer):
    sha256 = serializers.CharField(source="file.sha256", read_only=True, allow_null=True)
    size = serializers.IntegerField(source="file.size", read_only=True, allow_null=True)
    names_distributor_name = serializers.CharField(source="names_distributor.name", read_only=True, allow_null=True)
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)

    class Meta:
        model = TraceResponse
        fields = [
            "id", "request", "received_on", "summary", "file_name", "sha256", "size", "names_distributor",
            "names_distributor_name", "screening", "recorded_by", "recorded_at",
        ]  # fmt: skip
        read_only_fields = fields


class TraceResponseUploadSerializer(serializers.Serializer):
    received_on = serializers.DateField()
    summary = CharField(max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True, default="")
    file = serializers.FileField(
        required=False, help_text="The answer as received (PDF, e-mail, scan): kept write-once."
    )
    distributor_name = CharField(
        max_length=300, required=False, allow_blank=True, default="", help_text="A distributor the answer names."
    )
    distributor_country = CharField(max_length=80, required=False, allow_blank=True, default="")

    def to_internal_value(self, data):
        request = self.context["request"]
        if getattr(request, "upload_too_large", None):
            limit = settings.ATTEST_MAX_UPLOAD_BYTES
            message = _("The file is larger than the limit of %(n)s bytes.") % {"n": limit}
            raise serializers.ValidationError({"file": [message]})
        return super().to_internal_value(data)


class TraceRequestSerializer(ModelSerializer):
    case = VisibleCaseField()
    components = VisibleComponentField(many=True, help_text="Components of the case the letter asks about (ids).")
    deadline_days = serializers.IntegerField(
        min_value=1, max_value=366, required=False, allow_null=True, help_text="Days to answer; default 28."
    )
    letter_sha256 = serializers.CharField(source="letter.sha256", read_only=True, allow_null=True)
    letter_url = serializers.SerializerMethodField(help_text="The letter (PDF), once issued.")
    responses = TraceResponseSerializer(many=True, read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)

    class Meta:
        model = TraceRequest
        fields = [
            "id", "case", "kind", "follows", "recipient_kind", "recipient_name", "manufacturer", "entity",
            "components", "language", "context", "draft_finding", "status", "sent_on", "channel", "deadline_days",
            "due_on", "overdue_since", "letter_sha256", "letter_url", "responses", "created_by", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "kind", "follows", "draft_finding", "status", "sent_on", "channel", "due_on", "overdue_since",
            "created_at", "updated_at",
        ]  # fmt: skip

    def get_letter_url(self, trace) -> str | None:
        if trace.letter_id is None:
            return None
        return self.context["request"].build_absolute_uri(reverse("tracerequest-letter", args=[trace.pk]))

    def validate(self, attrs):
        attrs = super().validate(attrs)
        case = attrs.get("case")
        for component in attrs.get("components", []):
            if case is not None and component.item.case_id != case.pk:
                message = _("Component %(id)s is of another case.") % {"id": component.pk}
                raise serializers.ValidationError({"components": [message]})
        return attrs


class TraceSendSerializer(serializers.Serializer):
    sent_on = serializers.DateField(help_text="The day the letter went out; the deadline runs from it.")
    channel = serializers.ChoiceField(choices=TraceChannel.choices)


class RightOfReplySerializer(serializers.Serializer):
    draft_finding = CharField(max_length=TEXT_MAX_LENGTH, help_text="The finding the recipient may answer.")
    deadline_days = serializers.IntegerField(min_value=1, max_value=366, required=False, allow_null=True)
    language = serializers.ChoiceField(choices=DossierLanguage.choices, required=False, allow_null=True)
