"""Volunteers' plain text never becomes markup on a page: a city whose every text field is
a script, an attribute breaker or an already-escaped entity, built for real, then every
public page, member page, feed and service page of it read with an HTML parser.

The editor refuses markup in these fields (avf/editor/plain_fields.py), but a `git push`
brings anything; the theme escapes every value (avf/theme/environment.py).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from auth_helpers import add_person, browser, sign_in
from conftest import SmtpCapture, build, service_settings, write, write_city
from PIL import Image
from starlette.applications import Starlette

from avf.service import create_app

SCRIPT = "<script>alert(1)</script>"
BREAKER = '"><img src=x onerror=alert(1)>'
ENTITY = "&lt;script&gt;"
PAYLOADS = (SCRIPT, BREAKER, ENTITY)
ALL = " ".join(PAYLOADS)  # one field holding the three


def _yaml(text: str) -> str:
    """A YAML single-quoted scalar (no escapes but '')."""
    return "'" + text.replace("'", "''") + "'"


CARD = f"""\
name: {_yaml("AVF " + ALL)}
city: "Essai"
slug: "essai"
postal_code: "69001"
department: "Rhône"
department_code: "69"
region: "Auvergne-Rhône-Alpes"
email: "accueil@avf-essai.example.org"
lat: 45.76
lon: 4.83
address: {_yaml("1 place " + ALL)}
phone: {_yaml("04 78 " + ALL)}
tagline: {_yaml("Bienvenue " + ALL)}
opening_hours:
  - {_yaml("mardi " + SCRIPT)}
  - {_yaml("jeudi " + BREAKER)}
  - {_yaml("samedi " + ENTITY)}
social:
  facebook: {_yaml("https://www.facebook.com/x" + BREAKER)}
comments_on_public_posts: true
"""


def _post(visibility: str, slug: str) -> str:
    return f"""---
title: {_yaml("Titre " + ALL)}
date: 2026-10-01
author: {_yaml("Autrice " + ALL)}
tags: [{_yaml("tag " + SCRIPT)}, {_yaml("tag " + BREAKER)}, {_yaml("tag " + ENTITY)}]
summary: {_yaml("Résumé " + ALL)}
image: ../media/photo.jpg
image_alt: {_yaml("Alt " + ALL)}
visibility: {visibility}
event:
  start: 2099-06-12T14:00:00+02:00
  place: {_yaml("Salle " + ALL)}
  registration: true
---

Un texte, avec du HTML brut que le rendu Markdown doit nettoyer : {SCRIPT}

<img src=x onerror=alert(1)>

Et du texte {ENTITY} ({slug}).
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("escaping")
    content = root / "content"
    write(content / "_network" / "pages" / "a-propos.md",
          f'---\ntitle: {_yaml("Le réseau " + ALL)}\n---\n\nLe réseau des AVF.\n')
    write(content / "_network" / "posts" / "2026-10-02-nouvelle.md",
          f"---\ntitle: {_yaml('Nouvelle ' + ALL)}\ndate: 2026-10-02\n"
          f"summary: {_yaml('Résumé ' + ALL)}\nbroadcast: true\n---\n\nTexte.\n")
    city = write_city(content, "essai", {
        "posts/2026-10-01-public.md": _post("public", "public"),
        "posts/2026-10-01-reserve.md": _post("members", "reserve"),
        "pages/infos.md": f"---\ntitle: {_yaml('Infos ' + ALL)}\n---\n\nTexte.\n",
        "pages/reglement.md": f"---\ntitle: {_yaml('Règlement ' + ALL)}\n"
                              "visibility: members\n---\n\nTexte.\n",
    }, card=CARD)
    (city / "media").mkdir()
    Image.new("RGB", (600, 400), (200, 120, 40)).save(city / "media" / "photo.jpg")
    result = build(content, root / "output", cities=("essai",))
    assert result.ok, result
    return content, root / "output"


