"""The webmaster's dashboard over HTTP, on a really built network: who may see it, what
it shows for each city, and its rebuild buttons going through the real build queue."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
from auth_helpers import add_person, browser, csrf_token, engine_of, sign_in
from conftest import SmtpCapture, build, post, service_settings, write, write_city
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from avf.service import create_app
from avf.service.templating import seconds_fr
from avf.store.schema import build_jobs

SITE = "http://avf.test"


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path]:
    content = tmp_path / "content"
    write(content / "_network" / "pages" / "a-propos.md",
          '---\ntitle: "Le réseau AVF"\n---\n\nLe réseau des AVF.\n')
    recent = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    write_city(content, "lyon", {
        "posts/recent.md": post("Café d'accueil", date=recent),
        "posts/reserve.md": post("Bureau", date=recent, extra="visibility: members"),
    })
    write_city(content, "rennes", {"posts/2026-10-01-b.md": post("B", date="2026-02-30")})
    write_city(content, "gap")
    build(content, tmp_path / "output")
    return content, tmp_path / "output"


@pytest.fixture
def app(tmp_path: Path, built: tuple[Path, Path], smtp_server: SmtpCapture,
        ) -> Iterator[Starlette]:
    content, output = built
    settings = service_settings(tmp_path, content, smtp_server, run_workers=False)
    application = create_app(replace(settings, output_dir=output))
    with browser(application):
        add_person(application, "web@example.org", ("webmaster", ""))
        add_person(application, "responsable@example.org", ("admin", "lyon"))
        add_person(application, "adherente@example.org", ("member", "lyon"))
        yield application


def webmaster(app: Starlette) -> TestClient:
    client = browser(app)
    sign_in(client, app, "web@example.org")
    return client


def origin() -> dict[str, str]:
    return {"Origin": SITE}


def test_only_the_webmaster_sees_it(app: Starlette) -> None:
    anonymous = browser(app)
    response = anonymous.get("/admin/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/compte/connexion?suivant=/admin/"
    for email in ("responsable@example.org", "adherente@example.org"):
        client = browser(app)
        sign_in(client, app, email)
        assert client.get("/admin/").status_code == 403
        assert client.get("/admin/villes/lyon").status_code == 403
        token = csrf_token(client, "/compte/")
        refused = client.post("/admin/villes/lyon/reconstruire", headers=origin(),
                              data={"csrf_token": token})
        assert refused.status_code == 403
    assert jobs(app) == []


def test_the_overview_shows_every_city_and_the_figures(app: Starlette) -> None:
    page = webmaster(app).get("/admin/")
    assert page.status_code == 200
    text = squash(page.text)
    assert "Villes en ligne 2 sur 3" in text  # rennes failed and was never online
    assert "Villes en échec 1" in text
    assert "Publications publiques 1" in text
    assert "Publications réservées aux adhérents 1" in text
    assert "Adhérents et bénévoles inscrits 2" in text
    rows = re.findall(r'<th scope="row"><a href="/admin/villes/([a-z-]+)">', page.text)
    assert rows == ["rennes", "gap", "lyon"]  # failing first, then dormant, then the rest
    assert text.count("rien depuis 60 jours") == 2  # gap and rennes, not lyon
    assert "✗ en échec" in text and "✓ en ligne" in text
    failing = webmaster(app).get("/admin/?filtre=echec").text
    assert re.findall(r'href="/admin/villes/([a-z-]+)">', failing) == ["rennes"]


def test_a_city_page_names_the_file_and_line_to_fix(app: Starlette) -> None:
    page = webmaster(app).get("/admin/villes/rennes")
    assert page.status_code == 200
    text = squash(page.text)
    assert "<h1>AVF Rennes</h1>" in page.text  # never built: its name from its card
    assert "content/rennes/posts/2026-10-01-b.md, ligne 3" in text
    assert "n'existe pas" in text
    assert webmaster(app).get("/admin/villes/paris").status_code == 404


def test_the_rebuild_button_queues_and_the_queue_builds(app: Starlette,
                                                        built: tuple[Path, Path]) -> None:
    content, output = built
    client = webmaster(app)
    token = csrf_token(client, "/admin/")
    assert client.post("/admin/villes/lyon/reconstruire", headers=origin(),
                       data={}).status_code == 403  # no CSRF token
    assert client.post("/admin/villes/lyon/reconstruire", headers={"Origin": "http://x.test"},
                       data={"csrf_token": token}).status_code == 403
    assert jobs(app) == []
    response = client.post("/admin/villes/lyon/reconstruire", headers=origin(),
                           data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/admin/villes/lyon"
    [job] = jobs(app)
    assert (job["city"], job["status"], job["requested_by"]) == ("lyon", "queued",
                                                                 "web@example.org")
    assert job["force"]  # the button rebuilds even a city that is up to date
    assert "⏳ construction en attente" in client.get("/admin/villes/lyon").text

    write(content / "lyon" / "posts" / "nouveau.md",
          post("Nouvelle sortie", date=datetime.now(UTC).date().isoformat()))
    app.state.runtime.builds.run_due(datetime.now(UTC) + timedelta(seconds=5))
    [job] = jobs(app)
    assert job["status"] == "done"
    assert "Nouvelle sortie" in (output / "public" / "lyon" / "index.html").read_text()
    page = client.get("/admin/villes/lyon").text
    assert "réussie" in page and f'href="/admin/constructions/{job["id"]}"' in page
    log = client.get(f"/admin/constructions/{job['id']}")
    assert log.status_code == 200 and "lyon" in log.text
    assert client.get("/admin/constructions/999").status_code == 404


def test_the_whole_network_can_be_rebuilt(app: Starlette) -> None:
    client = webmaster(app)
    token = csrf_token(client, "/admin/")
    response = client.post("/admin/reconstruire", headers=origin(),
                           data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert [(job["city"], job["status"]) for job in jobs(app)] == [("*", "queued")]


def jobs(app: Starlette) -> list[dict[str, object]]:
    with engine_of(app).connect() as connection:
        return [dict(row) for row in connection.execute(
            select(build_jobs).where(build_jobs.c.kind == "build")
            .order_by(build_jobs.c.id)).mappings()]


def squash(html: str) -> str:
    """The page's text with tags removed and spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.mark.parametrize(("seconds", "shown"), [
    (0.034, "0,03 s"), (None, "0,00 s"), (2.46, "2,5 s"), (125.0, "2 min 05 s")])
def test_durations_are_written_in_french(seconds: float | None, shown: str) -> None:
    assert seconds_fr(seconds) == shown
