"""A city admin's members' pages (`/membres/<city>/gestion/…`) on a really built network:
who may get in, inviting one person (the mail read on a real SMTP server, its link
followed into the members' area), suspending, reinstating and removing (checked on the
next request to a built member-only post), the export, the relay log."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from auth_helpers import (
    SAME_SITE,
    add_person,
    browser,
    csrf_token,
    engine_of,
    link_in_mail,
    sign_in,
    use_link,
)
from conftest import SmtpCapture
from member_helpers import (
    MEMBERS_POST,
    SECRET,
    build_two_cities,
    deliver,
    mails_to,
    rows,
    service,
    submit,
    text_of,
)
from sqlalchemy import insert, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from avf.service.accounts import person_id_for
from avf.store.schema import (
    former_members,
    join_requests,
    login_tokens,
    member_messages,
    outbox,
    people,
    profiles,
    roles,
)

MANAGE = "/membres/lyon/gestion/"
MEMBER = "adherente@example.org"
ADMIN = "responsable@example.org"
OTHER_ADMIN = "co-responsable@example.org"
PARIS_ADMIN = "responsable@avf-paris.example.org"
REPORTER = "redactrice@example.org"
WEBMASTER = "web@example.org"
NEWCOMER = {"nom": "Élise Martin", "email": "Elise.Martin@Example.org",
            "telephone": "06 12 34 56 78", "interets": "randonnée, tarot"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_two_cities(tmp_path_factory.mktemp("memadmin"))


@pytest.fixture
def app(tmp_path: Path, built: tuple[Path, Path], smtp_server: SmtpCapture,
        ) -> Iterator[Starlette]:
    with service(tmp_path, built, smtp_server) as application:
        add_person(application, MEMBER, ("member", "lyon"), name="Alice Adhérente")
        add_person(application, ADMIN, ("admin", "lyon"), name="Rose Responsable")
        add_person(application, OTHER_ADMIN, ("admin", "lyon"), name="Colette Co")
        add_person(application, PARIS_ADMIN, ("admin", "paris"), name="Paul Paris")
        add_person(application, REPORTER, ("reporter", "lyon"), name="Rita Rédactrice")
        add_person(application, WEBMASTER, ("webmaster", ""), name="Wanda Web")
        yield application


def signed_in(app: Starlette, email: str, ip: str = "203.0.113.7") -> TestClient:
    client = browser(app, ip=ip)
    sign_in(client, app, email)
    return client


def member_id(app: Starlette, email: str = MEMBER) -> int:
    with engine_of(app).connect() as connection:
        found = person_id_for(connection, email)
    assert found is not None
    return found


def act(client: TestClient, action: str, person_id: int):  # type: ignore[no-untyped-def]
    """Press a member's « Suspendre », « Rétablir » or « Retirer » button."""
    return submit(client, MANAGE, action=f"{MANAGE}adherents/{person_id}/{action}")


# --- Who gets in ------------------------------------------------------------------------

PAGES = (MANAGE, f"{MANAGE}inviter", f"{MANAGE}importer", f"{MANAGE}adherents.csv")


@pytest.mark.parametrize("page", PAGES)
def test_a_signed_out_visitor_is_sent_to_sign_in_and_back(app: Starlette, page: str) -> None:
    response = browser(app).get(page)
    assert response.status_code == 303
    assert response.headers["location"] == f"/compte/connexion?suivant={page}"


@pytest.mark.parametrize("who", [MEMBER, REPORTER, PARIS_ADMIN])
def test_members_volunteers_and_other_cities_admins_are_refused(app: Starlette, who: str) -> None:
    client = signed_in(app, who)
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 403, page
        assert "Accès refusé" in html.unescape(response.text)
        assert OTHER_ADMIN not in response.text  # the roster stays hidden
    target = member_id(app)
    for action in ("suspendre", "retablir", "retirer"):
        response = client.post(f"{MANAGE}adherents/{target}/{action}", headers=SAME_SITE,
                               data={"csrf_token": csrf_token(client, "/compte/")})
        assert response.status_code == 403
    assert rows(app, roles) and all(role["suspended_at"] is None for role in rows(app, roles))


