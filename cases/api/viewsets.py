"""The API's base viewsets: case visibility on top of the shared mixins (core.api.viewsets)."""

from __future__ import annotations

from rest_framework import mixins, viewsets

from cases.audit import is_id, mark, named_cases, probed_case
from cases.models import Case
from core.api.filters import RelatedIdFilter
from core.api.viewsets import ETagMixin, IdempotentCreateMixin, IfMatchUpdateMixin


class VisibleQuerysetMixin:
    """Every queryset goes through the model's visible_to(user): outsiders get 404, never 403."""

    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        queryset = super().get_queryset()
        if hasattr(queryset, "visible_to"):
            queryset = queryset.visible_to(self.request.user)
        return queryset

    def get_object(self):
        obj = super().get_object()
        if hasattr(obj, "case") or obj._meta.model_name == "case" or hasattr(obj, "item"):
            mark(self.request._request, obj)  # the access log records who saw it
        return obj

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if getattr(self, "action", None) != "list":
            return response
        model = self.queryset.model
        if hasattr(model._default_manager.get_queryset(), "visible_to"):
            case_id = self._listed_case_id(request, response)
            probed = probed_case(request, named_cases(request._request)) if case_id is None else None
            request._request.audit_list = (model, case_id, probed)
        return response

    def _listed_case_id(self, request, response) -> int | None:
        """The case a list was filtered to, for the access log; None unless the user can see it.

        A page with rows answers without a query: its rows are visible ones of that case (a `case`
        filter keeps only the case's rows), so the case is visible too.
        """
        case_id = request.query_params.get("case", "")
        if not is_id(case_id):
            return None
        case_filter = getattr(getattr(self, "filterset_class", None), "base_filters", {}).get("case")
        data = response.data
        rows = data.get("results") if isinstance(data, dict) else data
        if isinstance(case_filter, RelatedIdFilter) and response.status_code == 200 and rows:
            return int(case_id)
        return Case.objects.visible_to(request.user).filter(pk=case_id).values_list("pk", flat=True).first()


class AttestReadOnlyViewSet(VisibleQuerysetMixin, ETagMixin, viewsets.ReadOnlyModelViewSet):
    pass


class AttestModelViewSet(
    VisibleQuerysetMixin,
    IfMatchUpdateMixin,
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Create, read and update; no delete, since records of a case are corrected, never erased."""
