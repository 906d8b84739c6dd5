"""Grow the hand-written sample network into a synthetic network of N cities.

The sample cities are copied unchanged; each synthetic city is a real French commune
(see `communes.py`) whose posts and pages are those of a sample "template" city with the
city's name, postal code, phone and e-mail swapped in. Deterministic for a given seed.
"""

import os
import random
import re
import shutil
import time
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from avf.demo.communes import COMMUNES, Commune

NETWORK_DIR = "_network"
CITY_FILE = "city.yaml"
MEDIA_DIR = "media"

# Front-matter fields whose values mention the city and so must name the new one.
LOCALIZED_FIELDS = frozenset(
    {"title", "summary", "description", "place", "location", "venue", "address"}
)

_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
_FRONT_KEY = re.compile(r"^([ \t]*)(?:-[ \t]+)?([A-Za-z_][\w-]*)[ \t]*:(?=[ \t]|\r?\n|$)")
_SINGLE_QUOTED = re.compile(r"(\s*)'(.*)'(\s*)", re.DOTALL)
# Body spans that are link targets: never rewritten, so relative links stay valid.
_PROTECTED = re.compile(
    r"\]\([^)]*\)"  # inline link or image target
    r"|^[ \t]*\[[^\]\n]+\]:[^\n]*"  # reference-style link definition
    r"|\b(?:src|href|srcset|poster)=(?:\"[^\"]*\"|'[^']*')"  # raw HTML attributes
    r"|\b[a-z][a-z0-9+.-]*://[^\s)>\"']+"  # bare URLs
    r"|\{(?:static|filename|attach)\}[^\s)\"']+",  # Pelican link placeholders
    re.MULTILINE,
)
_VOWELS = frozenset("AEIOUYÂÀÄÉÈÊËÎÏÔÖÛÙÜŒ")
_CONTRACTED_ARTICLES = (("Les ", "aux ", "des "), ("Le ", "au ", "du "))

_STREETS = (
    "de la République",
    "Victor-Hugo",
    "Jean-Jaurès",
    "Pasteur",
    "du Général-de-Gaulle",
    "Gambetta",
    "Jules-Ferry",
    "Carnot",
    "de la Paix",
    "Émile-Zola",
    "Voltaire",
    "de la Mairie",
    "des Écoles",
    "Nationale",
    "du Marché",
)
_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi")
_AFTERNOONS = ("14 h – 17 h", "14 h – 18 h", "14 h 30 – 17 h 30", "15 h – 18 h")
_MORNINGS = ("9 h – 12 h", "9 h 30 – 12 h", "10 h – 12 h")
# First digit of French landline numbers by zone: 2 north-west, 3 north-east, 4 south-east,
# 5 south-west; Île-de-France (1) and the few departments that differ from their region below.
_PHONE_ZONE_BY_REGION = {
    "Île-de-France": "1",
    "Bretagne": "2",
    "Normandie": "2",
    "Pays de la Loire": "2",
    "Centre-Val de Loire": "2",
    "Hauts-de-France": "3",
    "Grand Est": "3",
    "Bourgogne-Franche-Comté": "3",
    "Auvergne-Rhône-Alpes": "4",
    "Provence-Alpes-Côte d'Azur": "4",
    "Corse": "4",
    "Occitanie": "5",
    "Nouvelle-Aquitaine": "5",
}
_PHONE_ZONE_BY_DEPARTMENT = {"11": "4", "30": "4", "34": "4", "48": "4", "66": "4"}


@dataclass(frozen=True)
class GrowReport:
    """What `grow_network` produced, for the CLI to show."""

    cities: int
    files: int
    seconds: float


@dataclass(frozen=True)
class SampleCity:
    """A hand-written city of the sample network, as far as growing needs to know it."""

    slug: str
    path: Path
    name: str
    postal_codes: tuple[str, ...]
    phone: str | None
    email: str | None
    has_posts: bool


@dataclass(frozen=True)
class CityCard:
    """The invented contact details of a synthetic city, shared by city.yaml and its pages."""

    commune: Commune
    email: str
    phone: str
    address: str
    opening_hours: tuple[str, ...]


