"""People, roles, sign-in links and sessions in the store, with the time given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from avf.service.accounts import (
    InvalidEmail,
    InvalidRole,
    find_or_create_person,
    grant_role,
    list_accounts,
    load_person,
    normalize_email,
    note_seen,
    revoke_role,
)
from avf.service.magiclinks import (
    issue_link_token,
    link_is_usable,
    local_path,
    redeem_link_token,
)
from avf.service.sessions import LIFETIME, find_session, open_session, revoke_session
from avf.store.schema import NETWORK, login_tokens, people

NOW = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)



@pytest.mark.parametrize(("typed", "stored"), [
    ("  Elise.Martin@Example.ORG ", "elise.martin@example.org"),
    ("paul+avf@mail.example.fr", "paul+avf@mail.example.fr"),
    ("anne@café.fr", "anne@xn--caf-dma.fr"),
])
def test_addresses_are_trimmed_and_lower_cased(typed: str, stored: str) -> None:
    assert normalize_email(typed) == stored


@pytest.mark.parametrize("typed", ["", "elise", "elise@", "@example.org", "elise@example",
                                   "élise@example.org", "eli se@example.org",
                                   "elise..martin@example.org", "a@b@example.org",
                                   "elise@exa_mple.org", "x" * 65 + "@example.org"])
def test_unusable_addresses_are_refused_in_french(typed: str) -> None:
    with pytest.raises(InvalidEmail, match="n'est pas une adresse email complète"):
        normalize_email(typed)


@pytest.mark.parametrize(("role", "city", "message"), [
    ("chef", "lyon", "le rôle « chef » n'existe pas"),
    ("admin", NETWORK, "le rôle admin concerne une ville"),
    ("member", "Lyon", "n'est pas le nom court d'une ville"),
    ("webmaster", "lyon", "vaut pour tout le réseau"),
])
def test_a_role_must_fit_its_place(engine: Engine, role: str, city: str, message: str) -> None:
    with engine.begin() as connection:
        person, _ = find_or_create_person(connection, "elise@example.org", now=NOW)
        with pytest.raises(InvalidRole, match=message):
            grant_role(connection, person, role, city, NOW)


def test_roles_in_several_cities(engine: Engine) -> None:
    with engine.begin() as connection:
        person, created = find_or_create_person(connection, "Elise@Example.org", "Élise", NOW)
        assert created
        assert find_or_create_person(connection, "elise@example.org ", now=NOW) == (person,
                                                                                   False)
        assert grant_role(connection, person, "member", "lyon", NOW)
        assert not grant_role(connection, person, "member", "lyon", NOW)  # held already
        assert grant_role(connection, person, "admin", "saint-etienne", NOW)
        elise = load_person(connection, person)
        assert elise is not None and elise.display_name == "Élise"
        assert elise.can("member", "lyon") and elise.can("reporter", "saint-etienne")
        assert not elise.can("reporter", "lyon") and not elise.is_webmaster
        assert revoke_role(connection, person, "member", "lyon")
        assert not revoke_role(connection, person, "member", "lyon")
        assert not load_person(connection, person).can("member", "lyon")  # type: ignore[union-attr]
        grant_role(connection, person, "webmaster", NETWORK, NOW)
        assert load_person(connection, person).can("admin", "paris")  # type: ignore[union-attr]
        assert load_person(connection, person + 1) is None


def test_accounts_are_listed_by_city(engine: Engine) -> None:
    with engine.begin() as connection:
        for email, city in (("b@example.org", "lyon"), ("a@example.org", "lyon"),
                            ("c@example.org", "paris")):
            person, _ = find_or_create_person(connection, email, now=NOW)
            grant_role(connection, person, "member", city, NOW)
        assert [a.person.email for a in list_accounts(connection)] == [
            "a@example.org", "b@example.org", "c@example.org"]
        assert [a.person.email for a in list_accounts(connection, "lyon")] == [
            "a@example.org", "b@example.org"]


def test_activity_is_written_at_most_every_five_minutes(engine: Engine) -> None:
    with engine.begin() as connection:
        person, _ = find_or_create_person(connection, "elise@example.org", now=NOW)
        assert note_seen(connection, person, None, NOW)
        assert not note_seen(connection, person, NOW, NOW + timedelta(minutes=4))
        # Two requests that both read the old value: only one writes.
        later = NOW + timedelta(minutes=6)
        assert note_seen(connection, person, NOW, later)
        assert not note_seen(connection, person, NOW, later)
        seen = connection.execute(select(people.c.last_seen_at)).scalar()
    assert seen == later


def test_a_link_works_for_15_minutes_once(engine: Engine) -> None:
    with engine.begin() as connection:
        person, _ = find_or_create_person(connection, "elise@example.org", now=NOW)
        token = issue_link_token(connection, person, "/membres/lyon/", NOW)
        late = issue_link_token(connection, person, "/", NOW)
        almost = NOW + timedelta(minutes=14, seconds=59)
        assert link_is_usable(connection, token, almost)
        assert not link_is_usable(connection, late, NOW + timedelta(minutes=15))
        assert redeem_link_token(connection, late, NOW + timedelta(minutes=15)) is None
        redeemed = redeem_link_token(connection, token, almost)
        assert redeemed is not None and redeemed.person_id == person
        assert redeemed.next_path == "/membres/lyon/"
        assert redeem_link_token(connection, token, almost) is None  # once
        assert not link_is_usable(connection, token, almost)


def test_old_links_are_cleared_when_new_ones_are_made(engine: Engine) -> None:
    with engine.begin() as connection:
        person, _ = find_or_create_person(connection, "elise@example.org", now=NOW)
        issue_link_token(connection, person, "/", NOW)
        issue_link_token(connection, person, "/", NOW + timedelta(days=2))
        assert len(connection.execute(select(login_tokens)).all()) == 1


@pytest.mark.parametrize(("asked", "kept"), [
    ("/membres/lyon/", "/membres/lyon/"), ("/compte/?a=1#b", "/compte/?a=1#b"),
    ("//evil.example", "/"), ("https://evil.example", "/"), ("/\\evil.example", "/"),
    ("evil.example", "/"), ("", "/"), (None, "/"), ("/a\nb", "/"), ("/" + "a" * 600, "/"),
])
def test_only_local_paths_are_kept(asked: str | None, kept: str) -> None:
    assert local_path(asked) == kept


def test_a_session_lasts_30_days_until_signed_out(engine: Engine) -> None:
    with engine.begin() as connection:
        person, _ = find_or_create_person(connection, "elise@example.org", now=NOW)
        session = open_session(connection, person, NOW)
        found = find_session(connection, session, NOW + LIFETIME - timedelta(seconds=1))
        assert found is not None and found.person_id == person
        assert find_session(connection, session, NOW + LIFETIME) is None
        assert find_session(connection, session + "x", NOW) is None
        assert revoke_session(connection, session, NOW)
        assert find_session(connection, session, NOW) is None
        assert not revoke_session(connection, session, NOW)
