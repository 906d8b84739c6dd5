"""The built public sites (OUT/public), served by the service on the embedded default.

Behaves like the production nginx configuration (deploy/nginx/avf.conf): same types and
cache headers (`static_headers`), a folder's `index.html`, `/lyon` → `/lyon/`, precompressed
`.br`/`.gz` files beside the big originals and gzip on the fly for the small ones, ETag and
304, a French 404 page. City folders are links into `OUT/.releases/`: links are followed,
but a file is served only when its real path is a public one (never `OUT/members`, never
outside OUT), and no dot path ever is.
"""

from __future__ import annotations

import gzip
import os
import re
import stat
from dataclasses import dataclass, replace
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from urllib.parse import quote

import anyio.to_thread
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocketClose

from avf.build.publish import RELEASES, THEME
from avf.service.static_headers import (
    CACHE_REVALIDATE,
    GZIP_LEVEL,
    SECURITY_HEADERS,
    cache_control,
    compressed_on_the_fly,
    content_security_policy,
    content_type,
    site_policy,
)

# Content-Encoding → the suffix of the precompressed file beside the original.
PRECOMPRESSED = {"br": ".br", "gzip": ".gz"}
# Percent-escapes that would smuggle a separator or a NUL past the decoded path's checks.
ESCAPED_SEPARATOR = re.compile(rb"%(2f|5c|00)", re.IGNORECASE)
# Pages, feeds and stylesheets up to this size (bytes) are read whole in the lookup's
# thread: one thread hop instead of four, and gzipped there when they have no
# precompressed sibling. Larger files (photos, PDFs) are streamed in chunks and answer
# Range requests.
SMALL_FILE = 128 * 1024


@dataclass(frozen=True)
class PublicFile:
    real_path: str  # resolved: a later release swap cannot change it mid-download
    stat: os.stat_result


@dataclass(frozen=True)
class Found:
    file: PublicFile
    encoding: str | None  # the Content-Encoding of `file`, None for the original
    has_variants: bool  # other encodings exist: responses vary on Accept-Encoding
    body: bytes | None = None  # a small file's bytes (as sent), read along with the lookup
    on_the_fly: bool = False  # `file` is the original, sent gzipped (`body`, once read)


@dataclass(frozen=True)
class Folder:
    """A folder asked for without its trailing slash."""


@dataclass(frozen=True)
class Missing:
    page: bytes | None  # the city's or the portal's own 404.html


class PublicFiles:
    """ASGI app: GET and HEAD of the files of OUT/public."""

    def __init__(self, output_dir: Path):
        self.public = output_dir / "public"
        self.public.mkdir(parents=True, exist_ok=True)
        self.public_root = self.public.resolve()
        self.releases_root = (output_dir / RELEASES).resolve()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await WebSocketClose()(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(405, headers={"Allow": "GET, HEAD"})
        path = route_path(scope)
        parts = url_parts(path, scope.get("raw_path") or b"")
        headers = Headers(scope=scope)
        whole = scope["method"] == "GET" and not any(
            name in headers for name in ("range", "if-none-match", "if-modified-since"))
        answer = await anyio.to_thread.run_sync(
            self.look_up, parts, accepted_encodings(headers.get("accept-encoding")), whole,
            "range" in headers)
        if (isinstance(answer, Found) and answer.on_the_fly and answer.body is None
                and not not_modified(headers, etag(answer.file.stat, answer.encoding),
                                     answer.file.stat.st_mtime)):
            # A HEAD, or a conditional GET that is not a 304: its length, or its body.
            answer = await anyio.to_thread.run_sync(with_gzipped_body, answer)
        if isinstance(answer, Folder):
            query = scope.get("query_string", b"").decode("latin-1")
            location = quote(scope["path"]) + "/"  # the full path, with any root_path
            response: Response = RedirectResponse(
                location + (f"?{query}" if query else ""), status_code=301)
        elif isinstance(answer, Missing):
            if answer.page is None:
                raise HTTPException(404)
            response = Response(answer.page, status_code=404,
                                media_type=content_type("404.html"),
                                headers={"Cache-Control": CACHE_REVALIDATE, **SECURITY_HEADERS,
                                         "Content-Security-Policy": site_policy()})
        else:
            served = path + "index.html" if path.endswith("/") else path
            response = file_response(answer, served, headers)
        await response(scope, receive, send)

    def look_up(self, parts: list[str], encodings: list[str], whole: bool = False,
                ranged: bool = False) -> Found | Folder | Missing:
        """What the URL path made of `parts` is (filesystem work: runs in a thread);
        with `whole`, a small file's bytes too (gzipped, if that is how it is sent).

        A text file of 1 KiB up to SMALL_FILE without a `.gz` beside it is sent gzipped
        to a client that takes gzip, as nginx's `gzip on` does — except for a `Range`
        request (`ranged`), which gets its range of the original, where nginx would send
        the whole file gzipped.
        """
        relative = "/".join(parts)
        folder_asked = relative == "" or relative.endswith("/")
        candidate = self.public / relative
        if folder_asked:
            candidate /= "index.html"
        elif os.path.isdir(candidate) and self.public_file(candidate, folder=True):
            return Folder()
        original = self.public_file(candidate)
        if original is None:
            return Missing(self.not_found_page(parts))
        variants = {encoding: self.public_file(f"{original.real_path}{suffix}")
                    for encoding, suffix in PRECOMPRESSED.items()}
        chosen, encoding = original, None
        for accepted in encodings:
            variant = variants[accepted]
            if variant is not None:
                chosen, encoding = variant, accepted
                break
        size = original.stat.st_size
        gzippable = size <= SMALL_FILE and compressed_on_the_fly(candidate.name, size)
        on_the_fly = (encoding is None and gzippable and variants["gzip"] is None
                      and "gzip" in encodings and not ranged)
        found = Found(chosen, "gzip" if on_the_fly else encoding,
                      gzippable or any(variants.values()), on_the_fly=on_the_fly)
        if whole and on_the_fly:
            return with_gzipped_body(found)
        if whole and chosen.stat.st_size <= SMALL_FILE:
            with open(chosen.real_path, "rb") as stream:
                return replace(found, body=stream.read())
        return found

    def public_file(self, path: str | Path, folder: bool = False) -> PublicFile | None:
        """The file (or folder) at `path` if it exists and its real path is public."""
        real = os.path.realpath(path)
        if not self.is_public(Path(real)):
            return None
        try:
            status = os.stat(real)
        except OSError:
            return None
        kind = stat.S_ISDIR if folder else stat.S_ISREG
        return PublicFile(real, status) if kind(status.st_mode) else None

    def is_public(self, real: Path) -> bool:
        """Inside OUT/public, or in the public half of a release, or in the theme."""
        if real.is_relative_to(self.public_root):
            return True
        if not real.is_relative_to(self.releases_root):
            return False
        parts = real.relative_to(self.releases_root).parts
        return (len(parts) > 1 and parts[0] == THEME) or (len(parts) > 2 and
                                                          parts[2] == "public")

    def not_found_page(self, parts: list[str]) -> bytes | None:
        """The city's own 404.html, else the portal's, else None (the service's page)."""
        pages = ([f"{parts[0]}/404.html"] if len(parts) > 1 else []) + ["404.html"]
        for page in pages:
            found = self.public_file(self.public / page)
            if found is not None:
                with open(found.real_path, "rb") as stream:
                    return stream.read()
        return None


def with_gzipped_body(found: Found) -> Found:
    """`found` with its file's bytes gzipped as its body: the same bytes for the same file
    (no timestamp in the header), so its ETag holds."""
    with open(found.file.real_path, "rb") as stream:
        data = stream.read()
    return replace(found, body=gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0))