@dataclass(frozen=True)
class _TemplateFile:
    """One entry of a template city: a folder, markdown text to localize, or a file to reuse."""

    rel: Path
    text: str | None
    source: Path
    is_dir: bool


def grow_network(sample_dir: Path, out_dir: Path, cities: int, seed: int = 42) -> GrowReport:
    """Write a network of exactly `cities` cities (sample first, then real communes) to out_dir."""
    started = time.perf_counter()
    sample_dir, out_dir = Path(sample_dir), Path(out_dir)
    if cities < 1:
        raise ValueError(f"cities must be at least 1, got {cities}")
    _require_empty(out_dir)
    samples = read_sample_cities(sample_dir)
    kept = samples[:cities]
    communes = pick_communes(cities - len(kept), samples, seed)

    out_dir.mkdir(parents=True, exist_ok=True)
    files = sum(_copy_tree(city.path, out_dir / city.slug) for city in kept)
    templates = [city for city in samples if city.has_posts] or samples
    cache: dict[str, list[_TemplateFile]] = {}
    for index, commune in enumerate(communes):
        template = templates[index % len(templates)]
        if template.slug not in cache:
            cache[template.slug] = _template_files(template)
        files += _write_synthetic_city(template, cache[template.slug], commune, out_dir, seed)
    network = sample_dir / NETWORK_DIR
    if network.is_dir():
        files += _copy_tree(network, out_dir / NETWORK_DIR)
    return GrowReport(len(kept) + len(communes), files, time.perf_counter() - started)


