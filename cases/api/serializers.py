"""Serializers of the cases app, on the shared base and fields (core.api.serializers)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.audit import is_id, record
from cases.choices import AccessAction, IdentificationBasis
from cases.fields import MAX_NAMES
from cases.models import Case, CaseMembership, Entity, Incident, SanctionsProvision, WeaponSystem
from core.api.serializers import (
    CharField,
    FixedAfterCreateMixin,
    ModelSerializer,
    NoEmptyTextMixin,
    TextDictField,
)
from core.models import ApiToken


def _has_case(model: type[models.Model]) -> bool:
    try:
        field = model._meta.get_field("case")
    except FieldDoesNotExist:
        return False
    return field.many_to_one and field.concrete


@extend_schema_field(OpenApiTypes.INT)
class VisibleRelatedField(NoEmptyTextMixin, serializers.PrimaryKeyRelatedField):
    """A row of `model` chosen by id among those the requesting user can see.

    One of a case the user is not on reads as "does not exist", exactly as a missing id does, but
    the access log records the refusal, naming the object probed.
    """

    model: type[models.Model]

    def get_queryset(self):
        queryset = self.model.objects.visible_to(self.context["request"].user)
        # The service that gets the row asks the role on its case next (require_role(case=row.case)):
        # the case comes in the same query rather than one more.
        if _has_case(self.model):
            queryset = queryset.select_related("case")
        return queryset

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError:
            self._log_refusal(data)
            raise

    def _log_refusal(self, data) -> None:
        probed = self.model._base_manager.filter(pk=data).first() if is_id(str(data)) else None
        if probed is not None:
            request = self.context["request"]
            record(request._request, AccessAction.DENIED, obj=probed, status=400)


class VisibleCaseField(VisibleRelatedField):
    """A case chosen by id among those the requesting user can see; others read as 'does not exist'."""

    model = Case


class UsernameField(NoEmptyTextMixin, serializers.SlugRelatedField):
    default_error_messages = {"null_characters": ProhibitNullCharactersValidator.message}

    def __init__(self, **kwargs):
        super().__init__(slug_field="username", queryset=get_user_model().objects.filter(is_active=True), **kwargs)

    def to_internal_value(self, data):
        # PostgreSQL refuses NUL in text even in a lookup; DRF's CharField refuses it, its slug field did not.
        if isinstance(data, str) and "\x00" in data:
            self.fail("null_characters")
        return super().to_internal_value(data)


@extend_schema_field(
    # The reference policy (cases/references.py) as a pattern, so the schema states what it refuses;
    # lower case is accepted and stored upper case. The policy's own messages name the character.
    {"type": "string", "pattern": "^[A-Za-z0-9]+((-+[./]?-*|[./]-*)[A-Za-z0-9]+)*$", "minLength": 2, "maxLength": 40}
)
class ReferenceField(CharField):
    pass


class CaseSerializer(FixedAfterCreateMixin, ModelSerializer):
    fixed_after_create = ("reference",)
    reference = ReferenceField(
        min_length=2, max_length=40, required=False, help_text="Generated (e.g. PGO-2024-0001) when not given."
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


class CaseMembershipSerializer(FixedAfterCreateMixin, ModelSerializer):
    fixed_after_create = ("case", "user")  # another case or user is another membership
    case = VisibleCaseField()
    user = UsernameField()

    class Meta:
        model = CaseMembership
        fields = ["id", "case", "user", "role", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


@extend_schema_field({"type": "array", "items": {"type": "string", "enum": IdentificationBasis.values}})
class IdentificationBasisField(serializers.ListField):
    child = serializers.ChoiceField(choices=IdentificationBasis.choices)


class IncidentSerializer(FixedAfterCreateMixin, ModelSerializer):
    fixed_after_create = ("case",)
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


class WeaponSystemSerializer(ModelSerializer):
    aliases = serializers.ListField(child=CharField(max_length=120), max_length=MAX_NAMES, required=False)

    class Meta:
        model = WeaponSystem
        fields = ["id", "name", "aliases", "category", "country_of_origin", "notes"]


class SanctionsProvisionSerializer(ModelSerializer):
    regime_name = serializers.CharField(source="regime.name", read_only=True)

    class Meta:
        model = SanctionsProvision
        fields = ["id", "regime", "regime_name", "instrument", "paragraph", "text", "adopted_on", "authority"]


class EntitySerializer(ModelSerializer):
    aliases = serializers.ListField(child=CharField(max_length=350), max_length=MAX_NAMES, required=False)
    identifiers = serializers.ListField(child=TextDictField(), max_length=MAX_NAMES, required=False)
    programs = serializers.ListField(child=CharField(max_length=40), max_length=MAX_NAMES, required=False)

    class Meta:
        model = Entity
        fields = [
            "id", "kind", "name", "aliases", "identifiers", "programs", "sanctioned", "list_name", "list_id",
            "remarks", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]


class ApiTokenSerializer(ModelSerializer):
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
