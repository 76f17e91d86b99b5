from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from rest_framework import serializers

from cases.api.serializers import VisibleCaseField
from cases.models import Incident
from evidence.choices import ItemStatus, PhotoStatus
from evidence.models import CustodyEvent, EvidenceItem, Photo


class VisibleIncidentField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return Incident.objects.visible_to(self.context["request"].user)


class VisibleItemField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return EvidenceItem.objects.visible_to(self.context["request"].user)


class EvidenceItemSerializer(serializers.ModelSerializer):
    case = VisibleCaseField()
    incident = VisibleIncidentField(required=False, allow_null=True)
    parent = VisibleItemField(required=False, allow_null=True)
    custodian = serializers.CharField(
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
            "custodian", "storage_location", "seal_number", "condition", "status", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["exhibit_number", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["case"].read_only = True
            fields["custodian"].read_only = True
        return fields


class CustodyEventSerializer(serializers.ModelSerializer):
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
    to_custodian = serializers.CharField(max_length=200)
    occurred_at = serializers.DateTimeField()
    place = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    purpose = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    seal_intact = serializers.BooleanField(default=True)
    seal_number = serializers.CharField(max_length=100, required=False, allow_blank=True)
    storage_location = serializers.CharField(max_length=300, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=ItemStatus.choices, default=ItemStatus.TRANSFERRED)
    notes = serializers.CharField(required=False, allow_blank=True, default="")

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
    photographer = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    captured_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="Used when the photo has no EXIF time."
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")

    def to_internal_value(self, data):
        request = self.context["request"]
        if getattr(request, "upload_too_large", None):
            limit = settings.ATTEST_MAX_UPLOAD_BYTES
            message = _("The file is larger than the limit of %(n)s bytes.") % {"n": limit}
            raise serializers.ValidationError({"file": [message]})
        return super().to_internal_value(data)


class PhotoSerializer(serializers.ModelSerializer):
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
