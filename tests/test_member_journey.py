"""A member's whole journey, over real HTTP: the service under uvicorn on a loopback socket,
its mail worker and sign-in link sender running, a real SMTP server (aiosmtpd), a really
built network with a member-only post.

Each person is an HTTP client keeping its own cookies, sending `Origin` on POSTs as a
browser does, and filling in the forms of the pages it received (their hidden fields,
`csrf_token` included, come from the HTML): Élise asks to join Lyon, the admin reads the
notification, signs in through the sign-in form and approves; Élise opens the invitation
she received, reads the member-only post, fills in her profile, finds Bernard in the
directory and writes to him through the relay; Bernard's mail carries her words but not
her address; she downloads her data and deletes her account, after which her session,
her address and her name are gone, her message staying in the admins' log as « ancien
membre ».
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import httpx2
import pytest
from auth_helpers import add_person, engine_of
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
from members_helpers import addresses_in
from sqlalchemy import select
from starlette.applications import Starlette

from avf.build import BuildOptions, build_network
from avf.service import create_app
from avf.service.profiles import ProfileEdit, save_profile
from avf.store.schema import outbox

ELISE = "elise.martin@example.org"
ADMIN = "anne.responsable@example.org"
BERNARD = "bernard.petit@example.org"
SECRET = "Le budget de la sortie à Annecy est voté"
ELISE_WORDS = "Bonjour Bernard, je viens d'arriver à Lyon. Un café jeudi ?"
LINK = r"/compte/lien/[A-Za-z0-9_-]+"


# --- A browser, as far as this journey needs one ------------------------------------------

@dataclass
class Form:
    """A form of a received page: where it posts, its fields as the page filled them, the
    names of its checkboxes (sent only when ticked) and its buttons' text."""

    action: str
    fields: dict[str, str] = field(default_factory=dict)
    checkboxes: dict[str, str] = field(default_factory=dict)
    buttons: list[str] = field(default_factory=list)


class PageParser(HTMLParser):
    """The forms and links of a page (`convert_charrefs` decodes entities for us)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[tuple[str, str]] = []  # (href, text)
        self._form: Form | None = None
        self._textarea: str | None = None
        self._button: list[str] | None = None
        self._link: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._form = Form(action=found.get("action", ""))
            self.forms.append(self._form)
        elif tag == "a" and "href" in found:
            self._link = (found["href"], [])
        elif self._form is not None and tag == "input" and found.get("name"):
            if found.get("type") == "checkbox":
                self._form.checkboxes[found["name"]] = found.get("value", "on")
                if "checked" in found:
                    self._form.fields[found["name"]] = found.get("value", "on")
            else:
                self._form.fields[found["name"]] = found.get("value", "")
        elif self._form is not None and tag == "textarea" and found.get("name"):
            self._textarea = found["name"]
            self._form.fields[self._textarea] = ""
        elif self._form is not None and tag == "button":
            self._button = []

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea is not None:
            self._form.fields[self._textarea] += data
        if self._button is not None:
            self._button.append(data)
        if self._link is not None:
            self._link[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "button" and self._button is not None and self._form is not None:
            self._form.buttons.append(" ".join("".join(self._button).split()))
            self._button = None
        elif tag == "a" and self._link is not None:
            self.links.append((self._link[0], " ".join("".join(self._link[1]).split())))
            self._link = None


def parse(page: httpx2.Response) -> PageParser:
    parser = PageParser()
    parser.feed(page.text)
    return parser


class Browser:
    """One person's browser: its own cookies, `Origin` sent on every POST, forms submitted
    from the page last received."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.client = httpx2.Client(base_url=address, follow_redirects=False, trust_env=False,
                                    timeout=10)

    def open(self, path: str, status: int = 200) -> httpx2.Response:
        response = self.client.get(path)
        assert response.status_code == status, (path, response.status_code, response.text)
        return response

    def open_link(self, url: str, status: int = 200) -> httpx2.Response:
        """A link of a mail: an address of this very site."""
        assert url.startswith(self.address + "/"), url
        return self.open(url.removeprefix(self.address), status)

    def submit(self, page: httpx2.Response, action: str, fill: dict[str, str] | None = None,
               tick: tuple[str, ...] = (), button: str = "",
               status: int = 303) -> httpx2.Response:
        """Fill in the form of `page` posting to `action` (a regular expression of the whole
        path; `button` picks one form among several by its button's text), tick boxes, and
        post it: the page's own hidden fields go with it."""
        forms = [form for form in parse(page).forms if re.fullmatch(action, form.action)
                 and any(button in text for text in form.buttons)]
        assert len(forms) == 1, (action, button, [form.action for form in parse(page).forms])
        form = forms[0]
        data = dict(form.fields)
        for name, value in (fill or {}).items():
            assert name in data, f"no field {name} in the form {form.action}"
            data[name] = value
        for name in tick:
            assert name in form.checkboxes, f"no box {name} in the form {form.action}"
            data[name] = form.checkboxes[name]
        assert data.get("csrf_token"), f"the form {form.action} carries no token"
        response = self.client.post(form.action, data=data, headers={"Origin": self.address})
        assert response.status_code == status, (form.action, response.status_code,
                                                response.text)
        return response

    def follow(self, response: httpx2.Response, expected: str | None = None) -> httpx2.Response:
        """The page a redirect (303) sends to."""
        assert response.status_code in (302, 303, 307, 308), response.status_code
        location = response.headers["location"]
        if expected is not None:
            assert location == expected, location
        return self.open(location)

    def close(self) -> None:
        self.client.close()


