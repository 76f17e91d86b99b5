"""Filters of the cases app's lists, on the shared FilterSet (core.api.filters)."""

import django_filters

from cases.choices import CaseStatus, IncidentKind, Outcome
from cases.models import Case, CaseMembership, Entity, Incident, SanctionsProvision, WeaponSystem
from core.api.filters import CharFilter, FilterSet, IsoDateTimeFilter, RelatedIdFilter


class CaseIdFilter(RelatedIdFilter):
    """Rows of one case, by its id (through `field_name` when the rows are further down the case)."""

    def __init__(self, field_name="case", **kwargs):
        kwargs.setdefault("help_text", "A case's id: the rows of that case.")
        super().__init__(field_name=field_name, **kwargs)


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
