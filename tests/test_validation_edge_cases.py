"""Edge cases found in review: volunteer input that once passed `avf check` wrongly."""

from __future__ import annotations

from pathlib import Path

import pytest

from avf.content import load_city, load_network
from avf.content.documents import read_document
from tests.conftest import CITY_YAML, build, post, write, write_city
from tests.test_validation import only_problem, problems_of


@pytest.mark.parametrize(("line", "field", "kept"), [
    ("title: 14:30", "title", "14:30"),  # YAML 1.1 would read 870 (base 60)
    ("author: 0123456701", "author", "0123456701"),  # octal
    ("summary: yes", "summary", "yes"),  # boolean
])
def test_values_are_read_as_written(network: Path, line: str, field: str, kept: str) -> None:
    title = 'title: "x"\n' if field != "title" else ""
    text = f"---\n{title}{line}\ndate: 2026-10-01\n---\n"
    path = write(network / "lyon" / "posts" / "a.md", text)
    doc = read_document(path, network / "lyon", "a.md", "post")
    assert getattr(doc, field) == kept


def test_city_card_numbers_are_read_as_written(network: Path) -> None:
    card = (CITY_YAML.format(slug="lyon", title="Lyon")
            .replace('postal_code: "69001"', "postal_code: 01000")
            .replace('department_code: "69"', "department_code: 01")
            .replace('phone: "04 78 00 00 00"', "phone: 0123456701")
            .replace("lat: 45.76", "lat: 45,76"))
    write_city(network, "lyon", card=card)
    city = load_city(network, "lyon").city
    assert city is not None
    assert (city.postal_codes, city.department_code, city.phone, city.lat) == (
        ("01000",), "01", "0123456701", 45.76)


def test_link_on_an_indented_line_is_checked(network: Path) -> None:
    body = "- Liste\n    - [imbriqué](../pages/absente.md)"
    write_city(network, "lyon", {"posts/a.md": post("A", body=body)})
    assert "n'existe pas" in only_problem(network).message


def test_link_to_the_city_card_is_refused(network: Path) -> None:
    write_city(network, "lyon", {"posts/a.md": post("A", body="[carte](../city.yaml)")})
    assert "seuls les articles, les pages et les fichiers du dossier media" in (
        only_problem(network).message)


def test_link_to_a_web_address_without_https(network: Path) -> None:
    write_city(network, "lyon", {"posts/a.md": post("A", body="[site](www.avf.fr)")})
    assert "avec https:// devant (https://www.avf.fr)" in only_problem(network).message


@pytest.mark.parametrize("slug", ["agenda", "etiquettes", "actualites", "media"])
def test_page_slugs_that_the_site_uses_are_refused(network: Path, slug: str) -> None:
    write_city(network, "lyon", {f"pages/{slug}.md": '---\ntitle: "Agenda"\n---\n'})
    assert "déjà utilisée par le site de la ville" in only_problem(network).message


def test_posts_in_sub_folders_are_validated(network: Path) -> None:
    write_city(network, "lyon", {"posts/2025/vieux.md": post("Vieux", date="2025-02-30")})
    problem = only_problem(network)
    assert problem.file == "content/lyon/posts/2025/vieux.md" and problem.line == 3


def test_markdown_extension_in_capitals(network: Path) -> None:
    write_city(network, "lyon", {"posts/sortie.MD": post("Sortie")})
    assert "renommez le fichier en « sortie.md »" in only_problem(network).message


def test_file_name_that_is_not_utf8(network: Path) -> None:
    folder = write_city(network, "lyon")
    (folder / "posts").mkdir()
    (folder / "posts" / "caf\udce9.md").write_text(post("Café"), encoding="utf-8")
    problem = only_problem(network)
    assert "renommez-le" in problem.message and "café.md" in problem.message
    problem.file.encode("utf-8")  # printable and JSON-safe