def text(page: httpx2.Response) -> str:
    """What a person reads: the page's text, tags and entities gone."""
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page.text).split()))


def link(page: httpx2.Response, words: str) -> str:
    """The address of the page's only link whose text holds `words`."""
    found = [href for href, label in parse(page).links if words in label]
    assert len(found) == 1, (words, parse(page).links)
    return found[0]


# --- Mails -------------------------------------------------------------------------------

def mails_to(smtp: SmtpCapture, address: str, count: int) -> list[EmailMessage]:
    """The mails received for `address` once the server holds `count` mails in all."""
    received = smtp.wait_for(count)
    assert len(received) >= count, [(m["To"], m["Subject"]) for m in received]
    return [message for message in received if message["To"] == address]


def body(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def mailed_link(message: EmailMessage, address: str, pattern: str) -> str:
    """The one link of the mail's text matching `pattern` (a path of `address`), also in
    its HTML part."""
    found = re.findall(re.escape(address) + pattern, body(message))
    assert len(found) == 1, body(message)
    html_part = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert f'href="{found[0]}"' in html_part
    return str(found[0])


def everything_in(message: EmailMessage) -> str:
    """Every header and every part of a mail, decoded and raw."""
    headers = "\n".join(f"{name}: {value}" for name, value in message.items())
    parts = "\n".join(str(part.get_content()) for part in message.walk()
                      if not part.is_multipart())
    return "\n".join((headers, parts, message.as_bytes().decode("utf-8", "replace")))


# --- The network, the service -------------------------------------------------------------

@dataclass
class Site:
    address: str
    app: Starlette


@pytest.fixture
def site(tmp_path: Path, smtp_server: SmtpCapture) -> Iterator[Site]:
    """Lyon, built with a member-only post for the port it is served on, served under
    uvicorn with every worker running; its admin (Anne) and a member listed in the
    directory (Bernard) already there."""
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    content = tmp_path / "content"
    write(content / "_network" / "pages" / "a-propos.md",
          '---\ntitle: "Le réseau AVF"\n---\n\nLe réseau des AVF.\n')
    write_city(content, "lyon", {
        "posts/2026-10-01-cafe.md": post("Café d'accueil"),
        "posts/2026-10-02-assemblee.md": post("Compte rendu de l'assemblée",
                                              extra="visibility: members", body=f"{SECRET}."),
    })
    output = tmp_path / "output"
    assert build_network(BuildOptions(content_dir=content, output_dir=output, jobs=1,
                                      site_url=address, now=FIXED_NOW)).ok
    settings = service_settings(tmp_path, content, smtp_server)
    app = create_app(replace(settings, output_dir=output, public_url=address))
    with serving(app, port):
        add_person(app, ADMIN, ("admin", "lyon"), name="Anne Responsable")
        bernard = add_person(app, BERNARD, ("member", "lyon"), name="Bernard Petit")
        with engine_of(app).begin() as connection:
            save_profile(connection, bernard, ProfileEdit(
                display_name="Bernard Petit", about="Lyonnais depuis toujours.",
                interests="randonnée, échecs", languages="français, italien", phone="",
                in_directory=True, news_by_email=False))
        yield Site(address, app)


def test_a_visitor_joins_is_approved_writes_to_a_member_and_deletes_her_account(
        site: Site, smtp_server: SmtpCapture) -> None:
    # Élise's browser, Anne's, and another one where Élise's session cookie is copied.
    browsers = [Browser(site.address) for _ in range(3)]
    try:
        _journey(site, smtp_server, *browsers)
    finally:
        for browser in browsers:
            browser.close()


def _journey(site: Site, smtp: SmtpCapture, elise: Browser, anne: Browser,
             elsewhere: Browser) -> None:
    address = site.address

    # 1. Élise, a visitor, asks to join Lyon and is thanked.
    form = elise.open("/membres/lyon/adhesion")
    assert "Demander à adhérer à AVF Lyon" in text(form)
    thanks = elise.follow(elise.submit(form, "/membres/lyon/adhesion", fill={
        "nom": "Élise Martin", "email": ELISE, "telephone": "06 12 34 56 78",
        "message": "Arrivée de Nantes en septembre, j'aime la randonnée."}),
        "/membres/lyon/adhesion/merci")
    assert "Merci, votre demande est partie" in text(thanks)
    [acknowledgement] = mails_to(smtp, ELISE, 2)
    assert "AVF Lyon" in acknowledgement["Subject"]

    # 2. Anne, the admin, is told; her link sends her to sign in, then to the request.
    [notice] = mails_to(smtp, ADMIN, 2)
    assert notice["Subject"] == "Une demande d'adhésion attend votre réponse — AVF Lyon"
    manage_url = mailed_link(notice, address, r"/membres/lyon/gestion/")
    sign_in = anne.follow(anne.open_link(manage_url, status=303),
                          "/compte/connexion?suivant=/membres/lyon/gestion/")
    assert "Me connecter" in text(sign_in)
    sent = anne.submit(sign_in, "/compte/connexion", fill={"email": ADMIN}, status=200)
    assert "Vérifiez vos emails" in text(sent) and ADMIN in text(sent)
    [_, sign_in_mail] = mails_to(smtp, ADMIN, 3)
    confirm = anne.open_link(mailed_link(sign_in_mail, address, LINK))
    manage = anne.follow(anne.submit(confirm, LINK, button="Me connecter"),
                         "/membres/lyon/gestion/")
    assert "Gestion des adhérents — AVF Lyon" in text(manage)
    assert "1 demande d'adhésion en attente" in text(manage)
    assert "Arrivée de Nantes en septembre" in text(manage)
    approved = anne.follow(anne.submit(manage, r"/membres/lyon/gestion/demandes/\d+/accepter",
                                       button="la demande de Élise Martin"))
    assert "Demande acceptée : l'invitation est partie par email." in text(approved)
    assert "Aucune demande en attente" in text(approved)

    # 3. Élise's invitation: its link, the button, the members' home, the member-only post.
    [_, invitation] = mails_to(smtp, ELISE, 4)
    assert invitation["Subject"] == "Bienvenue à AVF Lyon : votre adhésion est acceptée"
    confirm = elise.open_link(mailed_link(invitation, address, LINK))
    home = elise.follow(elise.submit(confirm, LINK, button="Me connecter"), "/membres/lyon/")
    assert "Espace adhérents — AVF Lyon" in text(home)
    assert "Gérer les adhérents" not in text(home)
    members_post = elise.open(link(home, "Compte rendu de l'assemblée"))
    assert SECRET in text(members_post)

    # 4. Her profile: a name, the directory; she finds Bernard there, and no address.
    profile = elise.open("/compte/profil")
    assert "Mon profil" in text(profile) and ELISE in text(profile)  # her own, to her only
    saved = elise.follow(elise.submit(profile, "/compte/profil", fill={
        "nom": "Élise Martin", "a_propos": "Nantaise, nouvelle à Lyon."}, tick=("annuaire",)),
        "/compte/profil?enregistre")
    assert "Votre profil est enregistré." in text(saved)
    assert "Accord donné le" in text(saved)
    directory = elise.open(link(saved, "Lyon"))
    assert directory.url.path == "/membres/lyon/annuaire/"
    assert "Annuaire des membres — AVF Lyon" in text(directory)
    assert "Vous y apparaissez" in text(directory) and "2 membres" in text(directory)
    assert "Bernard Petit" in text(directory) and "Lyonnais depuis toujours." in text(directory)
    assert addresses_in(directory.text) == set()
    assert addresses_in(html.unescape(directory.text)) == set()

    # 5. She writes to Bernard through the relay; his mail has her words, not her address.
    write_form = elise.open(link(directory, "Écrire à ce membre"))
    assert "Bernard Petit" in text(write_form)
    assert addresses_in(write_form.text) == set()
    sent_page = elise.follow(elise.submit(
        write_form, r"/membres/lyon/annuaire/\d+/ecrire", fill={"message": ELISE_WORDS}),
        "/membres/lyon/messages/envoye")
    assert "Votre message est parti" in text(sent_page)
    [relayed] = mails_to(smtp, BERNARD, 5)
    assert relayed["Subject"] == "Message de Élise Martin (AVF Lyon)"
    assert relayed["Reply-To"] is None
    assert ELISE_WORDS in body(relayed)
    raw = everything_in(relayed)
    assert ELISE not in raw and "elise.martin" not in raw.lower()
    # Only Bernard's address and the service's own (sender, Message-ID) are in it.
    assert {found for found in addresses_in(raw)
            if not found.endswith("@avf.localhost")} == {BERNARD}
    manage = anne.open("/membres/lyon/gestion/")
    journal = text(manage)[text(manage).index("Messages relayés entre adhérents"):]
    assert "Élise Martin" in journal and "Bernard Petit" in journal
    assert ELISE_WORDS in journal

    # 6. Her data, then her account deleted: her session, address and name are gone.
    download = elise.open("/compte/donnees.json")
    assert download.headers["content-disposition"].startswith("attachment")
    data = json.loads(download.text)
    assert data["person"]["email"] == ELISE
    assert data["person"]["display_name"] == "Élise Martin"
    assert data["profile"]["in_directory"] is True
    assert data["profile"]["about"] == "Nantaise, nouvelle à Lyon."
    assert [(sent["to"], sent["body"]) for sent in data["messages_sent"]] == [
        ("Bernard Petit", ELISE_WORDS)]
    assert addresses_in(download.text) == {ELISE}

    # Her session cookie, copied into another browser, opens the members' home (for now).
    elsewhere.client.cookies.set("avf_session", elise.client.cookies["avf_session"])
    assert "Espace adhérents — AVF Lyon" in text(elsewhere.open("/membres/lyon/"))

    delete_page = elise.open(link(elise.open("/compte/profil"), "Supprimer mon compte"))
    assert "signés « ancien membre »" in text(delete_page)
    refused = elise.submit(delete_page, "/compte/supprimer", status=400)  # box not ticked
    assert "Cochez la case" in text(refused)
    goodbye = elise.submit(refused, "/compte/supprimer", tick=("confirmer",), status=200)
    assert "Votre compte est supprimé" in text(goodbye)
    assert elise.open("/membres/lyon/", status=303).headers["location"] == (
        "/compte/connexion?suivant=/membres/lyon/")
    assert elsewhere.open("/membres/lyon/", status=303).headers["location"] == (
        "/compte/connexion?suivant=/membres/lyon/")  # her old session is over

    # Asking for a sign-in link with her address sends nothing. The link sender works
    # through its requests in order: once Anne's link (asked next) has arrived, Élise's
    # request was done.
    for email in (ELISE, ADMIN):
        sign_in = elsewhere.open("/compte/connexion")
        sent = elsewhere.submit(sign_in, "/compte/connexion", fill={"email": email},
                                status=200)
        assert "Si cette adresse est connue" in text(sent)
    assert len(mails_to(smtp, ADMIN, 6)) == 3
    assert len(mails_to(smtp, ELISE, 6)) == 2  # the acknowledgement, the invitation
    with engine_of(site.app).connect() as connection:
        assert connection.execute(select(outbox.c.id).where(
            outbox.c.to_address == ELISE)).first() is None

    # Her message stays in the admins' log, signed « ancien membre ».
    manage = anne.open("/membres/lyon/gestion/")
    journal = text(manage)[text(manage).index("Messages relayés entre adhérents"):]
    assert ELISE_WORDS in journal and "ancien membre" in journal
    assert "Élise" not in journal and ELISE not in manage.text
