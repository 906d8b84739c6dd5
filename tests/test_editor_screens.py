"""The editor on a phone's screen (390×844, device scale 2, touch) in Debian's Chromium,
over the real service (uvicorn, its workers, a content repository with a bare origin):
no editor page scrolls sideways, and axe-core finds no violation on the pages volunteers
use most (the list, the edit form with the WYSIWYG, the history and a version, the help).

On the way the screens are saved as PNGs (AVF_SCREENSHOTS, default /tmp/avf-editor-shots):
the list, the edit form with a photo, the photo just sent, the tracking page « En ligne »,
a version's differences, the conflict page, the team and the help — for people to look at;
the assertions are the sideways scroll and axe."""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from auth_helpers import add_person
from browser_helpers import CHROMIUM, require_editor_browser
from conftest import FIXED_NOW, SmtpCapture, free_port, post, service_settings, serving
from content_repo import content_repos, git
from PIL import Image
from starlette.applications import Starlette
from test_accessibility import AXE
from test_editor_journey import LINK, mail_to, text_of

from avf.build import BuildOptions, build_network
from avf.service import create_app

ADMIN = ("paul@example.org", "Paul Martin")
REPORTER = ("helene@example.org", "Hélène Dupont")
ONLINE = "posts/2026-01-10-marche.md"
DRAFT = "posts/2026-02-01-atelier.md"
TIMEOUT = 20_000  # milliseconds, for each step
SHOTS = Path(os.environ.get("AVF_SCREENSHOTS", "/tmp/avf-editor-shots"))
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True, "locale": "fr-FR"}
# How far the page reaches beyond the screen's width (0: nothing to scroll sideways).
SIDEWAYS = "() => document.documentElement.scrollWidth - window.innerWidth"


def jpeg(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "JPEG")
    return out.getvalue()


@dataclass
class Site:
    address: str
    app: Starlette
    smtp: SmtpCapture


@pytest.fixture
def site(tmp_path: Path, smtp_server: SmtpCapture) -> Iterator[Site]:
    """Lyon with a post online (and its photo), a draft, a text to review and a page, built
    for the port it is served on; its admin and a reporter."""
    require_editor_browser()
    repos = content_repos(tmp_path / "git", {"lyon": {
        ONLINE: post("Marche du dimanche matin", "2026-01-10",
                     extra='image: "../media/marche.jpg"\nimage_alt: "Six marcheurs sur un '
                           'chemin de campagne"\ntags: [sortie, randonnée]',
                     body="Rendez-vous à 9 h devant la mairie.\n\nPrévoir de bonnes chaussures "
                          "et une gourde : la boucle fait douze kilomètres."),
        DRAFT: post("Atelier de conversation anglaise", "2026-02-01", extra="status: draft",
                    body="Chaque mardi à 18 h, au local."),
        "posts/2026-02-03-galette.md": post("Galette des rois", "2026-02-03",
                                            extra="status: review", body="Samedi à 15 h."),
        "pages/adherer.md": '---\ntitle: "Adhérer"\n---\n\nVenez nous voir.\n',
    }})
    photo = repos.volunteer / "lyon" / "media" / "marche.jpg"
    photo.parent.mkdir(exist_ok=True)
    photo.write_bytes(jpeg(900, 600, (60, 120, 60)))
    git(repos.volunteer, "add", "-A")
    git(repos.volunteer, "commit", "-q", "-m", "La photo de la marche")
    git(repos.volunteer, "push", "-q", "origin", "main")
    git(repos.checkout, "pull", "-q", "--ff-only")
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    output = tmp_path / "output"
    assert build_network(BuildOptions(content_dir=repos.checkout, output_dir=output, jobs=1,
                                      site_url=address, now=FIXED_NOW)).ok
    app = create_app(replace(service_settings(tmp_path, repos.checkout, smtp_server),
                             output_dir=output, public_url=address))
    with serving(app, port):
        add_person(app, ADMIN[0], ("admin", "lyon"), name=ADMIN[1])
        add_person(app, REPORTER[0], ("reporter", "lyon"), name=REPORTER[1])
        yield Site(address, app, smtp_server)


def sign_in(context, site: Site, email: str):  # type: ignore[no-untyped-def]
    """A page of `context`, signed in through the link received by mail."""
    page = context.new_page()
    page.goto(site.address + "/compte/connexion")
    page.get_by_label("Votre adresse email").fill(email)
    with page.expect_navigation():
        page.get_by_role("button", name="Recevoir mon lien de connexion").click()
    message = mail_to(site.smtp, email, "Votre lien de connexion")
    (link,) = re.findall(re.escape(site.address) + LINK, text_of(message))
    page.goto(link)
    with page.expect_navigation():
        page.get_by_role("button", name="Me connecter").click()
    return page


def launch(playwright):  # type: ignore[no-untyped-def]
    return playwright.chromium.launch(executable_path=CHROMIUM,
                                      args=["--headless", "--no-sandbox", "--lang=fr-FR"])


def shoot(page, name: str, full_page: bool = True) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"editor-{name}.png"), full_page=full_page)


