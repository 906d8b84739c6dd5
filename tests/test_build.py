"""The network build on a scratch network: layout, visibility split, links, failures."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from avf.cli import main
from tests.conftest import FIXED_NOW, TEST_SITE_URL, build, post, write, write_city

SECRET = "Le code de la porte est 4512B"
DRAFT = "Brouillon jamais publié 7781"
REVIEW = "En relecture 9932"


def every_file(folder: Path) -> list[Path]:
    """Every file below `folder`, following the release links as a web server does."""
    found = []
    for root, _dirs, files in os.walk(folder, followlinks=True):
        found += [Path(root) / name for name in files]
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    content = tmp_path_factory.mktemp("network") / "content"
    write(content / "_network" / "posts" / "2026-11-01-journee.md",
          post("Journée nationale des nouveaux arrivants", extra="broadcast: true"))
    write(content / "_network" / "pages" / "a-propos.md",
          '---\ntitle: "Le réseau AVF"\n---\n\nTrois cents associations.\n')
    media = write_city(content, "lyon", {
        "posts/2026-10-01-cafe-accueil.md": post(
            "Café d'accueil", extra="tags: [café, accueil]\nimage: ../media/cafe.jpg",
            body="Venez ! [Adhérer](../pages/adherer.md#tarifs), "
                 "[la sortie](2026-12-05-sortie.md) et ![Tasses](../media/cafe.jpg)"),
        "posts/2026-12-05-sortie.md": post("Sortie au musée", extra="""
            event:
              start: 2026-12-05 14:00
              end: 2026-12-05 17:00
              place: Musée des Confluences
        """),
        "posts/2026-11-02-conseil.md": post("Compte rendu du conseil",
                                            extra="visibility: members\ntags: [secret-tag]",
                                            body=SECRET),
        "posts/2026-11-03-brouillon.md": post("Brouillon", extra="status: draft", body=DRAFT),
        "posts/2026-11-04-relire.md": post("À relire", extra="status: review", body=REVIEW),
        "pages/adherer.md": '---\ntitle: "Adhérer"\norder: 1\n---\n\n## Tarifs\n\n20 €.\n',
        "pages/trombi.md": '---\ntitle: "Trombinoscope interne"\nvisibility: members\n---\n\n'
                             + SECRET + " (page)\n",
    }) / "media"
    media.mkdir()
    (media / "cafe.jpg").write_bytes(b"\xff\xd8\xff\xe0fake-jpeg")
    write_city(content, "dinan", {"posts/2026-09-01-rentree.md": post("Rentrée à Dinan")})
    write_city(content, "gap")  # a brand-new AVF with nothing yet
    output = content.parent / "output"
    result = build(content, output)
    return content, output, result


def test_every_city_gets_home_posts_pages_feed_and_agenda(built) -> None:
    _content, output, result = built
    assert result.ok, result.failed
    public = output / "public"
    for slug in ("lyon", "dinan", "gap"):
        assert (public / slug / "index.html").is_file()
        assert (public / slug / "atom.xml").is_file()
        assert (public / slug / "agenda.ics").is_file()
    assert (public / "lyon" / "actualites" / "cafe-accueil.html").is_file()
    assert (public / "lyon" / "adherer" / "index.html").is_file()
    assert (public / "lyon" / "media" / "cafe.jpg").is_file()
    assert "Bienvenue à AVF Gap" in (public / "gap" / "index.html").read_text()  # brand-new


def test_portal_lists_every_city_with_links_that_resolve(built) -> None:
    _content, output, _result = built
    portal = (output / "public" / "index.html").read_text()
    for slug, name in (("lyon", "AVF Lyon"), ("dinan", "AVF Dinan"), ("gap", "AVF Gap")):
        assert f'<a href="{TEST_SITE_URL}/{slug}/">{name}</a>' in portal
        assert (output / "public" / slug / "index.html").is_file()
    assert (output / "public" / "reseau" / "a-propos" / "index.html").is_file()


def test_relative_links_resolve_to_built_urls(built) -> None:
    _content, output, _result = built
    page = (output / "public" / "lyon" / "actualites" / "cafe-accueil.html").read_text()
    assert f'href="{TEST_SITE_URL}/lyon/adherer/#tarifs"' in page
    assert f'href="{TEST_SITE_URL}/lyon/actualites/sortie.html"' in page
    assert f'src="{TEST_SITE_URL}/lyon/media/cafe.jpg"' in page
    assert ".md" not in page


def test_member_only_text_is_only_in_the_members_output(built) -> None:
    _content, output, _result = built
    members = [path for path in every_file(output / "members")
               if SECRET in path.read_text(errors="replace")]
    assert {path.relative_to(output / "members").as_posix() for path in members} == {
        "lyon/actualites/conseil.html", "lyon/trombi/index.html",
    }
    for path in every_file(output / "public"):
        text = path.read_text(errors="replace")
        assert SECRET not in text, path
        assert "Compte rendu du conseil" not in text, path
        assert "secret-tag" not in text, path
        assert "Trombinoscope interne" not in text, path
    index = (output / "members" / "lyon" / "index.html").read_text()
    assert "Compte rendu du conseil" in index and "Trombinoscope interne" in index


def test_public_home_hints_at_member_posts_without_their_titles(built) -> None:
    _content, output, _result = built
    home = (output / "public" / "lyon" / "index.html").read_text()
    assert "1 publication réservée aux adhérents" in home


def test_drafts_and_posts_in_review_are_published_nowhere(built) -> None:
    _content, output, _result = built
    for path in every_file(output / "public") + every_file(output / "members"):
        text = path.read_text(errors="replace")
        assert DRAFT not in text and REVIEW not in text, path


def test_network_news_reach_city_homes(built) -> None:
    _content, output, _result = built
    home = (output / "public" / "dinan" / "index.html").read_text()
    assert "Journée nationale des nouveaux arrivants" in home
    assert f"{TEST_SITE_URL}/actualites/journee.html" in home


def test_no_email_address_on_any_public_page(built) -> None:
    _content, output, _result = built
    for path in every_file(output / "public"):
        if path.suffix in {".html", ".xml", ".ics"}:
            assert "@avf-" not in path.read_text(), path


def test_agenda_is_valid_icalendar(built) -> None:
    _content, output, _result = built
    ics = (output / "public" / "lyon" / "agenda.ics").read_bytes().decode()
    assert ics.startswith("BEGIN:VCALENDAR\r\n") and ics.endswith("END:VCALENDAR\r\n")
    assert "DTSTART:20261205T130000Z\r\n" in ics  # 14:00 in Paris, in winter
    assert "LOCATION:Musée des Confluences" in ics
    assert all(len(line.encode()) <= 75 for line in ics.split("\r\n"))
    agenda = (output / "public" / "lyon" / "agenda" / "index.html").read_text()
    # Times never wrap inside (« 14 h » holds a no-break space).
    assert "samedi 5 décembre 2026, de 14\u00a0h à 17\u00a0h" in agenda


def test_each_public_event_has_its_own_calendar_file(built) -> None:
    _content, output, _result = built
    city = output / "public" / "lyon"
    single = (city / "actualites" / "sortie.ics").read_bytes().decode()
    assert single.startswith("BEGIN:VCALENDAR\r\n") and single.endswith("END:VCALENDAR\r\n")
    lines = single.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in lines)
    assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VEVENT") == 1
    whole = (city / "agenda.ics").read_bytes().decode()
    uid = next(line for line in lines if line.startswith("UID:"))
    assert uid == "UID:sortie@lyon.avf" and f"\r\n{uid}\r\n" in whole
    vevent = single[single.index("BEGIN:VEVENT"):single.index("END:VEVENT")]
    assert vevent in whole  # the very same VEVENT as in the city's agenda
    page = (city / "actualites" / "sortie.html").read_text()
    assert f'href="{TEST_SITE_URL}/lyon/actualites/sortie.ics">Ajouter à mon agenda' in page
    assert not (city / "actualites" / "cafe-accueil.ics").exists()  # not an event


def test_a_member_only_event_gets_no_public_calendar_file(network: Path) -> None:
    write_city(network, "lyon", {"posts/2026-12-10-atelier.md": post(
        "Atelier réservé", extra="""
        visibility: members
        event:
          start: 2026-12-10 18:00
    """)})
    output = network.parent / "output"
    assert build(network, output).ok
    public = [p.relative_to(output).as_posix() for p in every_file(output / "public")]
    assert not [p for p in public if p.endswith("atelier.ics")]
    assert "atelier" not in (output / "public" / "lyon" / "agenda.ics").read_text()
    page = (output / "members" / "lyon" / "actualites" / "atelier.html").read_text()
    assert "Ajouter à mon agenda" not in page


def test_report_per_city(built) -> None:
    _content, output, _result = built
    report = json.loads((output / "build-report.json").read_text())
    assert set(report["cities"]) == {"lyon", "dinan", "gap"}
    lyon = report["cities"]["lyon"]
    assert lyon["status"] == "ok" and lyon["pages"] > 5 and lyon["errors"] == []
    assert report["portal"]["status"] == "ok"
    # Published posts only (drafts and posts in review do not count), by visibility.
    assert lyon["publications"] == {"public": 2, "members": 1}
    assert lyon["last_published"] == "2026-10-01"  # the post dates, not the event dates
    assert lyon["built_at"] == lyon["online_since"] and lyon["name"] == "AVF Lyon"
    assert report["cities"]["gap"]["publications"] == {"public": 0, "members": 0}
    assert report["cities"]["gap"]["last_published"] is None


def test_one_broken_city_fails_alone(network: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_city(network, "lyon", {"posts/2026-10-01-a.md": post("A")})
    write_city(network, "rennes", {"posts/2026-10-01-b.md": post("B", date="2026-02-30")})
    write_city(network, "dinan", {"posts/2026-10-01-c.md": post("C")})
    output = network.parent / "output"
    status = main(["build", "--content", str(network), "--output", str(output),
                   "--site-url", TEST_SITE_URL, "--now", FIXED_NOW, "--jobs", "2"])
    assert status == 1
    report = json.loads((output / "build-report.json").read_text())
    assert report["cities"]["rennes"]["status"] == "failed"
    error = report["cities"]["rennes"]["errors"][0]
    assert error["file"] == "content/rennes/posts/2026-10-01-b.md" and error["line"] == 3
    assert "n'existe pas" in error["message"]
    for slug in ("lyon", "dinan"):
        assert report["cities"][slug]["status"] == "ok"
        assert (output / "public" / slug / "actualites").is_dir()
    assert not (output / "public" / "rennes").exists()
    portal = (output / "public" / "index.html").read_text()
    assert "AVF Lyon" in portal and "AVF Rennes" not in portal  # no link to a missing site
    err = capsys.readouterr().err
    assert "content/rennes/posts/2026-10-01-b.md, ligne 3" in err
    assert "2 ville(s) construite(s) sur 3" in err


def test_a_failed_rebuild_keeps_the_previous_version_online(network: Path) -> None:
    folder = write_city(network, "lyon", {"posts/2026-10-01-a.md": post("Première version")})
    output = network.parent / "output"
    assert build(network, output).ok
    online = (output / "public" / "lyon").resolve()
    write(folder / "posts" / "2026-10-01-a.md", post("Seconde", extra="statut: oui"))
    assert not build(network, output).ok
    assert (output / "public" / "lyon").resolve() == online
    assert "Première version" in (output / "public" / "lyon" / "index.html").read_text()
    lyon = json.loads((output / "build-report.json").read_text())["cities"]["lyon"]
    assert lyon["status"] == "failed"  # and what is online is still described:
    assert lyon["name"] == "AVF Lyon"
    assert lyon["publications"] == {"public": 1, "members": 0}
    assert lyon["last_published"] == "2026-10-01" and lyon["online_since"] <= lyon["built_at"]


def test_unknown_city_is_a_usage_error(network: Path) -> None:
    write_city(network, "lyon")
    assert main(["build", "--content", str(network), "--output",
                 str(network.parent / "o"), "--city", "paris"]) == 2


def test_check_reports_problems_with_exit_code(network: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    write_city(network, "lyon", {"posts/2026-10-01-a.md": post("A", extra="statut: draft")})
    assert main(["check", "--content", str(network)]) == 1
    out = capsys.readouterr().out
    assert "content/lyon/posts/2026-10-01-a.md, ligne 4 : l'information « statut » n'existe " \
           "pas ; vouliez-vous dire « status » ?" in out
    write(network / "lyon" / "posts" / "2026-10-01-a.md", post("A"))
    assert main(["check", "--content", str(network)]) == 0


def test_a_wrong_content_folder_never_takes_sites_offline(network: Path) -> None:
    for slug in ("lyon", "rennes"):
        write_city(network, slug, {"posts/2026-10-01-a.md": post("A")})
    output = network.parent / "output"
    assert build(network, output).ok
    build(network / "lyon", output)  # a typo: one city's folder given as the content root
    assert (output / "public" / "lyon" / "index.html").is_file()
    assert (output / "public" / "rennes" / "index.html").is_file()


def test_a_city_removed_from_the_content_goes_offline(network: Path) -> None:
    import shutil

    for slug in ("lyon", "rennes"):
        write_city(network, slug, {"posts/2026-10-01-a.md": post("A")})
    output = network.parent / "output"
    build(network, output)
    shutil.rmtree(network / "rennes")
    build(network, output)
    assert not (output / "public" / "rennes").exists()
    assert "AVF Rennes" not in (output / "public" / "index.html").read_text()


def test_a_city_with_a_broken_card_stays_in_the_directory(network: Path) -> None:
    folder = write_city(network, "beta", {"posts/2026-10-01-a.md": post("A")})
    output = network.parent / "output"
    build(network, output)
    card = (folder / "city.yaml").read_text().replace("lat: 45.76", "lat: nord")
    (folder / "city.yaml").write_text(card)
    assert not build(network, output).ok
    assert (output / "public" / "beta" / "index.html").is_file()  # previous version online
    assert "AVF Beta" in (output / "public" / "index.html").read_text()


def test_an_all_day_event(network: Path) -> None:
    write_city(network, "lyon", {"posts/2026-11-01-forum.md": post("Forum", extra="""
        event:
          start: 2026-11-28
    """)})
    output = network.parent / "output"
    assert build(network, output).ok  # FIXED_NOW is noon on that very day
    agenda = (output / "public" / "lyon" / "agenda" / "index.html").read_text()
    assert "samedi 28 novembre 2026 (toute la journée)" in agenda
    assert "À venir" in agenda and "Événements passés" not in agenda
    ics = (output / "public" / "lyon" / "agenda.ics").read_text()
    assert "DTSTART;VALUE=DATE:20261128" in ics and "DTEND;VALUE=DATE:20261129" in ics


def test_two_builds_at_once_wait_for_each_other(network: Path) -> None:
    import subprocess
    import sys

    for slug in ("lyon", "rennes", "dinan"):
        write_city(network, slug, {"posts/2026-10-01-a.md": post("A")})
    output = network.parent / "output"
    command = [sys.executable, "-m", "avf.cli", "build", "--content", str(network),
               "--output", str(output), "--site-url", TEST_SITE_URL, "--force", "--jobs", "1"]
    runs = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(3)]
    assert [run.wait(timeout=120) for run in runs] == [0, 0, 0]
    for slug in ("lyon", "rennes", "dinan"):
        assert (output / "public" / slug / "index.html").is_file()
        assert (output / "members" / slug).resolve().is_dir()
    assert (output / "public" / "index.html").is_file()


def test_a_network_without_its_own_pages_still_gets_its_portal(tmp_path: Path) -> None:
    content = tmp_path / "content"
    write_city(content, "dinan", {"posts/2026-10-01-a.md": post("Rentrée")})
    output = tmp_path / "output"
    result = build(content, output)
    assert result.ok, result.failed
    assert "AVF Dinan" in (output / "public" / "index.html").read_text()


def test_a_warm_process_writes_the_report_a_fresh_one_would(network: Path) -> None:
    """The report this process wrote last is reused (not parsed, unchanged cities not
    encoded again: report.py) — and a report another process wrote is read again."""
    from avf.build import report

    for slug in ("lyon", "rennes", "dinan"):
        write_city(network, slug, {"posts/2026-10-01-a.md": post(f"A {slug}")})
    output = network.parent / "output"
    assert build(network, output).ok
    write(network / "rennes" / "posts" / "2026-10-02-b.md", post("B", date="2026-10-02"))
    assert build(network, output).ok  # reuses the report written just before
    warm = json.loads((output / "build-report.json").read_text())
    report._written.clear()  # as a new process
    fresh = report.write_report(output, [], None, warm["seconds"])
    assert json.loads(fresh.read_text())["cities"] == warm["cities"]
    assert warm["cities"]["rennes"]["pages"] > warm["cities"]["dinan"]["pages"]

    # Another process rewrites the report (here: by hand): this process reads it again.
    edited = json.loads(fresh.read_text())
    edited["cities"]["dinan"]["name"] = "AVF Dinan (modifié ailleurs)"
    fresh.write_text(json.dumps(edited), encoding="utf-8")
    write(network / "lyon" / "posts" / "2026-10-02-b.md", post("B", date="2026-10-02"))
    assert build(network, output).ok
    cities = json.loads((output / "build-report.json").read_text())["cities"]
    assert cities["dinan"]["name"] == "AVF Dinan (modifié ailleurs)"


def test_the_cities_online_follow_what_a_build_publishes_and_retires(network: Path) -> None:
    """A build reads the links of OUT/public once (network.py, `Plan.online`) and follows
    what it publishes and retires: the portal lists exactly the cities online."""
    import shutil

    from avf.build.publish import online_cities

    write_city(network, "lyon", {"posts/2026-10-01-a.md": post("A")})
    output = network.parent / "output"
    assert build(network, output).ok
    assert online_cities(output) == {"lyon"}
    write_city(network, "rennes", {"posts/2026-10-01-a.md": post("A")})
    write(network / "lyon" / "posts" / "2026-10-02-b.md", post("B", date="2026-10-02"))
    assert build(network, output).ok
    assert online_cities(output) == {"lyon", "rennes"}
    portal = (output / "public" / "index.html").read_text()
    assert "AVF Lyon" in portal and "AVF Rennes" in portal  # published by the same build
    shutil.rmtree(network / "rennes")
    assert build(network, output).ok
    assert online_cities(output) == {"lyon"}
    assert "AVF Rennes" not in (output / "public" / "index.html").read_text()  # retired
    (output / "public" / "lyon").unlink()
    (output / "public" / "lyon").symlink_to("../.releases/ailleurs/x")  # not a link of ours
    assert online_cities(output) == set()
