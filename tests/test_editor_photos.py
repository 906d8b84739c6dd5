"""Photos of the web editor: an upload becomes a clean JPEG (upright, resized, no EXIF and
so no GPS position) committed as the volunteer in the city's media/; anything else — not
an image, truncated, too heavy, a decompression bomb, a zip named .jpg — gets a clear
French message and commits nothing."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import pytest
from auth_helpers import SAME_SITE
from editor_helpers import editor_service, form_fields
from PIL import Image

POST = "posts/2026-02-01-brouillon.md"
DRAFT = {POST: '---\ntitle: "Brouillon"\ndate: 2026-02-01\nstatus: draft\n---\n\nTexte.\n'}
JSON = {**SAME_SITE, "Accept": "application/json"}
GPS_IFD = 0x8825


def phone_photo(size: tuple[int, int] = (3000, 2000), orientation: int = 1) -> bytes:
    """A JPEG as a phone writes it: EXIF with a GPS position and an orientation."""
    image = Image.new("RGB", size, (200, 120, 40))
    image.paste((20, 60, 200), (0, 0, size[0] // 2, size[1] // 4))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (45.0, 45.0, 30.0), 3: "E", 4: (4.0, 50.0, 10.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def git_show(repo: Path, path: str) -> bytes:
    return subprocess.run(["git", "show", f"HEAD:{path}"], cwd=repo, capture_output=True,
                          check=True).stdout


def commits(repo: Path) -> int:
    return int(subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=repo,
                              capture_output=True, text=True, check=True).stdout)


def send(client, token: str, data: bytes, alt: str = "Un café sur une table",  # type: ignore[no-untyped-def]
         name: str = "IMG_0042.jpg", headers: dict[str, str] = JSON):
    return client.post("/editeur/lyon/photos", headers=headers,
                       data={"csrf_token": token, "photo_alt": alt, "path": POST},
                       files={"photo": (name, data, "image/jpeg")})


def test_a_phone_photo_is_committed_clean_resized_and_upright(tmp_path: Path) -> None:
    with editor_service(tmp_path, files=DRAFT) as editor:
        client = editor.client("reporter")
        token = form_fields(client.get(f"/editeur/lyon/texte/{POST}").text)["csrf_token"]
        original = phone_photo(orientation=6)  # the phone held upright: turn 90°
        source_exif = Image.open(io.BytesIO(original)).getexif()
        assert source_exif.get_ifd(GPS_IFD)  # the test photo does carry a position
        answer = send(client, token, original, alt="Trois bénévoles [et] le café")
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert result["path"].startswith("media/") and result["path"].endswith(
            "-trois-benevoles-et-le-cafe.jpg")
        assert result["markdown"] == (
            f"![Trois bénévoles \\[et\\] le café](../{result['path']})")
        assert result["path_from_post"] == f"../{result['path']}"
        checkout = editor.repos.checkout
        committed = git_show(checkout, f"lyon/{result['path']}")
        photo = Image.open(io.BytesIO(committed))
        assert photo.format == "JPEG"
        assert photo.size == (1440, 2160)  # 3000×2000 turned upright, shrunk into 1440×2160
        assert not photo.getexif() and b"Exif" not in committed[:2000]
        assert b"PhoneMaker" not in committed
        log = subprocess.run(["git", "log", "-1", "--format=%an|%s"], cwd=checkout,
                             capture_output=True, text=True, check=True).stdout.strip()
        assert log == "Hélène Dupont|Photo ajoutée : Trois bénévoles [et] le café"
        # The editor shows it from the checkout, to the city's editors only.
        shown = client.get(f"/editeur/lyon/photos/{result['path'].removeprefix('media/')}")
        assert shown.status_code == 200 and shown.content == committed
        other = editor.client("reporter_gap")
        assert other.get(f"/editeur/lyon/photos/{result['path'][6:]}").status_code == 403
        # A second photo with the same description gets its own name.
        again = send(client, token, phone_photo((800, 600)), alt="Trois bénévoles [et] le café")
        assert again.json()["path"] != result["path"]


def bomb_png() -> bytes:
    """A 20,000 × 20,000 PNG of one colour: a few KB on disk, 400 MB decoded."""
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000), 1).save(out, "PNG")
    return out.getvalue()


def zip_named_jpg() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.txt", "0" * 100_000)
    return out.getvalue()


@pytest.mark.parametrize(("case", "expected"), [
    ("text", "n'est pas une photo"),
    ("truncated", "n'est pas une photo"),
    ("bomb", "trop grande"),
    ("zip", "n'est pas une photo"),
    ("heavy", "trop lourde"),
    ("no_alt", "Décrivez la photo"),
    ("gif", "n'est pas une photo"),
])
def test_a_bad_upload_is_refused_in_french_and_commits_nothing(
        tmp_path: Path, case: str, expected: str) -> None:
    with editor_service(tmp_path, files=DRAFT) as editor:
        client = editor.client("reporter")
        token = form_fields(client.get(f"/editeur/lyon/texte/{POST}").text)["csrf_token"]
        before = commits(editor.repos.checkout)
        good = phone_photo((1200, 900))
        data, alt = {
            "text": (b"Bonjour, ceci est un texte.", "Un texte"),
            "truncated": (good[: len(good) // 2], "Une photo coupée"),
            "bomb": (bomb_png(), "Une image blanche"),
            "zip": (zip_named_jpg(), "Une archive"),
            "heavy": (good + b"\0" * (15 * 1024 * 1024), "Une photo lourde"),
            "no_alt": (good, "   "),
            "gif": (_gif(), "Une image animée"),
        }[case]
        answer = send(client, token, data, alt=alt)
        assert answer.status_code in (400, 413), answer.text
        assert expected in answer.json()["message"]
        assert commits(editor.repos.checkout) == before
        assert not list((editor.repos.checkout / "lyon").glob("media/*"))


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    return out.getvalue()


def test_without_script_the_answer_is_a_page_and_strangers_are_refused(
        tmp_path: Path) -> None:
    with editor_service(tmp_path, files=DRAFT) as editor:
        client = editor.client("reporter")
        token = form_fields(client.get(f"/editeur/lyon/texte/{POST}").text)["csrf_token"]
        page = send(client, token, phone_photo((640, 480)), headers=SAME_SITE)
        assert page.status_code == 200
        assert "La photo est enregistrée" in page.text and "![Un café sur une table](../media/" \
            in page.text
        bad = send(client, token, b"pas une image", headers=SAME_SITE)
        assert bad.status_code == 400 and "pas une photo" in bad.text
        # A member, another city's reporter: refused, nothing written.
        before = commits(editor.repos.checkout)
        for who in ("member", "reporter_gap"):
            other = editor.client(who)
            other_token = form_fields(other.get("/compte/").text, "").get("csrf_token", token)
            assert send(other, other_token, phone_photo((640, 480))).status_code == 403
        assert commits(editor.repos.checkout) == before
        # No token: refused.
        assert send(client, "faux", phone_photo((640, 480))).status_code == 403
