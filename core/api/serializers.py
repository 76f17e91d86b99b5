"""The API's base serializer and fields, shared by every app (as NetBox keeps its own in netbox.api)."""

import datetime
import decimal
from functools import cache

from django.core.exceptions import FieldDoesNotExist
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import MANY_RELATION_KWARGS, PKOnlyObject
from rest_framework.settings import api_settings
from rest_framework.utils import html

from core.api import drf_adapter
from core.json_depth import MAX_DEPTH, TOO_DEEP, nested_deeper_than


class NoEmptyTextMixin:
    """A relation refuses "" in JSON; DRF read it as null, where the schema allows an id, a name or null.

    In a form "" is how null is written, and DRF has made it null before this runs.
    """

    default_error_messages = {"blank": serializers.CharField.default_error_messages["blank"]}

    def run_validation(self, data=serializers.empty):
        if data == "":
            self.fail("blank")
        return super().run_validation(data)


def many_ids(rows: list, relation: str) -> dict | None:
    """{row pk: [related pks]} of a many-to-many field of these rows, read from its link table in one query.

    In the order the related model's Meta.ordering gives, as `row.<relation>.all()` would. None where
    that cannot be read so simply (a relation other than a forward many-to-many between two
    models, an ordering by expression): the caller reads it DRF's way.
    """
    plan = _link_plan(type(rows[0]), relation)
    if plan is None:
        return None
    links, source, target, order = plan
    ids: dict = {row.pk: [] for row in rows}
    pairs = links._default_manager.filter(**{f"{source}__in": list(ids)}).order_by(*order)
    for row_pk, related_pk in pairs.values_list(source, target):
        ids[row_pk].append(related_pk)
    return ids


@cache
def _link_plan(model, relation: str) -> tuple | None:
    """(link model, its column to the row, its column to the related row, ordering) or None; per model."""
    try:
        field = model._meta.get_field(relation)
    except FieldDoesNotExist:
        return None
    related = field.related_model
    if not isinstance(field, models.ManyToManyField) or related is model:
        return None
    ordering = related._meta.ordering
    if not all(isinstance(name, str) and name != "?" for name in ordering):
        return None
    links = field.remote_field.through
    source = next(link.name for link in links._meta.get_fields() if link.many_to_one and link.related_model is model)
    target = next(link.name for link in links._meta.get_fields() if link.many_to_one and link.related_model is related)
    order = tuple(f"{'-' if name.startswith('-') else ''}{target}__{name.lstrip('-')}" for name in ordering)
    return links, source, target, (*order, "pk")


class ManyIdsField(serializers.ManyRelatedField):
    """DRF's field for a to-many relation shown as ids; in a list, the ids the list read for its page."""

    def get_attribute(self, instance):
        page = getattr(self.parent, "page_many_ids", {}).get(self.source)
        if page is None or instance.pk not in page:
            return super().get_attribute(instance)
        return [PKOnlyObject(pk=pk) for pk in page[instance.pk]]


class PrimaryKeyRelatedField(NoEmptyTextMixin, serializers.PrimaryKeyRelatedField):
    @classmethod
    def many_init(cls, *args, **kwargs):
        """DRF's, with ManyIdsField for the list (DRF's documented way to customise many=True)."""
        list_kwargs = {"child_relation": cls(*args, **kwargs)}
        list_kwargs.update((key, value) for key, value in kwargs.items() if key in MANY_RELATION_KWARGS)
        return ManyIdsField(**list_kwargs)


class ListSerializer(serializers.ListSerializer):
    """DRF's, reading each many-to-many relation shown as ids with one query for the whole page.

    prefetch_related() makes as many queries, but builds a manager, a queryset and model instances
    for every row: on a page of 50 incidents it cost more than the rest of the serializer.
    """

    def to_representation(self, data):
        rows = list(data.all() if isinstance(data, models.Manager) else data)
        if not rows or not all(isinstance(row, models.Model) and row.pk is not None for row in rows):
            return super().to_representation(rows)
        page = {}
        for field in self.child.fields.values():
            if isinstance(field, ManyIdsField) and not field.write_only:
                ids = many_ids(rows, field.source)
                if ids is not None:
                    page[field.source] = ids
        self.child.page_many_ids = page
        try:
            return super().to_representation(rows)
        finally:
            del self.child.page_many_ids


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