@pytest.mark.parametrize("who", [ADMIN, WEBMASTER])
def test_the_city_s_admin_and_the_webmaster_get_in(app: Starlette, who: str) -> None:
    response = signed_in(app, who).get(MANAGE)
    assert response.status_code == 200
    page = html.unescape(response.text)
    assert "<h1>Gestion des adhérents — AVF Lyon</h1>" in page
    assert MEMBER in page and "Alice Adhérente" in page  # admins see addresses
    assert response.headers["cache-control"] == "private, no-store"


def test_a_signed_out_post_is_refused_without_changing_anything(app: Starlette) -> None:
    client = browser(app)
    response = client.post(f"{MANAGE}adherents/{member_id(app)}/suspendre", headers=SAME_SITE,
                           data={"csrf_token": csrf_token(client)})
    assert response.status_code == 401
    assert all(role["suspended_at"] is None for role in rows(app, roles))


def test_an_unknown_city_is_a_404_even_for_the_webmaster(app: Starlette) -> None:
    client = signed_in(app, WEBMASTER)
    assert client.get("/membres/grenoble/gestion/").status_code == 404
    assert client.get("/membres/lyon/gestion").headers["location"] == MANAGE


def test_forms_need_their_token_and_this_site_s_origin(app: Starlette) -> None:
    client = signed_in(app, ADMIN)
    token = csrf_token(client, MANAGE)
    target = f"{MANAGE}adherents/{member_id(app)}/suspendre"
    assert client.post(target, headers=SAME_SITE, data={}).status_code == 403
    assert client.post(target, headers={"Origin": "https://evil.example"},
                       data={"csrf_token": token}).status_code == 403
    assert client.post(f"{MANAGE}inviter", headers=SAME_SITE,
                       data={**NEWCOMER, "csrf_token": "forged"}).status_code == 403
    assert all(role["suspended_at"] is None for role in rows(app, roles))
    assert rows(app, outbox) == [row for row in rows(app, outbox) if row["kind"] == "login_link"]


# --- Invite -----------------------------------------------------------------------------

def test_an_invitation_is_mailed_and_its_link_opens_the_members_area(
        app: Starlette, smtp_server: SmtpCapture) -> None:
    admin = signed_in(app, ADMIN)
    assert "<h1>Inviter un·e adhérent·e</h1>" in admin.get(f"{MANAGE}inviter").text
    response = submit(admin, f"{MANAGE}inviter", NEWCOMER)
    assert response.status_code == 303
    assert response.headers["location"] == f"{MANAGE}?fait=invite"
    assert "l'invitation est partie" in html.unescape(admin.get(response.headers["location"]).text)

    deliver(app, smtp_server)
    [mail] = mails_to(smtp_server, "elise.martin@example.org")
    assert mail["Subject"] == "AVF Lyon vous invite dans son espace adhérents"
    text = text_of(mail)
    assert "Rose Responsable (AVF Lyon) vous invite" in text
    assert "7 jours" in text and "ne sera jamais montrée aux autres adhérent" in text
    assert "Élise" not in text  # the invitee's name is never put in the mail

    newcomer = browser(app, ip="198.51.100.20")
    arrived = use_link(newcomer, link_in_mail(mail))
    assert arrived.status_code == 303
    assert arrived.headers["location"] == "/membres/lyon/"
    assert SECRET in newcomer.get(MEMBERS_POST).text

    [person] = [row for row in rows(app, people) if row["email"] == "elise.martin@example.org"]
    assert person["display_name"] == "Élise Martin"
    [profile] = [row for row in rows(app, profiles) if row["person_id"] == person["id"]]
    assert (profile["phone"], profile["interests"]) == ("06 12 34 56 78", "randonnée, tarot")
    page = html.unescape(admin.get(MANAGE).text)
    assert "Élise Martin" in page and "elise.martin@example.org" in page
    assert "06 12 34 56 78" in page


