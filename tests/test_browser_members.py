"""A member in a real browser: Debian's Chromium driven by Playwright signs in with the
link the service mailed (its mail worker, a real SMTP server), reads a member-only post,
signs out, and can no longer read it.

Playwright's own browser downloads are never used: the test runs the system's `chromium`.
Skipped when it is not installed, except in CI (`CI` set), where `.ci/run` installs it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from auth_helpers import add_person
from browser_helpers import require_chromium
from conftest import (
    FIXED_NOW,
    SmtpCapture,
    free_port,
    post,
    service_settings,
    serving,
    write,
    write_city,
)

from avf.build import BuildOptions, build_network
from avf.service import create_app

MEMBER = "odile@example.org"
POST = "/membres/lyon/actualites/assemblee.html"
SECRET = "Le budget de la sortie à Annecy est voté"
TIMEOUT = 15_000  # milliseconds, for each step of the browser


@pytest.fixture(scope="module")
def chromium() -> str:
    return require_chromium()


@pytest.fixture
def site(tmp_path: Path, smtp_server: SmtpCapture) -> Iterator[str]:
    """A network built for the port it is served on, served by the service under uvicorn
    with its workers (mail, sign-in links) running; its address."""
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    content = tmp_path / "content"
    write(content / "_network" / "pages" / "a-propos.md",
          '---\ntitle: "Le réseau AVF"\n---\n\nLe réseau des AVF.\n')
    write_city(content, "lyon", {
        "posts/2026-10-02-assemblee.md": post("Compte rendu de l'assemblée",
                                              extra="visibility: members",
                                              body=f"{SECRET}."),
    })
    output = tmp_path / "output"
    assert build_network(BuildOptions(content_dir=content, output_dir=output, jobs=1,
                                      site_url=address, now=FIXED_NOW)).ok
    settings = service_settings(tmp_path, content, smtp_server)
    app = create_app(replace(settings, output_dir=output, public_url=address))
    with serving(app, port):
        add_person(app, MEMBER, ("member", "lyon"), name="Odile")
        yield address


def test_a_member_signs_in_reads_a_member_only_post_and_signs_out(
        chromium: str, site: str, smtp_server: SmtpCapture) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium,
                                             args=["--headless", "--no-sandbox"])
        try:
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT)

            # The post sends a stranger to the sign-in form.
            page.goto(site + POST)
            assert page.url == f"{site}/compte/connexion?suivant={POST}"
            assert SECRET not in page.content()
            page.get_by_label("Votre adresse email").fill(MEMBER)
            page.get_by_role("button", name="Recevoir mon lien de connexion").click()
            page.get_by_role("heading", name="Vérifiez vos emails").wait_for()

            # The link, as the mail worker delivered it to the SMTP server.
            messages = smtp_server.wait_for(1, timeout=TIMEOUT / 1000)
            assert len(messages) == 1 and messages[0]["To"] == MEMBER
            mail = messages[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
            link = re.search(rf"{re.escape(site)}/compte/lien/[A-Za-z0-9_-]+", mail)
            assert link, mail
            page.goto(link.group(0))
            page.get_by_role("button", name="Me connecter").click()

            # Back on the post, signed in: its text is there.
            page.wait_for_url(site + POST)
            assert SECRET in page.locator("main").inner_text()

            # Signed out, the post is closed again.
            page.goto(site + "/compte/")
            page.get_by_role("button", name="Me déconnecter").first.click()
            page.get_by_role("heading", name="Vous êtes déconnecté·e").wait_for()
            page.goto(site + POST)
            assert page.url.startswith(f"{site}/compte/connexion")
            assert SECRET not in page.content()
        finally:
            browser.close()
