import copy
import datetime

import django_filters
from django import forms
from django.db import models
from django.http import QueryDict
from django.utils.functional import cached_property
from django.utils.translation import get_language
from django_filters.fields import IsoDateTimeField
from django_filters.filters import QuerySetRequestMixin
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field

from cases.choices import CaseStatus, IncidentKind, Outcome
from cases.models import Case, CaseMembership, Entity, Incident, SanctionsProvision, WeaponSystem

# What an id is: ids start at 1 and fit a 64-bit column; the schema says so, as the filter checks it.
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
# Query text the server refuses: a NUL character (Django's and DRF's CharFields reject it).
TEXT_SCHEMA = {"type": "string", "pattern": "^[^\\x00]*$"}


@extend_schema_field(ID_SCHEMA)
class RelatedIdFilter(django_filters.NumberFilter):
    """Rows related to one object, by its id: the filter for every foreign key.

    The rows filtered are already those the user may see, so the id of an object the user cannot see
    (or of none) gives an empty list, as one without rows would: nothing tells whether it exists.
    django-filter's default, a choice among all rows of the related model, answers 400 for a missing
    one only, which tells outsiders which ids exist, and costs a query to check.
    """

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class CaseIdFilter(RelatedIdFilter):
    """Rows of one case, by its id (through `field_name` when the rows are further down the case)."""

    def __init__(self, field_name="case", **kwargs):
        kwargs.setdefault("help_text", "A case's id: the rows of that case.")
        super().__init__(field_name=field_name, **kwargs)


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
    """django-filter's FilterSet, with ids for foreign keys, making its form class once per class and language.

    Each request still gets its own form, with copies of the fields (Django forms copy them). A
    FilterSet whose form fields depend on the request should set `cache_form_class = False`; one
    with a filter whose queryset is a function of the request is not cached anyway.
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
    cache_form_class = True
    _form_classes: dict = {}

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        """django-filter's, with shallow copies of the class's filters instead of deep ones.

        Deep copies were a third of the filtering's cost. What a filter keeps per request is its
        model and parent, set below; its arguments are never changed once the class is made. A form
        field a filter built and kept (`_field`) is dropped, so that one whose choices depend on the
        request is built again, and a `method` filter is bound to its copy.
        """
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {}
        for name, filter_ in self.base_filters.items():
            filter_copy = copy.copy(filter_)
            filter_copy.__dict__.pop("_field", None)
            if filter_copy.method is not None:
                filter_copy.method = filter_copy.method  # binds a new FilterMethod to the copy
            filter_copy.model = queryset.model
            filter_copy.parent = self
            self.filters[name] = filter_copy

    def get_form_class(self):
        if not self.cache_form_class or self._depends_on_request():
            return super().get_form_class()
        key = (type(self), get_language())
        form_class = self._form_classes.get(key)
        if form_class is None:
            form_class = self._form_classes[key] = super().get_form_class()
        return form_class

    @cached_property
    def filtering_form(self):
        """A form of only the filters the query names: it filters as the whole form would.

        An absent filter's empty value filters nothing, but building and validating a field for each
        filter of the class was most of the cost of filtering a list by one or two. `form`, shown by
        the browsable API, keeps every field.
        """
        if not self.is_bound or not self.cache_form_class or self._depends_on_request():
            return self._values_required(self.form)
        whole = self.get_form_class()
        prefix = f"{self.form_prefix}-" if self.form_prefix else ""
        named = tuple(name for name, field in whole.base_fields.items() if _is_named(field, self.data, prefix + name))
        key = (whole, named)
        form_class = self._form_classes.get(key)
        if form_class is None:
            fields = {name: whole.base_fields[name] for name in named}
            form_class = self._form_classes[key] = type(whole.__name__, (self._meta.form,), fields)
        return self._values_required(form_class(self.data, prefix=self.form_prefix))

    def _values_required(self, form):
        """A filter the query names needs a value: `?case=` or `?occurred_after=` is a 400 naming it.

        The schema gives such a parameter a type an empty value is not (an id, a date-time, a
        choice); read as "no filter" it returned every row. The browsable API's HTML form sends each
        of its fields, empty or not, so there an empty value still means "any".
        """
        renderer = getattr(self.request, "accepted_renderer", None)
        if getattr(renderer, "format", None) == "api":
            return form
        for name, field in form.fields.items():
            # A list filter's `?kind=` is a choice of "", refused as such; text takes any text.
            text_or_list = isinstance(field, forms.CharField | forms.MultipleChoiceField)
            if not text_or_list and _is_named(field, self.data, form.add_prefix(name)):
                field.required = True
        return form

    def is_valid(self):
        return self.is_bound and self.filtering_form.is_valid()

    @property
    def errors(self):
        return self.filtering_form.errors

    def filter_queryset(self, queryset):
        for name, value in self.filtering_form.cleaned_data.items():
            queryset = self.filters[name].filter(queryset, value)
            if not isinstance(queryset, models.QuerySet):
                raise TypeError(f"{type(self).__name__}.{name} returned a {type(queryset).__name__}, not a QuerySet")
        return queryset

    @classmethod
    def _depends_on_request(cls) -> bool:
        return any(
            isinstance(filter_, QuerySetRequestMixin) and callable(filter_.queryset)
            for filter_ in cls.base_filters.values()
        )


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend; a view that lists only `filterset_fields` gets a FilterSet made from ours.

    The default base would miss what ours adds: ids for foreign keys and date-times read as UTC (an
    offset PostgreSQL refuses was a 500).
    """

    filterset_base = FilterSet
    _made: dict = {}

    def get_filterset_class(self, view, queryset=None):
        """django-filter's, except that a FilterSet made from `filterset_fields` is made once per view.

        django-filter makes a new class on every request, and each would keep its own form classes.
        """
        fields = getattr(view, "filterset_fields", None)
        if getattr(view, "filterset_class", None) or not fields or queryset is None:
            return super().get_filterset_class(view, queryset)
        key = (type(view), queryset.model, repr(fields))
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().get_filterset_class(view, queryset)
        return made


