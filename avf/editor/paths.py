"""Which files the web editor may touch, and where they are: the editor's security boundary.

Every city and path the editor handles comes from a browser, so it is hostile until this
module has named the file: a city is a real folder of the content (no symbolic link, no
reserved or malformed name), and a path inside it is one of the few kinds a volunteer edits
— `posts/…md`, `pages/…md`, `media/<photo>` or `city.yaml` — written with plain names (no
`..`, no absolute path, no backslash, no percent-encoding, no control character, no hidden
file) and reached without crossing a symbolic link. Nothing outside `content/<city>/` can be
named, so nothing outside can be read or written, whatever the request says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from avf.content.loader import NETWORK_SLUG
from avf.content.model import RESERVED_SLUGS, SLUG_PATTERN
from avf.content.values import slugify

FileKind = Literal["post", "page", "media", "card"]
CARD = "city.yaml"
DOCUMENT_FOLDERS: dict[str, FileKind] = {"posts": "post", "pages": "page"}
MEDIA_FOLDER = "media"
MEDIA_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif")
MAX_PATH_LENGTH = 200
# A name as volunteers (and git pushes) write them: letters, digits, dashes, underscores,
# dots and spaces — never a leading dot (hidden files), never "..".
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,119}$")
# Sub-folders of posts/ and pages/ (posts/2025/x.md) are read by the build: one level.
_MAX_DEPTH = 3
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SLUG_LENGTH = 80  # characters of a title kept in a new file's name


class PathRefused(Exception):
    """A city or path the editor will not touch; the message says why, in French."""


@dataclass(frozen=True)
class CityFile:
    """A file of one city, named safely: `rel` inside the city folder, `path` on disk."""

    city: str
    rel: str  # "posts/2026-01-05-galette.md"
    path: Path
    kind: FileKind


def city_folder(content_dir: Path, city: str) -> Path:
    """The folder of `city` (or of the network's own content, `_network`), or PathRefused:
    unknown, reserved, malformed or a link."""
    if not isinstance(city, str):
        raise PathRefused("cette ville n'existe pas")
    if city != NETWORK_SLUG and (not SLUG_PATTERN.match(city) or city in RESERVED_SLUGS):
        raise PathRefused("cette ville n'existe pas")
    folder = content_dir / city
    if folder.is_symlink() or not folder.is_dir():
        raise PathRefused("cette ville n'existe pas")
    if not folder.resolve().is_relative_to(content_dir.resolve()):
        raise PathRefused("cette ville n'existe pas")
    return folder


def city_file(content_dir: Path, city: str, rel: str) -> CityFile:
    """Name the file `rel` of `city` (it may not exist yet), or raise PathRefused."""
    folder = city_folder(content_dir, city)
    parts = _parts(rel)
    kind = _kind(parts)
    path = folder.joinpath(*parts)
    _no_link_on_the_way(folder, parts)
    if not path.resolve().is_relative_to(folder.resolve()):
        raise PathRefused("ce fichier n'appartient pas au dossier de la ville")
    if path.exists() and not path.is_file():
        raise PathRefused("ce nom est celui d'un dossier, pas d'un fichier")
    return CityFile(city, "/".join(parts), path, kind)


def _parts(rel: str) -> list[str]:
    if not isinstance(rel, str) or not rel or len(rel) > MAX_PATH_LENGTH:
        raise PathRefused("nom de fichier manquant ou trop long")
    if any(ord(char) < 32 or char in "\\%\x7f:" for char in rel):
        raise PathRefused("le nom du fichier contient des caractères interdits")
    if rel.startswith("/"):
        raise PathRefused("le chemin doit partir du dossier de la ville")
    parts = rel.split("/")
    if len(parts) > _MAX_DEPTH or any(part in ("", ".", "..") for part in parts):
        raise PathRefused("le chemin du fichier n'est pas valable")
    if not all(_NAME.match(part) and ".." not in part for part in parts):
        raise PathRefused("le nom du fichier contient des caractères interdits")
    return parts


def _kind(parts: list[str]) -> FileKind:
    if parts == [CARD]:
        return "card"
    folder, name = parts[0], parts[-1]
    if folder in DOCUMENT_FOLDERS and len(parts) >= 2 and name.endswith(".md"):
        return DOCUMENT_FOLDERS[folder]
    if folder == MEDIA_FOLDER and len(parts) >= 2 and name.lower().endswith(MEDIA_SUFFIXES):
        return "media"
    raise PathRefused("l'éditeur ne modifie que les articles, les pages, les photos et la "
                      "fiche de la ville")


def _no_link_on_the_way(folder: Path, parts: list[str]) -> None:
    """Refuse a path that crosses a symbolic link: it could lead anywhere on the server."""
    current = folder
    for part in parts:
        current = current / part
        if current.is_symlink():
            raise PathRefused("ce fichier est un lien symbolique : l'éditeur n'y touche pas")


def new_document_rel(folder: Path, kind: FileKind, slug: str, day: str | None) -> str:
    """A free path for a new post (`posts/2026-11-29-<slug>.md`) or page (`pages/<slug>.md`),
    numbered when the name is taken."""
    if kind not in ("post", "page") or not SLUG_PATTERN.match(slug):
        raise PathRefused("le titre doit contenir au moins une lettre ou un chiffre")
    if day is not None and not _DAY.match(day):  # the name is built here: never from input
        raise PathRefused("la date doit s'écrire année-mois-jour, par exemple 2026-12-05")
    stem = f"{day}-{slug}" if kind == "post" and day else slug
    base = "posts" if kind == "post" else "pages"
    candidate, number = f"{base}/{stem}.md", 2
    while (folder / candidate).exists():
        candidate, number = f"{base}/{stem}-{number}.md", number + 1
    return candidate


def new_text_file(content_dir: Path, city: str, kind: FileKind, title: str, typed_day: str,
                  today: date) -> CityFile:
    """The file a new text of `city` gets, named from its title and (for a post) its date —
    the date as typed when it is a real year-month-day, else `today` (the browser sends
    what it likes: the name is built here, never taken from input)."""
    slug = slugify(title)[:SLUG_LENGTH].strip("-")
    if not slug:
        raise PathRefused("donnez un titre à votre texte (avec au moins une lettre) : il sert "
                          "aussi à nommer sa page")
    typed_day = typed_day.strip()
    day = typed_day if _DAY.match(typed_day) else f"{today:%Y-%m-%d}"
    rel = new_document_rel(city_folder(content_dir, city), kind, slug,
                           day if kind == "post" else None)
    return city_file(content_dir, city, rel)


def documents_of(folder: Path) -> list[str]:
    """Every post and page of a city folder, as `rel` paths, skipping hidden files and links."""
    found = []
    for base in DOCUMENT_FOLDERS:
        root = folder / base
        if not root.is_dir() or root.is_symlink():
            continue
        for path in sorted(root.rglob("*.md")):
            rel = path.relative_to(folder).as_posix()
            try:
                _kind(_parts(rel))
                _no_link_on_the_way(folder, rel.split("/"))
            except PathRefused:
                continue
            found.append(rel)
    return found


def photos_of(folder: Path) -> list[str]:
    """Every photo of a city folder's `media/` (`media/x.jpg`), as `city_file` would accept
    it: plain names, photo suffixes, no hidden file, no symbolic link (a link planted in
    media/ could show any file of the server in the editor's photo choice)."""
    root = folder / MEDIA_FOLDER
    if not root.is_dir() or root.is_symlink():
        return []
    found = []
    for path in sorted(root.iterdir()):
        rel = f"{MEDIA_FOLDER}/{path.name}"
        try:
            if _kind(_parts(rel)) != "media":
                continue
            _no_link_on_the_way(folder, rel.split("/"))
        except PathRefused:
            continue
        if path.is_file():
            found.append(rel)
    return found
