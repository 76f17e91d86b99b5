"""A real RFC 3161 Time-Stamp Authority on loopback, for tests.

Tests of trusted timestamps run against a real TSA, not a mock: a mock answers whatever the test
expects, so it cannot catch a token that a real verifier would refuse (wrong chain, missing critical
EKU, imprint of the wrong bytes, unknown CA). LoopbackTSA makes a throwaway CA and a TSA certificate
with `openssl`, and answers time-stamp queries over HTTP on 127.0.0.1 with `openssl ts -reply`.

    with LoopbackTSA(tmp_path) as tsa:
        reply = post(tsa.url, query)  # verify against tsa.ca_cert as the trusted root
        tsa.stop()                    # the port now refuses connections: "TSA down"

A second LoopbackTSA in another folder has a CA of its own, so its tokens are untrusted by the first.
"""

from __future__ import annotations

import contextlib
import shutil
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
MAX_QUERY = 64 * 1024

CONFIG = """\
[ tsa ]
default_tsa = tsa_config

[ tsa_config ]
dir = {folder}
serial = $dir/tsaserial
signer_cert = $dir/tsa.pem
certs = $dir/ca.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256

[ req ]
distinguished_name = req_dn
prompt = no

[ req_dn ]

[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ tsa_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""


def openssl_available() -> bool:
    """True if an `openssl` binary with the `ts` command is on this machine."""
    try:
        subprocess.run([OPENSSL, "ts", "-help"], check=True, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def _openssl(*args: str | Path) -> None:
    subprocess.run([OPENSSL, *map(str, args)], check=True, capture_output=True, timeout=60)


class LoopbackTSA:
    """A throwaway CA, a TSA certificate it signed, and an HTTP time-stamp responder on 127.0.0.1."""

    def __init__(self, folder: Path, *, name: str = "Attest Test TSA"):
        self.folder = Path(folder)
        self.name = name
        self.ca_cert = self.folder / "ca.pem"
        self.tsa_cert = self.folder / "tsa.pem"
        self.config = self.folder / "tsa.cnf"
        self.requests = 0
        self.url = ""
        self._port = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- PKI ---

    def _make_pki(self) -> None:
        if self.tsa_cert.exists():
            return
        folder = self.folder
        folder.mkdir(parents=True, exist_ok=True)
        self.config.write_text(CONFIG.format(folder=folder.resolve()))
        (folder / "tsaserial").write_text("01\n")
        ca_key, tsa_key, tsa_csr = folder / "ca.key", folder / "tsa.key", folder / "tsa.csr"
        # OpenSSL writes the token's certificate SET in insertion order (signer, then `certs`), which
        # strict DER parsers such as rfc3161-client refuse unless that is also the DER order, here
        # shortest first: an RSA CA and an EC TSA make the CA certificate ~200 bytes the longer.
        _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", ca_key)
        _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", tsa_key)
        _openssl(
            "req", "-new", "-x509", "-key", ca_key, "-out", self.ca_cert, "-days", "3650", "-sha256",
            "-subj", f"/CN={self.name} Root CA", "-config", self.config, "-extensions", "ca_ext",
        )  # fmt: skip
        _openssl("req", "-new", "-key", tsa_key, "-out", tsa_csr, "-subj", f"/CN={self.name}", "-config", self.config)
        _openssl(
            "x509", "-req", "-in", tsa_csr, "-CA", self.ca_cert, "-CAkey", ca_key, "-set_serial", "2",
            "-days", "3650", "-sha256", "-extfile", self.config, "-extensions", "tsa_ext", "-out", self.tsa_cert,
        )  # fmt: skip
        signer, chain = (ssl.PEM_cert_to_DER_cert(path.read_text()) for path in (self.tsa_cert, self.ca_cert))
        if signer > chain:
            raise RuntimeError("the TSA certificate must sort before the CA's in DER, or tokens are not DER")

    def reply(self, query: bytes) -> bytes:
        """The DER time-stamp response to a DER query (raises CalledProcessError if openssl refuses it)."""
        with self._lock, tempfile.TemporaryDirectory(dir=self.folder) as scratch:
            query_file, reply_file = Path(scratch) / "query.tsq", Path(scratch) / "reply.tsr"
            query_file.write_bytes(query)
            _openssl("ts", "-reply", "-config", self.config, "-queryfile", query_file, "-out", reply_file)
            self.requests += 1
            return reply_file.read_bytes()

    # --- server ---

    def start(self) -> LoopbackTSA:
        """Make the PKI (once) and serve; after stop(), start() serves again on the same port."""
        if self._server is not None:
            return self
        self._make_pki()
        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), _handler(self))
        self._port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self._port}/"
        self._thread = threading.Thread(target=self._server.serve_forever, name="loopback-tsa", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket: connections to `url` are refused ("TSA down")."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        """The TSA is unreachable inside the block, and serves again on the same url after it."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def __enter__(self) -> LoopbackTSA:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _handler(tsa: LoopbackTSA) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
            length = int(self.headers.get("Content-Length") or 0)
            if content_type != QUERY_TYPE or not 0 < length <= MAX_QUERY:
                return self._answer(400, b"expected an application/timestamp-query body")
            try:
                body = tsa.reply(self.rfile.read(length))
            except subprocess.CalledProcessError:
                return self._answer(400, b"openssl refused the query")
            return self._answer(200, body, REPLY_TYPE)

        def do_GET(self):
            self._answer(400, b"POST an application/timestamp-query")

        def _answer(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            pass

    return Handler
