from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from config.api.pagination import LedgerCursorPagination
from config.api.viewsets import AttestModelViewSet, ETagMixin, IdempotentCreateMixin, VisibleQuerysetMixin
from evidence import filestore, services
from evidence.api import filters, serializers
from evidence.choices import PhotoStatus
from evidence.downloads import file_response
from evidence.models import CustodyEvent, EvidenceItem, Photo


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
        accepted = self.perform_upload(request)
        photo = self.get_queryset().get(pk=accepted.photo.pk)
        body = self.get_serializer(photo).data
        if accepted.duplicate:
            return Response(body, status=status.HTTP_200_OK, headers={"Duplicate-Of": str(photo.pk)})
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["url"]})


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
        pairs = services.near_duplicates(photo=self.get_object(), viewer=request.user)
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
        return file_response(photo.original.path, filename=name, content_type="application/octet-stream")

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
            from rest_framework.exceptions import NotFound

            raise NotFound(f"The {kind} is not ready: the photo is {photo.status}.")
        name = f"{photo.item.exhibit_number}-{photo.original.sha256[:12]}-{kind}.jpg"
        return file_response(photo.derivative_path(kind), filename=name, content_type="image/jpeg")