class CaseFilter(FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CaseStatus.choices)
    opened_after = django_filters.DateFilter(field_name="opened_on", lookup_expr="gte")
    opened_before = django_filters.DateFilter(field_name="opened_on", lookup_expr="lte")
    region = CharFilter(method="filter_region", help_text="Cases with an incident in this region.")

    class Meta:
        model = Case
        fields = ["status", "lead"]

    def filter_region(self, queryset, name, value):
        return queryset.filter(pk__in=Incident.objects.filter(region__iexact=value).values("case_id"))


class CaseMembershipFilter(FilterSet):
    case = CaseIdFilter()

    class Meta:
        model = CaseMembership
        fields = ["case", "role", "user"]


class IncidentFilter(FilterSet):
    case = CaseIdFilter()
    kind = django_filters.MultipleChoiceFilter(choices=IncidentKind.choices)
    outcome = django_filters.MultipleChoiceFilter(choices=Outcome.choices)
    region = CharFilter(lookup_expr="iexact")
    occurred_after = IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lte")

    class Meta:
        model = Incident
        fields = ["case", "kind", "outcome", "region", "weapon_system", "occurred_precision"]


class WeaponSystemFilter(FilterSet):
    class Meta:
        model = WeaponSystem
        fields = ["category", "country_of_origin"]


class SanctionsProvisionFilter(FilterSet):
    adopted_after = django_filters.DateFilter(field_name="adopted_on", lookup_expr="gte")
    adopted_before = django_filters.DateFilter(field_name="adopted_on", lookup_expr="lte")

    class Meta:
        model = SanctionsProvision
        fields = ["regime", "instrument"]


class EntityFilter(FilterSet):
    case = RelatedIdFilter(method="filter_case", help_text="Entities linked to this case.")

    class Meta:
        model = Entity
        fields = ["kind", "sanctioned", "list_name"]

    def filter_case(self, queryset, name, value):
        visible = Case.objects.visible_to(self.request.user).filter(pk=value)
        return queryset.filter(cases__in=visible).distinct()
