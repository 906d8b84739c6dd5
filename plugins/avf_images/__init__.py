"""Photos published resized, in WebP with a fallback, without metadata; `<img>` → `<picture>`.

Once Pelican has written every page and copied `media/` (signal `finalized`: the static
generator runs last), each photo of the published `media/` is replaced by its re-encode
without EXIF (no GPS position), with its smaller widths and WebP copies beside it
(`avf.build.images`, cached across builds in `AVF_IMAGE_CACHE`). Then every page, public or
member-only, gets its `<img>` of those photos rewritten into a `<picture>` with `srcset`,
`sizes`, `width`/`height` (no layout shift) and `loading="lazy"` — except the page's first
image, which is often in view at once (a post's photo under its title) and loads eagerly.
SVG and GIF images are left as they are.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from pelican import signals

from avf.build.images import ImageCache, Photo, Variant, publish_photos

# The theme's content column: the whole screen on a phone, 60rem less its padding above.
SIZES = "(max-width: 60rem) calc(100vw - 2rem), 58rem"
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([a-zA-Z_:][-\w:.]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")
_REPLACED = {"src", "srcset", "sizes", "width", "height", "loading", "decoding"}


def publish_images(pelican: Any) -> None:
    settings = pelican.settings
    cache = settings.get("AVF_IMAGE_CACHE")
    if not isinstance(cache, ImageCache):
        return  # a plain Pelican run, outside `avf build`: nothing to cache into
    output = Path(settings["OUTPUT_PATH"])
    photos = publish_photos(output / "media", cache)
    if not photos:
        return
    prefix = f"{settings['SITEURL']}/media/"
    folders = [output]
    if settings.get("AVF_MEMBERS_OUTPUT"):
        folders.append(Path(settings["AVF_MEMBERS_OUTPUT"]))
    for folder in folders:
        for page in folder.rglob("*.html"):
            text = page.read_text(encoding="utf-8")
            if "<img" not in text:
                continue
            rewritten = rewrite_images(text, photos, prefix)
            if rewritten != text:
                page.write_text(rewritten, encoding="utf-8")


def rewrite_images(page: str, photos: dict[str, Photo], prefix: str) -> str:
    """Every `<img>` of a processed photo (its `src` under `prefix`) as a `<picture>`."""
    seen = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal seen
        attributes = _attributes(match.group(0))
        src = html.unescape(attributes.get("src") or "")
        photo = photos.get(unquote(src[len(prefix):])) if src.startswith(prefix) else None
        if photo is None:
            return match.group(0)
        seen += 1
        return picture(photo, prefix, attributes, eager=seen == 1)

    return _IMG.sub(replace, page)


def picture(photo: Photo, prefix: str, attributes: dict[str, str | None], eager: bool) -> str:
    """The `<picture>` of a photo; the `<img>` keeps the other attributes written (alt,
    class, title) as they were."""
    largest = photo.largest
    kept = " ".join(name if value is None else f'{name}="{value}"'
                    for name, value in attributes.items() if name.lower() not in _REPLACED)
    loading = 'fetchpriority="high"' if eager else 'loading="lazy"'
    img = (f'<img src="{_url(prefix, largest)}" srcset="{_srcset(prefix, photo.fallback)}" '
           f'sizes="{SIZES}" width="{largest.width}" height="{largest.height}" '
           f'{kept + " " if kept else ""}{loading} decoding="async">')
    if largest.kind == "webp":
        return f"<picture>{img}</picture>"
    source = (f'<source type="image/webp" srcset="{_srcset(prefix, photo.webp)}" '
              f'sizes="{SIZES}">')
    return f"<picture>{source}{img}</picture>"


def _srcset(prefix: str, variants: tuple[Variant, ...]) -> str:
    return ", ".join(f"{_url(prefix, variant)} {variant.width}w" for variant in variants)


def _url(prefix: str, variant: Variant) -> str:
    return prefix + quote(variant.name)


def _attributes(tag: str) -> dict[str, str | None]:
    """The attributes of an `<img …>` tag, values as written (still escaped), no quotes."""
    inside = tag[len("<img"):].rstrip(">").rstrip("/")
    found: dict[str, str | None] = {}
    for match in _ATTRIBUTE.finditer(inside):
        name, value = match.group(1), match.group(2)
        if value is not None and value[:1] in ("\"", "'"):
            value = value[1:-1]
        found[name] = value
    return found


def register() -> None:
    signals.finalized.connect(publish_images)
