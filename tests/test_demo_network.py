"""Tests for avf.demo: growing a tiny sample network into a synthetic network of N cities."""

import os
import re
from pathlib import Path

import pytest
import yaml

from avf.demo.communes import COMMUNES, DEPARTMENTS
from avf.demo.network import (
    CityCard,
    GrowReport,
    Renamer,
    SampleCity,
    french_forms,
    grow_network,
    localize_markdown,
    slugify,
)

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LINK = re.compile(r"\]\(([^)\s]+)\)")
REQUIRED_STRINGS = (
    "name",
    "city",
    "slug",
    "postal_code",
    "department",
    "department_code",
    "region",
    "email",
)
SAMPLE_SLUGS = {"angers", "rennes"}
GROWN = 40

RENNES_CITY = """\
name: "AVF Rennes"
city: "Rennes"
slug: "rennes"
postal_code: "35000"
department: "Ille-et-Vilaine"
department_code: "35"
region: "Bretagne"
email: "accueil@avf-rennes.example.org"
lat: 48.1173
lon: -1.6778
phone: "02 99 00 00 00"
accent: "vert"
"""

RENNES_POST = """\
---
title: "Balade au Thabor avec l'AVF Rennes"
date: 2026-04-02
slug: "balade-thabor"
summary: "Le plus beau jardin de Rennes, à Rennes même."
image: "../media/thabor.jpg"
event:
  start: 2026-04-18T14:30:00+02:00
  place: "Entrée du jardin, place Saint-Melaine, 35000 Rennes"
---

Venez découvrir le Thabor à Rennes : appelez le 02 99 00 00 00.

![Le kiosque du Thabor](../media/thabor.jpg)

Voir aussi [qui nous sommes](../pages/qui-sommes-nous.md).
"""

RENNES_MEMBERS = """\
---
title: "Compte rendu du conseil"
date: 2026-10-15
visibility: members
summary: "Réservé aux adhérents de l'AVF Rennes."
---

*Ce compte rendu est réservé aux adhérents.*
"""

RENNES_DRAFT = """\
---
title: "Brouillon : sortie à Saint-Malo"
date: 2026-11-26
status: draft
---

À compléter.
"""

RENNES_PAGE = """\
---
title: "Qui sommes-nous ?"
summary: "L'AVF Rennes accueille les nouveaux arrivants."
---

Nous accueillons les nouveaux habitants de Rennes. ![Le jardin](../media/thabor.jpg)
"""

ANGERS_CITY = """\
name: "AVF Angers"
city: "Angers"
slug: "angers"
postal_code: "49000"
department: "Maine-et-Loire"
department_code: "49"
region: "Pays de la Loire"
email: "accueil@avf-angers.example.org"
lat: 47.4739
lon: -0.5517
"""

ANGERS_POST = """\
---
title: "Visite du château d’Angers"
date: 2026-05-10
summary: "Les tapisseries de l’Apocalypse, au cœur d’Angers."
image: "../media/chateau.jpg"
---

Rendez-vous devant le château d’Angers. ![Le château](../media/chateau.jpg)
"""


