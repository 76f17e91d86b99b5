"""Evidence files on S3-compatible object storage (django-storages), chosen by MEDIA_STORAGE=s3.

The file store (evidence/filestore.py) keeps its content addressing and write-once rule on either
backend. On an object store, write-once is a conditional PUT (`If-None-Match: *`): the store
refuses to replace an object, so even two workers racing on the same key cannot rewrite an
original. S3, MinIO and Ceph honour it; a bucket with Object Lock adds retention on top.
"""

from __future__ import annotations

from typing import BinaryIO

from botocore.exceptions import ClientError
from django.utils.deconstruct import deconstructible
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

# What an object store answers to a conditional PUT on an existing key (409: a concurrent one).
_ALREADY_THERE = {"PreconditionFailed", "ConditionalRequestConflict"}


@deconstructible
class EvidenceS3Storage(S3Storage):
    """django-storages' S3 backend, private (no ACL, signed URLs) and with a write-once save."""

    def get_default_settings(self) -> dict:
        defaults = super().get_default_settings()
        # Evidence is never public, and a name is never silently changed to dodge a clash.
        defaults.update(default_acl=None, querystring_auth=True, file_overwrite=True)
        return defaults

    def save_once(self, name: str, content: BinaryIO) -> bool:
        """Write `name` unless it exists. True if this call wrote it; False if it was already there."""
        key = self._normalize_name(clean_name(name))
        content.seek(0)
        try:
            self.bucket.Object(key).put(Body=content, IfNoneMatch="*", **self._get_write_parameters(key, content))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _ALREADY_THERE:
                return False
            raise
        return True