class _Page(HTMLParser):
    """Every element, attribute and text of a page, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.texts: list[str] = []
        self.script_bodies: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        (self.script_bodies if self._in_script else self.texts).append(data)


def parsed(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


def assert_no_markup_from_payloads(text: str, where: str) -> _Page:
    """No element, attribute or script the payloads would have made, had they gone out raw."""
    page = parsed(text)
    for tag, attrs in page.elements:
        names = [name for name, _ in attrs]
        assert not [name for name in names if name.startswith("on")], (where, tag, attrs)
        assert not (tag == "img" and ("src", "x") in attrs), (where, tag, attrs)
        # A `"` that closed an attribute early leaves stray names behind it (`alert(1)`…).
        assert all(re.fullmatch(r"[a-z][a-z0-9-]*", name) for name in names), (where, attrs)
        if tag == "script":  # the theme's scripts are files, never inline
            assert dict(attrs).get("src"), (where, attrs)
    assert not "".join(page.script_bodies).strip(), (where, page.script_bodies)
    assert "<script>alert" not in text and "onerror=alert(1)>" not in text, where
    return page


def html_files(folder: Path) -> Iterator[Path]:
    yield from sorted(path for path in folder.rglob("*.html") if path.is_file())


def test_every_public_and_member_page_shows_the_payloads_as_text(
        built: tuple[Path, Path]) -> None:
    _, output = built
    pages = [*html_files(output / "public" / "essai"), *html_files(output / "members" / "essai"),
             *[path for path in html_files(output / "public")
               if not path.is_relative_to(output / "public" / "essai")
               and "theme" not in path.parts]]
    assert len(pages) > 15
    for path in pages:
        assert_no_markup_from_payloads(path.read_text("utf-8"), str(path))

    article = parsed((output / "public" / "essai" / "actualites" / "public.html")
                     .read_text("utf-8"))
    text = "".join(article.texts)
    # Escaped, not stripped: each payload reads as typed, `&lt;` included.
    for field in ("Titre ", "Autrice ", "Salle ", "tag "):
        for payload in PAYLOADS:
            assert f"{field}{payload}" in text or f"{field}{ALL}" in text, (field, payload)
    assert f"Titre {ALL} — AVF {ALL}" in text  # <title>
    meta = {dict(attrs).get("name") or dict(attrs).get("property"): dict(attrs).get("content")
            for tag, attrs in article.elements if tag == "meta"}
    assert meta["description"] == f"Résumé {ALL}"
    assert meta["og:description"] == f"Résumé {ALL}"
    assert meta["og:title"] == f"Titre {ALL}"
    assert meta["og:site_name"] == f"AVF {ALL}"
    images = [dict(attrs) for tag, attrs in article.elements if tag == "img"]
    assert [image["alt"] for image in images if "post-image" in (image.get("class") or "")] \
        == [f"Alt {ALL}"]
    # The city card, in the footer and on the contact page.
    contact = parsed((output / "public" / "essai" / "contact" / "index.html")
                     .read_text("utf-8"))
    contact_text = "".join(contact.texts)
    for expected in (f"1 place {ALL}", f"04 78 {ALL}", f"mardi {SCRIPT}", f"jeudi {BREAKER}",
                     f"samedi {ENTITY}"):
        assert expected in contact_text, expected
    home = parsed((output / "public" / "essai" / "index.html").read_text("utf-8"))
    assert f"Bienvenue {ALL}" in "".join(home.texts)
    assert f"Nouvelle {ALL}" in "".join(home.texts)  # the network's news
    # The post's own HTML is still HTML: the body's raw tags were cleaned by the renderer.
    assert ("p", []) in article.elements
    # (In Markdown, `&lt;` is an entity: the reader sees `<script>`, as text.)
    assert "Et du texte <script> (public)." in text


def test_the_portal_lists_the_city_as_text(built: tuple[Path, Path]) -> None:
    _, output = built
    portal = parsed((output / "public" / "index.html").read_text("utf-8"))
    assert f"AVF {ALL}" in "".join(portal.texts)
    words = [dict(attrs)["data-annuaire-ville"] for tag, attrs in portal.elements
             if "data-annuaire-ville" in dict(attrs)]
    assert len(words) == 1 and "script" in words[0]


def test_feeds_and_data_files_keep_the_payloads_as_text(built: tuple[Path, Path]) -> None:
    _, output = built
    feed = ElementTree.parse(output / "public" / "essai" / "atom.xml").getroot()
    namespace = {"atom": "http://www.w3.org/2005/Atom"}
    summaries = [entry.find("atom:summary", namespace) for entry in
                 feed.findall("atom:entry", namespace)]
    assert summaries and all(summary is not None for summary in summaries)
    for summary in summaries:
        assert summary.get("type") == "html"
        # An HTML summary: a feed reader parses it, and finds the text only.
        shown = parsed(summary.text or "")
        assert not shown.elements and "".join(shown.texts) == f"Résumé {ALL}"
    home = json.loads((output / "members" / "essai" / "home.json").read_text("utf-8"))
    assert home["posts"][0]["title"] == f"Titre {ALL}"  # data, as typed: escaped when shown
    agenda = (output / "public" / "essai" / "agenda.ics").read_text("utf-8")
    assert "BEGIN:VEVENT" in agenda


@pytest.fixture
def app(tmp_path: Path, built: tuple[Path, Path], smtp_server: SmtpCapture,
        ) -> Iterator[Starlette]:
    content, output = built
    settings = service_settings(tmp_path, content, smtp_server, run_workers=False)
    application = create_app(replace(settings, output_dir=output))
    with browser(application):
        add_person(application, "adherente@example.org", ("admin", "essai"), name="Odile")
        yield application


def test_the_service_pages_made_from_the_build_s_data_escape_it(app: Starlette) -> None:
    client = browser(app)
    sign_in(client, app, "adherente@example.org")
    for path in ("/membres/essai/", "/membres/essai/inscriptions/public",
                 "/membres/essai/inscriptions/reserve", "/membres/essai/actualites/reserve.html",
                 "/membres/essai/reglement/", "/membres/essai/commentaires/public",
                 "/essai/", "/essai/actualites/public.html"):
        response = client.get(path)
        assert response.status_code == 200, path
        page = assert_no_markup_from_payloads(response.text, path)
        assert f"Titre {ALL}" in "".join(page.texts) or f"AVF {ALL}" in "".join(page.texts), path


def test_a_template_compiled_before_escaping_is_not_reused(tmp_path: Path) -> None:
    """The compiled-template cache on disk outlives an upgrade: an escaping environment
    must compile the unchanged template again, not take the raw one's bytecode."""
    import jinja2

    from avf.build.templates_cache import MemoryBytecodeCache

    write(tmp_path / "templates" / "tag.html", "<h1>{{ tag }}</h1>")
    rendered = []
    for autoescape in (False, True):
        cache = MemoryBytecodeCache()  # a new process: only the folder is shared
        cache.use_folder(tmp_path / "cache")
        environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(tmp_path / "templates")),
            autoescape=autoescape, bytecode_cache=cache)
        rendered.append(environment.get_template("tag.html").render(tag=SCRIPT))
    assert rendered == [f"<h1>{SCRIPT}</h1>",
                        "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>"]
    assert len(list((tmp_path / "cache").glob("*.bytecode"))) == 2
