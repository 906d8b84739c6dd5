"""Pages every city site has whatever its volunteers wrote: the pré-accueil contact page
(whose static form the service accepts as is), the accessibility statement, and a useful
home for a brand-new or dormant city."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from avf.build import BuildOptions, build_network
from avf.content.activity import DORMANT_AFTER
from avf.service import create_app
from avf.service.contact_form import FIELDS, TRAP
from tests.conftest import (
    FIXED_NOW,
    SAMPLE_CONTENT,
    TEST_SITE_URL,
    build,
    post,
    service_settings,
    write_city,
)
from tests.test_build import every_file

CITIES = ("annecy", "dinan", "gap", "lyon", "montauban", "rennes")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("pages") / "output"
    result = build(SAMPLE_CONTENT, output)
    assert result.ok, [(r.slug, r.errors) for r in result.failed]
    return output / "public"


class FormReader(HTMLParser):
    """The first form of a page: its attributes, its fields, their labels."""

    def __init__(self) -> None:
        super().__init__()
        self.form: dict[str, str | None] = {}
        self.fields: dict[str, dict[str, str | None]] = {}  # name -> attributes
        self.labels: dict[str, str] = {}  # the `for` id -> label text
        self._label: str | None = None
        self._in_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form" and not self.form:
            self.form, self._in_form = attributes, True
        elif self._in_form and tag in ("input", "textarea") and attributes.get("name"):
            self.fields[attributes["name"]] = attributes  # type: ignore[index]
        elif self._in_form and tag == "label":
            self._label = attributes.get("for")
            self.labels[self._label or ""] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "label":
            self._label = None

    def handle_data(self, data: str) -> None:
        if self._label is not None:
            self.labels[self._label] += data


def read_form(page: Path) -> FormReader:
    reader = FormReader()
    reader.feed(page.read_text(encoding="utf-8"))
    return reader


# --- The contact page ------------------------------------------------------------------

@pytest.mark.parametrize("city", CITIES)
def test_every_city_has_a_contact_page_whose_form_posts_to_the_service(
        sample: Path, city: str) -> None:
    page = sample / city / "contact" / "index.html"
    text = html.unescape(page.read_text(encoding="utf-8"))
    assert "Vous arrivez bientôt à" in text and "? Écrivez-nous" in text
    form = read_form(page)
    assert form.form["method"] == "post"
    assert form.form["action"] == f"{TEST_SITE_URL}/contact/{city}"
    # Exactly the service's fields and its honeypot; no token a static page cannot know.
    assert set(form.fields) == {field.name for field in FIELDS} | {TRAP}
    for field in FIELDS:
        attributes = form.fields[field.name]
        label = " ".join(form.labels[attributes["id"]].split())  # type: ignore[index]
        assert label, f"{field.name} has a label"
        assert ("(obligatoire)" in label) is (field.missing is not None)
        assert ("required" in attributes) is (field.missing is not None)
    assert form.fields["nom"]["autocomplete"] == "name"
    assert form.fields["email"]["autocomplete"] == "email"
    assert form.fields["telephone"]["autocomplete"] == "tel"
    assert form.fields[TRAP]["tabindex"] == "-1"


def test_the_contact_page_gives_the_phone_address_and_hours_beside_the_form(
        sample: Path) -> None:
    text = html.unescape((sample / "lyon" / "contact" / "index.html").read_text())
    card = json.loads(json.dumps(_card("lyon")))
    assert card["phone"] in text and card["address"] in text
    assert all(slot in text for slot in card["opening_hours"])
    assert "Si le formulaire ne répond pas, appelez-nous" in text


def test_the_built_form_as_a_browser_posts_it_is_accepted_by_the_service(
        sample: Path, tmp_path: Path) -> None:
    form = read_form(sample / "lyon" / "contact" / "index.html")
    filled = {"nom": "Élise Martin", "email": "elise.martin@example.org",
              "telephone": "06 12 34 56 78", "arrivee": "janvier 2027",
              "message": "Bonjour, nous arrivons à Lyon en janvier : que proposez-vous ?"}
    data = {name: filled.get(name, attributes.get("value") or "")
            for name, attributes in form.fields.items()}
    app = create_app(service_settings(tmp_path, SAMPLE_CONTENT, run_workers=False))
    with TestClient(app, base_url=TEST_SITE_URL) as client:
        response = client.post(form.form["action"], data=data,  # type: ignore[arg-type]
                               headers={"Origin": TEST_SITE_URL}, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/contact/lyon/merci"


def test_no_public_page_prints_an_email_address(sample: Path) -> None:
    for path in every_file(sample):
        if path.suffix not in (".html", ".xml", ".json", ".txt"):
            continue  # agenda.ics: its UIDs are `post@city.avf` (RFC 5545), not addresses
        found = EMAIL.findall(html.unescape(path.read_text(encoding="utf-8", errors="replace")))
        assert not found, f"{path.relative_to(sample)}: {found}"


@pytest.mark.parametrize("city", CITIES)
def test_the_home_and_the_footer_lead_to_the_contact_page(sample: Path, city: str) -> None:
    home = (sample / city / "index.html").read_text()
    assert home.count(f'href="{TEST_SITE_URL}/{city}/contact/"') >= 2  # contact card, footer


# --- The accessibility statement --------------------------------------------------------

@pytest.mark.parametrize("site", (*CITIES, ""))
def test_every_site_has_an_accessibility_statement(sample: Path, site: str) -> None:
    text = html.unescape((sample / site / "accessibilite" / "index.html").read_text())
    assert "<h1>Déclaration d'accessibilité</h1>" in text
    assert "partiellement conforme" in text
    assert "29 novembre 2026" in text
    assert "Voies de recours" in text and "Défenseur des droits" in text
    if site:
        assert f'href="{TEST_SITE_URL}/{site}/contact/">écrivez-nous</a>' in text


def test_every_public_page_links_to_its_site_s_statement(sample: Path) -> None:
    pages = [path for path in every_file(sample)
             if path.name.endswith(".html") and "pagefind" not in path.parts]
    assert len(pages) > 50
    for page in pages:
        site = page.relative_to(sample).parts[0]
        prefix = f"{TEST_SITE_URL}/{site}" if site in CITIES else TEST_SITE_URL
        assert f'<a href="{prefix}/accessibilite/">Accessibilité : partiellement conforme</a>' \
            in page.read_text(), page


# --- A brand-new or dormant city's home -------------------------------------------------

def test_a_brand_new_city_s_home_leads_with_how_to_reach_it(sample: Path) -> None:
    home = html.unescape((sample / "gap" / "index.html").read_text())
    assert "Bienvenue à AVF Gap" in home
    assert f'<a class="button" href="{TEST_SITE_URL}/gap/contact/">Nous contacter</a>' in home
    assert 'id="actualites"' not in home  # no empty news list
    assert "Nouvelles du réseau AVF" in home  # the network's news still shown
    assert home.count('id="nous-trouver"') == 1


def test_an_active_city_s_home_is_unchanged(sample: Path) -> None:
    home = html.unescape((sample / "lyon" / "index.html").read_text())
    assert "Bienvenue à" not in home and '<h2 id="actualites">Actualités</h2>' in home


def test_a_city_silent_for_six_months_turns_dormant_by_itself(network: Path) -> None:
    write_city(network, "rennes", {
        "posts/2026-05-02-pique-nique.md": post("Pique-nique", date="2026-05-02"),
        "posts/2026-11-01-membres.md": post("Réservé", date="2026-11-01",
                                            extra="visibility: members"),
    })
    output = network.parent / "output"

    def build_at(now: str) -> list[str]:
        options = BuildOptions(content_dir=network, output_dir=output, jobs=1,
                               site_url=TEST_SITE_URL, now=now)
        result = build_network(options)
        assert result.ok
        return [r.slug for r in result.results]

    home = output / "public" / "rennes" / "index.html"
    assert build_at("2026-10-01T12:00:00+02:00") == ["rennes"]
    assert "Bienvenue à" not in home.read_text()
    state = json.loads((output / ".state" / "cities" / "rennes.json").read_text())
    assert state["expires"] == "2026-11-01T00:00:00+01:00"  # 2 May + 183 days
    assert build_at("2026-10-20T12:00:00+02:00") == []  # nothing changed yet
    # A members-only post is not news the public sees: the city is dormant.
    assert build_at("2026-11-28T12:00:00+01:00") == ["rennes"]
    text = html.unescape(home.read_text())
    assert "Bienvenue à AVF Rennes" in text
    assert "Nos dernières actualités" in text and "Pique-nique" in text
    assert DORMANT_AFTER.days == 183


# --- Each post once on the home; past events leave it ---------------------------------

SOON = """
    event:
      start: 2026-12-05 14:00
      end: 2026-12-05 17:00
