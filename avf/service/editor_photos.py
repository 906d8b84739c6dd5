"""Photos of the web editor: POST /editeur/<ville>/photos (a photo from the phone and its
description) commits a clean copy to the city's `media/` folder, as the volunteer; GET
/editeur/<ville>/photos/<nom> shows the city's photos inside the editor.

The upload is decoded with the members' photo code (`avf.service.photos`: JPEG, PNG or
WebP only, pixel limits checked before decoding, so a tiny file of a huge image is
refused), turned upright, shrunk to the theme's largest width and written afresh as a
JPEG: no EXIF, hence no GPS position, no XMP, no trailing bytes. The answer is JSON for
the page's script (the Markdown to insert), or a short French page without script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from avf.content.values import slugify
from avf.editor.checkout import Change, EditConflict
from avf.editor.media import from_text
from avf.editor.paths import PathRefused, city_file
from avf.service.csrf import UploadTooLarge, protected_upload
from avf.service.editor_access import author_of, checkout, editor_of
from avf.service.editor_actions import form_again
from avf.service.editor_thumbnails import thumbnail
from avf.service.people import Person
from avf.service.photos import PhotoError, site_photo
from avf.service.ratelimit import Limit, RateLimiter
from avf.service.runtime import runtime

MAX_PHOTO_BYTES = 15 * 1024 * 1024  # a phone's photo is 2-8 MB; the whole form
PHOTO_LIMIT = Limit("editor-photo", attempts=40, window=timedelta(hours=1))
MAX_ALT = 300  # characters of a description
NO_ALT = ("Décrivez la photo en quelques mots (par exemple « Trois bénévoles servent le "
          "café à l'accueil ») : les personnes qui ne la voient pas l'entendront lue.")
TOO_MANY = "Vous avez envoyé beaucoup de photos : attendez un peu avant d'en envoyer d'autres."
NO_FILE = "Choisissez d'abord une photo sur votre appareil, puis envoyez-la."
MAIN_PHOTO_CHOSEN = ("La photo est enregistrée parmi les photos de la ville et choisie comme "
                     "photo principale. Enregistrez votre texte pour la garder.")


@dataclass(frozen=True)
class AddedPhoto:
    rel: str  # "media/2026-cafe-du-jeudi.jpg"
    alt: str
    from_text: str  # the photo's address from the text being edited: "../media/…"

    @property
    def markdown(self) -> str:
        return f"![{markdown_alt(self.alt)}]({self.from_text})"


async def upload(request: Request) -> Response:
    city = request.path_params["city"]
    wants_json = "application/json" in request.headers.get("accept", "")
    try:
        person = editor_of(request, city)
        try:
            form = await protected_upload(request, max_bytes=MAX_PHOTO_BYTES)
        except UploadTooLarge:
            raise HTTPException(413, f"Cette photo est trop lourde : "
                                     f"{MAX_PHOTO_BYTES // (1024 * 1024)} Mo au plus. "
                                     "Choisissez une photo plus petite.") from None
        alt = " ".join(str(form.fields.get("photo_alt", "")).split())[:MAX_ALT]
        upload_file = form.files.get("photo")
        if upload_file is None or not upload_file[1]:
            raise HTTPException(400, NO_FILE)
        if not alt:
            raise HTTPException(400, NO_ALT)
        state = runtime(request)
        if not RateLimiter(state.engine, state.settings.secret_key).allow(
                PHOTO_LIMIT, str(person.id)):
            raise HTTPException(429, TOO_MANY)
        added = await run_in_threadpool(_add_photo, request, person, city, upload_file,
                                        alt, str(form.fields.get("path", "")))
    except HTTPException as error:
        if wants_json:
            return JSONResponse({"message": error.detail}, status_code=error.status_code)
        raise
    if wants_json:
        return JSONResponse({"markdown": added.markdown, "path": added.rel,
                             "path_from_post": added.from_text, "alt": added.alt})
    if form.fields.get("photo_use") == "main" and "kind" in form.fields:
        # Without script the whole edit form came along: it comes back as typed, with the
        # photo chosen (saving the text keeps it).
        return await run_in_threadpool(
            form_again, request, person, city, form.fields,
            {"image": added.from_text, "image_alt": added.alt}, MAIN_PHOTO_CHOSEN)
    return runtime(request).templates.render(request, "service/editor/photo_added.html", {
        "editor_city": city, "photo": added})


def _add_photo(request: Request, person: Person, city: str, upload_file: tuple[str, bytes],
               alt: str, text_path: str) -> AddedPhoto:
    filename, data = upload_file
    try:
        jpeg = site_photo(data)
    except PhotoError as error:
        raise HTTPException(400, str(error)) from None
    content_dir = runtime(request).settings.content_dir
    work = checkout(request)
    stem = f"{datetime.now(UTC).year}-{_name_from(alt, filename)}"
    for number in range(1, 50):
        name = stem if number == 1 else f"{stem}-{number}"
        try:
            file = city_file(content_dir, city, f"media/{name}.jpg")
        except PathRefused:
            raise HTTPException(400, "Ce nom de photo n'est pas possible.") from None
        if file.path.exists() or work.blob(file):
            continue
        try:
            work.save([Change(file, jpeg, base="")], author_of(request, person),
                      f"Photo ajoutée : {alt}")
        except EditConflict:
            continue  # someone added a photo of that name meanwhile: take the next name
        return AddedPhoto(file.rel, alt, from_text(text_path) + file.rel)
    raise HTTPException(409, "Trop de photos portent déjà ce nom : changez la description.")


def _name_from(alt: str, filename: str) -> str:
    """A short file name from the description (or the file's own name)."""
    words = slugify(alt)[:60].rstrip("-") or slugify(filename.rsplit(".", 1)[0])[:60]
    return words.rstrip("-") or "photo"


def markdown_alt(alt: str) -> str:
    """The description inside `![…]`: brackets and backslashes escaped."""
    return re.sub(r"([\\\[\]])", r"\\\1", alt)


def photo(request: Request) -> Response:
    """A committed photo of the city, for the editor's own display of the text; with
    `?vignette=<version>`, its small copy for the form's photo choice (the version in the
    address changes with the photo, so the browser may keep it)."""
    city = request.path_params["city"]
    editor_of(request, city)
    settings = runtime(request).settings
    try:
        file = city_file(settings.content_dir, city, f"media/{request.path_params['name']}")
    except PathRefused:
        raise HTTPException(404) from None
    if file.kind != "media" or not file.path.is_file():
        raise HTTPException(404)
    headers = {"Cache-Control": "private, no-cache", "X-Content-Type-Options": "nosniff"}
    if "vignette" in request.query_params:
        small = thumbnail(settings.data_dir, file)  # a plain def: in the thread pool
        if small is not None:
            return FileResponse(small, media_type="image/jpeg", headers={
                **headers, "Cache-Control": "private, max-age=604800"})
    return FileResponse(file.path, headers=headers)


routes = [
    Route("/editeur/{city}/photos", upload, methods=["POST"]),
    Route("/editeur/{city}/photos/{name}", photo, methods=["GET"]),
]
