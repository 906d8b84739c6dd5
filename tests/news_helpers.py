"""Helpers for the tests of the news mails: a built network of two cities with news, the
service over it, members who asked for the news, and a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from auth_helpers import add_person, browser, engine_of
from conftest import SmtpCapture, build, post, service_settings, write, write_city
from starlette.applications import Starlette

from avf.service import create_app
from avf.service.profiles import ProfileEdit, save_profile

PARIS = ZoneInfo("Europe/Paris")
# Friday 27 November 2026, noon: the day's digest slot is open (08:00–20:00, Paris).
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=PARIS)
CONSENT = datetime(2026, 11, 20, 9, 0, tzinfo=PARIS)


def news_network(content: Path) -> Path:
    """Lyon (a public post, a member-only post, an old post), Gap (a public post), and the
    network's news: one broadcast, one not."""
    write(content / "_network" / "pages" / "a-propos.md",
          '---\ntitle: "Le réseau AVF"\n---\n\nLe réseau des AVF.\n')
    write(content / "_network" / "posts" / "journee.md",
          post("Journée nationale des nouveaux arrivants", "2026-11-25",
               'broadcast: true\nsummary: "Les AVF ouvrent leurs portes."'))
    write(content / "_network" / "posts" / "interne.md",
          post("Rapport du conseil national", "2026-11-24"))
    write_city(content, "lyon", {
        "posts/pique-nique.md": post("Pique-nique au parc de la Tête d'Or", "2026-11-26",
                                     'summary: "Apportez vos spécialités !"'),
        "posts/reunion.md": post("Compte rendu de la réunion des bénévoles", "2026-11-27",
                                 'visibility: members\nsummary: "Les décisions du mois."'),
        "posts/ancien.md": post("Galette des rois 2025", "2025-01-10"),
    }, card=None)
    write_city(content, "gap", {
        "posts/rando.md": post("Randonnée au col Bayard", "2026-11-26"),
    })
    (content / "lyon" / "city.yaml").write_text(
        (content / "lyon" / "city.yaml").read_text(encoding="utf-8") + 'accent: "bordeaux"\n',
        encoding="utf-8")
    return content


@contextmanager
def news_service(tmp_path: Path, smtp: SmtpCapture | None,
                 built: bool = True) -> Iterator[Starlette]:
    """The service over the built news network, its workers stopped."""
    content = news_network(tmp_path / "content")
    if built:
        result = build(content, tmp_path / "output")
        assert not result.failed, result.failed
    app = create_app(service_settings(tmp_path, content, smtp, run_workers=False))
    with browser(app):  # the lifespan: migrations
        yield app


def reader(app: Starlette, email: str, city: str = "lyon", news: bool = True,
           frequency: str = "digest", consent: datetime = CONSENT, name: str = "",
           role: str = "member") -> int:
    """A person with `role` in `city` who asked (or not) for the news, at `consent`."""
    person_id = add_person(app, email, (role, city), name=name)
    with engine_of(app).begin() as connection:
        save_profile(connection, person_id, ProfileEdit(
            display_name=name, about="", interests="", languages="", phone="",
            in_directory=False, news_by_email=news, news_frequency=frequency), now=consent)
    return person_id
