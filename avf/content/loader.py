"""Load a city's folder (card, posts, pages), collecting every problem instead of stopping."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from avf.content.cards import read_city_card
from avf.content.documents import read_document
from avf.content.links import Link, images_without_alt, relative_links
from avf.content.model import RESERVED_SLUGS, SLUG_PATTERN, City, Document, Kind
from avf.content.problems import ContentError, Problem
from avf.content.values import slugify

NETWORK_SLUG = "_network"
MARKDOWN_SUFFIXES = (".md", ".markdown")
FOLDERS: tuple[tuple[str, Kind], ...] = (("posts", "post"), ("pages", "page"))


@dataclass
class CityContent:
    """Everything read from one city folder, with the problems found on the way."""

    slug: str
    folder: Path
    city: City | None
    documents: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.severity == "error"]

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def published(self, kind: Kind) -> list[Document]:
        """Published documents of one kind, public and member-only alike."""
        return [doc for doc in self.documents if doc.kind == kind and doc.is_published]


def discover_cities(content_root: Path) -> list[str]:
    """Every city folder under the content root, sorted; `_network` and dot folders excluded."""
    if not content_root.is_dir():
        return []
    with os.scandir(content_root) as entries:  # the kind of each entry without a stat
        return sorted(entry.name for entry in entries
                      if entry.is_dir() and not entry.name.startswith((".", "_")))


def load_city(content_root: Path, slug: str,
              candidates: dict[str, str | None] | None = None) -> CityContent:
    """Read and validate one city folder; problems are collected, never raised.

    `candidates` checks the city as it would be after an edit, without writing anything:
    a path relative to the city folder ("posts/x.md") mapped to the file's new text, or to
    None for a file about to be deleted (the web editor validates before it commits)."""
    folder = content_root / slug
    shown = f"{content_root.name}/{slug}"
    content = CityContent(slug=slug, folder=folder, city=None)
    if not SLUG_PATTERN.match(slug) or slug in RESERVED_SLUGS:
        content.problems.append(Problem(shown, None, _bad_folder_name(slug)))
        return content
    card = folder / "city.yaml"
    if not card.is_file():
        content.problems.append(Problem(
            f"{shown}/city.yaml", None,
            "la fiche de la ville (city.yaml) est absente ; copiez celle d'une autre ville "
            "et adaptez le nom, le code postal et les coordonnées",
        ))
    else:
        try:
            content.city = read_city_card(card, f"{shown}/city.yaml", slug)
        except ContentError as error:
            content.problems.append(error.problem)
    content.problems.extend(_symbolic_links(folder, shown))
    _load_documents(content, shown, network=False, candidates=candidates or {})
    return content


def _symbolic_links(folder: Path, shown: str) -> list[Problem]:
    """A symbolic link in the content would publish whatever it points to (a server file,
    another city's member pages): every one is an error, whatever its target."""
    problems = []
    for root, dirs, files in os.walk(folder):  # links to folders are listed, never followed
        for name in sorted(dirs + files):
            path = Path(root) / name
            if path.is_symlink():
                problems.append(Problem(
                    f"{shown}/{path.relative_to(folder).as_posix()}", None,
                    "ce fichier est un lien symbolique, que le site ne publie pas ; "
                    "remplacez-le par une vraie copie du fichier"))
    return problems


def load_network(content_root: Path,
                 candidates: dict[str, str | None] | None = None) -> CityContent:
    """Read the national portal's own pages and news (`_network/`); `candidates` as for
    `load_city`."""
    content = CityContent(slug=NETWORK_SLUG, folder=content_root / NETWORK_SLUG, city=None)
    shown = f"{content_root.name}/{NETWORK_SLUG}"
    if content.folder.is_dir():
        content.problems.extend(_symbolic_links(content.folder, shown))
    _load_documents(content, f"{content_root.name}/{NETWORK_SLUG}", network=True,
                    candidates=candidates or {})
    return content


def _load_documents(content: CityContent, shown: str, network: bool,
                    candidates: dict[str, str | None] | None = None) -> None:
    candidates = candidates or {}
    for folder_name, kind in FOLDERS:
        folder = content.folder / folder_name
        on_disk = sorted(folder.rglob("*")) if folder.is_dir() else []
        # Pelican reads sub-folders too (posts/2025/x.md): so must validation.
        new = [content.folder / rel for rel, text in candidates.items()
               if text is not None and rel.startswith(f"{folder_name}/")]
        for path in sorted({*on_disk, *new}):
            rel = path.relative_to(content.folder).as_posix()
            if rel in candidates and candidates[rel] is None:
                continue
            if rel not in candidates and not path.is_file():
                continue
            if any(part.startswith(".") for part in path.parts):
                continue
            shown_as = f"{shown}/{path.relative_to(content.folder).as_posix()}"
            problem = _file_name_problem(path, shown_as)
            if problem is not None:
                content.problems.append(problem)
                continue
            if path.suffix not in MARKDOWN_SUFFIXES:
                continue
            try:
                content.documents.append(read_document(
                    path, content.folder, shown_as, kind, network=network,
                    text=candidates.get(rel)))
            except ContentError as error:
                content.problems.append(error.problem)
    _check_unique_slugs(content)
    _check_links(content)
    _check_alt_texts(content)


def _file_name_problem(path: Path, shown_as: str) -> Problem | None:
    """A name the build cannot publish: not UTF-8, or a Markdown file in capitals."""
    try:
        path.name.encode("utf-8")
    except UnicodeEncodeError:
        readable = path.name.encode("utf-8", "surrogateescape").decode("cp1252", "replace")
        return Problem(shown_as.encode("utf-8", "backslashreplace").decode("utf-8"), None,
                       f"le nom du fichier « {readable} » contient des caractères illisibles ; "
                       "renommez-le avec des lettres sans accent, des chiffres et des tirets")
    if path.suffix.lower() in MARKDOWN_SUFFIXES and path.suffix not in MARKDOWN_SUFFIXES:
        return Problem(shown_as, None,
                       f"l'extension « {path.suffix} » doit être écrite en minuscules ; "
                       f"renommez le fichier en « {path.stem}{path.suffix.lower()} »")
    return None


def _check_unique_slugs(content: CityContent) -> None:
    seen: dict[tuple[str, str], Document] = {}
    for doc in content.documents:
        key = (doc.kind, doc.slug)
        first = seen.setdefault(key, doc)
        if first is not doc:
            content.problems.append(Problem(
                doc.shown_as, doc.slug_line,
                f"l'adresse « {doc.slug} » est déjà prise par {first.shown_as} ; deux "
                "publications d'une même ville doivent avoir des adresses différentes : "
                "renommez ce fichier ou ajoutez une ligne « slug: » différente",
            ))


def _check_links(content: CityContent) -> None:
    """Every relative link names a published document of the city or a file of media/."""
    by_path = {os.path.normpath(doc.source): doc for doc in content.documents}
    city_root = os.path.normpath(content.folder)
    media = os.path.join(city_root, "media") + os.sep
    for doc in content.documents:
        for link in relative_links(doc.body, doc.body_line):
            message = _link_problem(link, doc, by_path, city_root, media)
            if message:
                content.problems.append(Problem(doc.shown_as, link.line, message))


def _check_alt_texts(content: CityContent) -> None:
    """Every published image says what it shows (read aloud by screen readers, shown when
    it does not load): a warning, an error under `avf build --strict`."""
    for doc in content.documents:
        if not doc.is_published:
            continue
        if doc.image and not doc.image_alt:
            content.problems.append(Problem(
                doc.shown_as, doc.image_line,
                f"l'image « {doc.image} » n'a pas de description ; ajoutez sous « image: » "
                "une ligne comme image_alt: \"Des randonneurs sur un chemin de campagne\", "
                "qui dit ce que montre la photo", severity="warning"))
        for target, line in images_without_alt(doc.body, doc.body_line):
            content.problems.append(Problem(
                doc.shown_as, line,
                f"l'image « {target} » n'a pas de description ; écrivez entre les crochets "
                f"ce que montre la photo, par exemple ![Des randonneurs sur un chemin]"
                f"({target or '../media/photo.jpg'})", severity="warning"))


def _link_problem(link: Link, doc: Document, by_path: dict[str, Document], city_root: str,
                  media: str) -> str | None:
    target = os.path.normpath(os.path.join(doc.source.parent, link.path))
    what = "l'image" if link.is_image else "le lien"
    if link.path.startswith("www."):
        return (f"{what} « {link.target} » est une adresse de site : écrivez-la en entier, "
                f"avec https:// devant (https://{link.target})")
    if not target.startswith(city_root + os.sep):
        return (f"{what} « {link.target} » sort du dossier de la ville ; pour une image, "
                "placez-la dans le dossier media de la ville ; pour une page d'une autre "
                "ville, écrivez son adresse sur le site, par exemple /lyon/adherer/")
    if not os.path.isfile(target):
        return (f"{what} « {link.target} » pointe vers un fichier qui n'existe pas ; "
                "vérifiez le nom (majuscules, accents, extension) et le dossier")
    linked = by_path.get(target)
    if linked is None and not target.startswith(media):
        return (f"{what} « {link.target} » ne peut pas être publié : seuls les articles, "
                "les pages et les fichiers du dossier media peuvent être liés ; placez le "
                "fichier dans le dossier media")
    if linked is not None and doc.is_published and not linked.is_published:
        return (f"le lien « {link.target} » pointe vers un texte qui n'est pas encore "
                "publié ; publiez-le d'abord ou retirez le lien")
    return None


def _bad_folder_name(slug: str) -> str:
    if slug in RESERVED_SLUGS:
        return (f"le nom de dossier « {slug} » est réservé par le site du réseau ; renommez "
                f"le dossier, par exemple en « avf-{slug} »")
    return (f"le nom de dossier « {slug} » n'est pas valable : seuls les minuscules sans "
            f"accent, les chiffres et les tirets sont permis ; renommez-le en "
            f"« {slugify(slug) or 'ma-ville'} »")