def _write(path: Path, content: str | bytes) -> None:
    """Create a file and its folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def make_sample(root: Path) -> Path:
    """A two-city sample network with posts, pages, media, member-only post and draft."""
    _write(root / "rennes" / "city.yaml", RENNES_CITY)
    _write(root / "rennes" / "posts" / "2026-04-02-balade-thabor.md", RENNES_POST)
    _write(root / "rennes" / "posts" / "2026-10-15-conseil.md", RENNES_MEMBERS)
    _write(root / "rennes" / "posts" / "2026-11-26-saint-malo.md", RENNES_DRAFT)
    _write(root / "rennes" / "pages" / "qui-sommes-nous.md", RENNES_PAGE)
    _write(root / "rennes" / "media" / "thabor.jpg", b"\xff\xd8\xff\xe0fake-jpeg-thabor")
    _write(root / "angers" / "city.yaml", ANGERS_CITY)
    _write(root / "angers" / "posts" / "2026-05-10-chateau.md", ANGERS_POST)
    _write(root / "angers" / "media" / "chateau.jpg", b"\xff\xd8\xff\xe0fake-jpeg-chateau")
    _write(root / "_network" / "pages" / "le-reseau.md", "---\ntitle: Le réseau\n---\n\nAVF.\n")
    _write(
        root / "_network" / "posts" / "2026-01-01-voeux.md",
        "---\ntitle: Vœux\n---\n\nBonne année.\n",
    )
    return root


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under root, by relative path, with its bytes."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def city_dirs(root: Path) -> list[str]:
    """City folders of a network (everything but _network)."""
    return sorted(path.name for path in root.iterdir() if path.is_dir() and path.name != "_network")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sample(tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="module")
def grown(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GrowReport]:
    out = tmp_path_factory.mktemp("grown") / "network"
    return out, grow_network(sample, out, GROWN)


def synthetic(out: Path) -> list[Path]:
    """Synthetic city folders of a grown network."""
    return [out / name for name in city_dirs(out) if name not in SAMPLE_SLUGS]


@pytest.mark.parametrize("cities", [1, 2, 3, 25])
def test_exact_city_count(sample: Path, tmp_path: Path, cities: int) -> None:
    out = tmp_path / "out"
    report = grow_network(sample, out, cities)
    assert report.cities == cities
    assert len(city_dirs(out)) == cities
    assert (out / "_network").is_dir()
    assert report.files == sum(1 for path in out.rglob("*") if path.is_file())


def test_fewer_cities_than_sample_keeps_first_in_sorted_order(sample: Path, tmp_path: Path) -> None:
    grow_network(sample, tmp_path / "out", 1)
    assert city_dirs(tmp_path / "out") == ["angers"]


def test_report(grown: tuple[Path, GrowReport]) -> None:
    out, report = grown
    assert report.cities == GROWN
    assert report.files == sum(1 for path in out.rglob("*") if path.is_file())
    assert 0 <= report.seconds < 5
    with pytest.raises(AttributeError):
        report.cities = 1  # type: ignore[misc]


def test_sample_cities_and_network_copied_byte_for_byte(
    sample: Path, grown: tuple[Path, GrowReport]
) -> None:
    out, _ = grown
    for name in ("rennes", "angers", "_network"):
        assert tree_bytes(out / name) == tree_bytes(sample / name)


def test_synthetic_city_yaml_has_required_fields(grown: tuple[Path, GrowReport]) -> None:
    out, _ = grown
    for city in synthetic(out):
        data = yaml.safe_load((city / "city.yaml").read_text(encoding="utf-8"))
        for field in REQUIRED_STRINGS:
            assert isinstance(data[field], str) and data[field], (city.name, field)
        assert data["slug"] == city.name
        assert data["name"] == f"AVF {data['city']}"
        assert re.fullmatch(r"\d{5}", data["postal_code"])
        assert re.fullmatch(r"\d{2}|2A|2B", data["department_code"])
        assert data["email"] == f"accueil@avf-{data['slug']}.example.org"
        assert isinstance(data["lat"], float) and 41.0 < data["lat"] < 51.5
        assert isinstance(data["lon"], float) and -5.5 < data["lon"] < 10.0
        assert data["city"] in data["address"] and data["postal_code"] in data["address"]
        assert re.fullmatch(r"0[1-5] \d{2} \d{2} 00 00", data["phone"])
        assert data["tagline"].startswith("Bienvenue aux nouveaux arrivants ")
        hours = data["opening_hours"]
        assert isinstance(hours, list) and 1 <= len(hours) <= 3
        assert all(isinstance(slot, str) for slot in hours)
        assert not {"accent", "logo", "banner", "domain"} & data.keys()


def test_slugs_valid_and_unique(grown: tuple[Path, GrowReport]) -> None:
    out, _ = grown
    names = city_dirs(out)
    assert len(names) == len(set(names)) == GROWN
    assert all(SLUG.match(name) for name in names)
    cities = [yaml.safe_load((out / name / "city.yaml").read_text())["city"] for name in names]
    assert len(set(cities)) == len(cities)


def test_relative_links_in_synthetic_content_resolve(grown: tuple[Path, GrowReport]) -> None:
    out, _ = grown
    checked = 0
    for city in synthetic(out):
        for page in city.rglob("*.md"):
            for target in LINK.findall(page.read_text(encoding="utf-8")):
                if re.match(r"[a-z]+:|#|/", target):
                    continue
                assert (page.parent / target).is_file(), (page, target)
                checked += 1
    assert checked > 0


def test_synthetic_content_is_localized(sample: Path, grown: tuple[Path, GrowReport]) -> None:
    out, _ = grown
    from_rennes = [
        city for city in synthetic(out) if (city / "posts" / "2026-04-02-balade-thabor.md").exists()
    ]
    assert from_rennes, "some synthetic cities must use rennes as template"
    for city in from_rennes:
        card = yaml.safe_load((city / "city.yaml").read_text(encoding="utf-8"))
        name, postal = card["city"], card["postal_code"]
        text = (city / "posts" / "2026-04-02-balade-thabor.md").read_text(encoding="utf-8")
        front = yaml.safe_load(text.split("---\n")[1])
        assert "Rennes" not in text
        assert name in front["title"]
        assert front["event"]["place"].endswith(f"{postal} {name}")
        assert str(front["date"]) == "2026-04-02"
        assert front["slug"] == "balade-thabor"
        assert front["image"] == "../media/thabor.jpg"
        assert card["phone"] in text
        assert french_forms(name)["a"] in text
        members = (city / "posts" / "2026-10-15-conseil.md").read_text(encoding="utf-8")
        assert "visibility: members" in members
        draft = (city / "posts" / "2026-11-26-saint-malo.md").read_text(encoding="utf-8")
        assert "status: draft" in draft
        assert (city / "media" / "thabor.jpg").read_bytes() == (
            sample / "rennes" / "media" / "thabor.jpg"
        ).read_bytes()


def test_media_hard_linked(sample: Path, grown: tuple[Path, GrowReport]) -> None:
    out, _ = grown
    copies = list(out.glob("*/media/chateau.jpg"))
    assert len(copies) > 1
    for copy in copies:
        assert os.path.samefile(copy, sample / "angers" / "media" / "chateau.jpg")


def test_templates_cycle_over_sample_cities(grown: tuple[Path, GrowReport]) -> None:
    out, _ = grown
    templates = {
        tuple(sorted(path.name for path in (city / "posts").iterdir())) for city in synthetic(out)
    }
    assert len(templates) == 2


def test_deterministic(sample: Path, tmp_path: Path) -> None:
    grow_network(sample, tmp_path / "a", 30, seed=7)
    grow_network(sample, tmp_path / "b", 30, seed=7)
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")


def test_seed_changes_the_network(sample: Path, tmp_path: Path) -> None:
    grow_network(sample, tmp_path / "a", 30, seed=1)
    grow_network(sample, tmp_path / "b", 30, seed=2)
    assert tree_bytes(tmp_path / "a") != tree_bytes(tmp_path / "b")


def test_existing_empty_out_dir_is_accepted(sample: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    assert grow_network(sample, tmp_path / "out", 3).cities == 3


def test_refuses_non_empty_out_dir(sample: Path, tmp_path: Path) -> None:
    _write(tmp_path / "out" / "keep.txt", "do not overwrite")
    with pytest.raises(ValueError, match="not empty"):
        grow_network(sample, tmp_path / "out", 3)
    assert city_dirs(tmp_path / "out") == []


@pytest.mark.parametrize("cities", [0, -1])
def test_refuses_fewer_than_one_city(sample: Path, tmp_path: Path, cities: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        grow_network(sample, tmp_path / "out", cities)
    assert not (tmp_path / "out").exists()


def test_refuses_sample_without_city(tmp_path: Path) -> None:
    _write(tmp_path / "sample" / "_network" / "pages" / "a.md", "---\ntitle: A\n---\n")
    with pytest.raises(ValueError, match="no city"):
        grow_network(tmp_path / "sample", tmp_path / "out", 3)


def test_refuses_more_cities_than_communes(sample: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="real communes"):
        grow_network(sample, tmp_path / "out", len(COMMUNES) + 10)


def test_communes_reference_data() -> None:
    slugs = [commune.slug for commune in COMMUNES]
    assert len(COMMUNES) >= 400
    assert len(set(slugs)) == len(slugs)
    assert {commune.department_code for commune in COMMUNES} == set(DEPARTMENTS)
    assert len(DEPARTMENTS) == 96
    for commune in COMMUNES:
        assert commune.slug == slugify(commune.name)
        assert re.fullmatch(r"\d{5}", commune.postal_code)
        expected_prefix = "20" if commune.department_code in ("2A", "2B") else ""
        assert commune.postal_code.startswith(expected_prefix or commune.department_code[:2])
        assert 41.3 < commune.lat < 51.1 and -5.2 < commune.lon < 9.6
    big = sum(commune.population >= 10_000 for commune in COMMUNES)
    assert big / len(COMMUNES) > 0.95


def test_slugify() -> None:
    assert slugify("Saint-Étienne") == "saint-etienne"
    assert slugify("L'Haÿ-les-Roses") == "l-hay-les-roses"
    assert slugify("Les Sables-d'Olonne") == "les-sables-d-olonne"


def test_french_forms() -> None:
    assert french_forms("Rennes") == {"bare": "Rennes", "a": "à Rennes", "de": "de Rennes"}
    assert french_forms("Angers")["de"] == "d'Angers"
    assert french_forms("Le Mans") == {"bare": "Le Mans", "a": "au Mans", "de": "du Mans"}
    assert french_forms("Les Herbiers")["a"] == "aux Herbiers"
    assert french_forms("La Rochelle")["de"] == "de La Rochelle"


def _renamer(old: str, new: str) -> Renamer:
    template = SampleCity(old.lower(), Path(), old, ("35000",), None, None, True)
    commune = next(commune for commune in COMMUNES if commune.name == new)
    card = CityCard(commune, "e@x.example.org", "02 00 00 00 00", "", ("lundi 9 h – 12 h",))
    return Renamer(template, card)


def test_localize_handles_prepositions_quotes_and_links() -> None:
    renamer = _renamer("Angers", "Le Mans")
    text = (
        "---\ntitle: 'Fête d''Angers'\ndate: 2026-01-01\nslug: angers-fete\n---\n\n"
        "À Angers, la ville d’Angers et 49000 Angers. Vieux-Angers reste. "
        "[photo](../media/Angers.jpg)\n"
    )
    assert localize_markdown(text, renamer) == (
        "---\ntitle: 'Fête du Mans'\ndate: 2026-01-01\nslug: angers-fete\n---\n\n"
        "Au Mans, la ville du Mans et 72000 Le Mans. Vieux-Angers reste. "
        "[photo](../media/Angers.jpg)\n"
    )
    back = _renamer("Le Mans", "Angers")
    assert localize_markdown("Au Mans, l’AVF du Mans.\n", back) == "À Angers, l’AVF d’Angers.\n"