"""


def _home_sections(home: Path) -> dict[str, list[str]]:
    """Titles of the post cards under each <h2> of a home page."""
    sections: dict[str, list[str]] = {}
    for part in html.unescape(home.read_text()).split("<h2 ")[1:]:
        heading = part.split(">", 1)[1].split("<", 1)[0]
        sections[heading] = re.findall(r'<h3><a href="[^"]+">([^<]+)</a></h3>', part)
    return sections


def test_the_home_shows_each_post_once_and_drops_an_event_once_past(network: Path) -> None:
    write_city(network, "rennes", {
        "posts/2026-11-10-balade.md": post("Balade au Thabor", date="2026-11-10", extra=SOON),
        "posts/2026-11-02-bilan.md": post("Bilan de saison", date="2026-11-02"),
    })
    output = network.parent / "output"
    home = output / "public" / "rennes" / "index.html"

    def build_at(now: str) -> list[str]:
        result = build_network(BuildOptions(content_dir=network, output_dir=output, jobs=1,
                                            site_url=TEST_SITE_URL, now=now))
        assert result.ok
        return [r.slug for r in result.results]

    assert build_at("2026-12-01T12:00:00+01:00") == ["rennes"]
    sections = _home_sections(home)
    assert sections["Prochainement"] == ["Balade au Thabor"]
    assert sections["Actualités"] == ["Bilan de saison"]  # the event is not repeated
    # The nightly build after the event's end: it leaves the home, stays in the agenda.
    assert build_at("2026-12-05T18:00:00+01:00") == ["rennes"]
    sections = _home_sections(home)
    assert "Prochainement" not in sections and sections["Actualités"] == ["Bilan de saison"]
    agenda = html.unescape((output / "public" / "rennes" / "agenda" / "index.html").read_text())
    assert "Balade au Thabor" in agenda.split("Événements passés")[-1]
    assert "Balade au Thabor" in (output / "public" / "rennes" / "archives.html").read_text()


def test_a_city_whose_only_posts_are_past_events_still_gets_a_useful_home(
        network: Path) -> None:
    write_city(network, "rennes", {
        "posts/2026-11-10-balade.md": post("Balade au Thabor", date="2026-11-10", extra=SOON)})
    output = network.parent / "output"
    assert build_network(BuildOptions(content_dir=network, output_dir=output, jobs=1,
                                      site_url=TEST_SITE_URL,
                                      now="2026-12-10T12:00:00+01:00")).ok
    home = html.unescape((output / "public" / "rennes" / "index.html").read_text())
    assert "Bienvenue à AVF Rennes" in home  # not dormant, but nothing to show: how to reach us
    assert 'id="actualites"' not in home and 'id="prochainement"' not in home
    assert home.count('id="nous-trouver"') == 1


def test_news_pages_after_the_first_list_news_only(network: Path) -> None:
    posts = {f"posts/2026-10-{day:02d}-nouvelle-{day}.md": post(f"Nouvelle {day}",
                                                                 date=f"2026-10-{day:02d}")
             for day in range(1, 13)}
    posts["posts/2026-11-10-balade.md"] = post("Balade au Thabor", date="2026-11-10",
                                                extra=SOON)
    write_city(network, "rennes", posts)
    output = network.parent / "output"
    assert build_network(BuildOptions(content_dir=network, output_dir=output, jobs=1,
                                      site_url=TEST_SITE_URL, now=FIXED_NOW)).ok
    first = _home_sections(output / "public" / "rennes" / "index.html")
    second = _home_sections(output / "public" / "rennes" / "index-2.html")
    assert first["Prochainement"] == ["Balade au Thabor"]
    assert len(first["Actualités"]) == 10 and "Prochainement" not in second
    assert sorted(first["Actualités"] + second["Actualités"]) == sorted(
        f"Nouvelle {day}" for day in range(1, 13))


def _card(slug: str) -> dict[str, object]:
    from avf.content import load_city

    card = load_city(SAMPLE_CONTENT, slug).city
    assert card is not None
    return card.public_card()


@pytest.mark.parametrize("city", CITIES)
def test_every_city_has_its_own_page_not_found(sample: Path, city: str) -> None:
    text = (sample / city / "404.html").read_text()
    assert "<h1>Page introuvable</h1>" in text
    for link in (f"{TEST_SITE_URL}/{city}/", f"{TEST_SITE_URL}/{city}/agenda/",
                 f"{TEST_SITE_URL}/{city}/contact/", f'"{TEST_SITE_URL}/"'):
        assert link in text, link
    assert "data-pagefind-body" not in text  # not a search result
    assert "404" not in (sample / city / "sitemap.xml").read_text()


def test_the_service_answers_a_missing_page_with_the_built_404_pages(sample: Path) -> None:
    """The real build, served by the service: the city's page, else the portal's."""
    settings = service_settings(sample.parent.parent, SAMPLE_CONTENT, run_workers=False)
    assert settings.public_dir == sample  # the service serves that very build
    with TestClient(create_app(settings), base_url=TEST_SITE_URL) as client:
        missing = client.get("/lyon/actualites/disparue.html")
        assert missing.status_code == 404
        assert "<h1>Page introuvable</h1>" in missing.text
        assert f"{TEST_SITE_URL}/lyon/contact/" in missing.text
        assert "Lyon" in missing.text
        portal = client.get("/nulle-part/")
        assert portal.status_code == 404
        assert "<h1>Page introuvable</h1>" in portal.text
        assert "/contact/" not in portal.text.split("<main", 1)[1].split("</main>")[0]
    assert (sample / "404.html").is_file()
    assert "404" not in (sample / "sitemap-reseau.xml").read_text()