def test_the_invitation_link_lives_seven_days(app: Starlette) -> None:
    submit(signed_in(app, ADMIN), f"{MANAGE}inviter", NEWCOMER)
    with engine_of(app).connect() as connection:
        token = connection.execute(select(login_tokens).where(
            login_tokens.c.next_path == "/membres/lyon/")).mappings().one()
    assert (token["expires_at"] - token["created_at"]).days == 7


def test_inviting_someone_who_is_already_a_member_changes_nothing(app: Starlette) -> None:
    admin = signed_in(app, ADMIN)
    before = rows(app, outbox)
    response = submit(admin, f"{MANAGE}inviter", {**NEWCOMER, "email": "Adherente@Example.org",
                                                  "nom": "Autre Nom"})
    assert response.status_code == 409
    page = html.unescape(response.text)
    assert 'role="alert"' in page
    assert "adherente@example.org fait déjà partie des adhérent·es de AVF Lyon" in page
    assert 'value="Autre Nom"' in page  # what was typed is kept
    assert rows(app, outbox) == before
    [alice] = [row for row in rows(app, people) if row["email"] == MEMBER]
    assert alice["display_name"] == "Alice Adhérente"


def test_a_member_of_another_city_keeps_their_name_and_becomes_a_member_here_too(
        app: Starlette) -> None:
    add_person(app, "voyageur@example.org", ("member", "paris"), name="Victor Voyageur")
    response = submit(signed_in(app, ADMIN), f"{MANAGE}inviter",
                      {"nom": "V. Voyageur", "email": "voyageur@example.org"})
    assert response.status_code == 303
    [victor] = [row for row in rows(app, people) if row["email"] == "voyageur@example.org"]
    assert victor["display_name"] == "Victor Voyageur"
    assert {(role["city"], role["role"]) for role in rows(app, roles)
            if role["person_id"] == victor["id"]} == {("paris", "member"), ("lyon", "member")}


def test_the_invitation_form_says_what_to_fix_field_by_field(app: Starlette) -> None:
    response = submit(signed_in(app, ADMIN), f"{MANAGE}inviter",
                      {"nom": "", "email": "pas-une-adresse", "telephone": "0" * 51})
    assert response.status_code == 400
    page = html.unescape(response.text)
    assert "3 points à corriger" in page and 'role="alert"' in page
    assert "Indiquez le nom." in page
    assert "« pas-une-adresse » n'est pas une adresse email complète" in page
    assert "Trop long : 50 caractères au plus (il y en a 51)." in page
    assert 'aria-invalid="true"' in page and 'value="pas-une-adresse"' in page
    assert len(rows(app, people)) == 6


# --- Suspend, reinstate, remove -----------------------------------------------------------

def test_a_suspended_member_loses_access_on_their_next_request_until_reinstated(
        app: Starlette) -> None:
    member = signed_in(app, MEMBER, ip="198.51.100.30")
    assert SECRET in member.get(MEMBERS_POST).text
    admin = signed_in(app, ADMIN)

    response = act(admin, "suspendre", member_id(app))
    assert response.status_code == 303
    assert response.headers["location"] == f"{MANAGE}?fait=suspendu"
    refused = member.get(MEMBERS_POST)
    assert refused.status_code == 403 and SECRET not in refused.text
    [role] = [row for row in rows(app, roles) if row["person_id"] == member_id(app)]
    assert role["suspended_at"] is not None
    page = html.unescape(admin.get(MANAGE).text)
    assert "Suspendu·e" in page and "Rétablir" in page

    assert act(admin, "retablir", member_id(app)).headers["location"] == f"{MANAGE}?fait=retabli"
    assert SECRET in member.get(MEMBERS_POST).text


