"""Every form of the service is read the same way: from this site only, with its token,
URL-encoded, and never more than MAX_FORM_BYTES however the body is sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from auth_helpers import browser, csrf_token
from conftest import service_settings
from starlette.testclient import TestClient

from avf.service import create_app
from avf.service.csrf import MAX_FORM_BYTES

SITE = "http://avf.test"
SIGN_IN = "/compte/connexion"


@pytest.fixture
def client(tmp_path: Path, network: Path) -> Iterator[TestClient]:
    app = create_app(service_settings(tmp_path, network, run_workers=False))
    with browser(app) as client:
        yield client


def test_a_form_with_its_token_from_this_site_is_read(client: TestClient) -> None:
    token = csrf_token(client, SIGN_IN)
    response = client.post(SIGN_IN, headers={"Origin": SITE},
                           data={"csrf_token": token, "email": "a@example.org"})
    assert response.status_code == 200


@pytest.mark.parametrize("token", ["", "0" * 64, "é" * 64])
def test_a_missing_or_wrong_token_is_refused_in_french(client: TestClient, token: str) -> None:
    csrf_token(client, SIGN_IN)
    response = client.post(SIGN_IN, headers={"Origin": SITE},
                           data={"csrf_token": token, "email": "a@example.org"})
    assert response.status_code == 403 and "Rechargez la page" in response.text


def test_a_chunked_body_is_cut_at_the_limit(client: TestClient) -> None:
    token = csrf_token(client, SIGN_IN)

    def chunks() -> Iterator[bytes]:
        yield f"csrf_token={token}&email=".encode()
        for _ in range(MAX_FORM_BYTES // 65536 + 2):
            yield b"a" * 65536

    response = client.post(SIGN_IN, content=chunks(), headers={
        "Origin": SITE, "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413


def test_files_are_not_accepted_by_these_forms(client: TestClient) -> None:
    token = csrf_token(client, SIGN_IN)
    response = client.post(SIGN_IN, headers={"Origin": SITE}, data={"csrf_token": token},
                           files={"photo": ("a.jpg", b"\xff\xd8" * 1000, "image/jpeg")})
    assert response.status_code == 400 and "depuis sa page" in response.text
