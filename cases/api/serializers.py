from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.choices import IdentificationBasis
from cases.models import (
    ApiToken,
    Case,
    CaseMembership,
    Entity,
    Incident,
    SanctionsProvision,
    WeaponSystem,
)


class VisibleCaseField(serializers.PrimaryKeyRelatedField):
    """A case chosen by id among those the requesting user can see; others read as 'does not exist'."""

    def get_queryset(self):
        return Case.objects.visible_to(self.context["request"].user)


class UsernameField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        super().__init__(slug_field="username", queryset=get_user_model().objects.filter(is_active=True), **kwargs)


class CaseSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(
        max_length=40, required=False, help_text="Generated (e.g. PGO-2024-0001) when not given."
    )
    lead = UsernameField(required=False, allow_null=True)
    my_role = serializers.CharField(read_only=True, allow_null=True, help_text="Your role on this case.")

    class Meta:
        model = Case
        fields = [
            "id", "reference", "title", "summary", "status", "opened_on", "closed_on", "legal_basis",
            "entities", "lead", "my_role", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"opened_on": {"required": False}}

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["reference"].read_only = True
        return fields


class CaseStatisticsSerializer(serializers.Serializer):
    incidents = serializers.IntegerField()
    by_kind = serializers.DictField(child=serializers.IntegerField())
    by_outcome = serializers.DictField(child=serializers.IntegerField())
    by_region = serializers.DictField(child=serializers.IntegerField())
    killed = serializers.IntegerField()
    wounded = serializers.IntegerField()
    launches = serializers.IntegerField()
    launches_failed_in_flight = serializers.IntegerField()
    failed_in_flight_share = serializers.FloatField(allow_null=True)
    launches_identified_by_debris = serializers.IntegerField()
    launches_identified_by_trajectory_speed_or_launch_site = serializers.IntegerField(
        help_text="Launches identified without debris, by trajectory, speed or launch site."
    )
    launches_by_identification_basis = serializers.DictField(child=serializers.IntegerField())


class CaseMembershipSerializer(serializers.ModelSerializer):
    case = VisibleCaseField()
    user = UsernameField()

    class Meta:
        model = CaseMembership
        fields = ["id", "case", "user", "role", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["case"].read_only = True
            fields["user"].read_only = True
        return fields


@extend_schema_field({"type": "array", "items": {"type": "string", "enum": IdentificationBasis.values}})
class IdentificationBasisField(serializers.ListField):
    child = serializers.ChoiceField(choices=IdentificationBasis.choices)


class IncidentSerializer(serializers.ModelSerializer):
    case = VisibleCaseField()
    identification_basis = IdentificationBasisField(required=False)

    class Meta:
        model = Incident
        fields = [
            "id", "case", "kind", "occurred_at", "occurred_precision", "place_name", "region", "country",
            "latitude", "longitude", "weapon_system", "launch_site", "launch_latitude", "launch_longitude",
            "outcome", "killed", "wounded", "damage", "identification_basis", "description", "entities",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["case"].read_only = True
        return fields


class WeaponSystemSerializer(serializers.ModelSerializer):
    aliases = serializers.ListField(child=serializers.CharField(max_length=120), required=False)

    class Meta:
        model = WeaponSystem
        fields = ["id", "name", "aliases", "category", "country_of_origin", "notes"]


class SanctionsProvisionSerializer(serializers.ModelSerializer):
    regime_name = serializers.CharField(source="regime.name", read_only=True)

    class Meta:
        model = SanctionsProvision
        fields = ["id", "regime", "regime_name", "instrument", "paragraph", "text", "adopted_on", "authority"]


class EntitySerializer(serializers.ModelSerializer):
    aliases = serializers.ListField(child=serializers.CharField(max_length=350), required=False)
    identifiers = serializers.ListField(child=serializers.DictField(child=serializers.CharField()), required=False)
    programs = serializers.ListField(child=serializers.CharField(max_length=40), required=False)

    class Meta:
        model = Entity
        fields = [
            "id", "kind", "name", "aliases", "identifiers", "programs", "sanctioned", "list_name", "list_id",
            "remarks", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]


class ApiTokenSerializer(serializers.ModelSerializer):
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at", "active"]
        read_only_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
        extra_kwargs = {"expires_at": {"required": False}}


class NewApiTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The token value. It is shown this once only.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