FIXED_AFTER_CREATE = _("This is set when the record is made and cannot change.")


class JSONField(serializers.JSONField):
    """DRF's, refusing JSON text nested deeper than MAX_DEPTH: a form sends JSON as text, which DRF
    parses itself, past the API's JSON parser (1,000 levels were a RecursionError, a 500)."""

    def to_internal_value(self, data):
        if isinstance(data, str | bytes) and nested_deeper_than(data):
            raise serializers.ValidationError(TOO_DEEP % {"limit": MAX_DEPTH}, code="too_deep")
        return super().to_internal_value(data)


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
    """The base of every model serializer of the API: DRF's, with the fields above.

    They refuse what the schema refuses (strict booleans and texts, "" for a relation), and print
    the usual dates and decimals by a shorter way. A list reads the ids of each many-to-many
    relation it shows in one query (ListSerializer).
    """

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.BooleanField: BooleanField,
        models.CharField: CharField,
        models.TextField: CharField,
        models.DateTimeField: DateTimeField,
        models.DecimalField: DecimalField,
        models.JSONField: JSONField,
    }
    serializer_related_field = PrimaryKeyRelatedField

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        meta = cls.__dict__.get("Meta")
        if meta is not None and not hasattr(meta, "list_serializer_class"):
            meta.list_serializer_class = ListSerializer

    @cached_property
    def readable_fields(self) -> list:
        """(field, read, show) of each readable field: `read` the adapter's getattr, or None for DRF's way."""
        model = getattr(getattr(self, "Meta", None), "model", None)
        readable = []
        for field in self.fields.values():
            if not field.write_only:
                read, show = drf_adapter.reader(field, model) or (None, None)
                readable.append((field, read, show))
        return readable

    def to_representation(self, instance):
        """DRF's, with stored values read directly where DRF would only getattr them (core.api.drf_adapter)."""
        ret = {}
        direct = isinstance(instance, models.Model) and type(instance) is getattr(self.Meta, "model", None)
        for field, read, show in self.readable_fields:
            if direct and read is not None:
                value = read(instance)
                ret[field.field_name] = None if value is None else show(value)
                continue
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            # As DRF: None is shown as None without to_representation (a relation's pk included).
            check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            ret[field.field_name] = None if check_for_none is None else field.to_representation(attribute)
        return ret

    def get_fields(self):
        self.language = get_language()  # once, not once a field: it reads a context-local value
        return super().get_fields()

    def build_field(self, field_name, info, model_class, nested_depth):
        """DRF's build_field(), whose result (model introspection, translated labels: most of the cost
        of making a serializer) is kept per class and language. The fields are still new each time."""
        built = type(self).__dict__.get("built_fields")
        if built is None:
            built = {}
            type(self).built_fields = built  # on this class only: a subclass may build otherwise
        key = (field_name, model_class, nested_depth, getattr(self, "language", None) or get_language())
        if key not in built:
            built[key] = super().build_field(field_name, info, model_class, nested_depth)
        field_class, field_kwargs = built[key]
        # Each field gets its own arguments (include_extra_kwargs() changes them), lists and dicts too.
        return field_class, {
            name: value.copy() if isinstance(value, list | dict) else value for name, value in field_kwargs.items()
        }


class TextDictField(serializers.DictField):
    """An object of texts whose keys are text without NUL (PostgreSQL's jsonb refuses \\u0000 in a key)."""

    child = CharField()
    default_error_messages = {"null_characters": ProhibitNullCharactersValidator.message}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if any("\x00" in key for key in value):
            self.fail("null_characters")
        return value
