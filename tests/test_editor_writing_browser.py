"""The writing aids in a real browser (Debian's Chromium through Playwright, a phone's
screen of 390×844) on the edit page: the WYSIWYG turns bold and a list into Markdown in the
saved file, tags become chips, an autosave survives a reload, a photo goes into the text
with its description, and the preview opens in the real theme — all under the editor's
Content-Security-Policy, which the test watches for violations."""

from __future__ import annotations

import io
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from auth_helpers import add_person, link_in_outbox
from browser_helpers import CHROMIUM, require_editor_browser
from conftest import free_port, service_settings, serving
from content_repo import content_repos
from PIL import Image

if TYPE_CHECKING:
    from playwright.sync_api import Page

from avf.service import create_app

DRAFT = "posts/2026-02-01-brouillon.md"
REPORTER = "helene@example.org"
TIMEOUT = 20_000  # milliseconds, for each step
# The caret is in the list item number `arg` of the text, once that item is drawn.
CARET_IN_ITEM = """(index) => {
  const items = document.querySelectorAll('.avf-wysiwyg [contenteditable=true] li')
  const node = getSelection().anchorNode
  const element = node && (node.nodeType === 1 ? node : node.parentElement)
  return items.length > index && element && element.closest('li') === items[index]
}"""
SHOTS = Path(os.environ.get("AVF_SCREENSHOTS", "/tmp/avf-editor-shots"))


@dataclass
class Site:
    address: str
    checkout: Path
    app: object


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    require_editor_browser()
    repos = content_repos(tmp_path / "git", {"lyon": {
        DRAFT: '---\ntitle: "Brouillon"\ndate: 2026-02-01\nstatus: draft\n---\n\nTexte.\n'}})
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    app = create_app(service_settings(tmp_path, repos.checkout, run_workers=False))
    with serving(app, port):
        add_person(app, REPORTER, ("reporter", "lyon"), name="Hélène Dupont")
        yield Site(address, repos.checkout, app)


def photo_file(tmp_path: Path) -> Path:
    path = tmp_path / "IMG_2040.jpg"
    image = Image.new("RGB", (1200, 800), (30, 120, 60))
    out = io.BytesIO()
    image.save(out, "JPEG")
    path.write_bytes(out.getvalue())
    return path


def committed(checkout: Path, rel: str) -> str:
    return subprocess.run(["git", "show", f"HEAD:lyon/{rel}"], cwd=checkout,
                          capture_output=True, text=True, check=True).stdout


