"""The web editor's whole path in a real browser (Debian's Chromium through Playwright, a
phone's screen of 390×844 with touch), over a real service: uvicorn on a loopback port with
its workers running (sign-in links, mail, the build queue), a real git content repository
cloned from a bare origin, a real SMTP server.

Hélène, a reporter of Lyon, signs in with the link she receives by mail, writes a new post
in the WYSIWYG (a title, a word in bold, a photo from her phone with its description) and
proposes it for review. Paul, Lyon's admin, signs in the same way in another browser, gets
the « à relire » mail, opens the text and publishes it: the tracking page says « En ligne »
with the link, and the post is in OUT/public/lyon/ and answers over HTTP. Paul changes a
sentence and saves; the history shows both authors' versions; « Restaurer cette version »
puts the earlier words back online. Origin holds every commit, each authored by the
volunteer's name with a no-reply address."""

from __future__ import annotations

import html
import io
import re
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from email.message import EmailMessage
from pathlib import Path

import pytest
from auth_helpers import add_person
from browser_helpers import CHROMIUM, require_editor_browser
from conftest import FIXED_NOW, SmtpCapture, free_port, service_settings, serving
from content_repo import ContentRepos, git, small_network
from PIL import Image
from starlette.applications import Starlette

from avf.build import BuildOptions, build_network
from avf.service import create_app

REPORTER = ("helene@example.org", "Hélène Dupont")
ADMIN = ("paul@example.org", "Paul Martin")
TIMEOUT = 20_000  # milliseconds, for each step of the browser
FIRST_WORDS = "Le pique-nique du réseau aura lieu au parc de la Tête d'Or."
SECOND_WORDS = "Rendez-vous finalement sur les quais du Rhône."
LINK = r"/compte/lien/[A-Za-z0-9_-]+"


@dataclass
class Site:
    address: str
    app: Starlette
    repos: ContentRepos
    public: Path


def require_browser() -> None:
    require_editor_browser()


@pytest.fixture
def site(tmp_path: Path, smtp_server: SmtpCapture) -> Iterator[Site]:
    """A small network (lyon, gap) on a bare origin, built once for the port it is served
    on, then served by the service with every worker running."""
    require_browser()
    repos = small_network(tmp_path / "git")
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    output = tmp_path / "output"
    assert build_network(BuildOptions(content_dir=repos.checkout, output_dir=output, jobs=1,
                                      site_url=address, now=FIXED_NOW)).ok
    settings = service_settings(tmp_path, repos.checkout, smtp_server)
    app = create_app(replace(settings, output_dir=output, public_url=address))
    with serving(app, port):
        add_person(app, REPORTER[0], ("reporter", "lyon"), name=REPORTER[1])
        add_person(app, ADMIN[0], ("admin", "lyon"), name=ADMIN[1])
        yield Site(address, app, repos, output / "public")


def mail_to(smtp: SmtpCapture, address: str, subject: str,
            timeout: float = 15.0) -> EmailMessage:
    """The newest mail received for `address` whose subject starts with `subject`, once
    the service's mail worker has sent it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [message for message in smtp.messages
                 if message["To"] == address and message["Subject"].startswith(subject)]
        if found:
            return found[-1]
        time.sleep(0.02)
    raise AssertionError(f"no mail « {subject} » for {address}: "
                         f"{[(m['To'], m['Subject']) for m in smtp.messages]}")


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.status == 200
        return answer.read().decode("utf-8")


def readable(page: str) -> str:
    """A built page with its entities decoded and typographic apostrophes made plain."""
    return html.unescape(page).replace("\u2019", "'")


def photo_file(tmp_path: Path) -> Path:
    path = tmp_path / "IMG_2041.jpg"
    out = io.BytesIO()
    Image.new("RGB", (1600, 1200), (200, 150, 40)).save(out, "JPEG")
    path.write_bytes(out.getvalue())
    return path


def sign_in(page, site: Site, smtp: SmtpCapture, email: str) -> None:  # type: ignore[no-untyped-def]
    """The real flow: the form, the mail read from the SMTP server, « Me connecter »."""
    page.goto(site.address + "/compte/connexion")
    page.get_by_label("Votre adresse email").fill(email)
    with page.expect_navigation():
        page.get_by_role("button", name="Recevoir mon lien de connexion").click()
    message = mail_to(smtp, email, "Votre lien de connexion")
    (link,) = re.findall(re.escape(site.address) + LINK, text_of(message))
    page.goto(link)
    with page.expect_navigation():
        page.get_by_role("button", name="Me connecter").click()


def wait_online(page, public_link: str) -> str:  # type: ignore[no-untyped-def]
    """On the tracking page (which reloads itself): « En ligne », then the page's link."""
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", level=1)).to_have_text("En ligne", timeout=30_000)
    link = page.get_by_role("link", name="voir la page publiée")
    assert link.get_attribute("href") == public_link
    return public_link


