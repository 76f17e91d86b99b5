"""The loopback TSA in tests/tsa.py issues tokens that a real RFC 3161 verifier accepts, and only those."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request

import pytest
from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from tests.tsa import LoopbackTSA, openssl_available

pytestmark = pytest.mark.skipif(not openssl_available(), reason="needs the openssl binary with `openssl ts`")

MESSAGE = b"chain of custody head"


def stamp(url: str, message: bytes = MESSAGE):
    request = TimestampRequestBuilder().data(message).hash_algorithm(HashAlgorithm.SHA256).build()
    post = urllib.request.Request(url, data=request.as_bytes(), headers={"Content-Type": "application/timestamp-query"})
    with urllib.request.urlopen(post, timeout=10) as answer:
        assert answer.headers["Content-Type"] == "application/timestamp-reply"
        return request, decode_timestamp_response(answer.read())


def verifier(root_pem):
    return VerifierBuilder().add_root_certificate(x509.load_pem_x509_certificate(root_pem.read_bytes())).build()


@pytest.fixture
def tsa(tmp_path):
    with LoopbackTSA(tmp_path / "tsa") as tsa:
        yield tsa


def test_token_verifies_against_the_ca_and_stamps_the_message_digest(tsa):
    request, token = stamp(tsa.url)

    assert verifier(tsa.ca_cert).verify_message(token, MESSAGE) is True
    assert token.tst_info.message_imprint.message == hashlib.sha256(MESSAGE).digest()
    assert token.tst_info.nonce == request.nonce
    assert token.tst_info.gen_time is not None
    assert tsa.requests == 1


def test_token_does_not_verify_other_data(tsa):
    _, token = stamp(tsa.url)

    with pytest.raises(VerificationError):
        verifier(tsa.ca_cert).verify_message(token, b"tampered")


def test_token_from_another_ca_is_not_trusted(tsa, tmp_path):
    with LoopbackTSA(tmp_path / "other") as other:
        _, token = stamp(other.url)

    with pytest.raises(VerificationError):
        verifier(tsa.ca_cert).verify_message(token, MESSAGE)


def test_anything_but_a_query_is_refused(tsa):
    wrong_type = urllib.request.Request(tsa.url, data=b"x", headers={"Content-Type": "text/plain"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(wrong_type, timeout=10)
    assert refused.value.code == 400
    assert tsa.requests == 0


def test_stopped_tsa_refuses_connections_and_down_restarts_it(tsa):
    url = tsa.url
    tsa.stop()
    with pytest.raises((urllib.error.URLError, ConnectionRefusedError)):
        stamp(url)

    tsa.start()
    with tsa.down(), pytest.raises((urllib.error.URLError, ConnectionRefusedError)):
        stamp(url)
    _, token = stamp(url)
    assert verifier(tsa.ca_cert).verify_message(token, MESSAGE)
