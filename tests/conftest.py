"""Shared test helpers: scratch networks written inline, and a real build of them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from avf.build import BuildOptions, build_network
from avf.build.network import NetworkBuild

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CONTENT = PROJECT_ROOT / "content"
FIXED_NOW = "2026-11-28T12:00:00+01:00"
TEST_SITE_URL = "http://avf.test"

CITY_YAML = """\
name: "AVF {title}"
city: "{title}"
slug: "{slug}"
postal_code: "69001"
department: "Rhône"
department_code: "69"
region: "Auvergne-Rhône-Alpes"
email: "accueil@avf-{slug}.example.org"
lat: 45.76
lon: 4.83
address: "1 place des Terreaux, 69001 {title}"
phone: "04 78 00 00 00"
"""


def write(path: Path, text: str) -> Path:
    """Write dedented text, creating folders; return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def write_city(content: Path, slug: str, files: dict[str, str] | None = None,
               card: str | None = None) -> Path:
    """A city folder with a valid card and the given files (path relative to the city)."""
    folder = content / slug
    write(folder / "city.yaml", card if card is not None
          else CITY_YAML.format(slug=slug, title=slug.replace("-", " ").title()))
    for relative, text in (files or {}).items():
        write(folder / relative, text)
    return folder


def post(title: str, date: str = "2026-10-01", extra: str = "", body: str = "Texte.") -> str:
    """A minimal valid post; `extra` lines go in the front matter."""
    header = f'title: "{title}"\ndate: {date}\n' + textwrap.dedent(extra).strip("\n")
    return f"---\n{header.strip()}\n---\n\n{textwrap.dedent(body).strip()}\n"


def build(content: Path, output: Path, cities: tuple[str, ...] = (), jobs: int = 2,
          ) -> NetworkBuild:
    """A real build (worker processes, Pelican, publishing) with reproducible settings."""
    return build_network(BuildOptions(content_dir=content, output_dir=output, cities=cities,
                                      jobs=jobs, site_url=TEST_SITE_URL, now=FIXED_NOW))


@pytest.fixture
def network(tmp_path: Path) -> Path:
    """An empty content folder with the network's own folder, ready for cities."""
    content = tmp_path / "content"
    write(content / "_network" / "pages" / "a-propos.md",
          '---\ntitle: "Le réseau AVF"\n---\n\nLe réseau des AVF.\n')
    return content
