import datetime
import decimal

from django.contrib.auth import get_user_model
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import ISO_8601, serializers
from rest_framework.fields import Field, SkipField
from rest_framework.relations import MANY_RELATION_KWARGS, PKOnlyObject
from rest_framework.settings import api_settings
from rest_framework.utils import html

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


def related_ids(rows: list, relation: str) -> dict | None:
    """{row pk: [related pks]} of a many-to-many relation of these rows, read with one query.

    The ids come in the order the relation's manager gives its rows (the related model's ordering).
    None when that cannot be matched by reading the link table: a related model whose default
    manager filters or orders rows itself, an ordering by expression, links to other fields than
    primary keys.
    """
    manager = getattr(rows[0], relation, None)
    through = getattr(manager, "through", None)
    if through is None:
        return None
    base = manager.model._default_manager.all().query
    if base.where or base.order_by or base.distinct:
        return None
    target = manager.target_field_name
    if not (manager.source_field.target_field.primary_key and manager.target_field.target_field.primary_key):
        return None
    ordering = []
    for name in manager.model._meta.ordering:
        if not isinstance(name, str):
            return None
        descending = name.startswith("-")
        ordering.append(name if name == "?" else f"{'-' if descending else ''}{target}__{name.lstrip('-')}")
    # By the link table's own columns: filtering by `source__in` would turn every pk into a row first.
    source_column, target_column = manager.source_field.attname, manager.target_field.attname
    ids: dict = {row.pk: [] for row in rows}
    links = through._default_manager.filter(**{f"{source_column}__in": list(ids)}).order_by(*ordering)
    for row_pk, related_pk in links.values_list(source_column, target_column):
        ids[row_pk].append(related_pk)
    return ids


class ManyPrimaryKeysField(serializers.ManyRelatedField):
    """DRF's ManyRelatedField, reading the ids that ListSerializer below loaded for a whole page."""

    def get_attribute(self, instance):
        loaded = getattr(self.parent, "_related_ids", {}).get(self.source)
        if loaded is None or instance.pk not in loaded:
            return super().get_attribute(instance)
        return [PKOnlyObject(pk=pk) for pk in loaded[instance.pk]]


class NoEmptyTextMixin:
    """A relation refuses "" in JSON; DRF read it as null, where the schema allows an id, a name or null.

    In a form "" is how null is written, and DRF has made it null before this runs.
    """

    default_error_messages = {"blank": serializers.CharField.default_error_messages["blank"]}

    def run_validation(self, data=serializers.empty):
        if data == "":
            self.fail("blank")
        return super().run_validation(data)


class PrimaryKeyRelatedField(NoEmptyTextMixin, serializers.PrimaryKeyRelatedField):
    """DRF's, except that with many=True it reads ids loaded for the whole list when there is one."""

    @classmethod
    def many_init(cls, *args, **kwargs):
        list_kwargs = {"child_relation": cls(*args, **kwargs)}
        list_kwargs.update((key, value) for key, value in kwargs.items() if key in MANY_RELATION_KWARGS)
        return ManyPrimaryKeysField(**list_kwargs)


class ListSerializer(serializers.ListSerializer):
    """DRF's, reading the ids of each many-to-many relation shown as ids for all rows at once.

    One query per relation for the page (prefetch_related() makes as many, but builds a manager and
    a queryset per row, and model instances). Rows whose relation was prefetched keep using that.
    """

    def to_representation(self, data):
        rows = list(data.all() if isinstance(data, models.manager.BaseManager) else data)
        if not rows or not all(isinstance(row, models.Model) and row.pk is not None for row in rows):
            return super().to_representation(rows)
        prefetched = getattr(rows[0], "_prefetched_objects_cache", {})
        loaded = {}
        for field in self.child.fields.values():
            if isinstance(field, ManyPrimaryKeysField) and not field.write_only and field.source not in prefetched:
                ids = related_ids(rows, field.source)
                if ids is not None:
                    loaded[field.source] = ids
        self.child._related_ids = loaded
        try:
            return super().to_representation(rows)
        finally:
            del self.child._related_ids


class DateTimeField(serializers.DateTimeField):
    """DRF's, quicker with the usual value: an aware datetime shown in ISO 8601 in the current time zone.

    The time zone is looked up once per field rather than once per value (Django's lookup goes
    through asgiref's Local, a few µs; three dates on 50 rows made it 150 times a page). A field
    belongs to one serializer, made for one request, in one time zone.
    """

    def default_timezone(self):
        try:
            return self._default_timezone
        except AttributeError:
            self._default_timezone = super().default_timezone()
            return self._default_timezone

    @cached_property
    def _iso_zone(self):
        """The zone to show dates in when DRF's steps come down to astimezone() and isoformat(), else None."""
        output_format = getattr(self, "format", api_settings.DATETIME_FORMAT)
        if isinstance(output_format, str) and output_format.lower() == ISO_8601 and not hasattr(self, "timezone"):
            return self.default_timezone()
        return None

    def to_representation(self, value):
        zone = self._iso_zone
        if zone is not None and isinstance(value, datetime.datetime) and value.utcoffset() is not None:
            try:
                text = value.astimezone(zone).isoformat()
            except OverflowError:  # DRF's own steps report it
                return super().to_representation(value)
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        return super().to_representation(value)