def test_a_reporter_writes_the_admin_publishes_edits_and_restores(
        site: Site, smtp_server: SmtpCapture, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    started = time.monotonic()
    slug = "pique-nique-du-reseau"
    public_link = f"/lyon/actualites/{slug}.html"
    online_file = site.public / "lyon" / "actualites" / f"{slug}.html"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--headless", "--no-sandbox"])
        try:
            phone = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
                     "is_mobile": True, "has_touch": True}
            helene_context = browser.new_context(**phone)
            helene_context.set_default_timeout(TIMEOUT)
            violations: list[str] = []
            helene_context.on("console", lambda message: violations.append(message.text)
                              if "Content Security Policy" in message.text else None)
            helene = helene_context.new_page()

            # Hélène writes a new post with a photo and proposes it.
            sign_in(helene, site, smtp_server, REPORTER[0])
            helene.goto(site.address + "/editeur/lyon/nouveau")
            helene.wait_for_selector("html.avf-editor-ready")
            helene.get_by_role("textbox", name="Titre (obligatoire)").fill("Pique-nique du réseau")
            editable = helene.locator(".avf-wysiwyg [contenteditable=true]")
            editable.tap()
            helene.keyboard.type("Le pique-nique du réseau aura lieu au parc de la ")
            helene.get_by_role("button", name="Gras", exact=True).first.tap()
            helene.keyboard.type("Tête d'Or")
            helene.get_by_role("button", name="Gras", exact=True).first.tap()
            helene.keyboard.type(".")
            body = helene.locator("textarea#body")
            expect(body).to_have_value(re.compile(r"au parc de la \*\*Tête d'Or\*\*\."))
            helene.keyboard.press("Enter")
            helene.locator("#avf-photo-file").set_input_files(str(photo_file(tmp_path)))
            helene.get_by_label("Décrivez la photo pour les personnes qui ne la voient pas",
                                exact=True).last.fill("Des nappes sur l'herbe")
            helene.get_by_role("button", name="Envoyer la photo").tap()
            expect(helene.locator("[data-avf-photo-message]")).to_contain_text(
                "placée dans le texte")
            expect(body).to_have_value(re.compile(
                r"!\[Des nappes sur l'herbe\]\(\.\./media/\d{4}-des-nappes-sur-l-herbe\.jpg\)"))
            with helene.expect_navigation():
                helene.get_by_role("button", name="Proposer à la relecture").tap()
            expect(helene.get_by_role("status").first).to_contain_text(
                "proposé à la relecture")
            rel = re.search(r"/editeur/lyon/texte/(posts/[^?]+\.md)", helene.url).group(1)
            assert rel.endswith(f"-{slug}.md"), rel
            assert not violations, violations

            # Paul gets the « à relire » mail, signs in and publishes.
            review = mail_to(smtp_server, ADMIN[0], "Un texte attend votre relecture")
            assert "« Pique-nique du réseau »" in text_of(review)
            assert REPORTER[1] in text_of(review)
            text_link = f"{site.address}/editeur/lyon/texte/{rel}"
            assert text_link in text_of(review)
            paul_context = browser.new_context(**phone)
            paul_context.set_default_timeout(TIMEOUT)
            paul = paul_context.new_page()
            sign_in(paul, site, smtp_server, ADMIN[0])
            paul.goto(text_link)
            paul.wait_for_selector("html.avf-editor-ready")
            with paul.expect_navigation():
                paul.get_by_role("button", name="Publier", exact=True).tap()
            assert "/editeur/lyon/suivi/" in paul.url
            wait_online(paul, public_link)
            online = readable(online_file.read_text(encoding="utf-8"))
            assert "<strong>Tête d'Or</strong>" in online
            assert re.search(r'<img [^>]*alt="Des nappes sur l\'herbe"', online), online
            served = fetch(site.address + public_link)
            assert "Pique-nique du réseau" in served and "Tête d" in served
            published = mail_to(smtp_server, REPORTER[0], "Votre texte est en ligne")
            assert site.address + public_link in text_of(published)

            # Paul changes the first sentence and saves: online again.
            paul.goto(text_link)
            paul.wait_for_selector("html.avf-editor-ready")
            first = paul.locator(".avf-wysiwyg [contenteditable=true] p").first
            first.tap()
            paul.keyboard.press("End")
            paul.keyboard.press("Shift+Home")
            paul.keyboard.type(SECOND_WORDS)
            expect(paul.locator("textarea#body")).to_have_value(
                re.compile(re.escape(SECOND_WORDS)))
            with paul.expect_navigation():
                paul.get_by_role("button", name="Enregistrer les modifications").tap()
            wait_online(paul, public_link)
            assert SECOND_WORDS in online_file.read_text(encoding="utf-8")
            assert SECOND_WORDS in fetch(site.address + public_link)

            # The history: Hélène's and Paul's versions, newest first.
            paul.goto(f"{site.address}/editeur/lyon/historique/{rel}")
            versions = paul.locator("ol.editor-history > li")
            expect(versions).to_have_count(3)  # proposed, published, changed
            for number, (what, who) in enumerate((("Enregistré", ADMIN), ("Publié", ADMIN),
                                                  ("Proposé à la relecture", REPORTER))):
                expect(versions.nth(number)).to_contain_text(what)
                expect(versions.nth(number)).to_contain_text(re.compile(
                    rf"Le \w+ \d+ \w+ \d{{4}} à \d+ h \d+, par {who[1]}\."))
            expect(versions.nth(0)).to_contain_text("version actuelle")

            # « Restaurer cette version » (the one Paul published): the old words go back.
            versions.nth(1).get_by_role("link", name=re.compile("Voir cette version")).tap()
            # What changed since: Paul's new sentence, marked as added.
            expect(paul.locator("ins").filter(has_text="Rendez-vous").first).to_be_visible()
            with paul.expect_navigation():
                paul.get_by_role("button", name="Restaurer cette version").tap()
            wait_online(paul, public_link)
            restored = online_file.read_text(encoding="utf-8")
            assert SECOND_WORDS not in restored and "Tête d" in restored
            served = fetch(site.address + public_link)
            assert SECOND_WORDS not in served and "Le pique-nique du réseau" in served
            paul.goto(f"{site.address}/editeur/lyon/historique/{rel}")
            expect(versions).to_have_count(4)
            expect(versions.nth(0)).to_contain_text("restaur")
        finally:
            browser.close()

    # Origin holds every commit, by the volunteers, with no-reply addresses.
    assert git(site.repos.origin, "rev-parse", "main") == site.repos.checkout_head()
    log = git(site.repos.origin, "log", "--format=%an <%ae>|%s", "main").splitlines()
    mine = log[:-1]  # the last one is the network's first commit
    assert len(mine) == 5, log  # photo, proposed, published, changed, restored
    authors = {line.split("|")[0] for line in mine}
    assert {author.split(" <")[0] for author in authors} == {REPORTER[1], ADMIN[1]}
    for author in authors:
        assert re.fullmatch(r".+ <benevole-\d+@noreply\.[^>]+>", author), author
        assert "example.org" not in author
    assert FIRST_WORDS.split(" au ")[0] in git(site.repos.origin, "show", f"main:lyon/{rel}")
    assert time.monotonic() - started < 60
