"""The city's photos as the edit form offers them for the main photo: the files of
`content/<city>/media/` (named through `paths.photos_of`, so nothing outside the folder and
no symbolic link is ever listed), newest first, each with the description a text already
gives it — volunteers choose a picture, not a file name.

"Newest" is the last commit that touched the photo (one `git log` over `media/`, as the
list of texts does), or the file's own date for a photo not committed yet.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from avf.editor.checkout import Checkout
from avf.editor.drafts import DraftError, read_draft
from avf.editor.listing import last_changes
from avf.editor.paths import MEDIA_FOLDER, documents_of, photos_of

SHOWN = 24  # photos the form shows at first: a city with 500 photos stays a light page


@dataclass(frozen=True)
class CityPhoto:
    """One photo of the city, as the form's choice shows it."""

    rel: str  # "media/2026-cafe-du-jeudi.jpg"
    words: str  # its file name in words: "2026 cafe du jeudi"
    description: str  # what a text's image_alt says it shows ("" when no text uses it)
    version: int  # changes when the file does (the thumbnail's address)

    @property
    def name(self) -> str:
        return self.rel.split("/", 1)[1]

    @property
    def alt(self) -> str:
        return self.description or self.words


@dataclass(frozen=True)
class PhotoChoice:
    """What the photo fieldset shows: the photos offered, the one chosen, how many exist."""

    photos: list[tuple[str, CityPhoto]]  # (the `image` value, the photo), newest first
    total: int  # photos of the city
    current: CityPhoto | None  # the chosen photo, when it is one of the city's
    current_value: str  # the `image` field as the text has it ("" for none)

    @property
    def more(self) -> bool:
        return self.total > len(self.photos)


def from_text(text_rel: str) -> str:
    """`../` as many times as the text is deep in its city folder (posts/x.md: once; a new
    text is a post or a page, so once too)."""
    depth = max(1, text_rel.count("/")) if text_rel else 1
    return "../" * depth


def city_photos(checkout: Checkout | None, folder: Path) -> list[CityPhoto]:
    """Every photo of the city folder, newest first."""
    rels = photos_of(folder)
    if not rels:
        return []
    changes = last_changes(checkout, folder / MEDIA_FOLDER) if checkout is not None else {}
    descriptions = described_photos(folder)
    photos = []
    for rel in rels:
        name = rel.split("/", 1)[1]
        try:
            stat = (folder / rel).stat()
        except OSError:
            continue
        change = changes.get(name)
        when = change.when.timestamp() if change is not None else stat.st_mtime
        photos.append((when, CityPhoto(rel, words_of(name), descriptions.get(rel, ""),
                                       stat.st_mtime_ns ^ stat.st_size)))
    photos.sort(key=lambda pair: (pair[0], pair[1].rel), reverse=True)
    return [photo for _, photo in photos]


def described_photos(folder: Path) -> dict[str, str]:
    """`media/x.jpg` → the description (image_alt) a text of the city gives it as its main
    photo (the newest text's, when several do)."""
    found: dict[str, str] = {}
    for rel in reversed(documents_of(folder)):  # posts are named by date: newest first
        try:
            fields = read_draft((folder / rel).read_text(encoding="utf-8")).fields
        except (OSError, UnicodeDecodeError, DraftError):
            continue
        image, alt = fields.get("image"), " ".join(str(fields.get("image_alt") or "").split())
        if isinstance(image, str) and alt:
            found.setdefault(photo_rel(rel, image) or "", alt)
    found.pop("", None)
    return found


def photo_rel(text_rel: str, image: str) -> str | None:
    """The `media/x.jpg` an `image` field names from the text `text_rel`, or None when it
    names nothing in media/ (a new text counts as a post)."""
    image = image.strip()
    if not image or "\\" in image or image.startswith("/") or ":" in image:
        return None
    base = posixpath.dirname(text_rel or "posts/nouveau.md")
    rel = posixpath.normpath(posixpath.join(base, image))
    parts = rel.split("/")
    return rel if len(parts) == 2 and parts[0] == MEDIA_FOLDER else None


def words_of(name: str) -> str:
    """A file name as words: "2026-cafe_du-jeudi.jpg" → "2026 cafe du jeudi"."""
    stem = name.rsplit(".", 1)[0]
    return " ".join(re.split(r"[-_.\s]+", stem)).strip() or name


def photo_choice(photos: list[CityPhoto], text_rel: str, current_value: str,
                 everything: bool = False, shown: int = SHOWN) -> PhotoChoice:
    """The photos to offer: the `shown` newest (all of them with `everything`), and the
    chosen one whatever its age, each with the `image` value that names it from the text."""
    prefix = from_text(text_rel)
    chosen = photo_rel(text_rel, current_value) if current_value else None
    current = next((photo for photo in photos if photo.rel == chosen), None)
    offered = photos if everything else photos[:shown]
    if current is not None and current not in offered:
        offered = [*offered, current]
    values = [(current_value if photo is current else prefix + photo.rel, photo)
              for photo in offered]
    return PhotoChoice(values, len(photos), current, current_value)
