"""Photos of a city, published at the widths the theme uses, in WebP with a fallback, and
without their metadata (a phone photo carries where it was taken).

Each photo is decoded once per content (sha256 of its bytes): its variants land in a
content-addressed cache under the output folder (`OUT/.image-cache/`), keyed by
(source sha256, width, format, PROCESSING_VERSION), with a small manifest written last. An
unchanged photo — in the next build, or in another city that uses the same file — is
copied from the cache, never decoded again. Raise PROCESSING_VERSION when the encoding
changes, so old entries are no longer used.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

PROCESSING_VERSION = 1
WIDTHS = (480, 960, 1440)  # px: phone, content column (60rem), its double for dense screens
CACHE_DIR = Path(".image-cache")
# Photos that are re-encoded; SVG, GIF (animations) and anything else are published as is.
FORMATS = {".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".webp": "webp"}
_SAVE = {
    "jpeg": {"format": "JPEG", "quality": 82, "optimize": True, "progressive": True},
    "png": {"format": "PNG", "optimize": True},
    "webp": {"format": "WEBP", "quality": 80, "method": 4},
}
_SUFFIX = {"jpeg": ".jpg", "png": ".png", "webp": ".webp"}
_ORIENTATION = 0x0112  # EXIF tag
# APP1 (EXIF, XMP), APP3–APP13 (APP13: Photoshop/IPTC, captions and places), APP15, COM.
_DROPPED_SEGMENTS = {0xE1, *range(0xE3, 0xEE), 0xEF, 0xFE}


@dataclass(frozen=True)
class Variant:
    """One published file of a photo: its size and its name, relative to `media/`."""

    width: int
    height: int
    kind: str  # "webp", or the fallback's format: "jpeg", "png"
    name: str


@dataclass(frozen=True)
class Photo:
    """A published photo: its fallback variants (the largest is the original's own name,
    re-encoded) and its WebP variants, both from the smallest width up."""

    name: str  # relative to media/, e.g. "sorties/cafe.jpg"
    fallback: tuple[Variant, ...]
    webp: tuple[Variant, ...]

    @property
    def largest(self) -> Variant:
        return self.fallback[-1]


class ImageCache:
    """The processed variants of every photo the network published, shared by builds and
    workers (files are written to a temporary name and renamed: a reader never sees half a
    file). Counts what this process decoded and what it reused."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.processed = 0
        self.reused = 0

    def variants(self, source: Path) -> tuple[tuple[int, int], dict[tuple[int, str], Path]]:
        """The photo's size (after orientation) and its cached files by (width, kind)."""
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        kinds = _kinds(FORMATS[source.suffix.lower()])
        manifest = self.folder / digest[:2] / f"{digest}.v{PROCESSING_VERSION}.json"
        size = _read_manifest(manifest)
        if size is not None:
            files = {(width, kind): self._entry(digest, width, kind)
                     for width in widths_for(size[0]) for kind in kinds}
            if all(path.is_file() for path in files.values()):
                self.reused += 1
                return size, files
        size, files = self._process(source, digest, kinds)
        _write_atomically(manifest, json.dumps({"size": size}).encode())
        self.processed += 1
        return size, files

    def _process(self, source: Path, digest: str,
                 kinds: tuple[str, ...]) -> tuple[tuple[int, int], dict[tuple[int, str], Path]]:
        from PIL import Image, ImageOps

        with Image.open(source) as opened:
            upright = opened.getexif().get(_ORIENTATION, 1) == 1
            image = ImageOps.exif_transpose(opened)  # turn it as the camera said, then forget
            image.load()
        size = image.size
        files = {}
        for width in widths_for(size[0]):
            resized = image if width == size[0] else image.resize(
                (width, scaled_height(size, width)), Image.Resampling.LANCZOS)
            for kind in kinds:
                data = _encode(resized, kind, image.info.get("icc_profile"))
                if width == size[0] and kind == "jpeg" == FORMATS[source.suffix.lower()] \
                        and upright:
                    # Re-encoding a photo at its own size loses quality and often grows
                    # it: its own bytes without metadata are kept when smaller.
                    stripped = strip_jpeg_metadata(source.read_bytes())
                    data = stripped if len(stripped) <= len(data) else data
                path = self._entry(digest, width, kind)
                _write_atomically(path, data)
                files[(width, kind)] = path
        return (size[0], size[1]), files

    def _entry(self, digest: str, width: int, kind: str) -> Path:
        key = hashlib.sha256(f"{digest}:{width}:{kind}:{PROCESSING_VERSION}".encode())
        name = key.hexdigest()
        return self.folder / name[:2] / f"{name}{_SUFFIX[kind]}"


