"""The worked example of docs/api.md, run as written against a live server and a real worker."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from cases.services import create_api_token
from tests import corpus, processes
from tests.factories import UserFactory

pytestmark = pytest.mark.integration
EXAMPLE = re.compile(r"```python\n(.*?)```", re.S)


def test_the_documented_integration_path_works_end_to_end(subprocess_env, log_dir, celery_worker, tmp_path):
    from django.contrib.auth.models import Permission

    blocks = EXAMPLE.findall((processes.PROJECT_DIR / "docs" / "api.md").read_text())
    assert len(blocks) == 1, "docs/api.md should hold exactly one Python example"
    script = tmp_path / "example.py"
    script.write_text(blocks[0])
    user = UserFactory(username="integrator")
    user.user_permissions.add(Permission.objects.get(codename="add_case"))
    _token, raw = create_api_token(actor=user, name="docs example")
    port = processes.free_port()
    server = processes.django_server(subprocess_env, port, log_dir)
    try:
        env = {
            "ATTEST_URL": f"http://127.0.0.1:{port}",
            "ATTEST_TOKEN": raw,
            "ATTEST_PHOTO": str(corpus.photo("Apple iPhone 4.jpg")),
            "PATH": "/usr/bin:/bin",
        }
        result = subprocess.run(
            [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=280
        )
    finally:
        server.stop()
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{server.log()[-3000:]}"
    assert "photo processed: Apple iPhone 4" in result.stdout
    assert "dossier saved, SHA-256" in result.stdout
    assert list(tmp_path.glob("PGO-*-dossier.pdf"))
