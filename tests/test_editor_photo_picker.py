"""The main photo is chosen, not typed: the edit form's `fieldset#photo` lists the city's
photos (its media/ folder only, newest first, two dozen at first) as radio buttons with
thumbnails; the choice is saved as `image: ../media/x.jpg`; « Pas de photo » removes the
photo and its description; a photo without description is refused next to the field; the
thumbnails are small copies kept in AVF_DATA_DIR, made once, for the city's editors only."""

from __future__ import annotations

import html
import io
import os
import re
import subprocess
from pathlib import Path

import pytest
from auth_helpers import SAME_SITE
from content_repo import git
from editor_helpers import Editor, editor_service, form_fields, submit
from PIL import Image

DRAFT = "posts/2026-02-01-sortie.md"
OLD_PHOTO_POST = "posts/2026-01-20-ancienne.md"
PHOTOS = [f"sortie-{number:02d}.jpg" for number in range(1, 31)]  # sortie-30 is the newest
DESCRIBED = "sortie-29.jpg"
DESCRIPTION = "Des bénévoles sur le pont de la Guillotière"
RADIO = re.compile(r'<input type="radio" name="image" value="([^"]*)"[^>]*>')


def jpeg(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=80)
    return out.getvalue()


def add_photos(editor: Editor) -> None:
    """The photos committed one by one (each a day after the other) by a volunteer with
    git, then pulled into the service's checkout; gap has a photo of its own."""
    repos = editor.repos
    for number, name in enumerate(PHOTOS, start=1):
        path = repos.volunteer / "lyon" / "media" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(jpeg((1200, 900), (number * 8, 100, 200 - number * 5)))
        git(repos.volunteer, "add", f"lyon/media/{name}")
        day = f"2026-01-{number:02d}T10:00:00+01:00"
        git(repos.volunteer, "commit", "-q", "-m", f"Photo {name}",
            env={"GIT_AUTHOR_DATE": day, "GIT_COMMITTER_DATE": day})
    secret = repos.volunteer / "gap" / "media" / "secret-de-gap.jpg"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_bytes(jpeg((400, 300), (0, 0, 0)))
    git(repos.volunteer, "add", "gap/media/secret-de-gap.jpg")
    git(repos.volunteer, "commit", "-q", "-m", "Photo de Gap")
    git(repos.volunteer, "push", "-q", "origin", repos.branch)
    git(repos.checkout, "pull", "-q", "--ff-only")


FILES = {
    DRAFT: '---\ntitle: "Sortie"\ndate: 2026-02-01\nstatus: draft\n---\n\nTexte.\n',
    # The oldest photo, chosen long ago: still offered (and chosen) beyond the newest ones.
    OLD_PHOTO_POST: ('---\ntitle: "Ancienne"\ndate: 2026-01-20\nstatus: draft\n'
                     'image: ../media/sortie-01.jpg\nimage_alt: "La première sortie"\n'
                     '---\n\nTexte.\n'),
    "posts/2026-01-25-pont.md": ('---\ntitle: "Le pont"\ndate: 2026-01-25\n'
                                 f'image: ../media/{DESCRIBED}\nimage_alt: "{DESCRIPTION}"\n'
                                 '---\n\nTexte.\n'),
}


@pytest.fixture
def editor(tmp_path: Path):  # type: ignore[no-untyped-def]
    with editor_service(tmp_path, files=FILES) as service:
        add_photos(service)
        yield service


def radios(page: str) -> list[str]:
    return [html.unescape(value) for value in RADIO.findall(page)]


def photo_fieldset(page: str) -> str:
    start = page.index('<fieldset id="photo">')
    return page[start:page.index('<fieldset id="evenement">', start)]


def committed(editor: Editor, rel: str) -> str:
    return git(editor.repos.checkout, "show", f"HEAD:lyon/{rel}")


