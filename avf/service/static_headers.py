"""What a published file is sent with: its Content-Type, its Cache-Control and the security
headers. One table for the service (`static.PublicFiles`) and for the nginx configuration
(`avf.deploy.nginx`), so the two ways of serving OUT/public never disagree."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from avf.build.precompress import COMPRESSIBLE

# Extension → media type. Our own table rather than the system's (`/etc/mime.types`, or
# nginx's own): those differ between machines, and Debian's lacks `.ics` and `.webmanifest`.
CONTENT_TYPES = {
    "html": "text/html", "htm": "text/html", "css": "text/css",
    "js": "text/javascript", "mjs": "text/javascript",  # RFC 9239
    "xml": "application/xml", "atom": "application/atom+xml", "rss": "application/rss+xml",
    "ics": "text/calendar", "json": "application/json", "map": "application/json",
    "webmanifest": "application/manifest+json", "txt": "text/plain", "csv": "text/csv",
    "svg": "image/svg+xml", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
    "gif": "image/gif", "webp": "image/webp", "avif": "image/avif",
    "ico": "image/vnd.microsoft.icon",
    "woff2": "font/woff2", "woff": "font/woff", "ttf": "font/ttf", "otf": "font/otf",
    "pdf": "application/pdf", "mp3": "audio/mpeg", "ogg": "audio/ogg", "mp4": "video/mp4",
    "webm": "video/webm", "odt": "application/vnd.oasis.opendocument.text",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "gz": "application/gzip",
}
DEFAULT_TYPE = "application/octet-stream"
# Pelican names its feeds `atom.xml` and `rss.xml` (a city's, the portal's, and any
# `<name>.atom.xml` a setting turns on): feed readers want the feed's own type.
FEED_TYPES = {"atom.xml": "application/atom+xml", "rss.xml": "application/rss+xml"}
# Text types, sent with `; charset=utf-8`: every file the build writes is UTF-8.
TEXT_TYPES = frozenset(
    media_type for media_type in CONTENT_TYPES.values()
    if media_type.startswith("text/") or media_type in {
        "application/xml", "application/atom+xml", "application/rss+xml",
        "application/json", "application/manifest+json", "image/svg+xml"})

# Compressed on the fly (gzip), by nginx and by the service alike, when no precompressed
# sibling lies beside the file — the build writes siblings only from 16 KiB
# (build/precompress.py says why): the types of the files the build would precompress.
COMPRESSED_TYPES = frozenset({CONTENT_TYPES[name] for name in COMPRESSIBLE}
                             | set(FEED_TYPES.values()))
# nginx's gzip_comp_level. On our pages level 5 is within 0.3 % of level 9's size (level 1:
# 8 % bigger), ~0.1 ms for a 7 KB page on the 2-core development machine.
GZIP_LEVEL = 5
GZIP_MIN_SIZE = 1024  # nginx's gzip_min_length: smaller files fit in one packet anyway

# Cache lifetimes, in seconds.
IMMUTABLE_MAX_AGE = 365 * 24 * 60 * 60  # 1 year: /theme/<version>/ never changes
MEDIA_MAX_AGE = 24 * 60 * 60  # 1 day: a volunteer may replace a photo under the same name
# Theme files live under a version named after their content hash (publish_theme).
THEME_VERSIONED = re.compile(r"^/theme/[0-9a-f]{8,64}/.")
# Pages, feeds and agendas change with every volunteer edit across 350 sites: browsers and
# proxies keep them but ask again each time (`no-cache`), and the ETag makes that a 304.
REVALIDATED = frozenset({"html", "htm", "xml", "atom", "rss", "ics", "json", "webmanifest",
                         "txt"})

CACHE_IMMUTABLE = f"public, max-age={IMMUTABLE_MAX_AGE}, immutable"
CACHE_REVALIDATE = "no-cache"
CACHE_MEDIA = f"public, max-age={MEDIA_MAX_AGE}"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "SAMEORIGIN",
}


# Files volunteers put in a city's media/ folder are served on the service's own origin:
# an SVG (or anything a browser may render as a document) opened directly is sandboxed —
# an opaque origin, no script — so it can never act as a signed-in webmaster or member.
# PDFs are left out: browsers' PDF viewers refuse to open in a sandbox, and a PDF's own
# scripts never reach the page's origin anyway.
MEDIA_PATH = re.compile(r"^/([a-z0-9-]+/)?media/")
MEDIA_POLICY = ("sandbox; default-src 'none'; img-src 'self' data:; "
                "style-src 'unsafe-inline'; media-src 'self'")
UNSANDBOXED_MEDIA = frozenset({"pdf"})


# Every other public file — the theme's pages above all — is sent with the sites' own
# policy: scripts, styles, fonts and fetches from the site's origin only, nothing inline
# (the theme has no inline script, style or event attribute: tests/test_csp.py), so a
# volunteer's text that slipped into a page as markup still could not run.
# 'wasm-unsafe-eval': Pagefind's search runs as WebAssembly (recherche/). `data:` images:
# Pagefind's UI draws its icons so. `form-action`: the pré-accueil form of a city with a
# domain of its own posts to the network's host, named by `site_policy(form_hosts)`.
SITE_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
               "script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'self'; "
               "frame-ancestors 'self'; form-action 'self'")


def site_policy(form_hosts: tuple[str, ...] = ()) -> str:
    """The sites' policy; forms may also post to `form_hosts` (host names)."""
    return " ".join((SITE_POLICY, *form_hosts))  # form-action is the policy's last part


def media_policy(path: str) -> str | None:
    """The Content-Security-Policy of the file at URL path `path`, if it is a media file."""
    if MEDIA_PATH.match(path) and extension(path) not in UNSANDBOXED_MEDIA:
        return MEDIA_POLICY
    return None


def content_security_policy(path: str, form_hosts: tuple[str, ...] = ()) -> str | None:
    """The Content-Security-Policy of the public file at URL path `path`: a media file's
    sandbox, none for a PDF of media/ (see above), else the sites' own."""
    if MEDIA_PATH.match(path):
        return media_policy(path)
    return site_policy(form_hosts)


def extension(path: str) -> str:
    return PurePosixPath(path).suffix.lstrip(".").lower()


def content_type(path: str) -> str:
    """The Content-Type header of the file at URL path `path` (with its charset)."""
    name = PurePosixPath(path).name.lower()
    media_type = next((feed for suffix, feed in FEED_TYPES.items() if name.endswith(suffix)),
                      CONTENT_TYPES.get(extension(name), DEFAULT_TYPE))
    return f"{media_type}; charset=utf-8" if media_type in TEXT_TYPES else media_type


def compressed_on_the_fly(path: str, size: int) -> bool:
    """Whether the file at URL path `path`, of `size` bytes, is gzipped when sent without
    a precompressed sibling (nginx's `gzip_types` and `gzip_min_length`)."""
    media_type = content_type(path).partition(";")[0]
    return media_type in COMPRESSED_TYPES and size >= GZIP_MIN_SIZE


def cache_control(path: str) -> str:
    """The Cache-Control header of the file at URL path `path`."""
    if THEME_VERSIONED.match(path):
        return CACHE_IMMUTABLE
    if path.endswith("/") or extension(path) in REVALIDATED:
        return CACHE_REVALIDATE
    return CACHE_MEDIA
