import datetime as dt

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings

from cases import audit
from cases.api.views import ReferenceDataViewSet
from cases.api.viewsets import AttestModelViewSet, VisibleQuerysetMixin
from cases.choices import AccessAction, Role
from cases.models import AccessLog, Case, memberships_read_once
from cases.services import require_role
from core.api.negotiation import FormatIsAFilter
from core.api.pagination import LedgerCursorPagination
from core.api.parsers import JSONParser, MultiPartParser
from core.api.renderers import JSONRenderer
from core.api.throttling import FixityCheckThrottle
from core.api.viewsets import ETagMixin, IdempotentCreateMixin
from evidence import filestore, selectors, services
from evidence.api import filters, serializers
from evidence.choices import ExportKind, PhotoStatus
from evidence.downloads import content_disposition, file_response
from evidence.export import reports
from evidence.export.letters import render_letter
from evidence.export.reports import sanctions_report_csv
from evidence.lib import csvcells
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
from evidence.models.sources import SUBJECT_FIELDS
from evidence.services import components as component_services
from evidence.services import tracing as tracing_services


class EvidenceItemViewSet(AttestModelViewSet):
    """Exhibits of your cases. Every write appends its custody event; nothing is ever deleted."""

    queryset = EvidenceItem.objects.select_related("case", "incident", "parent")
    serializer_class = serializers.EvidenceItemSerializer
    filterset_class = filters.EvidenceItemFilter
    search_fields = ["exhibit_number", "title", "description", "recovery_place", "seal_number"]
    ordering_fields = ["exhibit_number", "recovered_at", "created_at", "kind", "status"]

    def perform_create(self, serializer):
        serializer.instance = services.create_item(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.update_item(
            actor=self.request.user, item=serializer.instance, **serializer.validated_data
        )

    @extend_schema(responses=serializers.SeenElsewhereSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="seen-elsewhere", filter_backends=[], pagination_class=None)
    def seen_elsewhere(self, request, pk=None):
        """The same part number or lot in other cases you can see."""
        rows = selectors.seen_elsewhere(self.get_object(), viewer=request.user)
        return Response(serializers.SeenElsewhereSerializer(rows, many=True).data)

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"], url_path="access-report", filter_backends=[], pagination_class=None)
    def access_report(self, request, pk=None):
        """Every recorded access to this exhibit, its photos and markings, as CSV. For the case's leads."""
        item = self.get_object()
        require_role(case=item.case, actor=request.user, role=Role.LEAD)
        return HttpResponse(
            reports.exhibit_access_csv(item),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": content_disposition(f"{item.exhibit_number}-access.csv")},
        )

    @extend_schema(responses=serializers.SubjectAttributionsSerializer)
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def attributions(self, request, pk=None):
        """Active attributions about this item with their grades, and whether they contradict each other."""
        found = selectors.attributions_of(self.get_object(), viewer=request.user)
        body = {"contradicted": found.contradicted, "attributions": found.attributions}
        return Response(serializers.SubjectAttributionsSerializer(body, context={"request": request}).data)


class RecordTransferMixin:
    """POST validates a transfer, records it through the service, and answers with the new event."""

    def create(self, request, *args, **kwargs):
        transfer = serializers.CustodyTransferSerializer(data=request.data, context=self.get_serializer_context())
        transfer.is_valid(raise_exception=True)
        data = dict(transfer.validated_data)
        event = services.transfer_custody(actor=request.user, item=data.pop("item"), **data)
        body = serializers.CustodyEventSerializer(event, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)


class CustodyEventViewSet(
    VisibleQuerysetMixin,
    IdempotentCreateMixin,
    RecordTransferMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The custody ledger, read-only, in sequence order. The one POST records a custody transfer."""

    queryset = CustodyEvent.objects.select_related("case", "corrects")
    serializer_class = serializers.CustodyEventSerializer
    filterset_class = filters.CustodyEventFilter
    pagination_class = LedgerCursorPagination
    ordering_fields = ["sequence"]
    search_fields = ["subject_label", "actor_name", "payload"]

    @extend_schema(request=serializers.CustodyTransferSerializer, responses={201: serializers.CustodyEventSerializer})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)


class PhotoCreateMixin:
    def create(self, request, *args, **kwargs):
        # The item field's visibility and add_photo's role check ask about the same memberships.
        with memberships_read_once(request.user):
            accepted = self.perform_upload(request)
            photo = accepted.photo if accepted.current else self.get_queryset().get(pk=accepted.photo.pk)
        body = self.get_serializer(photo).data
        if accepted.duplicate:
            return Response(body, status=status.HTTP_200_OK, headers={"Duplicate-Of": str(photo.pk)})
        # str(): the url is DRF's Hyperlink, a str subclass that WSGI servers (wsgiref) refuse in a header.
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": str(body["url"])})


class PhotoViewSet(
    VisibleQuerysetMixin,
    ETagMixin,
    IdempotentCreateMixin,
    PhotoCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Debris photos. POST uploads one (multipart); poll its `url` until `status` is done."""

    queryset = Photo.objects.select_related("item__case", "original")
    serializer_class = serializers.PhotoSerializer
    filterset_class = filters.PhotoFilter
    content_negotiation_class = FormatIsAFilter
    parser_classes = [MultiPartParser, FormParser]
    search_fields = [
        "original_name",
        "photographer",
        "notes",
        "camera_make",
        "camera_model",
        "original__sha256",
    ]
    ordering_fields = ["uploaded_at", "captured_at", "status"]

    def get_parsers(self):
        # Reads take no body; the browsable API and the schema still want JSON listed for them.
        if getattr(self, "action", None) == "create":
            return super().get_parsers()
        return [JSONParser(), *super().get_parsers()]

    @extend_schema(
        request={"multipart/form-data": serializers.PhotoUploadSerializer},
        responses={201: serializers.PhotoSerializer, 200: serializers.PhotoSerializer},
        description="201 with the new photo, or 200 with the existing one when the same bytes were "
        "already uploaded to the item (`Duplicate-Of` names it).",
    )
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_upload(self, request) -> services.PhotoAccepted:
        upload = serializers.PhotoUploadSerializer(data=request.data, context=self.get_serializer_context())
        upload.is_valid(raise_exception=True)
        data = dict(upload.validated_data)
        uploaded = data.pop("file")
        return services.add_photo(
            actor=request.user,
            item=data.pop("item"),
            upload=filestore.from_upload(uploaded),
            original_name=uploaded.name,
            **data,
        )

    @extend_schema(responses=serializers.NearDuplicateSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="near-duplicates", pagination_class=None, filter_backends=[])
    def near_duplicates(self, request, pk=None):
        """Photos you can see whose perceptual hash is within the configured distance of this one."""
        pairs = selectors.near_duplicates(photo=self.get_object(), viewer=request.user)
        rows = [{"photo": photo, "distance": distance} for photo, distance in pairs]
        return Response(serializers.NearDuplicateSerializer(rows, many=True).data)

    @extend_schema(responses=serializers.PhotoExifSerializer)
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def exif(self, request, pk=None):
        """Every EXIF tag the pipeline read, by IFD."""
        return Response({"exif": self.get_object().exif})

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def original(self, request, pk=None):
        """The original file, byte for byte as received (its SHA-256 is in the photo's record)."""
        photo = self.get_object()
        name = f"{photo.item.exhibit_number}-{photo.original.sha256[:12]}-{photo.original_name}"
        return file_response(
            request, photo, photo.original.path, filename=name, content_type="application/octet-stream"
        )

    @extend_schema(responses={(200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY)})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def preview(self, request, pk=None):
        """The upright 1600 px JPEG, without metadata."""
        return self._derivative("preview")

    @extend_schema(responses={(200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY)})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def thumbnail(self, request, pk=None):
        """The upright 400 px JPEG, without metadata."""
        return self._derivative("thumbnail")

    def _derivative(self, kind: str):
        photo = self.get_object()
        if photo.status != PhotoStatus.DONE:
            if kind == "preview":
                message = gettext("The preview is not ready yet (photo status: %(status)s).")
            else:
                message = gettext("The thumbnail is not ready yet (photo status: %(status)s).")
            raise NotFound(message % {"status": photo.get_status_display()})
        name = f"{photo.item.exhibit_number}-{photo.original.sha256[:12]}-{kind}.jpg"
        return file_response(self.request, photo, photo.derivative_path(kind), filename=name, content_type="image/jpeg")


def withdrawal(viewset, request, service, name: str) -> Response:
    """Withdraw a marking, source or attribution: the object first, so an outsider learns nothing else."""
    obj = viewset.get_object()
    body = serializers.WithdrawalSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    withdrawn = service(actor=request.user, reason=body.validated_data["reason"], **{name: obj})
    return Response(viewset.get_serializer(viewset.get_queryset().get(pk=withdrawn.pk)).data)


class ManufacturerViewSet(ReferenceDataViewSet):
    """Component makers: reference data every user reads and reference data editors edit."""

    queryset = Manufacturer.objects.select_related("entity")
    serializer_class = serializers.ManufacturerSerializer
    filterset_class = filters.ManufacturerFilter
    search_fields = ["name", "aliases", "country", "notes"]
    ordering_fields = ["name", "country"]


class MarkingViewSet(AttestModelViewSet):
    """Markings read off components. POST records one; PATCH corrects it (give a `reason`)."""

    queryset = Marking.objects.select_related(
        "item__case", "item__parent", "photo__original", "transcribed_by", "verified_by", "manufacturer"
    )
    serializer_class = serializers.MarkingSerializer
    filterset_class = filters.MarkingFilter
    search_fields = ["transcription", "part_number", "manufacturer__name", "item__exhibit_number"]
    ordering_fields = ["created_at", "marking_type", "confidence", "interpreted_date"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("reason", None)
        serializer.instance = services.record_marking(actor=self.request.user, item=data.pop("item"), **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.correct_marking(
            actor=self.request.user, marking=serializer.instance, reason=data.pop("reason", ""), **data
        )

    @extend_schema(request=None, responses=serializers.MarkingSerializer)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def verify(self, request, pk=None):
        """Confirm the reading: another member of the case, never the transcriber (four eyes)."""
        marking = services.verify_marking(actor=request.user, marking=self.get_object())
        return Response(self.get_serializer(self.get_queryset().get(pk=marking.pk)).data)

    @extend_schema(request=serializers.WithdrawalSerializer, responses=serializers.MarkingSerializer)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def withdraw(self, request, pk=None):
        return withdrawal(self, request, services.withdraw_marking, "marking")


class SourceViewSet(AttestModelViewSet):
    """Sources with their Admiralty reliability (A to F). POST may carry an archived copy (multipart)."""

    queryset = Source.objects.select_related("case", "archived_copy", "recorded_by")
    serializer_class = serializers.SourceSerializer
    filterset_class = filters.SourceFilter
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    search_fields = ["title", "publisher", "author", "document_reference", "url", "notes"]
    ordering_fields = ["published_on", "reliability", "created_at", "title"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("reason", None)
        archive = data.pop("archive", None)
        serializer.instance = services.add_source(
            actor=self.request.user,
            case=data.pop("case"),
            archive=filestore.from_upload(archive) if archive else None,
            archive_name=archive.name if archive else "",
            **data,
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.update_source(
            actor=self.request.user, source=serializer.instance, reason=data.pop("reason", ""), **data
        )

    @extend_schema(request=serializers.WithdrawalSerializer, responses=serializers.SourceSerializer)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def withdraw(self, request, pk=None):
        return withdrawal(self, request, services.withdraw_source, "source")

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def archive(self, request, pk=None):
        """The archived copy, byte for byte (its SHA-256 is in the source's record)."""
        source = self.get_object()
        if source.archived_copy is None:
            raise NotFound(gettext("This source has no archived copy."))
        return file_response(
            request, source, source.archived_copy.path, filename=source.archived_copy_name,
            content_type="application/octet-stream",
        )  # fmt: skip


class AttributionViewSet(
    VisibleQuerysetMixin, ETagMixin, IdempotentCreateMixin, mixins.CreateModelMixin, mixins.ListModelMixin,
    mixins.RetrieveModelMixin, viewsets.GenericViewSet,
):  # fmt: skip
    """Claims attributed to sources, graded e.g. B2. Attributions are withdrawn, never edited or deleted."""

    queryset = Attribution.objects.select_related("case", "source", "analyst")
    serializer_class = serializers.AttributionSerializer
    filterset_class = filters.AttributionFilter
    search_fields = ["claim", "quote", "source__title"]
    ordering_fields = ["created_at", "credibility", "stance"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        subject_type = data["subject_type"]
        subjects = {name: data.pop(name, None) for name in ("incident", "item", "marking", "entity")}
        subject = subjects.get(SUBJECT_FIELDS.get(subject_type, ""))
        serializer.instance = services.add_attribution(
            actor=self.request.user,
            case=data.pop("case"),
            subject_type=data.pop("subject_type"),
            source=data.pop("source"),
            subject=subject,
            **data,
        )

    @extend_schema(request=serializers.WithdrawalSerializer, responses=serializers.AttributionSerializer)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def withdraw(self, request, pk=None):
        return withdrawal(self, request, services.withdraw_attribution, "attribution")


class SanctionsReportViewSet(VisibleQuerysetMixin, viewsets.GenericViewSet):
    """The sanctions question for a case: components by country of origin and by manufacturer."""

    queryset = Case.objects.all()
    serializer_class = serializers.SanctionsReportSerializer
    filter_backends = []
    pagination_class = None

    @extend_schema(
        parameters=[
            OpenApiParameter("after", OpenApiTypes.DATE, description="Highlight components made after this date."),
            OpenApiParameter("export", str, enum=["csv"], description="csv: the rows as a CSV file."),
        ],
        responses={200: serializers.SanctionsReportSerializer, (200, "text/csv"): OpenApiTypes.STR},
    )
    def retrieve(self, request, pk=None):
        case = self.get_object()
        after, export = request.query_params.get("after"), request.query_params.get("export")
        try:
            # Named but empty is refused too: read as "no date" it was a request the schema does not allow.
            after_date = dt.date.fromisoformat(after) if after is not None else None
        except ValueError:
            raise ValidationError({"after": [gettext("A date, YYYY-MM-DD.")]}) from None
        if export not in (None, "csv"):
            raise ValidationError({"export": [gettext("Leave it out for JSON, or ask for csv.")]})
        report = selectors.sanctions_report(case, after=after_date)
        if export == "csv":
            response = HttpResponse(sanctions_report_csv(report), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = content_disposition(f"{case.file_stem}-sanctions-report.csv")
            return response
        return Response(serializers.SanctionsReportSerializer(report).data)


class ExportViewSet(
    VisibleQuerysetMixin, IdempotentCreateMixin, mixins.CreateModelMixin, mixins.ListModelMixin,
    mixins.RetrieveModelMixin, viewsets.GenericViewSet,
):  # fmt: skip
    """Dossiers (PDF) and evidence packages (BagIt zip). POST asks for one; poll `url`; then download."""

    queryset = Export.objects.select_related("case", "requested_by", "file", "checkpoint")
    serializer_class = serializers.ExportSerializer
    filterset_class = filters.ExportFilter
    ordering_fields = ["requested_at", "finished_at"]
    search_fields = ["case__reference", "stage"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.request_export(actor=self.request.user, case=data.pop("case"), **data)
        audit.record(self.request._request, AccessAction.EXPORT, obj=serializer.instance, status=201)

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY),
        }
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def download(self, request, pk=None):
        """The finished file, byte for byte as stored (its SHA-256 is in the export's record)."""
        export = self.get_object()
        if export.file is None:
            raise NotFound(
                gettext("%(kind)s: not ready yet (status: %(status)s).")
                % {"kind": export.get_kind_display(), "status": export.get_status_display()}
            )
        content_type = "application/pdf" if export.kind == ExportKind.DOSSIER else "application/zip"
        return file_response(request, export, export.file.path, filename=export.filename, content_type=content_type)


class AccessLogViewSet(VisibleQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Who saw what, on the cases you lead: views, downloads, exports and refusals."""

    lookup_value_regex = "[0-9]+"
    queryset = AccessLog.objects.select_related("user")
    serializer_class = serializers.AccessLogSerializer
    filterset_class = filters.AccessLogFilter
    search_fields = ["username", "object_label", "path"]
    ordering_fields = ["at"]
    # The queryset's visible_to is AccessLog.objects.readable_by; reading the log is logged too.


# --- Components, date-code readings, trace requests ---------------------------------------------------------


class ComponentViewSet(AttestModelViewSet):
    """Components of exhibits, one physical part each. POST records one; PATCH corrects it (give a `reason`)."""

    queryset = Component.objects.select_related(
        "item__case", "manufacturer", "distributor", "recorded_by"
    ).prefetch_related("readings", "markings")
    serializer_class = serializers.ComponentSerializer
    filterset_class = filters.ComponentFilter
    search_fields = ["designator", "part_number", "lot_code", "manufacturer_as_marked", "manufacturer__name"]
    ordering_fields = ["created_at", "part_number", "function"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("reason", None)
        component = component_services.record_component(actor=self.request.user, item=data.pop("item"), **data)
        serializer.instance = self.get_queryset().get(pk=component.pk)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        markings = data.pop("markings", None)
        reason = data.pop("reason", "")
        component = serializer.instance
        if data or not markings:
            component = component_services.correct_component(
                actor=self.request.user, component=component, reason=reason, **data
            )
        if markings:
            component = component_services.attach_markings(
                actor=self.request.user, component=component, markings=markings
            )
        serializer.instance = self.get_queryset().get(pk=component.pk)

    @extend_schema(request=serializers.WithdrawalSerializer, responses=serializers.ComponentSerializer)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def withdraw(self, request, pk=None):
        return withdrawal(self, request, component_services.withdraw_component, "component")

    @extend_schema(responses=serializers.ComponentElsewhereSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="seen-elsewhere", filter_backends=[], pagination_class=None)
    def seen_elsewhere(self, request, pk=None):
        """Standing components of other cases you can see with the same part number (and lot, when both have one)."""
        rows = selectors.seen_in_other_cases(self.get_object(), viewer=request.user)
        return Response(serializers.ComponentElsewhereSerializer(rows, many=True).data)


class CsvRenderer(BaseRenderer):
    """text/csv, for `?format=csv` or `Accept: text/csv`. The view writes the file itself (its cells
    neutralised against formulas); anything else answered in this format (an error) is sent as JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)


COMPONENT_TABLE_COLUMNS = [
    "component", "exhibit", "designator", "function", "manufacturer_as_marked", "manufacturer", "legal_name",
    "country", "part_number", "lot_code", "date_codes", "earliest", "latest", "distributor", "markings",
]  # fmt: skip


def _component_table_rows(case) -> list[dict]:
    """selectors.component_table(case), one dict a row with the columns above (standing markings and readings)."""
    rows = []
    for component in selectors.component_table(case):
        manufacturer, readings = component.manufacturer, list(component.readings.all())
        rows.append(
            {
                "component": component.pk,
                "exhibit": component.item.exhibit_number,
                "designator": component.designator,
                "function": component.function,
                "manufacturer_as_marked": component.manufacturer_as_marked,
                "manufacturer": manufacturer.name if manufacturer else "",
                "legal_name": manufacturer.legal_name if manufacturer else "",
                "country": manufacturer.country if manufacturer else "",
                "part_number": component.part_number,
                "lot_code": component.lot_code,
                "date_codes": "; ".join(reading.raw_code for reading in readings),
                "earliest": min((reading.earliest for reading in readings), default=None),
                "latest": max((reading.latest for reading in readings), default=None),
                "distributor": component.distributor.name if component.distributor else "",
                "markings": [marking.pk for marking in component.markings.all()],
            }
        )
    return rows


class NoBodySerializer(drf_serializers.Serializer):
    pass


class CaseCustodyActions:
    """A case's dossiers (`/cases/{id}/dossiers/`) and its fixity check (`/cases/{id}/verify/`)."""

    @extend_schema(
        request=serializers.DossierOptionsSerializer,
        responses={201: serializers.ExportSerializer, 200: serializers.ExportSerializer(many=True)},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def dossiers(self, request, pk=None):
        """POST asks for a dossier of this case (built by a worker; poll its `url`); GET lists them."""
        case = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            dossiers = Export.objects.filter(case=case, kind=ExportKind.DOSSIER).select_related(
                "case", "requested_by", "file", "checkpoint"
            )
            return Response(serializers.ExportSerializer(dossiers, many=True, context=context).data)
        body = serializers.DossierOptionsSerializer(data=request.data, context=context)
        body.is_valid(raise_exception=True)
        export = services.request_export(actor=request.user, case=case, kind=ExportKind.DOSSIER, **body.validated_data)
        audit.record(request._request, AccessAction.EXPORT, obj=export, status=201)
        data = serializers.ExportSerializer(export, context=context).data
        # str(): the url is DRF's Hyperlink, a str subclass that WSGI servers (wsgiref) refuse in a header.
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": str(data["url"])})

    @extend_schema(request=None, responses=serializers.VerificationReportSerializer)
    @action(
        detail=True,
        methods=["post"],
        pagination_class=None,
        filter_backends=[],
        # It re-hashes every file of the case: a few per hour per user, besides the token's budget.
        throttle_classes=[*api_settings.DEFAULT_THROTTLE_CLASSES, FixityCheckThrottle],
    )
    def verify(self, request, pk=None):
        """Recompute the case's custody chain, check its checkpoints, re-hash its files; record the check.

        Investigators and leads only."""
        report = services.check_fixity(actor=request.user, case=self.get_object())
        return Response(report.as_dict())


class CaseEvidenceViewSet(CaseCustodyActions, VisibleQuerysetMixin, viewsets.GenericViewSet):
    """What the evidence app adds under `/cases/{id}/`: dossiers, the fixity check, the component table
    (also as CSV) and its counts. The cases app serves the case itself."""

    queryset = Case.objects.all()

    def get_serializer_class(self):
        # What OPTIONS describes of a POST: a dossier's options; the fixity check takes no body.
        return serializers.DossierOptionsSerializer if self.action == "dossiers" else NoBodySerializer

    filter_backends = []
    pagination_class = None

    TABLE_FORMATS = ("json", "csv")

    def perform_content_negotiation(self, request, force=False):
        # A `?format=` other than these is not DRF's 404 before authentication (nor the browsable
        # API's page): answered in JSON, the action refuses it as a 400 naming the parameter.
        if request.query_params.get("format") not in (None, *self.TABLE_FORMATS):
            renderer = self.get_renderers()[0]
            return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)

    def finalize_response(self, request, response, *args, **kwargs):
        # An error asked for as CSV is answered in the project's JSON error format.
        if isinstance(response, Response) and isinstance(getattr(request, "accepted_renderer", None), CsvRenderer):
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        operation_id="cases_components_list",
        parameters=[OpenApiParameter("format", str, enum=["json", "csv"], description="csv: the table as a CSV file.")],
        responses={
            200: serializers.ComponentTableRowSerializer(many=True),
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[*api_settings.DEFAULT_RENDERER_CLASSES, CsvRenderer],
    )
    def components(self, request, pk=None):
        """The case's components, one row each: what was read, who made it, when, who sold it."""
        case = self.get_object()
        if request.query_params.get("format") not in (None, *self.TABLE_FORMATS):
            raise ValidationError({"format": [gettext("Choose json or csv.")]})
        rows = _component_table_rows(case)
        if isinstance(request.accepted_renderer, CsvRenderer):
            return self._csv(case, rows)
        return Response(serializers.ComponentTableRowSerializer(rows, many=True).data)

    def _csv(self, case, rows) -> HttpResponse:
        import io

        stream = io.StringIO()
        writer = csvcells.writer(stream)
        writer.writerow(COMPONENT_TABLE_COLUMNS)
        for row in serializers.ComponentTableRowSerializer(rows, many=True).data:
            values = [row[name] for name in COMPONENT_TABLE_COLUMNS]
            values[-1] = " ".join(str(pk) for pk in values[-1] or [])
            writer.writerow(["" if value is None else value for value in values])
        response = HttpResponse(stream.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition(f"{case.file_stem}-components.csv")
        return response

    @extend_schema(responses=serializers.ComponentCountsSerializer)
    @action(detail=True, methods=["get"], url_path="components/summary", url_name="components-summary")
    def components_summary(self, request, pk=None):
        """How many components the case has, by function, country and manufacturer."""
        counts = selectors.component_counts(self.get_object())
        return Response(serializers.ComponentCountsSerializer(counts).data)


class DateCodeReadingViewSet(
    VisibleQuerysetMixin, ETagMixin, IdempotentCreateMixin, mixins.CreateModelMixin, mixins.ListModelMixin,
    mixins.RetrieveModelMixin, viewsets.GenericViewSet,
):  # fmt: skip
    """Date codes read off components, every production window kept. Verified by a second person (four eyes)."""

    queryset = DateCodeReading.objects.select_related("component__item__case", "marking", "recorded_by", "verified_by")
    serializer_class = serializers.DateCodeReadingSerializer
    filterset_class = filters.DateCodeReadingFilter
    search_fields = ["raw_code", "rule", "component__part_number"]
    ordering_fields = ["created_at", "earliest", "latest"]

    def get_object(self):
        reading = super().get_object()
        audit.mark(self.request._request, reading)  # under a component: the mixin does not see it as a case's
        return reading

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        reading = component_services.record_reading(actor=self.request.user, component=data.pop("component"), **data)
        serializer.instance = self.get_queryset().get(pk=reading.pk)

    @extend_schema(request=None, responses=serializers.DateCodeReadingSerializer)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def verify(self, request, pk=None):
        """Confirm the reading: another analyst of the case, never whoever read it."""
        reading = component_services.verify_reading(actor=request.user, reading=self.get_object())
        return Response(self.get_serializer(self.get_queryset().get(pk=reading.pk)).data)

    @extend_schema(request=serializers.WithdrawalSerializer, responses=serializers.DateCodeReadingSerializer)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def withdraw(self, request, pk=None):
        return withdrawal(self, request, component_services.withdraw_reading, "reading")


class TraceRequestViewSet(
    VisibleQuerysetMixin, ETagMixin, IdempotentCreateMixin, mixins.CreateModelMixin, mixins.ListModelMixin,
    mixins.RetrieveModelMixin, viewsets.GenericViewSet,
):  # fmt: skip
    """Letters asking manufacturers, distributors and States who made or sold components, and right-of-reply
    letters. POST drafts one; then issue its letter, send it, record the answers, close it."""

    queryset = TraceRequest.objects.select_related(
        "case", "letter", "created_by", "manufacturer", "entity"
    ).prefetch_related("components", "responses__file", "responses__names_distributor", "responses__recorded_by")
    serializer_class = serializers.TraceRequestSerializer
    filterset_class = filters.TraceRequestFilter
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    search_fields = ["recipient_name", "context", "draft_finding"]
    ordering_fields = ["created_at", "due_on", "sent_on", "status"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        if data.get("deadline_days") is None:
            data.pop("deadline_days", None)
        trace = tracing_services.draft_trace_request(actor=self.request.user, case=data.pop("case"), **data)
        serializer.instance = self.get_queryset().get(pk=trace.pk)

    def _answer(self, trace, status_code=status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=trace.pk)).data, status=status_code)

    @extend_schema(
        methods=["GET"],
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)},
        description="The letter (PDF), byte for byte as issued (its SHA-256 is in the request's record).",
    )
    @extend_schema(
        methods=["POST"],
        request=None,
        responses=serializers.TraceRequestSerializer,
        description="Issue the letter: rendered to PDF and kept as a stored file, recorded in the ledger.",
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def letter(self, request, pk=None):
        trace = self.get_object()
        if request.method == "POST":
            return self._answer(tracing_services.issue_letter(actor=request.user, request=trace, render=render_letter))
        if trace.letter is None:
            raise NotFound(gettext("No letter was issued for this request yet."))
        name = f"{trace.case.file_stem}-{trace.kind}-{trace.pk}-letter.pdf"
        return file_response(request, trace, trace.letter.path, filename=name, content_type="application/pdf")

    @extend_schema(request=serializers.TraceSendSerializer, responses=serializers.TraceRequestSerializer)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def send(self, request, pk=None):
        """Record that the letter was sent, and how: the deadline runs from `sent_on`. Leads and investigators."""
        trace = self.get_object()
        body = serializers.TraceSendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(
            tracing_services.send_trace_request(actor=request.user, request=trace, **body.validated_data)
        )

    @extend_schema(
        request={"multipart/form-data": serializers.TraceResponseUploadSerializer},
        responses={201: serializers.TraceResponseSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def responses(self, request, pk=None):
        """Record an answer, with the file as received (kept write-once) and any distributor it names."""
        trace = self.get_object()
        body = serializers.TraceResponseUploadSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        uploaded = data.pop("file", None)
        try:
            answer = tracing_services.record_response(
                actor=request.user, request=trace, upload=uploaded, file_name=uploaded.name if uploaded else "", **data
            )
        except DjangoValidationError as error:
            # The service names the file "upload"; here it is the form's "file".
            if hasattr(error, "error_dict") and "upload" in error.error_dict:
                error.error_dict["file"] = error.error_dict.pop("upload")
            raise
        return Response(serializers.TraceResponseSerializer(answer).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.RightOfReplySerializer, responses={201: serializers.TraceRequestSerializer})
    @action(detail=True, methods=["post"], url_path="right-of-reply", filter_backends=[], pagination_class=None)
    def right_of_reply(self, request, pk=None):
        """Draft a right-of-reply letter following this request: the recipient may answer a draft finding."""
        trace = self.get_object()
        body = serializers.RightOfReplySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reply = tracing_services.draft_right_of_reply(actor=request.user, request=trace, **body.validated_data)
        return self._answer(reply, status.HTTP_201_CREATED)

    @extend_schema(request=serializers.WithdrawalSerializer, responses=serializers.TraceRequestSerializer)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def close(self, request, pk=None):
        """Close the request (answered enough, or given up), saying why."""
        trace = self.get_object()
        body = serializers.WithdrawalSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        closed = tracing_services.close_trace_request(
            actor=request.user, request=trace, reason=body.validated_data["reason"]
        )
        return self._answer(closed)
