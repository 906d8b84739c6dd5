"""Members' photos: an upload becomes a small JPEG made afresh, so nothing of the original
file survives but its pixels — no EXIF (GPS position, camera, date), no XMP, no colour
profile, no comment, no second frame, no trailing bytes.

Stored under `AVF_DATA_DIR/photos/` with a random name; the service alone serves them, to
the people allowed to see them (directory_pages, profile_pages).
"""

from __future__ import annotations

import io
import os
import re
import secrets
import threading
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 8 * 1024 * 1024  # a whole photo form, file included
MAX_PIXELS = 40_000_000  # a phone's photo is ~12-50 MP; beyond that, memory is at risk
# PNG and WebP are decoded whole (JPEG at a reduced scale): a tiny file of a huge blank
# image would cost hundreds of MB. A 16 MP screenshot costs ~64 MB at most.
MAX_PIXELS_DECODED_WHOLE = 16_000_000
# At most this many photos are decoded at once, whatever the number of requests.
_DECODING = threading.BoundedSemaphore(2)
SIDE = 400  # pixels: the longest side of a stored photo
# A city site's photo: the theme's widest variant (avf/build/images.py: 480, 960, 1440 px),
# and a portrait photo as tall as a 2:3 one of that width.
SITE_BOX = (1440, 2160)
QUALITY = 85
ACCEPTED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
_NAME = re.compile(r"^[A-Za-z0-9_-]{22}\.jpg$")

NOT_A_PHOTO = ("Ce fichier n'est pas une photo que nous savons lire. Envoyez une photo au "
               "format JPEG, PNG ou WebP (par exemple celle de votre téléphone).")
TOO_MANY_PIXELS = ("Cette image est trop grande (trop de points). Envoyez une photo plus "
                   "petite, par exemple une copie d'écran de votre photo.")
TOO_HEAVY = (f"Cette photo est trop lourde : {MAX_UPLOAD_BYTES // (1024 * 1024)} Mo au "
             "plus. Choisissez une photo plus petite, ou réduisez-la d'abord.")
NO_FILE = "Choisissez d'abord une photo sur votre appareil, puis envoyez-la."


class PhotoError(ValueError):
    """An upload that cannot become a photo (the message says why, in French)."""


def portrait(upload: bytes) -> bytes:
    """The upload as a fresh JPEG of at most SIDE×SIDE pixels, upright, with no metadata;
    PhotoError if it is not a JPEG, PNG or WebP image we can read."""
    return reencoded(upload, (SIDE, SIDE))


def site_photo(upload: bytes) -> bytes:
    """A photo for a city site (the web editor's uploads): a fresh JPEG within SITE_BOX,
    upright, with no metadata (no GPS position); PhotoError as `portrait`."""
    return reencoded(upload, SITE_BOX)


def reencoded(upload: bytes, box: tuple[int, int]) -> bytes:
    """The upload as a fresh JPEG fitting `box`, upright, with no metadata."""
    if not upload:
        raise PhotoError(NO_FILE)
    with warnings.catch_warnings():
        # Pillow only warns below twice its own pixel limit: make that an error too.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with _DECODING:
                return _reencoded(upload, box)
        except PhotoError:
            raise
        except (UnidentifiedImageError, Image.DecompressionBombError,
                Image.DecompressionBombWarning, OSError, SyntaxError, ValueError,
                EOFError) as error:
            raise PhotoError(TOO_MANY_PIXELS if "pixels" in str(error) else NOT_A_PHOTO) \
                from error


def _reencoded(upload: bytes, box: tuple[int, int]) -> bytes:
    with Image.open(io.BytesIO(upload)) as probe:
        if probe.format not in ACCEPTED_FORMATS:
            raise PhotoError(NOT_A_PHOTO)
        limit = MAX_PIXELS if probe.format == "JPEG" else MAX_PIXELS_DECODED_WHOLE
        if probe.width * probe.height > limit:
            raise PhotoError(TOO_MANY_PIXELS)
        probe.verify()  # a truncated or corrupt file fails here
    with Image.open(io.BytesIO(upload)) as original:
        # A JPEG is decoded at the smallest scale (1/2, 1/4, 1/8) still larger than needed:
        # a 48 MP photo then costs a few MB of memory, not 150.
        original.draft("RGB", (box[0] * 2, box[1] * 2))
        upright = ImageOps.exif_transpose(original)  # the camera's rotation, applied
        upright.thumbnail(box, Image.Resampling.LANCZOS)
        rgba = upright.convert("RGBA")
    # A new image holds the pixels only: its `info` (EXIF, XMP, ICC, comments) is empty.
    clean = Image.new("RGB", rgba.size, "white")
    clean.paste(rgba, mask=rgba.getchannel("A"))
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=QUALITY, optimize=True)
    return out.getvalue()


def store_photo(folder: Path, jpeg: bytes) -> str:
    """Write the photo under a new random name (atomically); return the name."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(16)}.jpg"
    partial = folder / f".{name}.part"
    partial.write_bytes(jpeg)
    os.replace(partial, folder / name)
    return name


def photo_file(folder: Path, name: str | None) -> Path | None:
    """The stored photo called `name`, or None (no such file, or not a name we give)."""
    if not name or not _NAME.match(name):
        return None
    path = folder / name
    return path if path.is_file() else None


def remove_photo(folder: Path, name: str | None) -> None:
    """Delete a stored photo (nothing if there is none)."""
    path = photo_file(folder, name)
    if path is not None:
        path.unlink(missing_ok=True)


def photos_dir(data_dir: Path) -> Path:
    return data_dir / "photos"
