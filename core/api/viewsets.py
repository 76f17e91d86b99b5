"""Viewset mixins: idempotent POST, ETag and If-Match on every detail."""

from __future__ import annotations

import json

from django.db import IntegrityError, transaction
from rest_framework import mixins, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.api.exceptions import Conflict, PreconditionFailed
from core.api.idempotency import etag_for, parse_etags, request_fingerprint
from core.api.renderers import JSONRenderer
from core.idempotency import replay_cutoff
from core.models import IdempotencyRecord

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


class ETagMixin:
    """ETag on detail reads; If-Match on writes answers 412 when the object changed meanwhile."""

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        etag = etag_for(response.data)
        if etag in parse_etags(request.headers.get("If-None-Match", "")):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        response["ETag"] = etag
        return response

    def get_object(self):
        if getattr(self, "_lock_object", False):
            # Lock the row so that no other writer slips in between the If-Match check and the write.
            original = self.get_queryset
            self.get_queryset = lambda: original().select_for_update(of=("self",))
            try:
                return super().get_object()
            finally:
                self.get_queryset = original
        return super().get_object()

    def _check_if_match(self, request, instance) -> None:
        header = request.headers.get("If-Match")
        if not header or header.strip() == "*":
            return
        current = etag_for(self.get_serializer(instance).data)
        if current not in parse_etags(header):
            raise PreconditionFailed()


class IfMatchUpdateMixin(ETagMixin, mixins.UpdateModelMixin):
    """PUT and PATCH, honouring If-Match. Only viewsets that update mix it in, so no other route
    offers an update it cannot perform."""

    def update(self, request, *args, **kwargs):
        with transaction.atomic():
            self._lock_object = True
            instance = self.get_object()
            self._check_if_match(request, instance)
            response = super().update(request, *args, **kwargs)
        response["ETag"] = etag_for(response.data)
        return response


class IfMatchDestroyMixin(mixins.DestroyModelMixin):
    """DELETE, for the few records that may be removed (team memberships), honouring If-Match."""

    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            self._lock_object = True
            self._check_if_match(request, self.get_object())
            return super().destroy(request, *args, **kwargs)


class IdempotentCreateMixin:
    """A POST retried with the same Idempotency-Key and body returns the first response."""

    def create(self, request, *args, **kwargs):
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if not key:
            return super().create(request, *args, **kwargs)
        if len(key) > 200:
            raise ValidationError({IDEMPOTENCY_HEADER: ["At most 200 characters."]})
        fingerprint = request_fingerprint(request.method, request.path, request.data)
        # A record past its window is gone, whether or not beat has deleted it yet: the key starts anew.
        IdempotencyRecord.objects.filter(user=request.user, key=key, created_at__lt=replay_cutoff()).delete()
        existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
        if existing is not None:
            return self._replay(existing, fingerprint)
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=request.user,
                    key=key,
                    method=request.method,
                    path=request.path,
                    fingerprint=fingerprint,
                )
                response = super().create(request, *args, **kwargs)
                record.status_code = response.status_code
                record.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
                record.response_headers = {k: v for k, v in response.items() if k in ("Location", "ETag")}
                record.save(update_fields=["status_code", "response_body", "response_headers"])
                return response
        except IntegrityError:
            # A concurrent request with the same key committed first: answer as it did.
            existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
            if existing is None:
                raise
            return self._replay(existing, fingerprint)

    def _replay(self, record: IdempotencyRecord, fingerprint: str) -> Response:
        if record.fingerprint != fingerprint:
            raise Conflict(f"This {IDEMPOTENCY_HEADER} was already used with a different request; use a new key.")
        headers = {**record.response_headers, REPLAYED_HEADER: "true"}
        return Response(record.response_body, status=record.status_code, headers=headers)
