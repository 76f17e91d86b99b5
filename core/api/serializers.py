"""The API's base serializer and fields, shared by every app (as NetBox keeps its own in netbox.api)."""

import datetime
import decimal

from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings
from rest_framework.utils import html


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
    pass


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


class ModelSerializer(StrictInputMixin, serializers.ModelSerializer):
    """The base of every model serializer of the API: DRF's, with the fields above.

    They refuse what the schema refuses (strict booleans and texts, "" for a relation), and print
    the usual dates and decimals by a shorter way. A list that shows a many-to-many relation needs
    `prefetch_related()` in its view's queryset, as with plain DRF.
    """

    serializer_field_mapping = {
        **StrictInputMixin.serializer_field_mapping,
        models.DateTimeField: DateTimeField,
        models.DecimalField: DecimalField,
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