class DecimalField(serializers.DecimalField):
    """DRF's, quicker with a value already at the field's scale, as the database returns it.

    Quantizing such a value changes nothing, so it is printed as DRF prints the quantized value.
    """

    @cached_property
    def _plain_string(self) -> bool:
        return (
            getattr(self, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
            and not self.localize
            and not self.normalize_output
            and self.decimal_places is not None
            and self.max_digits is not None
        )

    def to_representation(self, value):
        if type(value) is decimal.Decimal and self._plain_string:
            _sign, digits, exponent = value.as_tuple()
            if exponent == -self.decimal_places and len(digits) <= self.max_digits:
                return f"{value:f}"
        return super().to_representation(value)


class BooleanField(serializers.BooleanField):
    """`true` or `false`: a JSON boolean, or in a form the text `true` or `false` (the browsable API's
    checkbox sends `true`). DRF's also took 1, 0, "yes", "off" and more, which the schema calls invalid."""

    def get_value(self, dictionary):
        value = super().get_value(dictionary)
        if html.is_html_input(dictionary) and value in ("true", "false"):
            return value == "true"
        return value

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)


class CharField(serializers.CharField):
    """Text only. DRF's also took a JSON number and stored its digits, where the schema says text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictInputMixin:
    """For a ModelSerializer: the relations, booleans and texts above, which refuse what the schema refuses."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.BooleanField: BooleanField,
        models.CharField: CharField,
        models.TextField: CharField,
    }
    serializer_related_field = PrimaryKeyRelatedField


FIXED_AFTER_CREATE = _("This is set when the record is made and cannot change.")


class FixedAfterCreateMixin:
    """Fields set when the object is made and never changed (`fixed_after_create`). An update still
    reads them as the schema types them, and refuses a value other than the stored one: ignored as
    read-only, a PUT with an array for "case" was accepted (the contract test's ST201)."""

    fixed_after_create: tuple[str, ...] = ()

    def _updating(self) -> bool:
        return self.instance is not None and not isinstance(self.instance, list | tuple)

    def get_fields(self):
        fields = super().get_fields()
        if self._updating():
            for name in self.fixed_after_create:
                fields[name].required = False
        return fields

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self._updating():
            for name in self.fixed_after_create:
                if name in attrs and attrs.pop(name) != getattr(self.instance, self.fields[name].source, None):
                    raise serializers.ValidationError({name: FIXED_AFTER_CREATE})
        return attrs  # without them: the services take what may change


def _below(limit: str) -> str:
    """A regular expression of the whole numbers from 0 to `limit` - 1, `limit` written in digits."""
    shorter = [f"\\d{{1,{len(limit) - 1}}}"] if len(limit) > 1 else []
    same = [
        f"{limit[:i]}[0-{int(limit[i]) - 1}]" + (f"\\d{{{len(limit) - i - 1}}}" if i < len(limit) - 1 else "")
        for i in range(len(limit))
        if limit[i] != "0"
    ]
    return "(?:" + "|".join(shorter + same) + ")"


