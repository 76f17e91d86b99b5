from django.utils.translation import gettext as _
from rest_framework import serializers

from cases.api.serializers import VisibleCaseField
from cases.models import Incident
from evidence.choices import ItemStatus
from evidence.models import CustodyEvent, EvidenceItem


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
    corrects = serializers.SerializerMethodField(
        help_text="The sequence number of the event this one corrects."
    )

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