def publish_photos(media: Path, cache: ImageCache) -> dict[str, Photo]:
    """Replace every photo of a published `media/` folder by its stripped re-encode and add
    its variants beside it; return the photos by name relative to `media/`."""
    photos: dict[str, Photo] = {}
    if not media.is_dir():
        return photos
    sources = sorted(path for path in media.rglob("*")
                     if path.is_file() and path.suffix.lower() in FORMATS)
    for source in sources:
        try:
            size, files = cache.variants(source)
        except (OSError, ValueError, SyntaxError):  # not a readable image: published as is
            continue
        photos[source.relative_to(media).as_posix()] = _publish(source, media, size, files)
    return photos


def widths_for(source_width: int) -> list[int]:
    """The theme's widths, never wider than the photo itself (no upscaling)."""
    return sorted({min(width, source_width) for width in WIDTHS})


def scaled_height(size: tuple[int, int], width: int) -> int:
    return max(1, round(size[1] * width / size[0]))


def _publish(source: Path, media: Path, size: tuple[int, int],
             files: dict[tuple[int, str], Path]) -> Photo:
    fallback_kind = FORMATS[source.suffix.lower()]
    widths = widths_for(size[0])
    stem = source.relative_to(media).with_suffix("")
    variants: dict[str, list[Variant]] = {"fallback": [], "webp": []}
    for width in widths:
        for kind in _kinds(fallback_kind):
            if width == widths[-1] and kind == fallback_kind:
                target = source  # the original's own URL serves the largest fallback
            else:
                target = media / f"{stem}.{width}{_SUFFIX[kind]}"
            shutil.copyfile(files[(width, kind)], f"{target}.tmp")
            os.replace(f"{target}.tmp", target)
            variant = Variant(width, scaled_height(size, width), kind,
                              target.relative_to(media).as_posix())
            variants["webp" if kind == "webp" else "fallback"].append(variant)
            if kind == "webp" and fallback_kind == "webp":
                variants["fallback"].append(variant)
    return Photo(source.relative_to(media).as_posix(), tuple(variants["fallback"]),
                 tuple(variants["webp"]))


def strip_jpeg_metadata(data: bytes) -> bytes:
    """The same JPEG without its EXIF/XMP (APP1), IPTC and other application segments or
    comments; the image data, JFIF header (APP0), colour profile (APP2) and Adobe colour
    transform (APP14) are kept byte for byte."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG file")
    kept = bytearray(data[:2])
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            raise ValueError("damaged JPEG file")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        length = int.from_bytes(data[position + 2:position + 4], "big")
        segment = data[position:position + 2 + length]
        if marker == 0xDA:  # start of scan: the image data follows, to the end
            kept += data[position:]
            return bytes(kept)
        if marker not in _DROPPED_SEGMENTS:
            kept += segment
        position += 2 + length
    raise ValueError("truncated JPEG file")


def _kinds(fallback_kind: str) -> tuple[str, ...]:
    return ("webp",) if fallback_kind == "webp" else ("webp", fallback_kind)


def _encode(image, kind: str, icc_profile: bytes | None) -> bytes:  # type: ignore[no-untyped-def]
    """The image in `kind`, with no EXIF, XMP or comment: only the colour profile stays."""
    import io

    if kind == "jpeg" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    elif kind in ("webp", "png") and image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA" if "A" in image.mode else "RGB")
    options = dict(_SAVE[kind])
    if icc_profile:
        options["icc_profile"] = icc_profile
    buffer = io.BytesIO()
    image.save(buffer, **options)
    return buffer.getvalue()


def _read_manifest(path: Path) -> tuple[int, int] | None:
    try:
        width, height = json.loads(path.read_text(encoding="utf-8"))["size"]
        return int(width), int(height)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
