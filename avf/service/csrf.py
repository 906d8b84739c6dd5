"""CSRF protection for every form of the service.

Two checks, both on every POST of a form:
- **Origin**: a browser names the page a form was posted from; a POST from another site is
  refused. (Browsers send `Origin` on every cross-site POST, and on same-site ones too.)
- **Token**: each visitor gets a random nonce in an `HttpOnly` cookie; forms carry
  `csrf_token`, an HMAC of that nonce with the service's secret (the "signed double-submit
  cookie" pattern): another site can neither read the cookie nor forge the HMAC.

The contact form of the static city sites cannot carry a token (a static page knows no
visitor), so it is checked by Origin alone (`protected_form(request, token=False)`), with
its honeypot and rate limits on top. A form that sends a file (a city admin's list of
members, a member's photo) is read by `protected_upload`, with the same two checks and a
cap on its size, counted as the body arrives.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "avf_csrf"
FIELD = "csrf_token"
MAX_FORM_BYTES = 1_000_000  # a form (without uploads) larger than this is refused
MAX_FIELDS = 100  # no form of ours has that many fields
MAX_UPLOAD_BYTES = 2_000_000  # a whole form with its file; a city's list of members is ~50 KB
MAX_FILES = 1  # no form of ours sends more than one file
REFUSED = ("Ce formulaire a expiré ou ne vient pas de ce site. Rechargez la page, puis "
           "envoyez-le à nouveau.")


def token_for(nonce: str, secret: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


def issue_token(request: Request) -> str:
    """The token for this visitor's forms. Only a response that issued one sets the nonce
    cookie: static pages and files stay cookie-free, so shared caches can keep them."""
    request.state.csrf_issued = True
    return str(getattr(request.state, "csrf_token", ""))


class CsrfMiddleware:
    """Knows each visitor's nonce (from the cookie, or a new one) and puts the matching
    token in `request.state`; sets the cookie when a new nonce's token was issued."""

    def __init__(self, app: ASGIApp, secret: str, secure: bool):
        self.app = app
        self.secret = secret
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = Request(scope).cookies.get(COOKIE, "")
        fresh = not (len(nonce) == 43 and nonce.replace("-", "").replace("_", "").isalnum())
        if fresh:
            nonce = secrets.token_urlsafe(32)
        scope.setdefault("state", {})
        scope["state"]["csrf_nonce"] = nonce
        scope["state"]["csrf_token"] = token_for(nonce, self.secret)

        async def send_with_cookie(message: Message) -> None:
            if fresh and message["type"] == "http.response.start" \
                    and scope["state"].get("csrf_issued"):
                cookie = f"{COOKIE}={nonce}; Path=/; HttpOnly; SameSite=Lax"
                if self.secure:
                    cookie += "; Secure"
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"set-cookie", cookie.encode())]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


async def protected_form(request: Request, token: bool = True,
                         origins: Collection[str] = ()) -> FormData:
    """The posted form, once its Origin (and, unless `token=False`, its token) is checked;
    403 with a French explanation otherwise. Only URL-encoded forms (no file) are read
    here, and at most MAX_FORM_BYTES of them, however the body is sent (chunked too).
    `origins` (`https://host`) may post it too: a city's site served from its own domain."""
    if not (same_origin(request) or from_origins(request, origins)):
        raise HTTPException(403, REFUSED)
    form = await _urlencoded_form(request)
    if token:
        _check_token(request, form)
    return form


class UploadTooLarge(HTTPException):
    """A form with a file sent more bytes than its cap (413; the page that posted it may
    catch this to show the form again with the message)."""

    def __init__(self, max_bytes: int):
        super().__init__(413, f"Ce fichier est trop lourd : {max_bytes // (1024 * 1024)} Mo "
                              "au plus. Choisissez un fichier plus petit, puis réessayez.")
        self.max_bytes = max_bytes


@dataclass(frozen=True)
class UploadedForm:
    """A posted form that may carry files: its text fields, and each file's name and bytes
    (an empty file input gives no entry)."""

    fields: FormData
    files: dict[str, tuple[str, bytes]]


async def protected_upload(request: Request, max_bytes: int = MAX_UPLOAD_BYTES) -> UploadedForm:
    """A `multipart/form-data` form (one with a file), checked like `protected_form` (Origin,
    then token); 413 when the whole body is over `max_bytes`, counted as it arrives, so an
    endless upload is cut short there (files are spooled in memory, on disk past 1 MB, and
    closed either way)."""
    if not same_origin(request):
        raise HTTPException(403, REFUSED)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "multipart/form-data":
        raise HTTPException(400, "Ce formulaire doit être envoyé depuis sa page : revenez-y, "
                                 "puis envoyez-le à nouveau.")
    if int(request.headers.get("content-length") or 0) > max_bytes:
        raise UploadTooLarge(max_bytes)

    async def capped() -> AsyncIterator[bytes]:
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes:
                raise UploadTooLarge(max_bytes)
            yield chunk

    parser = MultiPartParser(request.headers, capped(), max_files=MAX_FILES,
                             max_fields=MAX_FIELDS, max_part_size=max_bytes)
    try:
        parsed = await parser.parse()
    except MultiPartException:
        raise HTTPException(400) from None
    fields: list[tuple[str, str]] = []
    files: dict[str, tuple[str, bytes]] = {}
    for name, value in parsed.multi_items():
        if isinstance(value, UploadFile):
            content = await value.read()
            await value.close()
            if value.filename or content:
                files[name] = (value.filename or "", content)
        else:
            fields.append((name, value))
    form = FormData(fields)
    _check_token(request, form)
    return UploadedForm(fields=form, files=files)


def _check_token(request: Request, form: FormData) -> None:
    """403 unless the form's token is the HMAC of this visitor's nonce cookie."""
    sent = str(form.get(FIELD, "")).encode("utf-8", "replace")
    expected = str(getattr(request.state, "csrf_token", "")).encode()
    # A fresh nonce means the visitor came without the cookie: their token cannot match.
    if not expected or not hmac.compare_digest(sent, expected) \
            or request.cookies.get(COOKIE) != getattr(request.state, "csrf_nonce", None):
        raise HTTPException(403, REFUSED)


async def _urlencoded_form(request: Request) -> FormData:
    """The body read once (a handler may check the same form twice)."""
    known = getattr(request.state, "posted_form", None)
    if known is not None:
        return known  # type: ignore[no-any-return]
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("application/x-www-form-urlencoded", ""):
        raise HTTPException(400, "Ce formulaire doit être envoyé depuis sa page : revenez-y, "
                                 "puis envoyez-le à nouveau.")
    if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
        raise HTTPException(413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(413)
    if kind == "" and body:
        raise HTTPException(400)
    try:
        fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                           max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(400) from None
    request.state.posted_form = FormData(fields)
    return request.state.posted_form  # type: ignore[no-any-return]


def from_origins(request: Request, origins: Collection[str]) -> bool:
    """The request comes from a page of one of `origins` (`scheme://host[:port]`)."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null" or not origins:
        return False
    parts = urlsplit(source)
    return f"{parts.scheme}://{parts.netloc}".lower() in {origin.lower() for origin in origins}


def same_origin(request: Request) -> bool:
    """The request comes from a page of this site (Origin, else Referer, must match the
    Host the browser asked for). A request naming neither is refused: browsers name one."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return False
    parts = urlsplit(source)
    return bool(parts.netloc) and parts.netloc.lower() == request.url.netloc.lower()
