import django_filters
from django.db.models import Q
from django.utils import timezone

from cases.api.filters import CaseIdFilter
from cases.choices import AccessAction
from cases.models import AccessLog
from core.api.filters import BooleanFilter, CharFilter, FilterSet, IsoDateTimeFilter, RelatedIdFilter
from evidence.choices import (
    AttributionSubject,
    ComponentFunction,
    Confidence,
    EventType,
    ItemKind,
    ItemStatus,
    MarkingType,
    PhotoFormat,
    PhotoStatus,
    Reliability,
    SourceKind,
    Stance,
    SubjectType,
    TraceKind,
    TraceStatus,
)
from evidence.models import (
    Attribution,
    Component,
    CustodyEvent,
    DateCodeReading,
    EvidenceItem,
    Export,
    Manufacturer,
    Marking,
    Photo,
    Source,
    TraceRequest,
)


class EvidenceItemFilter(FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=ItemKind.choices)
    status = django_filters.MultipleChoiceFilter(choices=ItemStatus.choices)
    recovered_after = IsoDateTimeFilter(field_name="recovered_at", lookup_expr="gte")
    recovered_before = IsoDateTimeFilter(field_name="recovered_at", lookup_expr="lte")
    region = CharFilter(field_name="incident__region", lookup_expr="iexact")

    class Meta:
        model = EvidenceItem
        fields = ["case", "kind", "status", "incident", "parent", "exhibit_number"]


class CustodyEventFilter(FilterSet):
    event_type = django_filters.MultipleChoiceFilter(choices=EventType.choices)
    subject_type = django_filters.ChoiceFilter(choices=SubjectType.choices)
    recorded_after = IsoDateTimeFilter(field_name="recorded_at", lookup_expr="gte")
    recorded_before = IsoDateTimeFilter(field_name="recorded_at", lookup_expr="lte")
    item = RelatedIdFilter(method="filter_item", help_text="Events about this evidence item.")

    class Meta:
        model = CustodyEvent
        fields = ["case", "event_type", "subject_type", "subject_id", "actor"]

    def filter_item(self, queryset, name, value):
        return queryset.filter(subject_type=SubjectType.EVIDENCE_ITEM, subject_id=value)


class PhotoFilter(FilterSet):
    case = CaseIdFilter(field_name="item__case")
    status = django_filters.MultipleChoiceFilter(choices=PhotoStatus.choices)
    format = django_filters.MultipleChoiceFilter(choices=PhotoFormat.choices)
    captured_after = IsoDateTimeFilter(field_name="captured_at", lookup_expr="gte")
    captured_before = IsoDateTimeFilter(field_name="captured_at", lookup_expr="lte")
    sha256 = CharFilter(field_name="original__sha256", lookup_expr="iexact")
    has_location = BooleanFilter(field_name="gps_latitude", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Photo
        fields = ["case", "item", "status", "format", "sha256"]


class MarkingFilter(FilterSet):
    case = CaseIdFilter(field_name="item__case")
    marking_type = django_filters.MultipleChoiceFilter(choices=MarkingType.choices)
    confidence = django_filters.MultipleChoiceFilter(choices=Confidence.choices)
    country = CharFilter(field_name="manufacturer__country", lookup_expr="iexact")
    verified = BooleanFilter(field_name="verified_by", lookup_expr="isnull", exclude=True)
    withdrawn = BooleanFilter(field_name="withdrawn_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Marking
        fields = ["case", "item", "photo", "marking_type", "manufacturer", "part_number", "confidence"]


class SourceFilter(FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=SourceKind.choices)
    reliability = django_filters.MultipleChoiceFilter(choices=Reliability.choices)
    published_after = django_filters.DateFilter(field_name="published_on", lookup_expr="gte")
    published_before = django_filters.DateFilter(field_name="published_on", lookup_expr="lte")
    withdrawn = BooleanFilter(field_name="withdrawn_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Source
        fields = ["case", "kind", "reliability"]


class AttributionFilter(FilterSet):
    stance = django_filters.ChoiceFilter(choices=Stance.choices)
    subject_type = django_filters.ChoiceFilter(choices=AttributionSubject.choices)
    withdrawn = BooleanFilter(field_name="withdrawn_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Attribution
        fields = ["case", "subject_type", "incident", "item", "marking", "entity", "source", "stance", "credibility"]


class ManufacturerFilter(FilterSet):
    class Meta:
        model = Manufacturer
        fields = ["country", "entity"]


class AccessLogFilter(FilterSet):
    after = IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    before = IsoDateTimeFilter(field_name="at", lookup_expr="lte")
    action = django_filters.MultipleChoiceFilter(choices=AccessAction.choices)

    class Meta:
        model = AccessLog
        fields = ["case", "user", "action", "object_type", "object_id"]


class ExportFilter(FilterSet):
    class Meta:
        model = Export
        fields = ["case", "kind", "status", "language"]


class ComponentFilter(FilterSet):
    case = CaseIdFilter(field_name="item__case")
    function = django_filters.MultipleChoiceFilter(choices=ComponentFunction.choices)
    part_number = CharFilter(field_name="part_number", lookup_expr="iexact")
    lot_code = CharFilter(field_name="lot_code", lookup_expr="iexact")
    country = CharFilter(
        field_name="manufacturer__country", lookup_expr="iexact", help_text="The manufacturer's headquarters country."
    )
    withdrawn = BooleanFilter(field_name="withdrawn_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Component
        fields = ["case", "item", "manufacturer", "part_number", "lot_code", "function", "country", "distributor"]


class DateCodeReadingFilter(FilterSet):
    case = CaseIdFilter(field_name="component__item__case")
    verified = BooleanFilter(field_name="verified_by", lookup_expr="isnull", exclude=True)
    withdrawn = BooleanFilter(field_name="withdrawn_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = DateCodeReading
        fields = ["case", "component", "marking"]


def overdue_q() -> Q:
    """Sent and past its due day, or already marked unanswered."""
    return Q(status=TraceStatus.NO_ANSWER) | Q(status=TraceStatus.SENT, due_on__lt=timezone.localdate())


class TraceRequestFilter(FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=TraceStatus.choices)
    kind = django_filters.ChoiceFilter(choices=TraceKind.choices)
    overdue = BooleanFilter(
        method="filter_overdue", help_text="true: no answer, or sent and past its due day; false: the others."
    )
    component = RelatedIdFilter(field_name="components", help_text="Requests about this component.")

    class Meta:
        model = TraceRequest
        fields = ["case", "status", "kind", "recipient_kind", "manufacturer", "entity", "follows"]

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(overdue_q()) if value else queryset.exclude(overdue_q())