def _require_empty(out_dir: Path) -> None:
    """Refuse to mix generated cities with whatever already lives in out_dir."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise ValueError(f"output path {out_dir} exists and is not a directory")
    if any(out_dir.iterdir()):
        raise ValueError(f"output directory {out_dir} is not empty; choose an empty or new one")


def slugify(name: str) -> str:
    """URL-safe ASCII slug of a French name: "Saint-Étienne" -> "saint-etienne"."""
    name = name.replace("œ", "oe").replace("Œ", "Oe").replace("æ", "ae").replace("Æ", "Ae")
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return _SLUG_JUNK.sub("-", ascii_name.lower()).strip("-")


def read_sample_cities(sample_dir: Path) -> list[SampleCity]:
    """Sample cities (folders with a city.yaml, not starting with _ or .) in sorted order."""
    if not sample_dir.is_dir():
        raise ValueError(f"sample directory {sample_dir} does not exist")
    cities = [
        _read_sample_city(path)
        for path in sorted(sample_dir.iterdir())
        if path.is_dir() and path.name[:1] not in "_." and (path / CITY_FILE).is_file()
    ]
    if not cities:
        raise ValueError(f"sample directory {sample_dir} has no city (no <slug>/{CITY_FILE})")
    return cities


def _read_sample_city(path: Path) -> SampleCity:
    """Read the name and contact details a template city's content is written with."""
    try:
        data = yaml.safe_load((path / CITY_FILE).read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        data = None
    data = data if isinstance(data, dict) else {}
    name = str(data.get("city") or "").strip()
    if not name:
        name = str(data.get("name") or "").strip().removeprefix("AVF ").strip()
    if not name:
        name = path.name.replace("-", " ").title()
    postal_codes = [data.get("postal_code")]
    if isinstance(data.get("postal_codes"), list):
        postal_codes.extend(data["postal_codes"])
    posts = path / "posts"
    return SampleCity(
        slug=path.name,
        path=path,
        name=name,
        postal_codes=tuple(dict.fromkeys(str(code) for code in postal_codes if code)),
        phone=_optional_text(data.get("phone")),
        email=_optional_text(data.get("email")),
        has_posts=posts.is_dir() and any(posts.rglob("*.md")),
    )


def _optional_text(value: object) -> str | None:
    """A non-empty string from city.yaml, or None."""
    if value is None:
        return None
    return str(value).strip() or None


def pick_communes(count: int, samples: Iterable[SampleCity], seed: int) -> list[Commune]:
    """The first `count` communes, departments taken round-robin so any N is spread nationwide."""
    if count <= 0:
        return []
    taken = {slug for city in samples for slug in (city.slug, slugify(city.name))}
    ordered = list(_round_robin(seed, taken))
    if count > len(ordered):
        raise ValueError(
            f"cannot grow {count} synthetic cities: only {len(ordered)} real communes are "
            "available beyond the sample's cities"
        )
    return ordered[:count]


def _round_robin(seed: int, taken: set[str]) -> Iterator[Commune]:
    """Each department's biggest town first, department order shuffled by the seed."""
    by_department: dict[str, list[Commune]] = {}
    for commune in COMMUNES:
        if commune.slug not in taken:
            by_department.setdefault(commune.department_code, []).append(commune)
    for towns in by_department.values():
        towns.sort(key=lambda commune: (-commune.population, commune.slug))
    departments = sorted(by_department)
    random.Random(seed).shuffle(departments)
    deepest = max((len(towns) for towns in by_department.values()), default=0)
    for rank in range(deepest):
        for code in departments:
            if rank < len(by_department[code]):
                yield by_department[code][rank]


def _copy_tree(source: Path, target: Path) -> int:
    """Mirror a folder byte for byte (media hard-linked) and return the number of files."""
    count = 0
    target.mkdir(parents=True, exist_ok=True)
    for path in _walk(source):  # folders come before their content: no parent mkdir needed
        rel = path.relative_to(source)
        destination = target / rel
        if path.is_dir():
            destination.mkdir()
            continue
        _place(path, destination, link=MEDIA_DIR in rel.parts)
        count += 1
    return count


def _walk(root: Path) -> list[Path]:
    """Every folder and file under root, sorted so each folder precedes its content."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        found.extend(base / name for name in dirs)
        found.extend(base / name for name in files)
    return sorted(found, key=lambda path: path.relative_to(root).parts)


def _place(source: Path, destination: Path, *, link: bool) -> None:
    """Hard-link media (cheap, identical bytes); real copies for text people may edit."""
    if link:
        try:
            os.link(source, destination)
            return
        except OSError:
            pass
    shutil.copyfile(source, destination)


def _template_files(template: SampleCity) -> list[_TemplateFile]:
    """A template city's files, read once: markdown as text, the rest as paths to reuse."""
    files: list[_TemplateFile] = []
    for path in _walk(template.path):
        rel = path.relative_to(template.path)
        if rel == Path(CITY_FILE):
            continue
        is_dir = path.is_dir()
        text = None
        if not is_dir and path.suffix.lower() == ".md":
            try:
                text = path.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                text = None
        files.append(_TemplateFile(rel, text, path, is_dir))
    return files


def _write_synthetic_city(
    template: SampleCity,
    files: list[_TemplateFile],
    commune: Commune,
    out_dir: Path,
    seed: int,
) -> int:
    """Write one synthetic city: generated city.yaml plus the template's localized content."""
    root = out_dir / commune.slug
    root.mkdir(parents=True)
    card = make_card(commune, seed)
    (root / CITY_FILE).write_bytes(city_yaml(card).encode("utf-8"))
    renamer = Renamer(template, card)
    count = 1
    for item in files:  # folders come before their content: no parent mkdir needed
        destination = root / item.rel
        if item.is_dir:
            destination.mkdir()
            continue
        if item.text is None:
            _place(item.source, destination, link=MEDIA_DIR in item.rel.parts)
        else:
            destination.write_bytes(localize_markdown(item.text, renamer).encode("utf-8"))
        count += 1
    return count


def _quote(value: str) -> str:
    """YAML double-quoted scalar (escapes as JSON does, which YAML accepts)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def make_card(commune: Commune, seed: int) -> CityCard:
    """Invent a commune's AVF contact details; seeded per commune so order doesn't matter."""
    rng = random.Random(f"{seed}:{commune.slug}")
    street = rng.choice(_STREETS)
    address = (
        f"Maison des associations, {rng.randint(1, 60)} rue {street}, "
        f"{commune.postal_code} {commune.name}"
    )
    return CityCard(
        commune=commune,
        email=f"accueil@avf-{commune.slug}.example.org",
        phone=_phone(commune, rng),
        address=address,
        opening_hours=tuple(_opening_hours(rng)),
    )


def city_yaml(card: CityCard) -> str:
    """The city.yaml of a synthetic city, as deterministic text."""
    commune = card.commune
    tagline = "Bienvenue aux nouveaux arrivants " + french_forms(commune.name)["a"]
    lines = [
        f"name: {_quote('AVF ' + commune.name)}",
        f"city: {_quote(commune.name)}",
        f"slug: {_quote(commune.slug)}",
        f"postal_code: {_quote(commune.postal_code)}",
        f"department: {_quote(commune.department)}",
        f"department_code: {_quote(commune.department_code)}",
        f"region: {_quote(commune.region)}",
        f"email: {_quote(card.email)}",
        f"lat: {commune.lat!r}",
        f"lon: {commune.lon!r}",
        f"address: {_quote(card.address)}",
        f"phone: {_quote(card.phone)}",
        f"tagline: {_quote(tagline)}",
        "opening_hours:",
        *(f"  - {_quote(slot)}" for slot in card.opening_hours),
    ]
    return "\n".join(lines) + "\n"


def _phone(commune: Commune, rng: random.Random) -> str:
    """A fake landline in the commune's dialling zone, ending in 00 00 so it reads as fake."""
    zone = _PHONE_ZONE_BY_DEPARTMENT.get(
        commune.department_code, _PHONE_ZONE_BY_REGION.get(commune.region, "9")
    )
    return f"0{zone} {rng.randint(10, 99)} {rng.randint(10, 99)} 00 00"


def _opening_hours(rng: random.Random) -> list[str]:
    """One to three weekly opening slots, in weekday order."""
    days = sorted(rng.sample(_WEEKDAYS, rng.randint(1, 3)), key=_WEEKDAYS.index)
    return [f"{day} {rng.choice(_MORNINGS if day == 'samedi' else _AFTERNOONS)}" for day in days]


def french_forms(name: str) -> dict[str, str]:
    """How French writes a city name bare, after "à" and after "de" (au Mans, d'Angers)."""
    for article, to, of in _CONTRACTED_ARTICLES:
        if name.startswith(article):
            rest = name[len(article) :]
            return {"bare": name, "a": to + rest, "de": of + rest}
    of = f"d'{name}" if name[:1].upper() in _VOWELS else f"de {name}"
    return {"bare": name, "a": f"à {name}", "de": of}


class Renamer:
    """Rewrites a template city's name (with its prepositions) and contacts to a commune's."""

    def __init__(self, template: SampleCity, card: CityCard) -> None:
        self._variants = _name_variants(template.name)
        self._forms = french_forms(card.commune.name)
        self._postal = card.commune.postal_code
        names = "|".join(re.escape(v) for v in sorted(self._variants, key=len, reverse=True))
        pattern = rf"(?<![\w-])(?:{names})(?!\w)"
        # Any postal code written just before the name ("35700 Rennes"), then the known ones.
        pattern += rf"|(?<!\d)\d{{5}}(?=[ \u00a0](?:{names})(?!\w))"
        self._literals: dict[str, str] = {
            code: card.commune.postal_code for code in template.postal_codes
        }
        if self._literals:
            codes = "|".join(re.escape(code) for code in self._literals)
            pattern += rf"|(?<!\d)(?:{codes})(?!\d)"
        contacts = {template.phone: card.phone, template.email: card.email}
        self._contacts = {old: new for old, new in contacts.items() if old}
        self._literals.update(self._contacts)
        if self._contacts:
            alternatives = sorted(self._contacts, key=len, reverse=True)
            pattern += "|" + "|".join(re.escape(contact) for contact in alternatives)
        self._pattern = re.compile(pattern)
        self._contact_pattern = re.compile(
            "|".join(re.escape(contact) for contact in self._contacts) or r"(?!)"
        )

    def replace(self, text: str, apostrophe: str) -> str:
        """Text with every mention of the old city swapped for the new one."""
        return self._pattern.sub(lambda match: self._swap(match.group(0), apostrophe), text)

    def replace_contacts(self, text: str) -> str:
        """Only the phone and e-mail swapped: safe inside link targets (mailto:, tel:)."""
        return self._contact_pattern.sub(lambda match: self._contacts[match.group(0)], text)

    def _swap(self, found: str, apostrophe: str) -> str:
        """Replacement for one match, keeping its capitalisation and apostrophe style."""
        if found in self._literals:
            return self._literals[found]
        if found.isdigit():
            return self._postal
        kind, capitalized, used_apostrophe = self._variants[found]
        new = self._forms[kind]
        if kind == "de" and new.startswith("d'"):
            new = "d" + (used_apostrophe or apostrophe) + new[2:]
        if capitalized:
            new = new[:1].upper() + new[1:]
        return new


def _name_variants(name: str) -> dict[str, tuple[str, bool, str | None]]:
    """Every spelling of a name in running text -> (form kind, capitalized, apostrophe used)."""
    variants: dict[str, tuple[str, bool, str | None]] = {}
    for kind, form in french_forms(name).items():
        for capitalized in (False, True):
            text = form[:1].upper() + form[1:] if capitalized and kind != "bare" else form
            if kind == "de" and text[:2] in ("d'", "D'"):
                for mark in ("'", "’"):
                    variants[text[0] + mark + text[2:]] = (kind, capitalized, mark)
            else:
                variants.setdefault(text, (kind, capitalized, None))
    for article in ("Le ", "La ", "Les "):
        if name.startswith(article):
            variants.setdefault(article.lower() + name[len(article) :], ("bare", False, None))
    return variants


def localize_markdown(text: str, renamer: Renamer) -> str:
    """A template post or page rewritten for another city: front matter fields and body."""
    apostrophe = "’" if "’" in text else "'"
    lines = text.splitlines(keepends=True)
    end = _front_matter_end(lines)
    head = _localize_front_matter(lines[:end], renamer, apostrophe)
    return head + _localize_body("".join(lines[end:]), renamer, apostrophe)


def _front_matter_end(lines: list[str]) -> int:
    """Number of leading lines that are front matter (YAML `---` block or Pelican `Key: value`)."""
    if not lines:
        return 0
    if lines[0].rstrip("\r\n") == "---":
        for index in range(1, len(lines)):
            if lines[index].rstrip("\r\n") in ("---", "..."):
                return index + 1
        return 0
    first = _FRONT_KEY.match(lines[0])
    if not first or first.group(1) or lines[0].startswith("-"):
        return 0
    for index, line in enumerate(lines):
        if not line.strip():
            return index
    return len(lines)


def _localize_front_matter(lines: list[str], renamer: Renamer, apostrophe: str) -> str:
    """Rename the city in the localized fields only (nested ones too, like event.place)."""
    out: list[str] = []
    key: str | None = None
    for line in lines:
        match = _FRONT_KEY.match(line)
        if line.rstrip("\r\n") in ("---", "..."):
            key = None
        elif match:
            key = match.group(2).lower()
            if key in LOCALIZED_FIELDS:
                value = _localize_value(line[match.end() :], renamer, apostrophe)
                line = line[: match.end()] + value
        elif line[:1] in (" ", "\t", "-") and key in LOCALIZED_FIELDS:
            line = _localize_value(line, renamer, apostrophe)
        elif line.strip():
            key = None
        out.append(line)
    return "".join(out)


def _localize_value(value: str, renamer: Renamer, apostrophe: str) -> str:
    """Rename inside one YAML value, honouring single-quoted scalars ('' is an apostrophe)."""
    quoted = _SINGLE_QUOTED.fullmatch(value)
    if not quoted:
        return renamer.replace(value, apostrophe)
    lead, inner, trail = quoted.groups()
    renamed = renamer.replace(inner.replace("''", "'"), apostrophe).replace("'", "''")
    return f"{lead}'{renamed}'{trail}"


def _localize_body(body: str, renamer: Renamer, apostrophe: str) -> str:
    """Rename in the markdown body, leaving link and image targets untouched."""
    out: list[str] = []
    position = 0
    for match in _PROTECTED.finditer(body):
        out.append(renamer.replace(body[position : match.start()], apostrophe))
        out.append(renamer.replace_contacts(match.group(0)))
        position = match.end()
    out.append(renamer.replace(body[position:], apostrophe))
    return "".join(out)
