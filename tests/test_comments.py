"""Comments on posts, through the real service over a real build: held first, trusted
after, reported, hidden, edited within 15 minutes, one level of replies, public posts
only where the city allows, bans, link limits, rate limits, the honeypot, other cities,
and the mails to the thread (consent respected, no address leaked)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from auth_helpers import engine_of
from discussion_helpers import (
    MEMBER_POST,
    PARIS_POST,
    PUBLIC_POST,
    build_discussion,
    comment,
    person,
    post_form,
    service,
    signed_in,
)
from members_helpers import addresses_in, deliver
from sqlalchemy import select, update

from avf.store.schema import comment_reports, comments, trusted_commenters

THREAD = f"/membres/lyon/commentaires/{MEMBER_POST}"
QUEUE = "/membres/lyon/moderation/"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return build_discussion(tmp_path_factory.mktemp("discussion"))


def statuses(app) -> dict[int, str]:  # type: ignore[no-untyped-def]
    with engine_of(app).connect() as connection:
        return {row.id: row.status for row in connection.execute(select(comments))}


def approve(client, comment_id: int):  # type: ignore[no-untyped-def]
    return post_form(client, QUEUE, f"{QUEUE}commentaire/{comment_id}/approuver", {})


def test_first_comment_is_held_then_approved_and_the_author_trusted(tmp_path, built) -> None:
    with service(tmp_path, built) as app:
        person(app, "alice@example.org", "Alice")
        person(app, "bob@example.org", "Bob")
        person(app, "chef@example.org", "Chef", role="admin")
        alice, bob = signed_in(app, "alice@example.org"), signed_in(app, "bob@example.org")
        admin = signed_in(app, "chef@example.org")

        response = comment(alice, "Merci pour ce *compte rendu* !")
        assert response.status_code == 303
        assert response.headers["location"] == f"{THREAD}?fait=attente#commentaires"
        [first] = statuses(app)
        assert "en attente de relecture" in alice.get(THREAD).text  # the author sees it
        assert "compte rendu" not in bob.get(THREAD).text  # nobody else does
        queue = admin.get(QUEUE)
        assert "premier message de ce membre" in queue.text
        assert "<em>compte rendu</em>" in queue.text

        assert approve(admin, first).status_code == 303
        assert statuses(app)[first] == "visible"
        assert "<em>compte rendu</em>" in bob.get(THREAD).text
        with engine_of(app).connect() as connection:
            assert connection.execute(select(trusted_commenters)).first() is not None

        response = comment(alice, "Et une deuxième remarque.")
        assert response.headers["location"] == f"{THREAD}?fait=publie#commentaires"
        assert "deuxième remarque" in bob.get(THREAD).text

        # The admin takes the trust back: the next one waits again.
        alice_id = next(iter(statuses(app)))
        with engine_of(app).connect() as connection:
            author = connection.execute(select(comments.c.author_id)
                                        .where(comments.c.id == alice_id)).scalar_one()
        assert post_form(admin, QUEUE, f"{QUEUE}confiance/{author}/retirer",
                         {}).status_code == 303
        assert comment(alice, "Une troisième.").headers["location"].endswith("attente#commentaires")


def test_report_then_hide_and_delete_by_a_moderator(tmp_path, built) -> None:
    with service(tmp_path, built) as app:
        person(app, "alice@example.org", "Alice")
        person(app, "bob@example.org", "Bob")
        person(app, "chef@example.org", "Chef", role="admin")
        alice, bob = signed_in(app, "alice@example.org"), signed_in(app, "bob@example.org")
        admin = signed_in(app, "chef@example.org")
        comment(alice, "Un texte désagréable.")
        comment(alice, "Un autre texte.")
        first, second = statuses(app)
        approve(admin, first)
        approve(admin, second)

        report = post_form(bob, THREAD, f"/membres/lyon/commentaire/{first}/signaler",
                           {"raison": "propos blessants"})
        assert report.status_code == 303
        queue = admin.get(QUEUE).text
        assert "Signalé 1 fois" in queue and "propos blessants" in queue
        # A member cannot moderate.
        assert post_form(bob, THREAD, f"{QUEUE}commentaire/{first}/masquer",
                         {}).status_code == 403
        assert bob.get(QUEUE).status_code == 403

        assert post_form(admin, QUEUE, f"{QUEUE}commentaire/{first}/masquer",
                         {}).status_code == 303
        assert post_form(admin, QUEUE, f"{QUEUE}commentaire/{second}/supprimer",
                         {}).status_code == 303
        assert statuses(app) == {first: "hidden", second: "deleted"}
        page = bob.get(THREAD).text
        assert "désagréable" not in page and "Un autre texte" not in page
        with engine_of(app).connect() as connection:
            assert connection.execute(select(comment_reports.c.handled_at)).scalar() is not None
        assert "Aucun commentaire signalé" in admin.get(QUEUE).text


def test_author_edits_or_deletes_within_15_minutes_only(tmp_path, built) -> None:
    with service(tmp_path, built) as app:
        person(app, "alice@example.org", "Alice")
        person(app, "bob@example.org", "Bob")
        alice, bob = signed_in(app, "alice@example.org"), signed_in(app, "bob@example.org")
        comment(alice, "Premier jet.")
        comment(alice, "Deuxième jet.")
        first, second = statuses(app)
        edit = f"/membres/lyon/commentaire/{first}/modifier"
        assert bob.get(edit).status_code == 404  # pending: others do not even see it
        response = post_form(alice, edit, edit, {"message": "Premier jet, **corrigé**."})
        assert response.status_code == 303
        assert "<strong>corrigé</strong>" in alice.get(THREAD).text

        with engine_of(app).begin() as connection:  # 20 minutes later
            connection.execute(update(comments).values(
                created_at=datetime.now(UTC) - timedelta(minutes=20)))
        assert alice.get(edit).status_code == 403
        assert "15 minutes" in alice.get(edit).text
        delete = f"/membres/lyon/commentaire/{second}/supprimer"
        assert post_form(alice, THREAD, delete, {}).status_code == 403
        with engine_of(app).begin() as connection:
            connection.execute(update(comments).values(created_at=datetime.now(UTC)))
        assert post_form(alice, THREAD, delete, {}).status_code == 303
        assert statuses(app)[second] == "deleted"
        assert "Deuxième jet" not in alice.get(THREAD).text


def test_replies_have_one_level(tmp_path, built) -> None:
    with service(tmp_path, built) as app:
        person(app, "alice@example.org", "Alice")
        person(app, "chef@example.org", "Chef", role="admin")
        alice, admin = signed_in(app, "alice@example.org"), signed_in(app, "chef@example.org")
        comment(admin, "Question du bureau.")  # an admin's comment is shown at once
        [top] = statuses(app)
        assert statuses(app)[top] == "visible"
        comment(alice, "Réponse d'Alice.", parent=str(top))
        reply = max(statuses(app))
        approve(admin, reply)
        comment(admin, "Réponse à la réponse.", parent=str(reply))
        with engine_of(app).connect() as connection:
            parents = dict(connection.execute(select(comments.c.id, comments.c.parent_id)).all())
        assert parents[reply] == top
        assert parents[max(parents)] == top  # attached to the top comment, not the reply
        assert comment(alice, "Vers rien.", parent="99999").status_code == 404


def test_public_posts_take_comments_only_where_the_city_allows(tmp_path, built) -> None:
    with service(tmp_path, built) as app:
        person(app, "alice@example.org", "Alice")
        person(app, "paul@example.org", "Paul", city="paris")
        alice, paul = signed_in(app, "alice@example.org"), signed_in(app, "paul@example.org")
        lyon_public = f"/membres/lyon/commentaires/{PUBLIC_POST}"
        page = alice.get(lyon_public)
        assert page.status_code == 200 and "Café d&#39;accueil" in page.text
        assert comment(alice, "Super café.", slug=PUBLIC_POST).status_code == 303
        paris_public = f"/membres/paris/commentaires/{PARIS_POST}"
        assert paul.get(paris_public).status_code == 404  # Paris did not allow it
        assert comment(paul, "Non.", slug=PARIS_POST, city="paris").status_code == 404
        assert alice.get("/membres/lyon/commentaires/inconnu").status_code == 404


def test_other_cities_and_strangers_are_refused(tmp_path, built) -> None:
    with service(tmp_path, built) as app:
        person(app, "alice@example.org", "Alice")
        person(app, "paul@example.org", "Paul", city="paris")
        alice, paul = signed_in(app, "alice@example.org"), signed_in(app, "paul@example.org")
        comment(alice, "Un commentaire lyonnais.")
        [first] = statuses(app)
        assert paul.get(THREAD).status_code == 403
        assert paul.post(THREAD, data={"message": "x"},
                         headers={"Origin": "http://avf.test"}).status_code == 403
        assert post_form(paul, "/membres/paris/annuaire/",
                         f"/membres/lyon/commentaire/{first}/signaler", {}).status_code == 403
        # Lyon's comment through Paris's URL: not found.
        assert post_form(paul, "/membres/paris/annuaire/",
                         f"/membres/paris/commentaire/{first}/signaler", {}).status_code == 404
        anonymous = signed_in(app, "alice@example.org")
        anonymous.cookies.clear()
        assert anonymous.get(THREAD).status_code == 303


def test_banned_member_is_refused(tmp_path, built) -> None:
    with service(tmp_path, built) as app:
        alice_id = person(app, "alice@example.org", "Alice")
        person(app, "chef@example.org", "Chef", role="admin")
        alice, admin = signed_in(app, "alice@example.org"), signed_in(app, "chef@example.org")
        comment(alice, "Avant l'exclusion.")
        [earlier] = statuses(app)
        assert post_form(admin, QUEUE, f"{QUEUE}exclusions",
                         {"personne": str(alice_id), "raison": "spam"}).status_code == 303
        assert "spam" in admin.get(QUEUE).text
        response = comment(alice, "Je reviens.")
        assert response.status_code == 403
        assert "suspendu votre droit d&#39;écrire" in response.text
        assert list(statuses(app)) == [earlier]
        # Within its 15 minutes, her earlier comment can no longer be rewritten either.
        edit = f"/membres/lyon/commentaire/{earlier}/modifier"
        assert post_form(alice, THREAD, edit, {"message": "Voyez https://x.example et "
                                                          "https://y.example"}).status_code == 403
        assert post_form(admin, QUEUE, f"{QUEUE}exclusions/{alice_id}/lever",
                         {}).status_code == 303
        assert comment(alice, "Merci.").status_code == 303


def test_links_of_new_members_are_held_with_the_reason(tmp_path, built) -> None:
    with service(tmp_path, built) as app:
        person(app, "alice@example.org", "Alice")
        person(app, "chef@example.org", "Chef", role="admin")
        alice, admin = signed_in(app, "alice@example.org"), signed_in(app, "chef@example.org")
        comment(alice, "Voyez https://a.example et https://b.example et https://c.example")
        queue = admin.get(QUEUE).text
        assert "plus de 1 lien(s) dans le message d&#39;un nouveau membre (3)" in queue
        [first] = statuses(app)
        approve(admin, first)
        comment(alice, "Encore https://a.example et https://b.example")  # trusted now
        assert sorted(statuses(app).values()) == ["visible", "visible"]
        assert 'rel="nofollow ugc noopener"' in alice.get(THREAD).text


def test_rate_limit_and_honeypot(tmp_path, built) -> None:
    with service(tmp_path, built) as app:
        person(app, "alice@example.org", "Alice")
        alice = signed_in(app, "alice@example.org")
        robot = comment(alice, "Achetez !", site_web="http://spam.example")
        assert robot.status_code == 303  # the robot learns nothing…
        assert statuses(app) == {}  # …and nothing is kept
        answers = [comment(alice, f"Message {n}.").status_code for n in range(11)]
        assert answers[:9] == [303] * 9  # the honeypot's attempt was not counted
        assert 429 in answers[9:]
        refused = comment(alice, "Encore un.")
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "3600"
        assert "Encore un." in refused.text  # the typed text is kept to copy


def test_text_limits(tmp_path, built) -> None:
    with service(tmp_path, built) as app:
        person(app, "alice@example.org", "Alice")
        alice = signed_in(app, "alice@example.org")
        assert comment(alice, "   ").status_code == 400
        too_long = comment(alice, "a" * 4001)
        assert too_long.status_code == 400 and 'role="alert"' in too_long.text
        assert statuses(app) == {}


def test_the_thread_is_told_respecting_consent_without_addresses(tmp_path, built,
                                                                 smtp_server) -> None:
    with service(tmp_path, built, smtp_server) as app:
        person(app, "alice@example.org", "Alice", news=True)
        person(app, "bob@example.org", "Bob", news=False)
        person(app, "carole@example.org", "Carole", news=True)
        person(app, "chef@example.org", "Chef", role="admin")
        alice, bob = signed_in(app, "alice@example.org"), signed_in(app, "bob@example.org")
        carole, admin = signed_in(app, "carole@example.org"), signed_in(app, "chef@example.org")
        for client, text in ((alice, "Alice écrit."), (bob, "Bob écrit.")):
            comment(client, text)
            approve(admin, max(statuses(app)))
        comment(carole, "Carole écrit.")
        approve(admin, max(statuses(app)))  # now shown: Alice is told, Bob (no consent) not
        received = deliver(app, smtp_server, expected=2)
        to = sorted(mail["To"] for mail in received)
        # Alice: told of Bob's then of Carole's comment; Bob never; Carole: nobody after her.
        assert to == ["alice@example.org", "alice@example.org"]
        for mail in received:
            text = mail.get_body(("plain",)).get_content()
            assert "Compte rendu de l'assemblée" in mail["Subject"]
            assert addresses_in(text) <= {"alice@example.org"} or not addresses_in(text)
            assert "bob@example.org" not in mail.as_string()
            assert "carole@example.org" not in mail.as_string()
            assert f"http://avf.test{THREAD}#commentaires" in text


def test_post_pages_hold_the_comments_placeholder_where_comments_are_open(built) -> None:
    _, output = built
    member_page = (output / "members" / "lyon" / "actualites" / f"{MEMBER_POST}.html")
    lyon_public = (output / "public" / "lyon" / "actualites" / f"{PUBLIC_POST}.html")
    paris_public = (output / "public" / "paris" / "actualites" / f"{PARIS_POST}.html")
    for page, slug in ((member_page, MEMBER_POST), (lyon_public, PUBLIC_POST)):
        text = page.read_text(encoding="utf-8")
        assert '<section id="commentaires"' in text
        assert f'href="http://avf.test/membres/lyon/commentaires/{slug}"' in text
        assert "Voir les commentaires (espace adhérents)" in text  # works without the script
    assert 'id="commentaires"' not in paris_public.read_text(encoding="utf-8")


def test_the_fragment_replaces_the_placeholder(tmp_path, built) -> None:
    with service(tmp_path, built) as app:
        person(app, "alice@example.org", "Alice")
        alice = signed_in(app, "alice@example.org")
        fragment = alice.get(f"{THREAD}?fragment=1")
        assert fragment.status_code == 200
        assert fragment.text.lstrip().startswith('<section id="commentaires"')
        assert "<html" not in fragment.text and 'name="csrf_token"' in fragment.text
        assert fragment.headers["cache-control"] == "private, no-store"


def test_the_city_card_switch_is_validated(tmp_path) -> None:
    from conftest import CITY_YAML, write

    from avf.content.cards import read_city_card
    from avf.content.problems import ContentError

    card = CITY_YAML.format(slug="lyon", title="Lyon")
    default = write(tmp_path / "a" / "city.yaml", card)
    assert read_city_card(default, "lyon/city.yaml", "lyon").comments_on_public_posts is False
    allowed = write(tmp_path / "b" / "city.yaml", card + "comments_on_public_posts: true\n")
    assert read_city_card(allowed, "lyon/city.yaml", "lyon").comments_on_public_posts is True
    wrong = write(tmp_path / "c" / "city.yaml", card + "comments_on_public_posts: peut-être\n")
    with pytest.raises(ContentError) as error:
        read_city_card(wrong, "lyon/city.yaml", "lyon")
    assert "comments_on_public_posts" in str(error.value.problem)
