"""`/compte/profil`: a person edits what they tell about themselves, their consents (each
with its date) and their photo, which is stored re-encoded, small and without any of the
original file's metadata (a phone's photo tells where it was taken)."""

from __future__ import annotations

import html
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from auth_helpers import SAME_SITE, browser, engine_of
from conftest import SmtpCapture
from members_helpers import member, members_service, signed_in, submit
from PIL import ExifTags, Image
from starlette.applications import Starlette
from starlette.testclient import TestClient

from avf.service.photos import MAX_UPLOAD_BYTES, NOT_A_PHOTO, PhotoError, photos_dir, portrait
from avf.service.profiles import Profile, ProfileEdit, load_profile, save_profile

PAGE = "/compte/profil"
ELISE = "elise@example.org"
FILLED = {"nom": "Élise Martin", "a_propos": "Arrivée de Nantes.\nJ'aime marcher.",
          "centres_interet": "randonnée, chorale", "langues": "français, anglais",
          "telephone": "06 12 34 56 78", "annuaire": "oui"}


@pytest.fixture
def app(tmp_path: Path, smtp_server: SmtpCapture) -> Iterator[Starlette]:
    with members_service(tmp_path, smtp_server) as application:
        member(application, ELISE)
        yield application


@pytest.fixture
def elise(app: Starlette) -> TestClient:
    return signed_in(app, ELISE)


def profile_of(app: Starlette, email: str = ELISE) -> Profile:
    from avf.service.accounts import person_id_for

    with engine_of(app).connect() as connection:
        person_id = person_id_for(connection, email)
        assert person_id is not None
        profile = load_profile(connection, person_id)
    assert profile is not None
    return profile


def stored_photos(app: Starlette) -> list[Path]:
    folder = photos_dir(app.state.runtime.settings.data_dir)
    return sorted(folder.glob("*")) if folder.exists() else []