def test_the_grid_offers_the_citys_photos_newest_first_two_dozen_at_first(
        editor: Editor) -> None:
    client = editor.client("reporter")
    # A link planted in media/ (to another city's photo), a hidden file and a text file.
    media = editor.repos.checkout / "lyon" / "media"
    os.symlink(editor.repos.checkout / "gap" / "media" / "secret-de-gap.jpg",
               media / "lien.jpg")
    (media / ".cachee.jpg").write_bytes(jpeg((10, 10), (1, 2, 3)))
    (media / "notes.txt").write_text("pas une photo")
    page = client.get("/editeur/lyon/nouveau").text
    values = radios(page)
    newest = [f"../media/{name}" for name in reversed(PHOTOS)][:24]
    assert values == ["", *newest]  # « Pas de photo » first, chosen for a new text
    assert re.search(r'<input type="radio" name="image" value="" id="image" checked', page)
    fieldset = photo_fieldset(page)
    for absent in ("lien.jpg", "cachee", "notes.txt", "secret-de-gap", "media/gap"):
        assert absent not in fieldset
    assert "Voir toutes les photos (30)" in fieldset
    thumbnails = re.findall(r'<img src="([^"]+)" width="320" height="240" alt="([^"]*)" '
                            r'loading="lazy"', fieldset)
    assert thumbnails[0][0].startswith(
        "/editeur/lyon/photos/sortie-30.jpg?vignette=")
    assert len(thumbnails) == 24
    alts = dict((src.split("?")[0].rsplit("/", 1)[1], html.unescape(alt))
                for src, alt in thumbnails)
    assert alts["sortie-30.jpg"] == "sortie 30"  # no text describes it: its name in words
    assert alts[DESCRIBED] == DESCRIPTION  # a text's image_alt describes it
    # The planted link is not served either, nor another city's photo through lyon.
    for name in ("lien.jpg", ".cachee.jpg", "secret-de-gap.jpg"):
        assert client.get(f"/editeur/lyon/photos/{name}").status_code == 404
        assert client.get(f"/editeur/lyon/photos/{name}?vignette=1").status_code == 404

    # Everything on demand (the script's fetch, a link), and as a button without script:
    # the form comes back as typed, nothing committed.
    assert radios(client.get("/editeur/lyon/nouveau?photos=toutes").text)[1:] == [
        f"../media/{name}" for name in reversed(PHOTOS)]
    head = editor.repos.checkout_head()
    fields = {**form_fields(page), "title": "Mon titre tapé", "photos": "toutes"}
    again = client.post("/editeur/lyon/nouveau", data=fields, headers=SAME_SITE)
    assert again.status_code == 200
    assert len(radios(again.text)) == 31 and "Voir toutes les photos" not in again.text
    assert 'value="Mon titre tapé"' in again.text
    assert editor.repos.checkout_head() == head


def test_an_older_chosen_photo_stays_offered_and_chosen(editor: Editor) -> None:
    page = editor.client("reporter").get(f"/editeur/lyon/texte/{OLD_PHOTO_POST}").text
    values = radios(page)
    assert len(values) == 26 and values[-1] == "../media/sortie-01.jpg"
    assert form_fields(page)["image"] == "../media/sortie-01.jpg"
    current = page[page.index("data-avf-photo-current"):page.index("editor-photo-choice")]
    assert "sortie-01.jpg?vignette=" in current and "La première sortie" in current


def test_choosing_a_photo_saves_its_address_and_no_photo_removes_both(editor: Editor) -> None:
    client = editor.client("reporter")
    url = f"/editeur/lyon/texte/{DRAFT}"
    saved = submit(client, url, "save", image="../media/sortie-07.jpg",
                   image_alt="Le groupe au départ")
    assert saved.status_code == 303, saved.text
    text = committed(editor, DRAFT)
    assert "image: ../media/sortie-07.jpg\n" in text
    assert "image_alt: Le groupe au départ\n" in text
    page = client.get(url).text
    assert form_fields(page)["image"] == "../media/sortie-07.jpg"
    # « Pas de photo »: the browser sends image="" and the description still typed.
    removed = submit(client, url, "save", image="")
    assert removed.status_code == 303, removed.text
    text = committed(editor, DRAFT)
    assert "image" not in text and "Le groupe au départ" not in text


def test_a_photo_without_description_is_refused_next_to_its_field(editor: Editor) -> None:
    client = editor.client("reporter")
    head = editor.repos.checkout_head()
    answer = submit(client, f"/editeur/lyon/texte/{DRAFT}", "save",
                    image="../media/sortie-07.jpg", image_alt="")
    assert answer.status_code == 400
    field = answer.text[answer.text.index('<label for="image_alt">'):]
    field = field[:field.index("</div>")]
    assert re.search(r'<p class="contact-error" id="image_alt-erreur-1" role="alert">'
                     r'Décrivez la photo en quelques mots', field)
    assert 'aria-describedby="image_alt-aide image_alt-erreur-1"' in field
    assert form_fields(answer.text)["image"] == "../media/sortie-07.jpg"  # kept as chosen
    assert editor.repos.checkout_head() == head
    # A new text too.
    page = client.get("/editeur/lyon/nouveau").text
    fields = {**form_fields(page), "title": "Avec photo", "image": "../media/sortie-02.jpg",
              "image_alt": " ", "action": "save"}
    refused = client.post("/editeur/lyon/nouveau", data=fields, headers=SAME_SITE)
    assert refused.status_code == 400 and "image_alt-erreur-1" in refused.text
    assert editor.repos.checkout_head() == head