def test_a_suspended_volunteer_loses_every_role_of_the_city(app: Starlette) -> None:
    reporter = signed_in(app, REPORTER, ip="198.51.100.31")
    assert act(signed_in(app, ADMIN), "suspendre", member_id(app, REPORTER)).status_code == 303
    assert reporter.get(MEMBERS_POST).status_code == 403


def test_a_removed_member_becomes_a_former_member(app: Starlette) -> None:
    member = signed_in(app, MEMBER, ip="198.51.100.32")
    admin = signed_in(app, ADMIN)
    confirm = admin.get(f"{MANAGE}adherents/{member_id(app)}/retirer")
    assert confirm.status_code == 200
    assert "Retirer Alice Adhérente des adhérents ?" in html.unescape(confirm.text)
    assert admin.get(f"{MANAGE}adherents/999/retirer").status_code == 404

    response = act(admin, "retirer", member_id(app))
    assert response.headers["location"] == f"{MANAGE}?fait=retire"
    assert member.get(MEMBERS_POST).status_code == 403
    assert [row for row in rows(app, roles) if row["person_id"] == member_id(app)] == []
    [former] = rows(app, former_members)
    assert (former["person_id"], former["city"], former["reason"]) == (
        member_id(app), "lyon", "removed")
    page = html.unescape(admin.get(MANAGE).text)
    anciens = page[page.index('id="anciens"'):page.index('id="journal"')]
    assert "Alice Adhérente" in anciens and "retiré·e par un·e responsable" in anciens
    assert act(admin, "retirer", member_id(app)).status_code == 404  # not a member any more


def test_an_admin_cannot_touch_themself_another_admin_or_the_webmaster(app: Starlette) -> None:
    web_id = member_id(app, WEBMASTER)
    add_person(app, WEBMASTER, ("member", "lyon"))
    admin = signed_in(app, ADMIN)
    page = html.unescape(admin.get(MANAGE).text)
    assert "(vous)" in page
    cases = ((member_id(app, ADMIN), "Vous ne pouvez pas vous suspendre vous-même"),
             (member_id(app, OTHER_ADMIN), "seul le webmaster national peut la suspendre"),
             (web_id, "Le webmaster national ne peut pas être suspendu par une ville"))
    for target, message in cases:
        response = act(admin, "suspendre", target)
        assert response.status_code == 403
        assert message in html.unescape(response.text)
    assert act(admin, "retirer", member_id(app, OTHER_ADMIN)).status_code == 403
    assert all(role["suspended_at"] is None for role in rows(app, roles))
    assert rows(app, former_members) == []


def test_the_webmaster_may_suspend_a_city_admin_but_not_themself(app: Starlette) -> None:
    web = signed_in(app, WEBMASTER)
    assert act(web, "suspendre", member_id(app, ADMIN)).status_code == 303
    assert signed_in(app, ADMIN, ip="198.51.100.33").get(MANAGE).status_code == 403
    add_person(app, WEBMASTER, ("member", "lyon"))
    assert act(web, "retirer", member_id(app, WEBMASTER)).status_code == 403


def test_an_admin_acts_only_on_their_own_city_s_members(app: Starlette) -> None:
    paris = signed_in(app, PARIS_ADMIN)
    response = submit(paris, "/membres/paris/gestion/",
                      action=f"/membres/paris/gestion/adherents/{member_id(app)}/suspendre")
    assert response.status_code == 404  # Alice is no member of Paris
    assert all(role["suspended_at"] is None for role in rows(app, roles))


# --- Export -------------------------------------------------------------------------------