def route_path(scope: Scope) -> str:
    """The path below the app's mount point (`root_path` removed, as Starlette's own)."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root):] or "/" if root and path.startswith(root) else path


def url_parts(path: str, raw_path: bytes) -> list[str]:
    """The segments of a decoded URL path; refuses NULs, dot segments and empty ones.

    A trailing slash is kept as a last empty segment. Dot names (`..`, `.releases`,
    `.env`) and escaped slashes are never a published file: 404. A NUL is a broken
    request: 400.
    """
    if "\x00" in path or b"%00" in raw_path:
        raise HTTPException(400)
    parts = path.removeprefix("/").split("/")
    if (ESCAPED_SEPARATOR.search(raw_path) or "\\" in path or not path.startswith("/")
            or any(part == "" or part.startswith(".") for part in parts[:-1])
            or parts[-1].startswith(".")):
        raise HTTPException(404)
    return parts


def accepted_encodings(header: str | None) -> list[str]:
    """The precompressed encodings the client accepts, best first (`br` wins a tie).

    `Accept-Encoding: gzip;q=0` or `*;q=0` refuses an encoding; without the header the
    client gets the original.
    """
    weights: dict[str, float] = {}
    for item in (header or "").split(","):
        name, _, parameters = item.partition(";")
        weight = 1.0
        for parameter in parameters.split(";"):
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if name.strip():
            weights[name.strip().lower()] = weight
    if "x-gzip" in weights:
        weights.setdefault("gzip", weights["x-gzip"])
    chosen = [(weights.get(encoding, weights.get("*", 0.0)), encoding)
              for encoding in PRECOMPRESSED]
    return [encoding for weight, encoding in sorted(chosen, key=lambda c: -c[0]) if weight > 0]


def file_response(found: Found, url_path: str, request: Headers) -> Response:
    """The file, or 304 when the client's copy is current; headers per static_headers."""
    status = found.file.stat
    tag = etag(status, found.encoding)
    headers = {"Cache-Control": cache_control(url_path), "ETag": tag,
               "Last-Modified": formatdate(status.st_mtime, usegmt=True), **SECURITY_HEADERS}
    policy = content_security_policy(url_path)
    if policy:
        headers["Content-Security-Policy"] = policy
    if found.encoding:
        headers["Content-Encoding"] = found.encoding
    if found.has_variants:
        headers["Vary"] = "Accept-Encoding"
    if not_modified(request, tag, status.st_mtime):
        return Response(status_code=304, headers=headers)
    if found.body is not None:
        return Response(found.body, headers=headers, media_type=content_type(url_path))
    return FileResponse(found.file.real_path, headers=headers, stat_result=status,
                        media_type=content_type(url_path))


def etag(status: os.stat_result, encoding: str | None) -> str:
    """A strong validator from the file's identity.

    Published files are hard links to content-addressed objects (build/objects.py) that are
    never written in place: same inode, size and mtime means same bytes. Each encoding is
    a file of its own, and its ETag says which.
    """
    suffix = f"-{encoding}" if encoding else ""
    return f'"{status.st_ino:x}-{status.st_size:x}-{status.st_mtime_ns:x}{suffix}"'


def not_modified(request: Headers, tag: str, mtime: float) -> bool:
    """RFC 9110 §13.1: If-None-Match (any listed tag, weakly compared, or `*`) decides;
    If-Modified-Since counts only without it."""
    if_none_match = request.get("if-none-match")
    if if_none_match is not None:
        tags = [candidate.strip() for candidate in if_none_match.split(",")]
        return "*" in tags or any(candidate.removeprefix("W/") == tag for candidate in tags)
    if_modified_since = request.get("if-modified-since")
    if not if_modified_since:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored, as the RFC asks
    return since.tzinfo is not None and int(mtime) <= since.timestamp()