def test_thumbnails_are_small_cached_copies_for_the_citys_editors_only(
        editor: Editor, tmp_path: Path) -> None:
    url = "/editeur/lyon/photos/sortie-05.jpg?vignette=1"
    reporter = editor.client("reporter")
    answer = reporter.get(url)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/jpeg"
    assert answer.headers["cache-control"].startswith("private")
    small = Image.open(io.BytesIO(answer.content))
    assert small.size == (320, 240)  # 1200×900 into 320×240
    original = reporter.get("/editeur/lyon/photos/sortie-05.jpg")
    assert Image.open(io.BytesIO(original.content)).size == (1200, 900)
    cached = list((tmp_path / "var" / "editor-thumbnails" / "lyon").glob("*.jpg"))
    assert len(cached) == 1 and cached[0].read_bytes() == answer.content
    made = cached[0].stat().st_mtime_ns
    assert editor.client("admin").get(url).content == answer.content
    assert cached[0].stat().st_mtime_ns == made  # made once, then served as it is
    status = subprocess.run(["git", "status", "--porcelain"], cwd=editor.repos.checkout,
                            capture_output=True, text=True, check=True).stdout
    assert status == ""  # nothing written into the content
    assert editor.client("reporter_gap").get(url).status_code == 403
    assert editor.client("member").get(url).status_code == 403
    assert editor.client("anonymous").get(url, follow_redirects=False).status_code in (
        303, 401, 403)
    assert editor.client("reporter_gap").get(
        "/editeur/gap/photos/sortie-05.jpg?vignette=1").status_code == 404
    assert len(list(cached[0].parent.iterdir())) == 1


def test_a_photo_sent_as_main_photo_without_script_comes_back_chosen(editor: Editor) -> None:
    client = editor.client("reporter")
    url = f"/editeur/lyon/texte/{DRAFT}"
    fields = {**form_fields(client.get(url).text), "title": "Sortie au parc",
              "photo_alt": "Le parc de la Tête d'Or en automne", "photo_use": "main"}
    answer = client.post("/editeur/lyon/photos", headers=SAME_SITE, data=fields,
                         files={"photo": ("IMG_1.jpg", jpeg((800, 600), (9, 99, 9)),
                                          "image/jpeg")})
    assert answer.status_code == 200, answer.text
    assert "choisie comme photo principale" in answer.text
    again = form_fields(answer.text)
    name = "media/2026-le-parc-de-la-tete-d-or-en-automne.jpg"
    assert again["image"] == f"../{name}" and radios(answer.text)[1] == f"../{name}"
    assert again["image_alt"] == "Le parc de la Tête d'Or en automne"
    assert again["title"] == "Sortie au parc"  # what was typed is still there
    assert f'action="{url}"' in answer.text
    saved = client.post(url, data={**again, "action": "save"}, headers=SAME_SITE)
    assert saved.status_code == 303, saved.text
    assert f"image: ../{name}\n" in committed(editor, DRAFT)


def test_a_reader_sees_the_photo_but_no_choice(editor: Editor) -> None:
    page = editor.client("reporter").get("/editeur/lyon/texte/posts/2026-01-25-pont.md").text
    assert "Lecture seule" in page
    fieldset = photo_fieldset(page)
    assert f"{DESCRIBED}?vignette=" in fieldset and DESCRIPTION in fieldset
    assert 'type="radio"' not in fieldset and "Changer de photo" not in fieldset


def test_the_missing_description_is_said_once_next_to_its_field(editor: Editor) -> None:
    """A published text without description: the editor's error next to image_alt, not
    also `avf check`'s warning next to the photo."""
    from avf.editor.paths import city_file
    from avf.editor.validation import check_document

    file = city_file(editor.repos.checkout, "lyon", "posts/2026-01-25-pont.md")
    text = file.path.read_text(encoding="utf-8").replace(f'image_alt: "{DESCRIPTION}"\n', "")
    problems = check_document(editor.repos.checkout, file, text)
    about_description = [problem for problem in problems
                         if "description" in problem.message or "décrivez" in problem.message]
    assert [(problem.field, problem.severity) for problem in about_description] == [
        ("image_alt", "error")]