@pytest.mark.parametrize(("image", "hint"), [
    ("../pages/photo.jpg", "doit être dans le dossier media"),
    ("media/photo.jpg", "depuis ce fichier, écrivez ../media/photo.jpg"),
])
def test_front_matter_image_must_be_in_media(network: Path, image: str, hint: str) -> None:
    folder = write_city(network, "lyon", {"posts/a.md": post("A", extra=f"image: {image}")})
    for place in ("pages", "media"):
        (folder / place).mkdir(exist_ok=True)
        (folder / place / "photo.jpg").write_bytes(b"jpeg")
    assert hint in only_problem(network).message


@pytest.mark.parametrize(("written", "meant"), [("brouillon", "draft"), ("publié", "published"),
                                                ("relecture", "review")])
def test_french_status_names_get_a_suggestion(network: Path, written: str, meant: str) -> None:
    write_city(network, "lyon", {"posts/a.md": post("A", extra=f"status: {written}")})
    assert f"vouliez-vous dire « {meant} » ?" in only_problem(network).message


def test_duplicate_slug_points_at_the_slug_line(network: Path) -> None:
    write_city(network, "lyon", {"posts/a.md": post("A"),
                                 "posts/b.md": post("B", extra="slug: a")})
    assert only_problem(network).line == 4


def test_tag_without_letters(network: Path) -> None:
    write_city(network, "lyon", {"posts/a.md": post("A", extra='tags: ["?"]')})
    assert "ne contient ni lettre ni chiffre" in only_problem(network).message


@pytest.mark.parametrize(("line", "advice"), [
    ("title: 'L'accueil'", "apostrophe ou un guillemet ferme la valeur trop tôt"),
    ('summary: "a"b"', "apostrophe ou un guillemet ferme la valeur trop tôt"),
    ("  slug: x", "supprimez les espaces au début de la ligne"),
])
def test_yaml_mistakes_are_explained(network: Path, line: str, advice: str) -> None:
    text = f'---\ntitle: "A"\ndate: 2026-10-01\n{line}\n---\n'.replace(
        'title: "A"\n', "" if line.startswith("title") else 'title: "A"\n')
    write_city(network, "lyon", {"posts/a.md": text})
    assert advice in only_problem(network).message


def test_network_has_no_members_area(network: Path) -> None:
    write(network / "_network" / "posts" / "a.md", post("Circulaire", extra="visibility: members"))
    problems = load_network(network).problems
    assert len(problems) == 1 and "pas d'espace adhérents" in problems[0].message


def test_every_problem_keeps_the_others(network: Path) -> None:
    write_city(network, "lyon", {"posts/a.md": post("A", extra="status: brouillon"),
                                 "posts/b.md": post("B", body="[x](www.x.fr)")})
    assert len(problems_of(network)) == 2


def test_symbolic_links_are_refused_and_never_published(network: Path, tmp_path: Path) -> None:
    secret = write(tmp_path / "server" / "hostname", "serveur-interne-7731\n")
    folder = write_city(network, "lyon", {"posts/2026-10-01-a.md": post("A")})
    (folder / "media").mkdir()
    (folder / "media" / "fuite.jpg").symlink_to(secret)
    (folder / "pages").mkdir()
    (folder / "pages" / "ailleurs").symlink_to(secret.parent, target_is_directory=True)
    problems = problems_of(network)
    assert [(p.file, p.line) for p in problems] == [
        ("content/lyon/media/fuite.jpg", None), ("content/lyon/pages/ailleurs", None)]
    assert all("lien symbolique" in p.message and p.severity == "error" for p in problems)
    output = tmp_path / "output"
    result = build(network, output)
    assert [r.status for r in result.results] == ["failed"]
    published = [p for p in output.rglob("*") if p.is_file()]
    assert not any(b"serveur-interne-7731" in p.read_bytes() for p in published)


def test_page_slugs_of_the_members_area_are_refused(network: Path) -> None:
    write_city(network, "lyon", {"pages/annuaire.md": '---\ntitle: "Annuaire"\n---\n\nx\n'})
    problem = only_problem(network)
    assert problem.file == "content/lyon/pages/annuaire.md" and "annuaire" in problem.message
