"""The team part of the web editor (issue 6): the log of role changes written wherever a
role changes, the team page (invite, take a role away, the last admin stays), the guided
handover (the newcomers then find the previous team's drafts and their history through
the editor's core), the journals, and who may open what.

A real content repository (tests/content_repo.py), the service through TestClient with the
real sign-in flow, invitation mails read on a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
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
from conftest import SmtpCapture, post, service_settings
from content_repo import ContentRepos, small_network
from sqlalchemy import func, insert, select, update
from starlette.applications import Starlette
from starlette.testclient import TestClient

from avf.editor.checkout import Checkout, volunteer_author
from avf.editor.paths import city_file
from avf.editor.workflow import Workflow, may
from avf.service import create_app
from avf.service.accounts import grant_role, load_person, person_id_for, revoke_role
from avf.service.member_data import delete_account
from avf.service.moves import Move, join_destination
from avf.service.ratelimit import RateLimiter
from avf.service.role_log import RoleChange, record_role_change
from avf.service.team_pages import INVITES
from avf.service.users_command import add, remove_role
from avf.store.schema import join_requests, moves, people, role_changes, roles

MEMBER = "adherente@example.org"
REPORTER = "redactrice@example.org"
ADMIN = "responsable@example.org"
GAP_ADMIN = "responsable@avf-gap.example.org"
WEBMASTER = "web@example.org"
NEWCOMER = "nouvelle.responsable@example.org"
TEAM = "/editeur/lyon/equipe"
HANDOVER = "/editeur/lyon/equipe/passer-la-main"
JOURNAL = "/editeur/lyon/journal"


@pytest.fixture
def repos(tmp_path: Path) -> ContentRepos:
    return small_network(tmp_path / "git", ("lyon", "gap"))


@pytest.fixture
def app(tmp_path: Path, repos: ContentRepos, smtp_server: SmtpCapture) -> Iterator[Starlette]:
    settings = service_settings(tmp_path, repos.checkout, smtp_server, run_workers=False)
    application = create_app(replace(settings, git_branch=repos.branch))
    with browser(application):  # the lifespan: the database is migrated
        add_person(application, MEMBER, ("member", "lyon"), name="Alice Adhérente")
        add_person(application, REPORTER, ("reporter", "lyon"), name="Rita Rédactrice")
        add_person(application, ADMIN, ("admin", "lyon"), name="Rose Responsable")
        add_person(application, GAP_ADMIN, ("admin", "gap"), name="Gaston Gap")
        add_person(application, WEBMASTER, ("webmaster", ""), name="Wanda Web")
        yield application


def signed_in(app: Starlette, email: str, ip: str = "203.0.113.7") -> TestClient:
    client = browser(app, ip=ip)
    sign_in(client, app, email)
    return client


def log(app: Starlette, city: str | None = None) -> list[RoleChange]:
    """The log's rows, oldest first."""
    query = select(role_changes).order_by(role_changes.c.id)
    if city is not None:
        query = query.where(role_changes.c.city == city)
    with engine_of(app).connect() as connection:
        return [RoleChange(**row) for row in connection.execute(query).mappings()]


def logged_since(app: Starlette, before: int) -> list[tuple[str, str, str, str, str]]:
    """(city, person, role, action, by) of the rows written after the first `before`."""
    return [(row.city, row.person_name, row.role, row.action, row.by_name)
            for row in log(app)[before:]]


def pid(app: Starlette, email: str) -> int:
    with engine_of(app).connect() as connection:
        found = person_id_for(connection, email)
    assert found is not None
    return found


def held(app: Starlette, email: str, city: str = "lyon") -> set[str]:
    with engine_of(app).connect() as connection:
        return set(connection.execute(select(roles.c.role).where(
            roles.c.person_id == pid(app, email), roles.c.city == city)).scalars())