def test_the_export_is_a_french_excel_csv_of_the_city_s_members(app: Starlette) -> None:
    add_person(app, "formule@example.org", ("member", "lyon"), name="=HYPERLINK(\"x\")")
    consent = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    with engine_of(app).begin() as connection:
        connection.execute(insert(profiles).values(
            person_id=member_id(app), phone="+33 6 12 34 56 78", interests="tarot",
            in_directory=True, directory_consent_at=consent, updated_at=consent))
    response = signed_in(app, ADMIN).get(f"{MANAGE}adherents.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="adherents-lyon-')
    assert response.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert table[0] == ["Nom", "Email", "Téléphone", "Centres d'intérêt", "Rôle",
                        "Adhérent·e depuis", "État", "Dans l'annuaire", "Annuaire : accord du",
                        "Nouvelles par email", "Nouvelles : accord du"]
    by_email = {line[1]: line for line in table[1:]}
    assert set(by_email) == {MEMBER, ADMIN, OTHER_ADMIN, REPORTER, "formule@example.org"}
    alice = by_email[MEMBER]
    assert alice[0] == "Alice Adhérente" and alice[2] == "'+33 6 12 34 56 78"
    assert alice[3:5] == ["tarot", "Adhérent·e"] and alice[6] == "actif·ve"
    assert alice[7:] == ["oui", "04/03/2026", "non", ""]
    assert by_email[ADMIN][4] == "Responsable"
    assert by_email["formule@example.org"][0] == "'=HYPERLINK(\"x\")"  # stays text in Excel
    assert PARIS_ADMIN not in response.text


# --- What the page lists --------------------------------------------------------------------

def test_the_page_lists_requests_former_members_and_the_relay_log(app: Starlette) -> None:
    now = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)
    gone = add_person(app, "ancien@example.org", name="Armand Ancien")
    with engine_of(app).begin() as connection:
        connection.execute(insert(former_members).values(
            person_id=gone, city="lyon", left_at=now, reason="moved", moved_to="rennes"))
        connection.execute(insert(join_requests).values(
            city="lyon", name="Nina Nouvelle", email="nina@example.org", phone="07 00 00 00 00",
            message="Arrivée en octobre,\nj'aime la marche.", created_at=now))
        connection.execute(insert(join_requests).values(
            city="paris", name="Pierre de Paris", email="pierre@example.org", created_at=now))
        connection.execute(insert(member_messages).values(
            city="lyon", sender_id=member_id(app), recipient_id=member_id(app, REPORTER),
            body="Bonjour Rita,\n<b>à jeudi</b> ?", created_at=now))
        connection.execute(insert(member_messages).values(
            city="paris", sender_id=None, recipient_id=None, body="Message de Paris",
            created_at=now))
    response = signed_in(app, ADMIN).get(MANAGE)
    page = html.unescape(response.text)
    requests = page[page.index('id="demandes"'):page.index('id="adherents"')]
    assert "Nina Nouvelle" in requests and "nina@example.org" in requests
    assert "Arrivée en octobre,<br>j'aime la marche." in requests
    assert "Pierre de Paris" not in page
    anciens = page[page.index('id="anciens"'):page.index('id="journal"')]
    assert "Armand Ancien" in anciens and "a déménagé (rennes)" in anciens
    journal = page[page.index('id="journal"'):]
    assert "2 novembre 2026, 16 h 30" in journal
    assert "Alice Adhérente" in journal and "Rita Rédactrice" in journal
    assert "&lt;b&gt;à jeudi&lt;/b&gt;" in response.text  # escaped, never markup
    assert "Message de Paris" not in page


def test_the_relay_log_signs_a_deleted_account_ancien_membre(app: Starlette) -> None:
    """The deletion page promises that one's messages stay "signed « ancien membre »": the
    admins' log keeps that promise (it said « (compte supprimé) » before)."""
    with engine_of(app).begin() as connection:
        connection.execute(insert(member_messages).values(
            city="lyon", sender_id=None, recipient_id=member_id(app),
            body="Bonjour Alice", created_at=datetime(2026, 11, 2, 15, 30, tzinfo=UTC)))
    page = html.unescape(signed_in(app, ADMIN).get(MANAGE).text)
    journal = page[page.index('id="journal"'):]
    assert "<td>ancien membre</td>" in journal and "<td>Alice Adhérente</td>" in journal
    assert "compte supprimé" not in journal
    assert "Le dernier message" in journal and "Les 1 derniers" not in journal
