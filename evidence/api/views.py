from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from config.api.pagination import LedgerCursorPagination
from config.api.viewsets import AttestModelViewSet, IdempotentCreateMixin, VisibleQuerysetMixin
from evidence import services
from evidence.api import filters, serializers
from evidence.models import CustodyEvent, EvidenceItem


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
        transfer = serializers.CustodyTransferSerializer(
            data=request.data, context=self.get_serializer_context()
        )
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

    @extend_schema(
        request=serializers.CustodyTransferSerializer, responses={201: serializers.CustodyEventSerializer}
    )
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)
