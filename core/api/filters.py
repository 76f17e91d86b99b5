import datetime

import django_filters
from django import forms
from django.db import models
from django.utils.translation import get_language
from django_filters.fields import IsoDateTimeField
from django_filters.filters import QuerySetRequestMixin
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field

# What an id is: ids start at 1 and fit a 64-bit column; the schema says so, as the filter checks it.
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
# Query text the server refuses: a NUL character (Django's and DRF's CharFields reject it).
TEXT_SCHEMA = {"type": "string", "pattern": "^[^\\x00]*$"}


class IdField(forms.IntegerField):
    """An id in ASCII digits: Django's IntegerField also reads U+0661 (an Arabic-Indic one) as 1, which the
    schema's integer is not, and which the access log could not tell from no id."""

    def to_python(self, value):
        if isinstance(value, str) and not value.strip().isascii():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


@extend_schema_field(ID_SCHEMA)
class RelatedIdFilter(django_filters.NumberFilter):
    """Rows related to one object, by its id: the filter for every foreign key.

    The rows filtered are already those the user may see, so the id of an object the user cannot see
    (or of none) gives an empty list, as one without rows would: nothing tells whether it exists.
    django-filter's default, a choice among all rows of the related model, answers 400 for a missing
    one only, which tells outsiders which ids exist, and costs a query to check.
    """

    field_class = IdField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date and time, turned to UTC: the database is given no offset it may refuse.

    Python accepts offsets up to a day; PostgreSQL refuses those past ±15:59 with an error, and a
    date near year 1 or 9999 may have no UTC equivalent at all. Both are a 400 naming the field.
    """

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and value.utcoffset() is not None:
            try:
                value = value.astimezone(datetime.UTC)
            except OverflowError:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        return value


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class IntegerFilter(django_filters.NumberFilter):
    """A whole number, as the schema says of a filter on an integer column (django-filter's took 0.5)."""

    field_class = forms.IntegerField


class TrueFalseField(forms.TypedChoiceField):
    """`true` or `false`, as the schema's boolean is written in a query; anything else is a 400.

    django-filter's own reads any other value (`null`, `yes`, `2`) as no filter at all, which
    gave all rows to a query the schema calls invalid.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", [("", "---------"), ("true", "true"), ("false", "false")])
        super().__init__(coerce=lambda value: value == "true", empty_value=None, **kwargs)


class BooleanFilter(django_filters.BooleanFilter):
    field_class = TrueFalseField


@extend_schema_field(TEXT_SCHEMA)
class CharFilter(django_filters.CharFilter):
    pass


def _is_named(field, data, key: str) -> bool:
    """Whether the query gives this form field a value (a multiple-part widget's parts included)."""
    if isinstance(field.widget, forms.SelectMultiple | forms.CheckboxSelectMultiple):
        # Such widgets never say "omitted" (a form posts nothing for an empty selection), and an
        # empty selection filters nothing.
        return key in data
    # A checkbox is never omitted either: unticked is False, which filters.
    return not field.widget.value_omitted_from_data(data, {}, key)


class FilterSet(django_filters.FilterSet):
    """django-filter's FilterSet with the project's filters by default, as NetBox's BaseFilterSet.

    Foreign keys are filtered by id, date-times are read as UTC, integers, booleans and texts are
    checked as the schema states them.
    """

    FILTER_DEFAULTS = {
        **django_filters.filterset.FILTER_FOR_DBFIELD_DEFAULTS,
        models.ForeignKey: {"filter_class": RelatedIdFilter},
        models.OneToOneField: {"filter_class": RelatedIdFilter},
        models.DateTimeField: {"filter_class": IsoDateTimeFilter},
        models.BooleanField: {"filter_class": BooleanFilter},
        **{
            field: {"filter_class": IntegerFilter}
            for field in (
                models.IntegerField,
                models.SmallIntegerField,
                models.BigIntegerField,
                models.PositiveIntegerField,
                models.PositiveSmallIntegerField,
                models.PositiveBigIntegerField,
            )
        },
        models.CharField: {"filter_class": CharFilter},
        models.TextField: {"filter_class": CharFilter},
    }

    def get_form_class(self):
        """A form of the filters the query names, made once per FilterSet class, language and set of names.

        get_form_class() is django-filter's documented hook for this. A filter the query does not name
        filters nothing, so its field need not be made and checked on every request; the browsable
        API, whose HTML form shows every filter, gets the whole form. A filter whose choices depend on
        the request (a callable queryset) has its form made per request, as django-filter does.
        """
        if any(isinstance(f, QuerySetRequestMixin) and callable(f.queryset) for f in self.filters.values()):
            return super().get_form_class()
        made = type(self).__dict__.get("form_classes")
        if made is None:
            made = {}
            type(self).form_classes = made  # on this class only: a subclass has filters of its own
        language = get_language()
        if language not in made:
            made[language] = super().get_form_class()
        whole = made[language]
        renderer = getattr(self.request, "accepted_renderer", None)
        if not self.is_bound or getattr(renderer, "format", None) == "api":
            return whole
        prefix = f"{self.form_prefix}-" if self.form_prefix else ""
        named = tuple(name for name, field in whole.base_fields.items() if _is_named(field, self.data, prefix + name))
        if (language, named) not in made:
            fields = {name: whole.base_fields[name] for name in named}
            made[language, named] = type(whole.__name__, (self._meta.form,), fields)
        return made[language, named]

    @property
    def form(self):
        """django-filter's form, where a filter the query names needs a value.

        `?case=` or `?occurred_after=` is a 400 naming it: the schema gives such a parameter a type an
        empty value is not (an id, a date-time, a choice), and read as "no filter" it returned every
        row. The browsable API's HTML form sends each of its fields, empty or not, so there an empty
        value still means "any".
        """
        form = super().form
        if getattr(form, "named_values_required", False):
            return form
        form.named_values_required = True
        renderer = getattr(self.request, "accepted_renderer", None)
        if self.is_bound and getattr(renderer, "format", None) != "api":
            for name, field in form.fields.items():
                # A list filter's `?kind=` is a choice of "", refused as such; text takes any text.
                text_or_list = isinstance(field, forms.CharField | forms.MultipleChoiceField)
                if not text_or_list and _is_named(field, self.data, form.add_prefix(name)):
                    field.required = True
        return form


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend; a FilterSet made from a view's `filterset_fields` gets our defaults too."""

    filterset_base = FilterSet
