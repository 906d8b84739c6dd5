"""Golden files: one city's rendered pages, compared byte for byte with tests/golden/.

After a deliberate change to the theme or the plugins, regenerate them with
`invoke golden` (or AVF_UPDATE_GOLDEN=1 pytest tests/test_golden.py) and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import build, post, write, write_city

GOLDEN = Path(__file__).parent / "golden"
PAGES = [
    "index.html",
    "actualites/cafe-d-accueil-de-decembre.html",
    "actualites/visite-du-vieux-lyon.html",
    "adherer/index.html",
    "agenda/index.html",
    "etiquettes/convivialite.html",
    "archives.html",
    "atom.xml",
    "agenda.ics",
    "sitemap.xml",
]


@pytest.fixture(scope="module")
def golden_city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    content = tmp_path_factory.mktemp("golden") / "content"
    write(content / "_network" / "posts" / "2026-11-10-ag.md",
          post("Assemblée générale nationale", date="2026-11-10", extra="broadcast: true"))
    write_city(content, "lyon", {
        "posts/2026-11-20-cafe-d-accueil-de-decembre.md": post(
            "Café d'accueil de décembre", date="2026-11-20T09:30:00+01:00",
            extra='tags: [convivialité]\ncategory: "Vie de l\'association"\n'
                  'author: "Françoise M."\nsummary: "Un café pour faire connaissance."\n'
                  'image: "../media/cafe.jpg"\nimage_alt: "Des tasses sur une nappe"',
            body="""
                Chaque premier mardi, nous accueillons les **nouveaux arrivants**.

                ![La salle du local, des chaises en cercle](../media/salle.png)

                ## Au programme

                - présentation de l'association
                - [adhérer](../pages/adherer.md)

                | Jour | Heure |
                | --- | --- |
                | mardi | 9 h 30 |
            """),
        "posts/2026-11-25-visite-du-vieux-lyon.md": post(
            "Visite du Vieux-Lyon", date="2026-11-25", extra="""
                tags: [convivialité, sorties]
                event:
                  start: 2027-01-09T14:00:00+01:00
                  end: 2027-01-09T17:00:00+01:00
                  place: "Place Saint-Jean, Lyon"
                  registration: true
                  capacity: 20
            """, body="Rendez-vous devant la cathédrale, voir "
                       "[le café](2026-11-20-cafe-d-accueil-de-decembre.md)."),
        "pages/adherer.md": '---\ntitle: "Adhérer"\norder: 1\n---\n\nLa cotisation est de 30 €.\n',
    })
    _photo(content / "lyon" / "media" / "cafe.jpg", (1600, 1000), "JPEG")
    _photo(content / "lyon" / "media" / "salle.png", (700, 500), "PNG")
    output = content.parent / "output"
    assert build(content, output).ok
    return output / "public" / "lyon"


def _photo(path: Path, size: tuple[int, int], kind: str) -> None:
    """A plain image: the pages name its variants and sizes, not its bytes."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (200, 120, 40)).save(path, kind)


@pytest.mark.parametrize("page", PAGES)
def test_rendered_page_matches_golden(golden_city: Path, page: str) -> None:
    rendered = (golden_city / page).read_bytes()
    golden = GOLDEN / "lyon" / page
    if os.environ.get("AVF_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(rendered)
    assert golden.is_file(), f"no golden file for {page}: run `invoke golden`"
    assert rendered.decode() == golden.read_bytes().decode()