@contextmanager
def reporter_on_a_phone(site: Site) -> Iterator[tuple[Page, list[str]]]:
    """Chromium at a phone's size, the reporter signed in by the mailed link; the page, and
    the CSP violations the console reports."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--headless", "--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844},
                                          device_scale_factor=2, is_mobile=True,
                                          has_touch=True)
            context.set_default_timeout(TIMEOUT)
            violations: list[str] = []
            context.on("console", lambda message: violations.append(message.text)
                       if "Content Security Policy" in message.text else None)
            page = context.new_page()
            page.goto(site.address + "/compte/connexion")
            page.get_by_label("Votre adresse email").fill(REPORTER)
            with page.expect_navigation():
                page.get_by_role("button", name="Recevoir mon lien de connexion").click()
            page.goto(site.address + link_in_outbox(site.app, REPORTER))  # type: ignore[arg-type]
            with page.expect_navigation():
                page.get_by_role("button", name="Me connecter").click()
            yield page, violations
        finally:
            browser.close()


def test_writing_on_a_phone(site: Site, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    with reporter_on_a_phone(site) as (page, violations):

        edit_url = f"{site.address}/editeur/lyon/texte/{DRAFT}"
        page.goto(edit_url)
        page.wait_for_selector("html.avf-editor-ready")
        editable = page.locator(".avf-wysiwyg [contenteditable=true]")
        expect(editable).to_be_visible()
        expect(page.locator("textarea#body")).to_be_hidden()

        # Bold text and a list, with the buttons above the text.
        editable.click()
        page.keyboard.press("Control+a")
        page.keyboard.type("Venez nombreux ")
        page.get_by_role("button", name="Gras", exact=True).first.click()
        page.keyboard.type("jeudi soir")
        page.get_by_role("button", name="Gras", exact=True).first.click()
        page.keyboard.press("Enter")
        page.get_by_role("button", name="Liste à puces").click()
        page.wait_for_function(CARET_IN_ITEM, arg=0)
        page.keyboard.type("du pain", delay=30)
        page.keyboard.press("Enter")
        # Crepe draws each list item with a component, mounted just after the keystroke.
        page.wait_for_function(CARET_IN_ITEM, arg=1)
        page.keyboard.type("du fromage", delay=30)
        body = page.locator("textarea#body")
        expect(body).to_have_value(re.compile(r"Venez nombreux \*\*jeudi soir\*\*"))
        expect(body).to_have_value(re.compile(r"^[-*] du pain\n+[-*] du fromage", re.M))
        page.locator(".avf-wysiwyg").screenshot(path=str(SHOTS / "editor-text.png"))

        # Tags as chips: added with Enter and a comma, removed with their button.
        tags = page.get_by_label("Étiquettes (facultatif)")
        tags.fill("sortie")
        tags.press("Enter")
        tags.type("musée,")
        tags.type("erreur")
        tags.press("Enter")
        page.get_by_role("button", name="Retirer l'étiquette erreur").click()
        expect(page.locator("input[name=tags]")).to_have_value("sortie, musée")
        expect(page.get_by_role("button", name="Retirer l'étiquette musée")).to_be_visible()

        # Autosave, then a reload: the banner offers the version back.
        status = page.locator("[data-avf-autosave-status]")
        expect(status).to_contain_text("Enregistré automatiquement à", timeout=15_000)
        page.screenshot(path=str(SHOTS / "editor-phone.png"), full_page=False)
        page.reload()
        page.wait_for_selector("html.avf-editor-ready")
        resume = page.get_by_role("button", name=re.compile(
            "Reprendre la version non enregistrée du"))
        expect(resume).to_be_visible()
        page.screenshot(path=str(SHOTS / "editor-banner.png"))
        resume.click()
        expect(page.locator(".avf-wysiwyg strong")).to_have_text("jeudi soir")
        expect(page.locator("input[name=tags]")).to_have_value("sortie, musée")

        # A photo, with its description, into the text at the cursor.
        page.locator(".avf-wysiwyg [contenteditable=true] li").last.click()
        page.keyboard.press("End")
        page.locator("#avf-photo-file").set_input_files(str(photo_file(tmp_path)))
        page.get_by_label("Décrivez la photo pour les personnes qui ne la voient pas",
                          exact=True).last.fill("Un buffet de fromages")
        page.get_by_role("button", name="Envoyer la photo").click()
        expect(page.locator("[data-avf-photo-message]")).to_contain_text(
            "placée dans le texte")
        expect(body).to_have_value(re.compile(
            r"!\[Un buffet de fromages\]\(\.\./media/\d{4}-un-buffet-de-fromages\.jpg\)"))
        expect(page.locator(".avf-wysiwyg img[alt='Un buffet de fromages']")).to_be_visible()

        # The preview opens in a new tab, in the city's theme.
        with page.context.expect_page() as opened:
            page.get_by_role("button", name="Voir l'aperçu").click()
        preview = opened.value
        preview.wait_for_load_state()
        expect(preview.get_by_text("Aperçu — pas encore publié")).to_be_visible()
        expect(preview.locator("main strong")).to_have_text("jeudi soir")
        expect(preview.locator("main img[alt='Un buffet de fromages']")).to_have_count(1)
        assert preview.evaluate(
            "getComputedStyle(document.body).fontFamily") != "Times New Roman"
        assert "/editeur/lyon/apercu/" in preview.url
        preview.screenshot(path=str(SHOTS / "preview-phone.png"))
        preview.close()

        # Saved: the file holds Markdown.
        page.get_by_role("button", name="Enregistrer le brouillon").click()
        page.wait_for_url(re.compile(r".*fait=save.*"))
        text = committed(site.checkout, DRAFT)
        assert "Venez nombreux **jeudi soir**" in text
        assert re.search(r"(?m)^[-*] du pain$", text)
        assert "tags: [sortie, musée]" in text
        assert re.search(r"!\[Un buffet de fromages\]\(\.\./media/\d{4}-un-buffet", text)
        assert "status: draft" in text
        assert not violations, violations


PICKER_SHOT = SHOTS / "editor-photo-picker.png"
CITY_PHOTOS = {"galette-des-rois.jpg": (200, 150, 60), "pique-nique-au-parc.jpg": (60, 160, 70),
               "visite-du-vieux-lyon.jpg": (150, 90, 60), "cafe-accueil.jpg": (90, 60, 40)}


def test_a_photo_sent_as_main_photo_is_chosen_in_the_grid(site: Site, tmp_path: Path) -> None:
    """« Changer de photo » on a phone: the city's photos as a grid of thumbnails; a photo
    sent with « Comme photo principale » appears in it, chosen, with its description; saving
    writes its address. No violation of the editor's CSP, nothing wider than the screen."""
    from playwright.sync_api import expect

    media = site.checkout / "lyon" / "media"
    media.mkdir()
    for name, colour in CITY_PHOTOS.items():
        out = io.BytesIO()
        Image.new("RGB", (1200, 800), colour).save(out, "JPEG")
        (media / name).write_bytes(out.getvalue())
    subprocess.run(["git", "add", "lyon/media"], cwd=site.checkout, check=True)
    subprocess.run(["git", "-c", "user.name=Bénévole", "-c", "user.email=b@avf.example",
                    "commit", "-q", "-m", "Photos"], cwd=site.checkout, check=True)
    with reporter_on_a_phone(site) as (page, violations):
        page.goto(f"{site.address}/editeur/lyon/texte/{DRAFT}")
        page.wait_for_selector("html.avf-editor-ready")

        fieldset = page.locator("fieldset#photo")
        fieldset.get_by_text("Choisir une photo").click()
        grid = fieldset.locator("[data-avf-photo-grid]")
        expect(grid.locator("input[type=radio]")).to_have_count(1 + len(CITY_PHOTOS))
        expect(fieldset.get_by_label("Pas de photo")).to_be_checked()
        # Thumbnails, loaded from the service's small copies.
        expect(grid.locator("img").first).to_have_attribute("src", re.compile(r"vignette="))
        page.wait_for_function("""() => [...document.querySelectorAll(
            '[data-avf-photo-grid] img')].every((image) => image.complete
            && image.naturalWidth === 320)""")
        # Choosing one shows it as chosen above the grid.
        fieldset.get_by_label("pique nique au parc").check()
        expect(fieldset.locator("[data-avf-photo-current]")).to_contain_text(
            "Photo choisie (pique nique au parc)")

        # Sent as the main photo: added to the grid, chosen, description filled.
        page.locator("#avf-photo-file").set_input_files(str(photo_file(tmp_path)))
        page.get_by_label("Décrivez la photo pour les personnes qui ne la voient pas",
                          exact=True).last.fill("Le marché de la Croix-Rousse")
        page.get_by_label("Comme photo principale, sous le titre").check()
        page.get_by_role("button", name="Envoyer la photo").click()
        expect(page.locator("[data-avf-photo-message]")).to_contain_text(
            "photo principale")
        chosen = grid.locator("input[type=radio]:checked")
        expect(chosen).to_have_value(re.compile(
            r"^\.\./media/\d{4}-le-marche-de-la-croix-rousse\.jpg$"))
        expect(grid.locator("input[type=radio]")).to_have_count(2 + len(CITY_PHOTOS))
        expect(page.locator("input#image_alt")).to_have_value("Le marché de la Croix-Rousse")
        expect(fieldset.locator("[data-avf-photo-current] img")).to_have_attribute(
            "src", re.compile(r"le-marche-de-la-croix-rousse\.jpg\?vignette="))
        page.wait_for_function("""() => [...document.querySelectorAll(
            '#photo img')].every((image) => image.complete && image.naturalWidth > 0)""")
        assert page.evaluate(
            "document.documentElement.scrollWidth - window.innerWidth") <= 0
        PICKER_SHOT.parent.mkdir(parents=True, exist_ok=True)
        fieldset.screenshot(path=str(PICKER_SHOT))

        page.get_by_role("button", name="Enregistrer le brouillon").click()
        page.wait_for_url(re.compile(r".*fait=save.*"))
        text = committed(site.checkout, DRAFT)
        assert re.search(r"(?m)^image: \.\./media/\d{4}-le-marche-de-la-croix-rousse\.jpg$",
                         text)
        assert "image_alt: Le marché de la Croix-Rousse" in text
        assert not violations, violations
