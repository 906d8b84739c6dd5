"""Groups through the real service: an admin creates one and names a moderator; members
join, post (held first), the moderator of THIS group approves, a moderator of another
group cannot; leaving; the feed shows visible topics only, to the city's members only."""

from __future__ import annotations

import pytest
from auth_helpers import engine_of
from discussion_helpers import build_discussion, person, post_form, service, signed_in
from sqlalchemy import select

from avf.service.accounts import person_id_for
from avf.store.schema import comments, group_topics

GROUPS = "/membres/lyon/groupes/"
HIKING = "/membres/lyon/groupes/randonnee/"
ENGLISH = "/membres/lyon/groupes/anglais/"
QUEUE = "/membres/lyon/moderation/"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return build_discussion(tmp_path_factory.mktemp("groups"))


def topic_statuses(app) -> dict[int, str]:  # type: ignore[no-untyped-def]
    with engine_of(app).connect() as connection:
        return {row.id: row.status for row in connection.execute(select(group_topics))}


def test_a_group_from_creation_to_moderated_topics(tmp_path, built) -> None:
    with service(tmp_path, built) as app:
        person(app, "chef@example.org", "Chef", role="admin")
        mod_id = person(app, "marc@example.org", "Marc")
        other_mod_id = person(app, "eve@example.org", "Ève")
        person(app, "alice@example.org", "Alice")
        person(app, "paul@example.org", "Paul", city="paris")
        admin = signed_in(app, "chef@example.org")
        marc, eve = signed_in(app, "marc@example.org"), signed_in(app, "eve@example.org")
        alice, paul = signed_in(app, "alice@example.org"), signed_in(app, "paul@example.org")

        # Only an admin creates a group.
        refused = post_form(alice, GROUPS, GROUPS, {"nom": "Pirates", "description": ""})
        assert refused.status_code == 403
        for name in ("Randonnée", "Anglais"):
            created = post_form(admin, GROUPS, GROUPS, {"nom": name, "description": "Ensemble."})
            assert created.status_code == 303
        assert post_form(admin, GROUPS, GROUPS, {"nom": "randonnée",
                                                 "description": ""}).status_code == 400
        assert "Randonnée" in alice.get(GROUPS).text and "Anglais" in alice.get(GROUPS).text

        # Marc joins the hikers and is named their moderator; Ève moderates English.
        post_form(marc, HIKING, f"{HIKING}rejoindre", {})
        post_form(eve, ENGLISH, f"{ENGLISH}rejoindre", {})
        for page, who in ((HIKING, mod_id), (ENGLISH, other_mod_id)):
            assert post_form(admin, page, f"{page}moderateurs",
                             {"personne": str(who), "role": "moderateur"}).status_code == 303
        assert "Modération : Marc" in alice.get(HIKING).text
        assert post_form(alice, HIKING, f"{HIKING}moderateurs",
                         {"personne": str(mod_id), "role": "membre"}).status_code == 403

        # Alice must join before writing; her first topic is held.
        topic = {"titre": "Sortie au Pilat", "message": "Qui vient dimanche ?"}
        assert post_form(alice, HIKING, f"{HIKING}sujets", topic).status_code == 403
        assert post_form(alice, HIKING, f"{HIKING}rejoindre", {}).status_code == 303
        held = post_form(alice, HIKING, f"{HIKING}sujets", topic)
        assert held.headers["location"] == f"{HIKING}?fait=attente"
        [topic_id] = topic_statuses(app)
        assert "Sortie au Pilat" not in marc.get(HIKING).text  # not listed while held
        assert "Sortie au Pilat" in alice.get(HIKING).text  # but its author sees it
        assert "Sortie au Pilat" in marc.get(QUEUE).text  # in the hikers' moderator's queue
        assert "premier message de ce membre" in marc.get(QUEUE).text

        # Ève moderates another group: she sees nothing of it and cannot approve it.
        assert "Sortie au Pilat" not in eve.get(QUEUE).text
        approve = f"{QUEUE}sujet/{topic_id}/approuver"
        assert post_form(eve, QUEUE, approve, {}).status_code == 403
        assert alice.get(QUEUE).status_code == 403  # no moderator at all
        assert post_form(marc, QUEUE, approve, {}).status_code == 303
        assert topic_statuses(app)[topic_id] == "visible"
        topic_page = f"{HIKING}sujets/{topic_id}"
        assert "Qui vient dimanche" in eve.get(topic_page).text  # any member of Lyon reads

        # A volunteer moderator's approval publishes the topic but does not make Alice
        # trusted in the whole city (only an admin's does): her reply waits again.
        assert post_form(alice, topic_page, topic_page,
                         {"message": "Départ 9 h."}).headers["location"].endswith(
                             "fait=attente#commentaires")
        # Marc cannot approve a text of his own; the admin's approval trusts its author.
        own = post_form(marc, topic_page, topic_page, {"message": "Je serai là."})
        assert own.headers["location"].endswith("fait=attente#commentaires")
        [marc_reply] = held_comments(app, "marc@example.org")
        assert post_form(marc, QUEUE, f"{QUEUE}commentaire/{marc_reply}/approuver",
                         {}).status_code == 403
        assert post_form(admin, QUEUE, f"{QUEUE}commentaire/{marc_reply}/approuver",
                         {}).status_code == 303
        assert post_form(marc, topic_page, topic_page,
                         {"message": "Et mes bâtons."}).headers["location"].endswith(
                             "fait=publie#commentaires")
        # What an admin hid, a volunteer moderator cannot bring back.
        assert post_form(admin, QUEUE, f"{QUEUE}sujet/{topic_id}/masquer", {}).status_code == 303
        assert post_form(marc, QUEUE, approve, {}).status_code == 403
        assert topic_statuses(app)[topic_id] == "hidden"
        assert post_form(admin, QUEUE, approve, {}).status_code == 303
        # A city admin cannot exclude a fellow admin (only the webmaster may).
        second_admin = person(app, "adjointe@example.org", "Adjointe", role="admin")
        assert post_form(admin, QUEUE, f"{QUEUE}exclusions",
                         {"personne": str(second_admin), "raison": "x"}).status_code == 403
        # Ève (not in the group) cannot reply.
        assert post_form(eve, topic_page, topic_page, {"message": "Moi !"}).status_code == 403
        assert "Rejoignez le groupe pour y écrire" in eve.get(topic_page).text

        # Paris's members see nothing of Lyon's groups.
        for page in (GROUPS, HIKING, topic_page, f"{HIKING}fil.atom"):
            assert paul.get(page).status_code == 403

        # Leaving.
        assert post_form(alice, HIKING, f"{HIKING}quitter", {}).status_code == 303
        assert "Rejoindre ce groupe" in alice.get(HIKING).text
        assert post_form(alice, topic_page, topic_page, {"message": "x"}).status_code == 403