def test_no_editor_page_scrolls_sideways_on_a_phone(site: Site, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    wide: dict[str, int] = {}

    def check(page, what: str) -> None:  # type: ignore[no-untyped-def]
        page.wait_for_load_state("load")
        beyond = page.evaluate(SIDEWAYS)
        if beyond > 0:
            wide[what] = beyond

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            admin_context = browser.new_context(**PHONE)
            admin_context.set_default_timeout(TIMEOUT)
            admin = sign_in(admin_context, site, ADMIN[0])
            reporter_context = browser.new_context(**PHONE)
            reporter_context.set_default_timeout(TIMEOUT)
            reporter = sign_in(reporter_context, site, REPORTER[0])

            for path in ("/editeur/", "/editeur/lyon/", "/editeur/lyon/nouveau",
                         "/editeur/lyon/nouveau?type=page", "/editeur/lyon/corbeille",
                         "/editeur/lyon/fiche", "/editeur/lyon/equipe",
                         "/editeur/lyon/equipe/passer-la-main", "/editeur/lyon/journal",
                         "/editeur/aide/", "/editeur/lyon/texte/pages/adherer.md",
                         f"/editeur/lyon/supprimer/{DRAFT}"):
                admin.goto(site.address + path)
                check(admin, path)
                name = {"/editeur/lyon/": "list", "/editeur/lyon/equipe": "team",
                        "/editeur/aide/": "help"}.get(path)
                if name:
                    shoot(admin, name)

            # The edit form with the WYSIWYG and the post's photo.
            admin.goto(f"{site.address}/editeur/lyon/texte/{ONLINE}")
            admin.wait_for_selector("html.avf-editor-ready")
            check(admin, "edit form")
            shoot(admin, "edit")

            # A photo sent from the phone into the text.
            admin.locator(".avf-wysiwyg [contenteditable=true] p").last.tap()
            admin.keyboard.press("Control+End")
            photo = tmp_path / "IMG_2042.jpg"
            photo.write_bytes(jpeg(1600, 1200, (200, 150, 40)))
            admin.locator("#avf-photo-file").set_input_files(str(photo))
            admin.get_by_label("Décrivez la photo pour les personnes qui ne la voient pas",
                               exact=True).last.fill("La halte pique-nique au bord du lac")
            admin.get_by_role("button", name="Envoyer la photo").tap()
            message = admin.locator("[data-avf-photo-message]")
            expect(message).to_contain_text("placée dans le texte")
            check(admin, "photo sent")
            admin.locator("[data-avf-photo]").scroll_into_view_if_needed()
            shoot(admin, "photo", full_page=False)

            # Saved: the tracking page, then « En ligne ».
            with admin.expect_navigation():
                admin.get_by_role("button", name="Enregistrer les modifications").tap()
            check(admin, "tracking, building")
            expect(admin.get_by_role("heading", level=1)).to_have_text("En ligne",
                                                                       timeout=30_000)
            check(admin, "tracking, online")
            shoot(admin, "tracking")

            # The history, and the previous version with what changed.
            admin.goto(f"{site.address}/editeur/lyon/historique/{ONLINE}")
            check(admin, "history")
            admin.locator("ol.editor-history > li").nth(1).get_by_role(
                "link", name=re.compile("Voir cette version")).tap()
            expect(admin.get_by_role("button", name="Restaurer cette version")).to_be_visible()
            check(admin, "version")
            shoot(admin, "history")

            # Two people on one draft: the second save gets both versions.
            draft_url = f"{site.address}/editeur/lyon/texte/{DRAFT}"
            admin.goto(draft_url)
            admin.wait_for_selector("html.avf-editor-ready")
            reporter.goto(draft_url)
            reporter.wait_for_selector("html.avf-editor-ready")
            reporter.get_by_role("textbox", name="Titre (obligatoire)").fill(
                "Atelier d'anglais du mardi")
            with reporter.expect_navigation():
                reporter.get_by_role("button", name="Enregistrer le brouillon").tap()
            admin.get_by_role("textbox", name="Titre (obligatoire)").fill(
                "Conversation anglaise : tous niveaux")
            with admin.expect_navigation():
                admin.get_by_role("button", name="Enregistrer le brouillon").tap()
            # Both versions, told in words: hers struck through, his underlined.
            expect(admin.locator(".editor-changes del")).to_contain_text(
                "Atelier d'anglais du mardi")
            expect(admin.locator(".editor-changes ins")).to_contain_text(
                "Conversation anglaise : tous niveaux")
            check(admin, "conflict")
            shoot(admin, "conflict")
        finally:
            browser.close()
    assert wide == {}, f"pages wider than the phone's 390 px (by px): {wide}"


def test_axe_finds_no_violation_in_the_editor(site: Site) -> None:
    if not AXE.is_file():
        if os.environ.get("CI"):
            pytest.fail("node_modules/axe-core is missing: ./run installs it (npm ci)")
        pytest.skip("node_modules/axe-core is missing (./run installs it); CI runs this test")
    from playwright.sync_api import sync_playwright

    found: dict[str, list[str]] = {}
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            # axe is injected as an inline script, which the editor's policy forbids.
            context = browser.new_context(**PHONE, bypass_csp=True)
            context.set_default_timeout(TIMEOUT)
            page = sign_in(context, site, ADMIN[0])
            page.goto(f"{site.address}/editeur/lyon/historique/{ONLINE}")
            version = page.locator("ol.editor-history a").first.get_attribute("href")
            for path in ("/editeur/lyon/", f"/editeur/lyon/texte/{ONLINE}",
                         "/editeur/lyon/nouveau", f"/editeur/lyon/historique/{ONLINE}",
                         version, "/editeur/aide/"):
                page.goto(site.address + path)
                if "/texte/" in path or "/nouveau" in path:
                    page.wait_for_selector("html.avf-editor-ready")
                page.add_script_tag(path=str(AXE))
                results = page.evaluate("() => axe.run(document)")
                problems = [f"{violation['id']} ({violation['impact']}): {violation['help']} "
                            f"at {[node['target'] for node in violation['nodes']]}"
                            for violation in results["violations"]]
                if problems:
                    found[path] = problems
        finally:
            browser.close()
    assert found == {}, json.dumps(found, indent=1, ensure_ascii=False)
