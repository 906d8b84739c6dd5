"""One test per validation error: the French message, the file and the line (issue #2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from avf.content import Problem, load_city
from tests.conftest import CITY_YAML, post, write, write_city


def problems_of(content: Path, slug: str = "lyon") -> list[Problem]:
    return load_city(content, slug).problems


def only_problem(content: Path, slug: str = "lyon") -> Problem:
    problems = problems_of(content, slug)
    assert len(problems) == 1, problems
    return problems[0]


def test_a_valid_city_has_no_problem(network: Path) -> None:
    write_city(network, "lyon", {
        "posts/2026-10-01-cafe.md": post("Café d'accueil", extra="tags: [café]"),
        "pages/adherer.md": '---\ntitle: "Adhérer"\n---\n\nTexte.\n',
    })
    city = load_city(network, "lyon")
    assert city.problems == []
    assert [doc.slug for doc in city.documents] == ["cafe", "adherer"]


def test_missing_title(network: Path) -> None:
    write_city(network, "lyon", {"posts/2026-10-01-sortie.md": "---\ndate: 2026-10-01\n---\n"})
    problem = only_problem(network)
    assert problem.file == "content/lyon/posts/2026-10-01-sortie.md"
    assert problem.line == 1
    assert "il manque « title »" in problem.message
    assert "title: " in problem.message  # shows the line to add


def test_missing_date(network: Path) -> None:
    write_city(network, "lyon", {"posts/2026-10-01-sortie.md": '---\ntitle: "Sortie"\n---\n'})
    problem = only_problem(network)
    assert (problem.file, problem.line) == ("content/lyon/posts/2026-10-01-sortie.md", 1)
    assert "il manque « date », obligatoire pour un article" in problem.message


def test_impossible_date(network: Path) -> None:
    write_city(network, "lyon", {
        "posts/2026-03-01-sortie.md": post("Sortie", extra="author: Anne", date="2026-02-31"),
    })
    problem = only_problem(network)
    assert str(problem) == (
        "content/lyon/posts/2026-03-01-sortie.md, ligne 3 : la date « 2026-02-31 » n'existe "
        "pas (février 2026 a 28 jours) ; écrivez une date réelle, par exemple 2026-02-28"
    )


def test_date_written_the_french_way(network: Path) -> None:
    write_city(network, "lyon", {"posts/a.md": post("Sortie", date="01/03/2026")})
    problem = only_problem(network)
    assert problem.line == 3
    assert "écrivez-la année-mois-jour : date: 2026-03-01" in problem.message


@pytest.mark.parametrize(("written", "meant"), [("titel", "title"), ("auteur", "author"),
                                                 ("résumé", "summary"), ("tag", "tags")])
def test_unknown_field_suggests_the_right_one(network: Path, written: str, meant: str) -> None:
    write_city(network, "lyon", {"posts/a.md": post("Sortie", extra=f"{written}: x")})
    problem = only_problem(network)
    assert problem.line == 4
    assert problem.message == (
        f"l'information « {written} » n'existe pas ; vouliez-vous dire « {meant} » ?")


def test_unclosed_quote(network: Path) -> None:
    write_city(network, "lyon", {
        "posts/a.md": '---\ndate: 2026-10-01\ntitle: "Sortie au musée\nauthor: Anne\n---\n',
    })
    problem = only_problem(network)
    assert problem.line == 3
    assert "guillemet est ouvert sur cette ligne mais jamais fermé" in problem.message


def test_tab_indentation(network: Path) -> None:
    write_city(network, "lyon", {
        "posts/a.md": post("Sortie", extra="event:\n\tstart: 2026-10-01 14:00"),
    })
    problem = only_problem(network)
    assert problem.line == 5
    assert "tabulation" in problem.message and "deux espaces" in problem.message


def test_colon_inside_a_value(network: Path) -> None:
    write_city(network, "lyon", {
        "posts/a.md": "---\ntitle: Sortie : le musée\ndate: 2026-10-01\n---\n",
    })
    problem = only_problem(network)
    assert problem.line == 2
    assert "entre guillemets" in problem.message


def test_bad_status(network: Path) -> None:
    write_city(network, "lyon", {"posts/a.md": post("Sortie", extra="status: publie")})
    problem = only_problem(network)
    assert problem.line == 4
    assert "« publie » de « status » n'est pas possible" in problem.message
    assert "vouliez-vous dire « published » ?" in problem.message


def test_bad_visibility(network: Path) -> None:
    write_city(network, "lyon", {"posts/a.md": post("Sortie", extra="visibility: membres")})
    problem = only_problem(network)
    assert problem.line == 4
    assert "« public », « members »" in problem.message
    assert "vouliez-vous dire « members » ?" in problem.message


def test_event_ending_before_it_starts(network: Path) -> None:
    write_city(network, "lyon", {"posts/a.md": post("Sortie", extra="""
        event:
          start: 2026-12-05 14:00
          end: 2026-12-05 11:00
          place: Musée des Beaux-Arts
    """)})
    problem = only_problem(network)
    assert problem.line == 6
    assert "finit (2026-12-05 11:00) avant de commencer (2026-12-05 14:00)" in problem.message


def test_front_matter_image_that_does_not_exist(network: Path) -> None:
    write_city(network, "lyon", {"posts/a.md": post("Sortie", extra="image: ../media/x.jpg")})
    problem = only_problem(network)
    assert problem.line == 4
    assert "le fichier « ../media/x.jpg » n'existe pas" in problem.message


def test_image_and_link_in_body_that_do_not_exist(network: Path) -> None:
    body = ("Premier paragraphe.\n\n![Le groupe](../media/groupe.jpg)\n\n"
            "[adhérer](../pages/adherer.md)")
    write_city(network, "lyon", {"posts/a.md": post("Sortie", body=body)})
    image, link = problems_of(network)
    assert (image.file, image.line) == ("content/lyon/posts/a.md", 8)
    assert "l'image « ../media/groupe.jpg » pointe vers un fichier qui n'existe" in image.message
    assert link.line == 10
    assert "le lien « ../pages/adherer.md »" in link.message


def test_link_out_of_the_city(network: Path) -> None:
    write_city(network, "rennes", {"pages/adherer.md": '---\ntitle: "Adhérer"\n---\n'})
    write_city(network, "lyon",
               {"posts/a.md": post("A", body="[x](../../rennes/pages/adherer.md)")})
    problem = only_problem(network)
    assert "sort du dossier de la ville" in problem.message


def test_link_to_a_draft_from_a_published_post(network: Path) -> None:
    write_city(network, "lyon", {
        "posts/a.md": post("A", body="Voir [le brouillon](b.md)."),
        "posts/b.md": post("B", extra="status: draft"),
    })
    problem = only_problem(network)
    assert "n'est pas encore publié" in problem.message


def test_two_posts_with_the_same_slug(network: Path) -> None:
    write_city(network, "lyon", {
        "posts/2026-10-01-sortie.md": post("Sortie"),
        "posts/2026-11-01-autre.md": post("Autre", extra="slug: sortie"),
    })
    problem = only_problem(network)
    assert problem.file == "content/lyon/posts/2026-11-01-autre.md"
    assert "l'adresse « sortie » est déjà prise par content/lyon/posts/2026-10-01-sortie.md" in (
        problem.message)


def test_city_card_missing_a_required_field(network: Path) -> None:
    card = CITY_YAML.format(slug="lyon", title="Lyon")
    card = card.replace('region: "Auvergne-Rhône-Alpes"\n', "")
    write_city(network, "lyon", card=card)
    problem = only_problem(network)
    assert problem.file == "content/lyon/city.yaml"
    assert "il manque « region », obligatoire dans la fiche de la ville" in problem.message


def test_city_card_unknown_accent(network: Path) -> None:
    card = CITY_YAML.format(slug="lyon", title="Lyon") + 'accent: "rouge"\n'
    write_city(network, "lyon", card=card)
    problem = only_problem(network)
    assert problem.line == 13
    assert "choisissez parmi « bleu »" in problem.message


def test_city_folder_name_is_not_a_slug(network: Path) -> None:
    write_city(network, "Saint Malo")
    problem = only_problem(network, "Saint Malo")
    assert problem.file == "content/Saint Malo"
    assert "renommez-le en « saint-malo »" in problem.message


def test_reserved_city_folder_name(network: Path) -> None:
    write_city(network, "theme")
    assert "réservé" in only_problem(network, "theme").message


def test_file_not_in_utf8(network: Path) -> None:
    folder = write_city(network, "lyon")
    (folder / "posts").mkdir()
    text = '---\ntitle: "Soirée"\ndate: 2026-10-01\n---\n\nCafé\n'
    (folder / "posts" / "a.md").write_bytes(text.encode("cp1252"))
    problem = only_problem(network)
    assert problem.line == 2
    assert "n'est pas enregistré en UTF-8 (le caractère « é » est illisible)" in problem.message
    assert "l'encodage « UTF-8 »" in problem.message


def test_every_problem_of_a_city_is_reported_not_only_the_first(network: Path) -> None:
    write_city(network, "lyon", {
        "posts/a.md": post("A", date="2026-13-01"),
        "posts/b.md": post("B", extra="status: brouillon"),
        "pages/c.md": "pas d'en-tête\n",
    })
    files = sorted(problem.file for problem in problems_of(network))
    assert files == ["content/lyon/pages/c.md", "content/lyon/posts/a.md",
                     "content/lyon/posts/b.md"]


def test_missing_front_matter_fence(network: Path) -> None:
    write(network / "lyon" / "city.yaml", CITY_YAML.format(slug="lyon", title="Lyon"))
    write(network / "lyon" / "pages" / "c.md", '---\ntitle: "C"\n\nTexte sans fin d\'en-tête\n')
    problem = only_problem(network)
    assert "jamais fermé" in problem.message


@pytest.mark.parametrize("slug", ["contact", "accessibilite"])
def test_a_page_may_not_take_the_address_of_a_page_every_site_has(network: Path,
                                                                   slug: str) -> None:
    write_city(network, "lyon", {f"pages/{slug}.md": f'---\ntitle: "{slug}"\n---\n\nTexte.\n'})
    assert "déjà utilisée par le site de la ville" in only_problem(network).message


def test_the_same_text_in_two_files_names_each_file(network: Path) -> None:
    """Headers are parsed once per text in a warm process (documents.py): an error still
    names its own file, a good header still gives each file its own document."""
    broken = '---\ntitle: "Sortie\ndate: 2026-10-01\n---\n\nTexte.\n'
    write_city(network, "lyon", {"posts/2026-10-01-a.md": broken,
                                 "posts/2026-10-01-b.md": broken})
    assert [problem.file for problem in problems_of(network)] == [
        "content/lyon/posts/2026-10-01-a.md", "content/lyon/posts/2026-10-01-b.md"]
    write_city(network, "rennes", {"posts/2026-10-01-a.md": post("Même texte"),
                                   "posts/2026-10-01-b.md": post("Même texte")})
    city = load_city(network, "rennes")
    assert [(doc.slug, doc.shown_as) for doc in city.documents] == [
        ("a", "content/rennes/posts/2026-10-01-a.md"),
        ("b", "content/rennes/posts/2026-10-01-b.md")]


def test_an_edited_file_is_read_again(network: Path) -> None:
    write_city(network, "lyon", {"posts/2026-10-01-a.md": post("Avant")})
    assert [doc.title for doc in load_city(network, "lyon").documents] == ["Avant"]
    write(network / "lyon" / "posts" / "2026-10-01-a.md", post("Après"))
    assert [doc.title for doc in load_city(network, "lyon").documents] == ["Après"]


def test_long_files_are_read_but_their_headers_not_kept(network: Path) -> None:
    """Headers are kept parsed per text (documents.py), but a long text is read each time:
    a warm worker must not keep hundreds of huge files for the rest of its life."""
    import gc
    import tracemalloc

    long_body = "Un paragraphe de plus, avec des mots et encore des mots.\n\n" * 3_500
    write_city(network, "lyon", {
        f"posts/2026-10-{day:02d}-long.md": post(f"Long {day}", date=f"2026-10-{day:02d}",
                                                 body=long_body)
        for day in range(1, 11)})  # ~200 KB each
    tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        assert len(load_city(network, "lyon").documents) == 10
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 1_000_000, f"{kept:,} bytes kept after reading 10 long files"