def post_form(client: TestClient, page: str, action: str,
              data: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(action, headers=SAME_SITE,
                       data={**data, "csrf_token": csrf_token(client, page)})


def invite(client: TestClient, email: str, role: str, name: str = "Nina Nouvelle",
           page: str = TEAM, back: str = "equipe"):  # type: ignore[no-untyped-def]
    return post_form(client, page, f"{TEAM}/inviter",
                     {"nom": name, "email": email, "role": role, "retour": back})


# --- The log, wherever a role changes -------------------------------------------------------

def test_grant_and_revoke_write_one_row_each_and_none_when_nothing_changes(
        app: Starlette) -> None:
    admin = load_person_of(app, ADMIN)
    before = len(log(app))
    with engine_of(app).begin() as connection:
        member = pid(app, MEMBER)
        assert grant_role(connection, member, "reporter", "lyon", by=admin)
        assert not grant_role(connection, member, "reporter", "lyon", by=admin)
        assert revoke_role(connection, member, "reporter", "lyon", by=admin, note="fin")
        assert not revoke_role(connection, member, "reporter", "lyon", by=admin)
    assert logged_since(app, before) == [
        ("lyon", "Alice Adhérente", "reporter", "granted", "Rose Responsable"),
        ("lyon", "Alice Adhérente", "reporter", "revoked", "Rose Responsable")]
    assert log(app)[-1].note == "fin" and log(app)[-1].by_person_id == admin.id


def test_a_change_rolled_back_leaves_no_row(app: Starlette) -> None:
    before = len(log(app))
    with pytest.raises(RuntimeError), engine_of(app).begin() as connection:
        grant_role(connection, pid(app, MEMBER), "admin", "lyon")
        raise RuntimeError("the page failed after the grant")
    assert len(log(app)) == before and held(app, MEMBER) == {"member"}


def test_the_users_command_is_logged_as_the_command_line(app: Starlette) -> None:
    before = len(log(app))
    assert add(lambda: engine_of(app), MEMBER, "rédactrice", "lyon") == 0
    assert remove_role(lambda: engine_of(app), MEMBER, "reporter", "lyon") == 0
    assert add(lambda: engine_of(app), "paul@example.org", "admin", "gap", name="Paul") == 0
    assert logged_since(app, before) == [
        ("lyon", "Alice Adhérente", "reporter", "granted", ""),
        ("lyon", "Alice Adhérente", "reporter", "revoked", ""),
        ("gap", "Paul", "admin", "granted", "")]
    assert log(app)[-1].by_person_id is None
    assert log(app)[-1].sentence == ("Le rôle Responsable a été donné à Paul "
                                     "(ligne de commande).")


def test_the_members_admin_pages_write_one_row_per_change(app: Starlette) -> None:
    client = signed_in(app, ADMIN)
    manage = "/membres/lyon/gestion/"
    member = pid(app, MEMBER)
    before = len(log(app))
    response = post_form(client, f"{manage}inviter", f"{manage}inviter", {
        "nom": "Élise Martin", "email": "elise@example.org", "telephone": "",
        "interets": ""})
    assert response.status_code == 303
    assert logged_since(app, before) == [
        ("lyon", "Élise Martin", "member", "invited", "Rose Responsable")]
    for verb, action in (("suspendre", "suspended"), ("retablir", "reinstated"),
                         ("retirer", "revoked")):
        before = len(log(app))
        response = post_form(client, manage, f"{manage}adherents/{member}/{verb}", {})
        assert response.status_code == 303, response.text
        assert logged_since(app, before) == [
            ("lyon", "Alice Adhérente", "member", action, "Rose Responsable")]


def test_an_approved_join_request_is_logged_as_an_invitation(app: Starlette) -> None:
    with engine_of(app).begin() as connection:
        asked = connection.execute(insert(join_requests).values(
            city="lyon", name="Jean Visiteur", email="jean@example.org", phone="",
            message="", status="pending", created_at=datetime.now(UTC))).inserted_primary_key[0]
    client = signed_in(app, ADMIN)
    before = len(log(app))
    response = post_form(client, "/membres/lyon/gestion/",
                         f"/membres/lyon/gestion/demandes/{asked}/accepter", {})
    assert response.status_code == 303
    assert logged_since(app, before) == [
        ("lyon", "Jean Visiteur", "member", "invited", "Rose Responsable")]
    assert log(app)[-1].note == "demande d'adhésion acceptée"


def test_a_move_is_logged_in_both_cities_as_done_by_the_mover(app: Starlette) -> None:
    member = pid(app, MEMBER)
    with engine_of(app).begin() as connection:
        move_id = connection.execute(insert(moves).values(
            person_id=member, from_city="lyon", to_city="gap",
            created_at=datetime.now(UTC))).inserted_primary_key[0]
        row = connection.execute(select(moves).where(moves.c.id == move_id)).mappings().one()
    before = len(log(app))
    assert join_destination(engine_of(app), Move(**row)) == "joined"
    assert logged_since(app, before) == [
        ("gap", "Alice Adhérente", "member", "granted", "Alice Adhérente"),
        ("lyon", "Alice Adhérente", "member", "revoked", "Alice Adhérente")]


def test_a_deleted_account_is_logged_and_its_address_forgotten(app: Starlette) -> None:
    anonymous = add_person(app, "sans.nom@example.org", ("reporter", "lyon"))
    assert log(app)[-1].person_name == "sans.nom@example.org"  # no name: the address
    with engine_of(app).begin() as connection:
        assert delete_account(connection, anonymous) is not None
    rows = [row for row in log(app) if row.person_name == "compte supprimé"]
    assert [(row.action, row.note) for row in rows] == [
        ("granted", ""), ("revoked", "compte supprimé par la personne")]
    assert all("sans.nom@example.org" not in (row.person_name, row.by_name)
               for row in log(app))


def test_the_team_page_writes_one_row_per_change(app: Starlette) -> None:
    client = signed_in(app, ADMIN)
    before = len(log(app))
    assert invite(client, MEMBER, "reporter").status_code == 303
    assert logged_since(app, before) == [
        ("lyon", "Alice Adhérente", "reporter", "invited", "Rose Responsable")]
    before = len(log(app))
    response = post_form(client, TEAM, f"{TEAM}/{pid(app, MEMBER)}/retirer",
                         {"role": "reporter"})
    assert response.status_code == 303
    assert logged_since(app, before) == [
        ("lyon", "Alice Adhérente", "reporter", "revoked", "Rose Responsable")]
    assert held(app, MEMBER) == {"member"}


# --- The team page ---------------------------------------------------------------------------

def test_the_team_page_lists_volunteers_with_their_addresses(app: Starlette) -> None:
    page = signed_in(app, ADMIN).get(TEAM)
    assert page.status_code == 200
    text = page.text
    assert "Rose Responsable" in text and ADMIN in text
    assert "Rita Rédactrice" in text and REPORTER in text
    assert "Alice Adhérente" not in text  # a member, not in the team
    assert "Gaston Gap" not in text  # another city's
    assert text.index("Rose Responsable") < text.index("Rita Rédactrice")  # admins first
    assert text.count("<h1") == 1 and 'for="contact-email"' in text
    assert f'href="{TEAM}"' in text and f'href="{JOURNAL}"' in text  # the editor's menu


def test_the_members_admin_page_links_to_the_team(app: Starlette) -> None:
    assert f'href="{TEAM}"' in signed_in(app, ADMIN).get("/membres/lyon/gestion/").text


@pytest.mark.parametrize(("who", "shown"), [(REPORTER, False), (ADMIN, True),
                                             (GAP_ADMIN, False), (WEBMASTER, True)])
def test_the_editor_menu_shows_team_links_to_admins_only(app: Starlette, who: str,
                                                         shown: bool) -> None:
    page = app.state.runtime.templates.environment.from_string(
        '{% extends "service/editor/_layout.html" %}').render(
        person=load_person_of(app, who), editor_city="lyon", csrf_token="")
    assert (f'href="{TEAM}"' in page) is shown and (f'href="{JOURNAL}"' in page) is shown
    assert 'href="/editeur/aide/"' in page
    network = app.state.runtime.templates.environment.from_string(
        '{% extends "service/editor/_layout.html" %}').render(
        person=load_person_of(app, WEBMASTER), editor_city="_network", csrf_token="")
    assert "/equipe" not in network  # the network's folder has no team page


def test_an_invitation_mails_a_week_long_link_into_the_editor(
        app: Starlette, smtp_server: SmtpCapture) -> None:
    admin = signed_in(app, ADMIN)
    response = invite(admin, "Nina.Nouvelle@Example.org", "admin")
    assert response.status_code == 303
    assert response.headers["location"] == f"{TEAM}?fait=invite"
    assert "invitation est partie" in admin.get(response.headers["location"]).text
    assert held(app, "nina.nouvelle@example.org") == {"admin"}
    app.state.runtime.mail.send_due()
    [mail] = [one for one in smtp_server.wait_for(1)
              if one["To"] == "nina.nouvelle@example.org"]
    assert "Lyon" in mail["Subject"] and "responsable" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Rose Responsable" in text and "7 jours" in text and "/editeur/aide/" in text
    newcomer = browser(app, ip="198.51.100.9")
    landed = use_link(newcomer, link_in_mail(mail))
    assert landed.status_code == 303 and landed.headers["location"] == "/editeur/lyon/"
    assert newcomer.get(TEAM).status_code == 200  # an admin of Lyon now


def test_an_invitation_with_mistakes_is_shown_again_with_french_errors(
        app: Starlette) -> None:
    client = signed_in(app, ADMIN)
    before = len(log(app))
    response = post_form(client, TEAM, f"{TEAM}/inviter",
                         {"nom": "", "email": "pas-une-adresse", "role": "webmaster"})
    assert response.status_code == 400
    assert 'role="alert"' in response.text and "3 points à corriger" in response.text
    assert "Indiquez son nom." in response.text and "pas-une-adresse" in response.text
    assert len(log(app)) == before


def test_inviting_someone_already_in_the_team_changes_nothing(app: Starlette) -> None:
    client = signed_in(app, ADMIN)
    before = len(log(app))
    response = invite(client, ADMIN, "reporter")  # an admin is a reporter already
    assert response.status_code == 409 and "déjà responsable" in response.text
    assert len(log(app)) == before
    assert invite(client, REPORTER, "admin").status_code == 303  # a promotion is fine
    assert held(app, REPORTER) == {"reporter", "admin"}


def test_invitations_are_rate_limited(app: Starlette) -> None:
    limiter = RateLimiter(engine_of(app), app.state.runtime.settings.secret_key)
    for _ in range(INVITES.attempts):
        limiter.allow(INVITES, str(pid(app, ADMIN)))
    client = signed_in(app, ADMIN)
    response = invite(client, "x@example.org", "reporter")
    assert response.status_code == 429 and "attendez demain" in response.text
    with engine_of(app).connect() as connection:
        assert person_id_for(connection, "x@example.org") is None
    # another admin is counted apart
    assert invite(signed_in(app, WEBMASTER, "198.51.100.3"), "x@example.org",
                  "reporter").status_code == 303


def test_removing_a_role_asks_first_and_the_person_stays_a_member(app: Starlette) -> None:
    client = signed_in(app, ADMIN)
    reporter = pid(app, REPORTER)
    page = client.get(f"{TEAM}/{reporter}/retirer?role=reporter")
    assert page.status_code == 200 and "Retirer le rôle Rédacteur·rice à Rita" in page.text
    assert held(app, REPORTER) == {"reporter"}  # nothing done by opening the page
    assert post_form(client, TEAM, f"{TEAM}/{reporter}/retirer",
                     {"role": "reporter"}).status_code == 303
    assert held(app, REPORTER) == {"member"}
    assert [(row.role, row.action, row.note) for row in log(app)[-2:]] == [
        ("reporter", "revoked", ""), ("member", "granted", "reste adhérent·e")]
    assert client.get(f"{TEAM}/{reporter}/retirer?role=reporter").status_code == 404


@pytest.mark.parametrize(("actor", "target", "second_admin", "expected"), [
    (ADMIN, ADMIN, False, 403),  # their own role, no other admin
    (ADMIN, ADMIN, True, 303),  # their own role, another admin remains
    (ADMIN, "co@example.org", True, 303),  # another admin, Rose remains
    (WEBMASTER, ADMIN, False, 303),  # only the webmaster may leave a city without admin
])
def test_the_last_active_admin_of_a_city_stays(app: Starlette, actor: str, target: str,
                                               second_admin: bool, expected: int) -> None:
    if second_admin:
        add_person(app, "co@example.org", ("admin", "lyon"), name="Colette Co")
    client = signed_in(app, actor)
    response = post_form(client, TEAM, f"{TEAM}/{pid(app, target)}/retirer", {"role": "admin"})
    assert response.status_code == expected, response.text
    assert ("admin" in held(app, target)) == (expected != 303)
    if expected == 403:
        assert "seul·e responsable" in response.text


def test_a_suspended_co_admin_does_not_count_as_another_admin(app: Starlette) -> None:
    co = add_person(app, "co@example.org", ("admin", "lyon"), name="Colette Co")
    with engine_of(app).begin() as connection:
        connection.execute(update(roles).where(roles.c.person_id == co)
                           .values(suspended_at=datetime.now(UTC)))
    client = signed_in(app, ADMIN)
    response = post_form(client, TEAM, f"{TEAM}/{pid(app, ADMIN)}/retirer", {"role": "admin"})
    assert response.status_code == 403 and held(app, ADMIN) == {"admin"}


def test_a_city_cannot_take_the_webmasters_role(app: Starlette) -> None:
    with engine_of(app).begin() as connection:
        grant_role(connection, pid(app, WEBMASTER), "reporter", "lyon")
    client = signed_in(app, ADMIN)
    response = post_form(client, TEAM, f"{TEAM}/{pid(app, WEBMASTER)}/retirer",
                         {"role": "reporter"})
    assert response.status_code == 403 and "webmaster" in response.text


# --- The handover ----------------------------------------------------------------------------

def test_a_handover_gives_the_city_and_everything_in_it_to_the_new_team(
        app: Starlette, repos: ContentRepos, smtp_server: SmtpCapture) -> None:
    runtime = app.state.runtime
    checkout = Checkout(repos.checkout, repos.branch)
    work = Workflow(repos.checkout, runtime.engine, checkout, runtime.builds.request)
    draft = city_file(repos.checkout, "lyon", "posts/2026-03-01-fete.md")
    rose = load_person_of(app, ADMIN)
    rose_author = volunteer_author(rose.id, rose.display_name, "avf.test")
    work.act(rose, rose_author, draft, "save", text=post("Fête des voisins", "2026-03-01"),
             base="")
    work.act(rose, rose_author, draft, "save",
             text=post("Fête des voisins", "2026-03-01", body="Le 1er mars, au parc."),
             base=checkout.blob(draft))

    outgoing = signed_in(app, ADMIN)
    page = outgoing.get(HANDOVER)
    assert page.status_code == 200 and "Je passe la main" not in page.text  # no one yet
    assert post_form(outgoing, HANDOVER, HANDOVER, {}).status_code == 409  # step 3 shut
    response = invite(outgoing, NEWCOMER, "admin", name="Noémie Nouvelle", page=HANDOVER,
                      back="passer-la-main")
    assert response.headers["location"] == f"{HANDOVER}?fait=invite"
    step2 = outgoing.get(HANDOVER).text
    assert "Noémie Nouvelle" in step2 and "pas encore connecté·e" in step2
    assert post_form(outgoing, HANDOVER, HANDOVER, {}).status_code == 409  # not signed in

    runtime.mail.send_due()
    [invitation] = [one for one in smtp_server.wait_for(1) if one["To"] == NEWCOMER]
    newcomer = browser(app, ip="198.51.100.20")
    use_link(newcomer, link_in_mail(invitation))
    newcomer.get(TEAM)  # a request: last_seen_at is written
    assert "Je passe la main" in outgoing.get(HANDOVER).text

    before = len(log(app))
    done = post_form(outgoing, HANDOVER, HANDOVER, {"rester_redacteur": "1"})
    assert done.status_code == 200 and "Noémie Nouvelle est maintenant responsable" in done.text
    assert held(app, ADMIN) == {"reporter"} and held(app, NEWCOMER) == {"admin"}
    assert [(row.person_name, row.role, row.action, row.by_name, row.note)
            for row in log(app)[before:]] == [
        ("Rose Responsable", "admin", "handed_over", "Rose Responsable",
         "passe la main à Noémie Nouvelle"),
        ("Rose Responsable", "reporter", "granted", "Rose Responsable",
         "reste rédacteur·rice après avoir passé la main")]
    assert outgoing.get(TEAM).status_code == 403  # no longer an admin

    runtime.mail.send_due()
    received = {one["To"]: one for one in smtp_server.wait_for(3)
                if one["To"] in (NEWCOMER, WEBMASTER) and "main" in
                one.get_body(("plain",)).get_content()}  # type: ignore[union-attr]
    assert received[NEWCOMER]["Subject"] == "Vous êtes responsable de AVF Lyon"
    welcome = received[NEWCOMER].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert all(part in welcome for part in ("/editeur/lyon/", "/editeur/aide/",
                                            "/editeur/lyon/journal", "Rose Responsable"))
    assert "Noémie Nouvelle" in received[WEBMASTER].get_body(  # type: ignore[union-attr]
        ("plain",)).get_content()

    # The newcomer finds the previous team's draft and its history, and may publish it.
    noemie = load_person_of(app, NEWCOMER)
    assert "Le 1er mars, au parc." in (checkout.text(draft) or "")
    versions = checkout.history(draft)
    assert len(versions) == 2 and {one.author for one in versions} == {"Rose Responsable"}
    assert checkout.text(draft, versions[-1].commit) is not None
    assert may(noemie, "publish", draft, "draft")
    assert not may(load_person_of(app, ADMIN), "publish", draft, "draft")
    noemie_author = volunteer_author(noemie.id, noemie.display_name, "avf.test")
    outcome = work.act(noemie, noemie_author, draft, "publish", base=checkout.blob(draft))
    assert outcome.commit and checkout.history(draft)[0].author == "Noémie Nouvelle"
    # …and the journal tells her who did what
    journal = newcomer.get(JOURNAL).text
    assert "Rose Responsable a passé la main et quitte le rôle Responsable." in journal
    assert "Rose Responsable a invité Noémie Nouvelle comme Responsable." in journal


def test_handing_over_without_staying_a_reporter_leaves_a_member(app: Starlette) -> None:
    add_person(app, NEWCOMER, ("admin", "lyon"), name="Noémie Nouvelle")
    with engine_of(app).begin() as connection:
        grant_role(connection, pid(app, ADMIN), "reporter", "lyon")
        connection.execute(update(people).where(people.c.email == NEWCOMER)
                           .values(last_seen_at=datetime.now(UTC)))
    outgoing = signed_in(app, ADMIN)
    before = len(log(app))
    assert post_form(outgoing, HANDOVER, HANDOVER, {}).status_code == 200
    assert held(app, ADMIN) == {"member"}
    assert [(row.role, row.action) for row in log(app)[before:]] == [
        ("admin", "handed_over"), ("reporter", "handed_over"), ("member", "granted")]


def test_the_webmaster_has_nothing_to_hand_over(app: Starlette) -> None:
    client = signed_in(app, WEBMASTER)
    assert "pas de rôle à transmettre" in client.get(HANDOVER).text
    response = post_form(client, HANDOVER, HANDOVER, {})
    assert response.status_code == 409 and "rien à transmettre" in response.text


# --- The journals ----------------------------------------------------------------------------

def test_the_journal_speaks_french_newest_first(app: Starlette) -> None:
    march = datetime(2026, 3, 12, 13, 5, tzinfo=UTC)  # 14 h 05 in Paris
    with engine_of(app).begin() as connection:
        record_role_change(connection, "lyon", pid(app, REPORTER), "admin", "granted",
                           by=load_person_of(app, ADMIN), now=march)
        record_role_change(connection, "lyon", pid(app, REPORTER), "admin", "revoked",
                           by=load_person_of(app, ADMIN), note="fin du mandat",
                           now=march + timedelta(days=400))
        record_role_change(connection, "gap", pid(app, GAP_ADMIN), "admin", "suspended",
                           by=load_person_of(app, WEBMASTER), now=march)
    text = signed_in(app, ADMIN).get(JOURNAL).text
    given = ("12 mars 2026 à 14 h 05</time> — Rose Responsable a donné le rôle Responsable "
             "à Rita Rédactrice.")
    taken = "Rose Responsable a retiré le rôle Responsable à Rita Rédactrice."
    assert given in text and taken in text and "(fin du mandat)" in text
    assert text.index(taken) < text.index(given)
    assert "Gaston Gap" not in text  # another city's log


def test_the_journal_is_paginated(app: Starlette) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with engine_of(app).begin() as connection:
        for day in range(120):
            record_role_change(connection, "lyon", pid(app, REPORTER), "reporter", "granted",
                               by=load_person_of(app, ADMIN), now=start + timedelta(days=day))
    client = signed_in(app, ADMIN)
    total = len(log(app, "lyon"))
    first, last = client.get(JOURNAL).text, client.get(f"{JOURNAL}?page=3").text
    assert first.count("<li><time") == 50 and f"{JOURNAL}?page=2" in first
    assert last.count("<li><time") == total - 100 and f"{JOURNAL}?page=2" in last
    assert "30 avril 2026" in first and "1er janvier 2026" in last
    assert client.get(f"{JOURNAL}?page=abc").status_code == 200


def test_the_network_journal_filters_by_city(app: Starlette) -> None:
    client = signed_in(app, WEBMASTER)
    everything = client.get("/admin/roles").text
    assert "Gaston Gap" in everything and "Rose Responsable" in everything
    gap = client.get("/admin/roles?ville=gap").text
    assert "Gaston Gap" in gap and "Rose Responsable" not in gap
    network = client.get("/admin/roles?ville=reseau").text
    assert "Wanda Web" in network and "Gaston Gap" not in network
    assert 'href="/admin/roles"' in client.get("/admin/").text


# --- Who may open what -------------------------------------------------------------------

PEOPLE = {"member": MEMBER, "reporter": REPORTER, "other city's admin": GAP_ADMIN,
          "admin": ADMIN, "webmaster": WEBMASTER}
PAGES = [TEAM, HANDOVER, JOURNAL, f"{TEAM}/{{reporter}}/retirer?role=reporter"]
ALLOWED = {"admin", "webmaster"}


@pytest.mark.parametrize("who", [None, *PEOPLE])
def test_who_may_open_the_team_pages(app: Starlette, who: str | None) -> None:
    client = browser(app) if who is None else signed_in(app, PEOPLE[who])
    reporter = pid(app, REPORTER)
    for page in PAGES:
        response = client.get(page.format(reporter=reporter))
        expected = 303 if who is None else 200 if who in ALLOWED else 403
        assert response.status_code == expected, (who, page)
    network = client.get("/admin/roles")
    assert network.status_code == (303 if who is None else 200 if who == "webmaster" else 403)
    for unknown in ("/editeur/nowhere/equipe", "/editeur/_network/equipe"):
        assert client.get(unknown).status_code in ((303, 404) if who is None else
                                                   (404, 403))


@pytest.mark.parametrize("who", [None, *PEOPLE])
def test_who_may_change_the_team(app: Starlette, who: str | None) -> None:
    client = browser(app) if who is None else signed_in(app, PEOPLE[who])
    token = csrf_token(client, "/compte/connexion")  # a form token anyone gets
    reporter = pid(app, REPORTER)
    posts = {
        f"{TEAM}/inviter": ({"nom": "Nina", "email": "nina@example.org", "role": "reporter"},
                            303),
        f"{TEAM}/{reporter}/retirer": ({"role": "reporter"}, 303),
        HANDOVER: ({}, 409),  # allowed in, then refused: no newcomer has signed in
    }
    before = len(log(app))
    for action, (data, allowed) in posts.items():
        response = client.post(action, headers=SAME_SITE, data={**data, "csrf_token": token})
        expected = 401 if who is None else allowed if who in ALLOWED else 403
        assert response.status_code == expected, (who, action, response.text)
    assert (len(log(app)) > before) == (who in ALLOWED)


@pytest.mark.parametrize("action", [f"{TEAM}/inviter", f"{TEAM}/1/retirer", HANDOVER])
def test_changes_without_a_form_token_are_refused(app: Starlette, action: str) -> None:
    client = signed_in(app, ADMIN)
    before = len(log(app))
    data = {"nom": "Nina", "email": "nina@example.org", "role": "reporter"}
    assert client.post(action, headers=SAME_SITE, data=data).status_code == 403
    assert client.post(action, headers={"Origin": "https://evil.example"},
                       data={**data, "csrf_token": csrf_token(client, TEAM)}).status_code == 403
    assert len(log(app)) == before


def load_person_of(app: Starlette, email: str):  # type: ignore[no-untyped-def]
    with engine_of(app).connect() as connection:
        return load_person(connection, pid(app, email))


def test_row_counts_match_the_roles_given_at_start(app: Starlette) -> None:
    with engine_of(app).connect() as connection:
        given = connection.execute(select(func.count()).select_from(roles)).scalar_one()
    assert len(log(app)) == given  # add_person's grants, each logged once
