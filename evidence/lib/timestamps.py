"""RFC 3161 trusted timestamps of checkpoints: the request and the checks on a reply. Pure: no Django,
no network (evidence/timestamps.py does the posting and the storing).

A token's message imprint is the SHA-256 of the checkpoint's signed message (docs/custody-format.md,
section 8a), so it binds the case, the size, the head, the claimed signing time and the key. The
ASN.1 is rfc3161-client's (the client sigstore uses), never ours.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from evidence.lib import ledger

# A token's time must lie within this of the time its checkpoint claims: a token obtained later
# would vouch for a time it never saw. Attest asks right after signing; retries sign anew.
WINDOW = timedelta(minutes=5)
# A reply is a few kilobytes; anything far larger is not one.
MAX_REPLY_BYTES = 256 * 1024


class TimestampRefused(ValueError):
    """The TSA's reply cannot be kept as a token of this checkpoint; the text says why."""


@dataclass(frozen=True)
class Token:
    reply: bytes
    sha256: str
    gen_time: datetime
    tsa_name: str


def checkpoint_message(signed: Mapping[str, Any]) -> bytes:
    """The bytes a checkpoint's signature and its timestamps cover (the signature itself excluded)."""
    return ledger.checkpoint_message(**{name: signed[name] for name in ledger.CHECKPOINT_FIELDS[1:]})


def checkpoint_digest(signed: Mapping[str, Any]) -> bytes:
    """A token's message imprint: SHA-256 of the checkpoint's signed message."""
    return hashlib.sha256(checkpoint_message(signed)).digest()


def build_request(signed: Mapping[str, Any]):
    """A SHA-256 timestamp request with a nonce, asking for the TSA's certificates in the reply."""
    from rfc3161_client import HashAlgorithm, TimestampRequestBuilder

    return (
        TimestampRequestBuilder()
        .data(checkpoint_message(signed))
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )


def signer_name(reply) -> str:
    """The TSA as its signing certificate names itself (the subject's common name, else the subject)."""
    import cryptography.x509
    from cryptography.x509.oid import NameOID

    signer = next(iter(reply.signed_data.signer_infos))
    for der in reply.signed_data.certificates:
        cert = cryptography.x509.load_der_x509_certificate(der)
        if cert.issuer == signer.issuer and cert.serial_number == signer.serial_number:
            names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            return str(names[0].value) if names else cert.subject.rfc4514_string()
    return signer.issuer.rfc4514_string()


def accept_reply(body: bytes, *, request, signed: Mapping[str, Any]) -> Token:
    """Check a TSA's reply to `request` for the checkpoint `signed`; the token to keep, or TimestampRefused.

    Whether the TSA is to be trusted is the reader's judgement (verify.py --tsa-cert); here the reply
    must be granted, answer this request (nonce), cover this checkpoint, carry its signer's
    certificate and lie within WINDOW of the checkpoint's claimed time."""
    from rfc3161_client import PKIStatus, decode_timestamp_response

    if len(body) > MAX_REPLY_BYTES:
        raise TimestampRefused(f"the reply is larger than {MAX_REPLY_BYTES} bytes")
    try:
        reply = decode_timestamp_response(body)
    except ValueError:
        raise TimestampRefused("the reply is not an RFC 3161 timestamp response") from None
    if reply.status != PKIStatus.GRANTED:  # verifiers accept nothing else
        raise TimestampRefused(f"the TSA did not grant the request (status {reply.status})")
    info = reply.tst_info
    if info.nonce != request.nonce:
        raise TimestampRefused("the reply answers another request (nonce)")
    if info.message_imprint.message != checkpoint_digest(signed):
        raise TimestampRefused("the reply covers other data than the checkpoint")
    if not reply.signed_data.certificates:
        raise TimestampRefused("the reply carries no certificate")
    problem = time_problem(info.gen_time, signed["signed_at"])
    if problem:
        raise TimestampRefused(problem)
    return Token(
        reply=body,
        sha256=hashlib.sha256(body).hexdigest(),
        gen_time=aware(info.gen_time),
        tsa_name=signer_name(reply),
    )


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def time_problem(gen_time: datetime, signed_at: str) -> str | None:
    """None when the token's time lies within WINDOW of the checkpoint's claimed time."""
    claimed = datetime.strptime(signed_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    gen_time = aware(gen_time)
    if gen_time > claimed + WINDOW:
        return f"the token's time {gen_time:%Y-%m-%dT%H:%M:%SZ} is after the checkpoint's claimed {signed_at}"
    if gen_time < claimed - WINDOW:
        return f"the token's time {gen_time:%Y-%m-%dT%H:%M:%SZ} is before the checkpoint's claimed {signed_at}"
    return None
