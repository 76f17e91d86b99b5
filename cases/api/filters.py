import django_filters
from django import forms
from django.utils.translation import get_language
from django_filters.filters import QuerySetRequestMixin
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from cases.choices import CaseStatus, IncidentKind, Outcome
from cases.models import Case, CaseMembership, Entity, Incident, SanctionsProvision, WeaponSystem


class FilterSet(django_filters.FilterSet):
    """django-filter's FilterSet, making its form class once per class and language, not per request.

    Each request still gets its own form, with copies of the fields (Django forms copy them). A
    FilterSet whose form fields depend on the request should set `cache_form_class = False`; one
    with a filter whose queryset is a function of the request is not cached anyway.
    """

    cache_form_class = True
    _form_classes: dict = {}

    def get_form_class(self):
        if not self.cache_form_class or self._depends_on_request():
            return super().get_form_class()
        key = (type(self), get_language())
        form_class = self._form_classes.get(key)
        if form_class is None:
            form_class = self._form_classes[key] = super().get_form_class()
        return form_class

    @classmethod
    def _depends_on_request(cls) -> bool:
        return any(
            isinstance(filter_, QuerySetRequestMixin) and callable(filter_.queryset)
            for filter_ in cls.base_filters.values()
        )


@extend_schema_field(OpenApiTypes.INT)
class CaseIdFilter(django_filters.NumberFilter):
    """Rows of one case, by its id.

    The rows filtered are already those of the user's cases, so the id of a case the user cannot see
    (or of none) gives an empty list, as a case of theirs without rows would: nothing tells whether it
    exists. (A choice among all cases would answer 400 for a missing one only.) No query checks it.
    """

    field_class = forms.IntegerField

    def __init__(self, field_name="case", **kwargs):
        kwargs.setdefault("help_text", "A case's id: the rows of that case.")
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(field_name=field_name, **kwargs)


class CaseFilter(FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CaseStatus.choices)
    opened_after = django_filters.DateFilter(field_name="opened_on", lookup_expr="gte")
    opened_before = django_filters.DateFilter(field_name="opened_on", lookup_expr="lte")
    region = django_filters.CharFilter(method="filter_region", help_text="Cases with an incident in this region.")

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
    region = django_filters.CharFilter(lookup_expr="iexact")
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lte")

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
    case = django_filters.NumberFilter(method="filter_case", help_text="Entities linked to this case.")

    class Meta:
        model = Entity
        fields = ["kind", "sanctioned", "list_name"]

    def filter_case(self, queryset, name, value):
        visible = Case.objects.visible_to(self.request.user).filter(pk=value)
        return queryset.filter(cases__in=visible).distinct()
