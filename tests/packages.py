"""What a dossier prints for a stranger to verify its package with: the anchors of verify.py."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key


def key_fingerprint() -> str:
    """The full SHA-256 of the signing key's 32 raw bytes (--key-fingerprint)."""
    from evidence import custody

    raw = load_pem_public_key(custody.public_key_pem()).public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def anchors(case) -> list[str]:
    """verify.py's arguments for the case's newest package: its sealed head and the key's fingerprint."""
    from evidence.models import Export

    checkpoint = Export.objects.filter(case=case, kind="package", status="done").latest("pk").checkpoint
    return ["--head", f"{checkpoint.size}:{checkpoint.head_hash}", "--key-fingerprint", key_fingerprint()]