def camera_photo(size: tuple[int, int] = (1200, 600), orientation: int = 6) -> bytes:
    """A JPEG as a phone makes it: its camera, its position (GPS) and its rotation in EXIF."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Téléphone-Espion"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (45.0, 45.0, 36.0),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (4.0, 50.0, 24.0)}
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "JPEG", exif=exif.tobytes(),
                                              comment=b"secret comment")
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # it has GPS
    return data


def upload(client: TestClient, data: bytes, filename: str = "photo.jpg",
           kind: str = "image/jpeg"):  # type: ignore[no-untyped-def]
    return submit(client, PAGE, {}, action=f"{PAGE}/photo",
                  files={"photo": (filename, data, kind)})


# --- The page and the form ---------------------------------------------------------------

def test_a_signed_out_visitor_is_sent_to_sign_in(app: Starlette) -> None:
    response = browser(app).get(PAGE)
    assert response.status_code == 303
    assert response.headers["location"] == f"/compte/connexion?suivant={PAGE}"


def test_the_page_shows_the_fields_and_every_consent_off_by_default(elise: TestClient) -> None:
    response = elise.get(PAGE)
    assert response.status_code == 200 and response.headers["cache-control"] == "private, no-store"
    page = html.unescape(response.text)
    for name in ("nom", "centres_interet", "langues", "telephone"):
        assert f'id="profil-{name}" name="{name}"' in page
    assert '<textarea id="profil-a_propos" name="a_propos"' in page
    assert "Visible uniquement par les responsables de votre AVF, jamais dans l'annuaire." \
        in page
    assert "Apparaître dans l'annuaire de mon AVF" in page
    assert "Recevoir les nouvelles de mon AVF par email" in page
    assert page.count(" checked") == 1  # only the news' default rhythm; no box ticked
    assert 'name="rythme" value="digest" style' in page.split(" checked")[0][-300:]
    assert 'enctype="multipart/form-data"' in page and 'name="photo"' in page
    assert 'href="/compte/donnees.json"' in page and 'href="/compte/supprimer"' in page
    assert page.count("<h1>") == 1


def test_saving_the_profile_keeps_it_and_records_the_consent(app: Starlette,
                                                            elise: TestClient) -> None:
    before = datetime.now(UTC)
    response = submit(elise, PAGE, FILLED)
    assert response.status_code == 303 and response.headers["location"] == f"{PAGE}?enregistre"
    profile = profile_of(app)
    assert (profile.display_name, profile.about, profile.interests, profile.languages,
            profile.phone) == ("Élise Martin", "Arrivée de Nantes.\nJ'aime marcher.",
                               "randonnée, chorale", "français, anglais", "06 12 34 56 78")
    assert profile.in_directory and profile.directory_consent_at is not None
    assert profile.directory_consent_at >= before
    assert not profile.news_by_email and profile.news_consent_at is None
    page = html.unescape(elise.get(f"{PAGE}?enregistre").text)
    assert 'role="status">Votre profil est enregistré.' in page
    assert 'name="annuaire" value="oui"' in page and "Accord donné le" in page
    assert "Élise Martin" in elise.get("/membres/lyon/annuaire/").text


def test_a_consent_s_date_is_when_the_choice_was_made(engine) -> None:  # type: ignore[no-untyped-def]
    from avf.service.accounts import find_or_create_person

    monday = datetime(2026, 11, 2, 9, tzinfo=UTC)
    with engine.begin() as connection:
        person_id, _ = find_or_create_person(connection, ELISE)
        edit = ProfileEdit("Élise", "", "", "", "", in_directory=True, news_by_email=False)
        given = save_profile(connection, person_id, edit, now=monday)
        kept = save_profile(connection, person_id, edit, now=monday + timedelta(days=3))
        withdrawn = save_profile(connection, person_id,
                                 ProfileEdit("Élise", "", "", "", "", False, False),
                                 now=monday + timedelta(days=9))
    assert (given.in_directory, given.directory_consent_at) == (True, monday)
    assert given.news_consent_at is None  # never given: no date
    assert (kept.directory_consent_at, kept.updated_at) == (monday, monday + timedelta(days=3))
    assert (withdrawn.in_directory, withdrawn.directory_consent_at) == (
        False, monday + timedelta(days=9))


def test_unticking_the_directory_takes_the_member_out_of_it(app: Starlette,
                                                            elise: TestClient) -> None:
    submit(elise, PAGE, FILLED)
    submit(elise, PAGE, {**FILLED, "annuaire": "", "nouvelles": "oui"})
    profile = profile_of(app)
    assert not profile.in_directory and profile.news_by_email
    assert "Élise Martin" not in elise.get("/membres/lyon/annuaire/").text.split("<h1>")[1]
    assert "Accord retiré le" in html.unescape(elise.get(PAGE).text)


def test_mistakes_are_shown_in_french_with_what_was_typed(app: Starlette,
                                                          elise: TestClient) -> None:
    response = submit(elise, PAGE, {**FILLED, "nom": "", "a_propos": "a" * 501,
                                    "telephone": "appelez-moi"})
    assert response.status_code == 400
    page = html.unescape(response.text)
    assert 'role="alert"' in page and "3 points à corriger" in page
    assert "Pour apparaître dans l'annuaire, indiquez votre nom" in page
    assert "Votre présentation est trop longue : 500 caractères au plus (elle en compte 501)" \
        in page
    assert "Ce numéro de téléphone ne semble pas valable" in page
    assert 'value="appelez-moi"' in page and "a" * 501 in page  # kept
    assert 'aria-invalid="true"' in page
    assert 'aria-describedby="profil-telephone-aide profil-telephone-erreur"' in page
    assert page.startswith("<!DOCTYPE html>") and "<title>Erreur : Mon profil" in page
    assert (profile_of(app).about, profile_of(app).phone) == ("", "")  # nothing saved


def test_a_name_is_one_line_whatever_was_posted(app: Starlette, elise: TestClient) -> None:
    submit(elise, PAGE, {**FILLED, "nom": "Élise\r\nBcc: x\tMartin\x00"})
    assert profile_of(app).display_name == "Élise Bcc: x Martin"


def test_the_profile_form_is_protected_against_forgery(elise: TestClient) -> None:
    assert elise.post(PAGE, headers=SAME_SITE, data=FILLED).status_code == 403
    assert elise.post(PAGE, headers={"Origin": "https://evil.example"},
                      data=FILLED).status_code == 403
    assert browser(elise.app).post(PAGE, headers=SAME_SITE, data=FILLED).status_code in (
        401, 403)


# --- The photo ------------------------------------------------------------------------------

def test_a_phone_s_photo_is_stored_small_upright_and_without_its_metadata(
        app: Starlette, elise: TestClient) -> None:
    response = upload(elise, camera_photo())
    assert response.status_code == 303 and response.headers["location"] == f"{PAGE}?photo"
    [path] = stored_photos(app)
    assert profile_of(app).photo == path.name
    stored = path.read_bytes()
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG"
    assert image.size == (200, 400)  # 1200×600 turned upright (EXIF orientation 6), ≤ 400
    assert dict(image.getexif()) == {}
    assert b"Exif" not in stored and b"secret comment" not in stored
    assert b"Espion" not in stored and "icc_profile" not in image.info
    # Her own photo, to her only, never cached by others.
    own = elise.get(f"{PAGE}/photo")
    assert own.status_code == 200 and own.content == stored
    assert own.headers["cache-control"] == "private, no-store"
    assert f'src="{PAGE}/photo?v={path.name}"' in elise.get(PAGE).text


def test_a_png_with_transparency_becomes_a_jpeg_on_white() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (50, 80), (0, 0, 0, 0)).save(out, "PNG")
    image = Image.open(io.BytesIO(portrait(out.getvalue())))
    assert (image.format, image.size, image.getpixel((10, 10))) == ("JPEG", (50, 80),
                                                                     (255, 255, 255))


def test_a_new_photo_replaces_the_old_file_and_removing_it_deletes_it(
        app: Starlette, elise: TestClient) -> None:
    upload(elise, camera_photo())
    [first] = stored_photos(app)
    upload(elise, camera_photo(size=(300, 300), orientation=1))
    [second] = stored_photos(app)
    assert second != first and not first.exists()
    response = submit(elise, PAGE, {}, action=f"{PAGE}/photo/retirer")
    assert response.status_code == 303
    assert stored_photos(app) == [] and profile_of(app).photo is None
    assert elise.get(f"{PAGE}/photo").status_code == 404


@pytest.mark.parametrize("data, filename", [
    (b"%PDF-1.7 not a photo at all", "cv.pdf"),
    (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "photo.svg"),
    (camera_photo()[:400], "coupee.jpg"),  # truncated
    (b"", "vide.jpg"),
])
def test_what_is_not_a_photo_is_refused_in_french_and_nothing_is_kept(
        app: Starlette, elise: TestClient, data: bytes, filename: str) -> None:
    response = upload(elise, data, filename)
    assert response.status_code == 400
    page = html.unescape(response.text)
    assert 'role="alert"' in page
    assert ("n'est pas une photo que nous savons lire" in page
            or "Choisissez d'abord une photo" in page)
    assert stored_photos(app) == [] and profile_of(app).photo is None


def test_a_webp_is_taken_and_made_a_jpeg_of_400_pixels_at_most() -> None:
    out = io.BytesIO()
    Image.new("RGB", (900, 600), "green").save(out, "WEBP")
    image = Image.open(io.BytesIO(portrait(out.getvalue())))
    assert (image.format, image.size) == ("JPEG", (400, 267))


def test_a_gif_is_not_a_format_we_take() -> None:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "GIF")
    with pytest.raises(PhotoError, match="JPEG, PNG ou WebP") as refused:
        portrait(out.getvalue())
    assert str(refused.value) == NOT_A_PHOTO


def test_an_image_of_too_many_pixels_is_refused_before_it_is_decoded() -> None:
    out = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(out, "PNG")  # 50 million pixels, a few KB
    with pytest.raises(PhotoError, match="trop grande"):
        portrait(out.getvalue())


def test_a_photo_too_heavy_is_refused_without_being_read(app: Starlette,
                                                         elise: TestClient) -> None:
    heavy = b"\xff\xd8" + b"\0" * MAX_UPLOAD_BYTES
    response = upload(elise, heavy)
    assert response.status_code == 413
    page = html.unescape(response.text)
    assert 'role="alert"' in page and "Cette photo est trop lourde : 8 Mo au plus" in page
    assert stored_photos(app) == [] and profile_of(app).photo is None


def test_the_photo_form_is_protected_against_forgery(app: Starlette, elise: TestClient) -> None:
    files = {"photo": ("photo.jpg", camera_photo(), "image/jpeg")}
    assert elise.post(f"{PAGE}/photo", headers=SAME_SITE, files=files).status_code == 403
    token = elise.get(PAGE).text.split('name="csrf_token" value="')[1].split('"')[0]
    assert elise.post(f"{PAGE}/photo", headers={"Origin": "https://evil.example"},
                      data={"csrf_token": token}, files=files).status_code == 403
    assert elise.post(f"{PAGE}/photo", headers=SAME_SITE,
                      data={"csrf_token": token}).status_code == 400  # not multipart
    two = {"photo": ("a.jpg", camera_photo(), "image/jpeg")}
    assert elise.post(f"{PAGE}/photo", headers=SAME_SITE, data={"csrf_token": token},
                      files=[("photo", two["photo"]), ("autre", two["photo"])],
                      ).status_code == 400  # one file at most
    assert stored_photos(app) == []


def test_a_photo_too_heavy_is_refused_even_without_a_length_announced(
        app: Starlette, elise: TestClient) -> None:
    token = elise.get(PAGE).text.split('name="csrf_token" value="')[1].split('"')[0]
    boundary = "----avf-test"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f'{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name="photo"; '
            'filename="grosse.jpg"\r\nContent-Type: image/jpeg\r\n\r\n').encode()

    def chunks() -> Iterator[bytes]:  # sent chunked: no Content-Length to refuse it by
        yield head
        for _ in range(20):  # 20 MB
            yield b"\0" * (1024 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    response = elise.post(f"{PAGE}/photo", content=chunks(), headers={
        **SAME_SITE, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 413
    assert "Cette photo est trop lourde" in html.unescape(response.text)
    assert stored_photos(app) == []


def test_the_news_rhythm_is_chosen_in_the_profile(app: Starlette, elise: TestClient) -> None:
    page = elise.get(PAGE).text
    assert 'name="rythme" value="digest" style' in page and "deux fois par semaine" in page
    assert submit(elise, PAGE, {**FILLED, "nouvelles": "oui", "rythme": "weekly"}
                  ).status_code == 303
    assert profile_of(app).news_frequency == "weekly"
    assert 'value="weekly" style="display:inline-block;width:1.3rem;height:1.3rem;' \
           'vertical-align:middle;margin:0 .5rem 0 0" checked' in elise.get(PAGE).text
    submit(elise, PAGE, {**FILLED, "nouvelles": "oui", "rythme": "toutes les heures"})
    assert profile_of(app).news_frequency == "digest"  # an unknown choice: the default


def test_a_huge_blank_png_is_refused_before_it_is_decoded() -> None:
    """A few hundred KB of PNG can hold a 6,300×6,300 image (~200 MB once decoded)."""
    from io import BytesIO

    from PIL import Image

    from avf.service.photos import PhotoError, portrait

    png = BytesIO()
    Image.new("L", (6300, 6300)).save(png, "PNG", optimize=True)
    assert len(png.getvalue()) < 1_000_000
    with pytest.raises(PhotoError, match="trop grande"):
        portrait(png.getvalue())
