"""What the builds published, as the news see it: new public and member-only posts of each
city and the network's broadcast news, read from the build's output — only news (an old
post seen for the first time is not), each once, cheaply when nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import post, write
from news_helpers import NOW, news_service
from sqlalchemy import select
from starlette.applications import Starlette

from avf.service.publications_log import PublicationsLog
from avf.store.schema import publications


def recorded(app: Starlette) -> list[tuple[str, str, str, str]]:
    with app.state.runtime.engine.connect() as connection:
        return sorted(tuple(row) for row in connection.execute(  # type: ignore[misc]
            select(publications.c.city, publications.c.url, publications.c.visibility,
                   publications.c.title)))


def test_a_scan_records_new_publications_once_and_no_old_post(tmp_path: Path) -> None:
    with news_service(tmp_path, None) as app:
        log = PublicationsLog(app.state.runtime.engine, tmp_path / "output",
                              tmp_path / "content")
        assert log.scan(NOW) == 4
        assert recorded(app) == [
            ("_network", "/actualites/journee.html", "public",
             "Journée nationale des nouveaux arrivants"),
            ("gap", "/gap/actualites/rando.html", "public", "Randonnée au col Bayard"),
            ("lyon", "/lyon/actualites/pique-nique.html", "public",
             "Pique-nique au parc de la Tête d'Or"),
            ("lyon", "/membres/lyon/actualites/reunion.html", "members",
             "Compte rendu de la réunion des bénévoles"),
        ]  # not « Galette des rois 2025 » (old), nor the network post not broadcast
        assert log.scan(NOW + timedelta(hours=1)) == 0  # nothing changed: nothing read
        # Another process (a second scanner) finds the rows already there.
        other = PublicationsLog(app.state.runtime.engine, tmp_path / "output",
                                tmp_path / "content")
        assert other.scan(NOW + timedelta(hours=1)) == 0


def test_a_first_scan_a_month_later_mails_nothing_old(tmp_path: Path) -> None:
    with news_service(tmp_path, None) as app:
        log = PublicationsLog(app.state.runtime.engine, tmp_path / "output",
                              tmp_path / "content")
        assert log.scan(NOW + timedelta(days=30)) == 0
        assert recorded(app) == []


def test_the_build_queue_records_what_it_published(tmp_path: Path) -> None:
    with news_service(tmp_path, None, built=False) as app:
        today = datetime.now(UTC).date().isoformat()
        write(tmp_path / "content" / "lyon" / "posts" / "fete.md",
              post("Fête de quartier", today))
        builds = app.state.runtime.builds
        builds.request(["lyon"], "test")
        assert builds.run_due()
        titles = [title for _, _, _, title in recorded(app)]
        assert "Fête de quartier" in titles
        assert "Galette des rois 2025" not in titles
