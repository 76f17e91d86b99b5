from django.db.models import OuterRef, Subquery
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cases import reference_data, services
from cases.api import filters, serializers
from cases.api.permissions import CanOpenCases, ReferenceDataEditorOrReadOnly
from cases.api.viewsets import AttestModelViewSet, VisibleQuerysetMixin
from cases.models import Case, CaseMembership, Entity, Incident, SanctionsProvision, WeaponSystem
from cases.stats import case_statistics
from core.api.viewsets import IdempotentCreateMixin, IfMatchDestroyMixin
from core.models import ApiToken


class CaseViewSet(AttestModelViewSet):
    queryset = Case.objects.select_related("lead")
    serializer_class = serializers.CaseSerializer
    permission_classes = [CanOpenCases]
    filterset_class = filters.CaseFilter
    search_fields = ["reference", "title", "summary"]
    ordering_fields = ["reference", "opened_on", "status", "updated_at"]

    def get_queryset(self):
        # legal_basis and entities are shown as ids: the serializer reads them, a page at a time.
        role = CaseMembership.objects.filter(case=OuterRef("pk"), user=self.request.user).values("role")[:1]
        return super().get_queryset().annotate(my_role=Subquery(role))

    def perform_create(self, serializer):
        case = services.create_case(actor=self.request.user, **serializer.validated_data)
        # Re-read so that the response carries my_role, like every other read.
        serializer.instance = self.get_queryset().get(pk=case.pk)

    def perform_update(self, serializer):
        case = services.update_case(actor=self.request.user, case=serializer.instance, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=case.pk)

    @extend_schema(responses=serializers.CaseStatisticsSerializer)
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def stats(self, request, pk=None):
        """Incidents by kind, outcome and region; casualties; how launches were identified."""
        return Response(case_statistics(self.get_object()))


class CaseMembershipViewSet(IfMatchDestroyMixin, AttestModelViewSet):
    queryset = CaseMembership.objects.select_related("user")
    serializer_class = serializers.CaseMembershipSerializer
    filterset_class = filters.CaseMembershipFilter
    search_fields = ["user__username", "case__reference"]
    ordering_fields = ["case", "role", "created_at"]

    def get_queryset(self):
        # A list shows the case's id only; one membership's case is read (by changes, by the access log).
        queryset = super().get_queryset()
        return queryset if self.action == "list" else queryset.select_related("case")

    def perform_create(self, serializer):
        serializer.instance = services.set_membership(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        membership = serializer.instance
        serializer.instance = services.set_membership(
            actor=self.request.user,
            case=membership.case,
            user=membership.user,
            role=serializer.validated_data.get("role", membership.role),
        )

    def perform_destroy(self, instance):
        services.remove_membership(actor=self.request.user, membership=instance)


class IncidentViewSet(AttestModelViewSet):
    queryset = Incident.objects.all()
    serializer_class = serializers.IncidentSerializer
    filterset_class = filters.IncidentFilter
    search_fields = ["place_name", "region", "description", "damage", "launch_site"]
    ordering_fields = ["occurred_at", "killed", "wounded", "region", "kind"]

    def get_queryset(self):
        # An incident shows its case, weapon system and entities as ids, so a list joins nothing (the
        # serializer reads the entities' ids a page at a time). One incident's case is read (by changes,
        # by the access log).
        queryset = super().get_queryset()
        return queryset if self.action == "list" else queryset.select_related("case")

    def perform_create(self, serializer):
        serializer.instance = services.create_incident(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.update_incident(
            actor=self.request.user, incident=serializer.instance, **serializer.validated_data
        )


class ReferenceDataViewSet(VisibleQuerysetMixin, IdempotentCreateMixin, viewsets.ModelViewSet):
    """Shared by every case: all users read it; reference data editors write it, each change recorded."""

    permission_classes = [ReferenceDataEditorOrReadOnly]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = reference_data.create_reference(
            actor=self.request.user, model=self.queryset.model, via="api", **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = reference_data.update_reference(
            actor=self.request.user, instance=serializer.instance, via="api", **serializer.validated_data
        )


class WeaponSystemViewSet(ReferenceDataViewSet):
    queryset = WeaponSystem.objects.all()
    serializer_class = serializers.WeaponSystemSerializer
    filterset_class = filters.WeaponSystemFilter
    search_fields = ["name", "aliases", "notes"]
    ordering_fields = ["name", "category"]


class SanctionsProvisionViewSet(ReferenceDataViewSet):
    queryset = SanctionsProvision.objects.select_related("regime")
    serializer_class = serializers.SanctionsProvisionSerializer
    filterset_class = filters.SanctionsProvisionFilter
    search_fields = ["instrument", "paragraph", "text"]
    ordering_fields = ["adopted_on", "instrument"]


class EntityViewSet(ReferenceDataViewSet):
    queryset = Entity.objects.all()
    serializer_class = serializers.EntitySerializer
    filterset_class = filters.EntityFilter
    search_fields = ["name", "aliases", "remarks", "list_id"]
    ordering_fields = ["name", "kind", "created_at"]


class ApiTokenViewSet(
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your API tokens. The value is returned once, by the POST that creates it; DELETE revokes it."""

    lookup_value_regex = "[0-9]+"

    queryset = ApiToken.objects.none()
    serializer_class = serializers.ApiTokenSerializer
    filterset_fields = ["revoked_at"]
    search_fields = ["name", "prefix"]
    ordering_fields = ["created_at", "expires_at", "name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        # A revoked token is deleted as far as the API goes (GET after DELETE is a 404); its row is
        # kept for the record, which the admin shows.
        return ApiToken.objects.filter(user=self.request.user, revoked_at__isnull=True)

    @extend_schema(responses={201: serializers.NewApiTokenSerializer})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        # A token-authenticated request has confirmed no TOTP code; only a verified session has.
        is_verified = getattr(self.request.user, "is_verified", None)
        verified = self.request.auth is None and bool(is_verified and is_verified())
        token, raw = services.create_api_token(
            actor=self.request.user, two_factor_verified=verified, **serializer.validated_data
        )
        token.token = raw
        serializer.instance = token

    def get_serializer_class(self):
        return serializers.NewApiTokenSerializer if self.action == "create" else super().get_serializer_class()

    def destroy(self, request, *args, **kwargs):
        services.revoke_api_token(actor=request.user, token=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
