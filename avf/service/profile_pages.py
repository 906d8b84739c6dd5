"""`/compte/profil`: a signed-in person sees and edits their profile, their photo, their
consents and the people they blocked. The text form and the photo form are apart, so a
photo too heavy to be read never loses what was typed in the other.

| route | what it does |
| --- | --- |
| `GET /compte/profil` | the page (`?enregistre`, `?photo`, `?debloque`: what was just done) |
| `POST /compte/profil` | checks and saves the profile and consents; 400 with the input kept |
| `GET /compte/profil/photo` | one's own photo |
| `POST /compte/profil/photo` | multipart, one file (`photo`), at most `photos.MAX_UPLOAD_BYTES` |
| `POST /compte/profil/photo/retirer` | removes the photo |
| `POST /compte/profil/debloquer` | unblocks `personne` |
"""

from __future__ import annotations

from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from avf.service.csrf import UploadTooLarge, protected_form, protected_upload
from avf.service.people import Person
from avf.service.permissions import require_person
from avf.service.photos import (
    MAX_UPLOAD_BYTES,
    TOO_HEAVY,
    PhotoError,
    photo_file,
    photos_dir,
    portrait,
    remove_photo,
    store_photo,
)
from avf.service.profile_form import ProfileForm, read_profile_form, values_of
from avf.service.profiles import load_profile, save_profile, set_photo
from avf.service.ratelimit import Limit, RateLimiter
from avf.service.relay import blocked_people, unblock
from avf.service.runtime import runtime

PAGE = "/compte/profil"
NOTICES = {"enregistre": "Votre profil est enregistré.",
           "photo": "Votre photo est enregistrée.",
           "photo-retiree": "Votre photo est retirée.",
           "debloque": "Cette personne est débloquée : elle peut de nouveau vous écrire."}


def profile_page(request: Request) -> Response:
    person = require_person(request)
    notice = next((text for key, text in NOTICES.items() if key in request.query_params), None)
    return _page(request, person, notice=notice)


async def save(request: Request) -> Response:
    form = await protected_form(request)
    return await run_in_threadpool(_save, request, form)


def _save(request: Request, posted: FormData) -> Response:
    person = require_person(request)
    form = read_profile_form(posted)
    if form.errors:
        return _page(request, person, form=form, status_code=400)
    with runtime(request).engine.begin() as connection:
        save_profile(connection, person.id, form.edit())
    return RedirectResponse(f"{PAGE}?enregistre", status_code=303)


async def upload_photo(request: Request) -> Response:
    require_person(request)
    try:
        form = await protected_upload(request, MAX_UPLOAD_BYTES)
    except UploadTooLarge:
        return await run_in_threadpool(_photo_refused, request, TOO_HEAVY, 413)
    _name, data = form.files.get("photo", ("", b""))
    return await run_in_threadpool(_keep_photo, request, data)


PHOTOS_PER_HOUR = Limit("photo", 20, timedelta(hours=1))  # decoding a photo costs memory
TOO_MANY_PHOTOS = ("Vous avez envoyé beaucoup de photos en peu de temps : réessayez dans "
                   "une heure.")


def _keep_photo(request: Request, data: bytes) -> Response:
    person = require_person(request)
    state = runtime(request)
    if not RateLimiter(state.engine, state.settings.secret_key).allow(
            PHOTOS_PER_HOUR, str(person.id)):
        return _photo_refused(request, TOO_MANY_PHOTOS, 429)
    try:
        jpeg = portrait(data)
    except PhotoError as error:
        return _photo_refused(request, str(error), 400)
    folder = photos_dir(state.settings.data_dir)
    name = store_photo(folder, jpeg)
    try:
        with state.engine.begin() as connection:
            previous = set_photo(connection, person.id, name)
    except Exception:
        remove_photo(folder, name)
        raise
    remove_photo(folder, previous)
    return RedirectResponse(f"{PAGE}?photo", status_code=303)


def _photo_refused(request: Request, message: str, status_code: int) -> Response:
    return _page(request, require_person(request), photo_error=message,
                 status_code=status_code)


async def remove_own_photo(request: Request) -> Response:
    await protected_form(request)
    return await run_in_threadpool(_remove_own_photo, request)


def _remove_own_photo(request: Request) -> Response:
    person = require_person(request)
    state = runtime(request)
    with state.engine.begin() as connection:
        previous = set_photo(connection, person.id, None)
    remove_photo(photos_dir(state.settings.data_dir), previous)
    return RedirectResponse(f"{PAGE}?photo-retiree", status_code=303)


def own_photo(request: Request) -> Response:
    person = require_person(request)
    state = runtime(request)
    with state.engine.connect() as connection:
        profile = load_profile(connection, person.id)
    path = photo_file(photos_dir(state.settings.data_dir), profile.photo if profile else None)
    if path is None:
        raise HTTPException(404, "Vous n'avez pas encore de photo.")
    return FileResponse(path, media_type="image/jpeg", headers={
        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})


async def unblock_person(request: Request) -> Response:
    form = await protected_form(request)
    return await run_in_threadpool(_unblock, request, form)


def _unblock(request: Request, form: FormData) -> Response:
    person = require_person(request)
    try:
        blocked_id = int(str(form.get("personne", "")))
    except ValueError:
        raise HTTPException(400) from None
    with runtime(request).engine.begin() as connection:
        unblock(connection, person.id, blocked_id)
    return RedirectResponse(f"{PAGE}?debloque", status_code=303)


def _page(request: Request, person: Person, form: ProfileForm | None = None,
          photo_error: str | None = None, notice: str | None = None,
          status_code: int = 200) -> Response:
    state = runtime(request)
    with state.engine.connect() as connection:
        profile = load_profile(connection, person.id)
        blocked = blocked_people(connection, person.id)
    if profile is None:  # deleted between the middleware's look-up and now
        raise HTTPException(401, "Votre session a pris fin : connectez-vous à nouveau.")
    cities = [(slug, state.cities.name(slug)) for slug in person.cities()]
    return state.templates.render(request, "service/profile.html", {
        "profile": profile, "values": form.values if form else values_of(profile),
        "errors": form.errors if form else {}, "photo_error": photo_error, "notice": notice,
        "blocked": blocked, "cities": cities,
    }, status_code=status_code)


routes = [
    Route(PAGE, profile_page, methods=["GET"]),
    Route(PAGE, save, methods=["POST"]),
    Route(f"{PAGE}/photo", own_photo, methods=["GET"]),
    Route(f"{PAGE}/photo", upload_photo, methods=["POST"]),
    Route(f"{PAGE}/photo/retirer", remove_own_photo, methods=["POST"]),
    Route(f"{PAGE}/debloquer", unblock_person, methods=["POST"]),
]