def held_comments(app, email: str) -> list[int]:  # type: ignore[no-untyped-def]
    with app.state.runtime.engine.connect() as connection:
        author = person_id_for(connection, email)
        return list(connection.execute(select(comments.c.id).where(
            comments.c.author_id == author, comments.c.status == "pending")).scalars())


def test_the_feed_has_the_visible_topics_only(tmp_path, built) -> None:
    with service(tmp_path, built) as app:
        person(app, "chef@example.org", "Chef", role="admin")
        person(app, "alice@example.org", "Alice")
        admin, alice = signed_in(app, "chef@example.org"), signed_in(app, "alice@example.org")
        post_form(admin, GROUPS, GROUPS, {"nom": "Randonnée", "description": ""})
        for client in (admin, alice):
            post_form(client, HIKING, f"{HIKING}rejoindre", {})
        post_form(admin, HIKING, f"{HIKING}sujets", {"titre": "Programme d'hiver",
                                                     "message": "Voici le programme."})
        post_form(alice, HIKING, f"{HIKING}sujets", {"titre": "Sujet en attente",
                                                     "message": "Pas encore relu."})
        feed = alice.get(f"{HIKING}fil.atom")
        assert feed.status_code == 200
        assert feed.headers["content-type"].startswith("application/atom+xml")
        assert feed.headers["cache-control"] == "private, no-store"
        assert "Programme d&#x27;hiver" in feed.text or "Programme d'hiver" in feed.text
        assert "Sujet en attente" not in feed.text
        anonymous = signed_in(app, "alice@example.org")
        anonymous.cookies.clear()
        assert anonymous.get(f"{HIKING}fil.atom").status_code == 303


def test_banned_member_cannot_post_in_groups(tmp_path, built) -> None:
    with service(tmp_path, built) as app:
        person(app, "chef@example.org", "Chef", role="admin")
        alice_id = person(app, "alice@example.org", "Alice")
        admin, alice = signed_in(app, "chef@example.org"), signed_in(app, "alice@example.org")
        post_form(admin, GROUPS, GROUPS, {"nom": "Randonnée", "description": ""})
        post_form(alice, HIKING, f"{HIKING}rejoindre", {})
        post_form(admin, QUEUE, f"{QUEUE}exclusions", {"personne": str(alice_id)})
        refused = post_form(alice, HIKING, f"{HIKING}sujets", {"titre": "Moi", "message": "x"})
        assert refused.status_code == 403 and 'role="alert"' in refused.text
        assert topic_statuses(app) == {}