class DecimalFieldSchema(OpenApiSerializerFieldExtension):
    """A decimal sent as text, with the range its field checks in the pattern (e.g. a latitude).

    drf-spectacular's pattern takes any digits, an empty text too, while the field refuses what is
    out of its range: a schema-valid latitude of 99 was refused.
    """

    target_class = serializers.DecimalField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        field = self.target
        low, high = field.min_value, field.max_value
        if "pattern" not in schema or low is None or high is None or low != -high or high != int(high):
            return schema
        limit, places = str(int(high)), field.decimal_places
        decimals = f"(?:\\.\\d{{0,{places}}})?" if places else ""
        exact = f"(?:\\.0{{0,{places}}})?" if places else ""
        schema["pattern"] = f"^-?(?:{_below(limit)}{decimals}|{limit}{exact})$"
        return schema


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer, cheaper to build on each request and to read many rows with.

    - What build_field() makes of the model (most of building a serializer: model introspection,
      translated labels) is kept per class and language; the fields are still new on each serializer.
    - A field that shows a model field's value as stored is read with getattr(); any other goes
      through its get_attribute(), as in DRF. The output is DRF's, value for value.
    - A list reads the ids of the many-to-many relations it shows with one query each (ListSerializer).
    - Dates and decimals take a shorter way for the usual values (DateTimeField, DecimalField above).
    """

    serializer_field_mapping = {
        **StrictInputMixin.serializer_field_mapping,
        models.DateTimeField: DateTimeField,
        models.DecimalField: DecimalField,
    }
    serializer_related_field = PrimaryKeyRelatedField

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        meta = cls.__dict__.get("Meta")
        if meta is not None and not hasattr(meta, "list_serializer_class"):
            meta.list_serializer_class = ListSerializer

    def get_fields(self):
        self._language = get_language()  # of the labels build_field() makes
        return super().get_fields()

    def build_field(self, field_name, info, model_class, nested_depth):
        built = type(self).__dict__.get("_built_fields")
        if built is None:
            built = {}
            type(self)._built_fields = built  # on this class only: a subclass may build otherwise
        key = (field_name, model_class, nested_depth, getattr(self, "_language", None) or get_language())
        if key not in built:
            built[key] = super().build_field(field_name, info, model_class, nested_depth)
        field_class, field_kwargs = built[key]
        # Each field gets its own arguments (include_extra_kwargs() changes them), lists and dicts too.
        return field_class, {
            name: value.copy() if isinstance(value, list | dict) else value for name, value in field_kwargs.items()
        }

    @cached_property
    def _representation_plan(self) -> tuple:
        """(name, field, attribute to getattr() or None, what makes its value) of each readable field.

        Read with getattr(): a field showing a model field's value as stored, and a primary key
        relation showing the foreign key's value (what DRF reads too, through serializable_value()).
        """
        model = getattr(getattr(self, "Meta", None), "model", None)
        concrete = {field.name: field for field in model._meta.concrete_fields} if model else {}
        stored = {field.attname for field in concrete.values()}
        plan = []
        for field in self.fields.values():
            if field.write_only:
                continue
            attname, make = None, field.to_representation
            if type(field).get_attribute is Field.get_attribute and field.source in stored:
                attname = field.source
            elif _shows_foreign_key(field) and getattr(concrete.get(field.source), "many_to_one", False):
                attname, make = concrete[field.source].attname, _same
            plan.append((field.field_name, field, attname, make))
        return tuple(plan)

    def to_representation(self, instance):
        ret = {}
        for name, field, attname, make in self._representation_plan:
            if attname is not None:
                value = getattr(instance, attname, _MISSING)
                if value is not _MISSING and not callable(value):
                    ret[name] = None if value is None else make(value)
                    continue
            # DRF's way, for every other field and instance (mappings, callables, defaults, errors).
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            # None stays None, without to_representation (a relation's pk included).
            if (attribute.pk if isinstance(attribute, PKOnlyObject) else attribute) is None:
                ret[name] = None
            else:
                ret[name] = field.to_representation(attribute)
        return ret


def _same(value):
    return value


def _shows_foreign_key(field) -> bool:
    """A PrimaryKeyRelatedField as DRF has it, which shows the related row's pk and nothing more."""
    return (
        isinstance(field, serializers.PrimaryKeyRelatedField)
        and field.pk_field is None
        and type(field).get_attribute is serializers.RelatedField.get_attribute
        and type(field).to_representation is serializers.PrimaryKeyRelatedField.to_representation
    )


_MISSING = object()


@extend_schema_field(OpenApiTypes.INT)
class VisibleRelatedField(NoEmptyTextMixin, serializers.PrimaryKeyRelatedField):
    """A row of `model` chosen by id among those the requesting user can see.

    One of a case the user is not on reads as "does not exist", exactly as a missing id does, but
    the access log records the refusal, naming the object probed.
    """

    model: type[models.Model]

    def get_queryset(self):
        return self.model.objects.visible_to(self.context["request"].user)

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError:
            self._log_refusal(data)
            raise

    def _log_refusal(self, data) -> None:
        from evidence.audit import record
        from evidence.choices import AccessAction

        probed = self.model._base_manager.filter(pk=data).first() if str(data).isdigit() else None
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


class TextDictField(serializers.DictField):
    """An object of texts whose keys are text without NUL (PostgreSQL's jsonb refuses \\u0000 in a key)."""

    child = CharField()
    default_error_messages = {"null_characters": ProhibitNullCharactersValidator.message}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if any("\x00" in key for key in value):
            self.fail("null_characters")
        return value


@extend_schema_field(
    # The reference policy (cases/references.py) as a pattern, so the schema states what it refuses;
    # lower case is accepted and stored upper case. The policy's own messages name the character.
    {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9./-]{0,38}[A-Za-z0-9]$", "maxLength": 40}
)
class ReferenceField(CharField):
    pass


class CaseSerializer(FixedAfterCreateMixin, ModelSerializer):
    fixed_after_create = ("reference",)
    reference = ReferenceField(
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
    aliases = serializers.ListField(child=CharField(max_length=120), required=False)

    class Meta:
        model = WeaponSystem
        fields = ["id", "name", "aliases", "category", "country_of_origin", "notes"]


class SanctionsProvisionSerializer(ModelSerializer):
    regime_name = serializers.CharField(source="regime.name", read_only=True)

    class Meta:
        model = SanctionsProvision
        fields = ["id", "regime", "regime_name", "instrument", "paragraph", "text", "adopted_on", "authority"]


class EntitySerializer(ModelSerializer):
    aliases = serializers.ListField(child=CharField(max_length=350), required=False)
    identifiers = serializers.ListField(child=TextDictField(), required=False)
    programs = serializers.ListField(child=CharField(max_length=40), required=False)

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
