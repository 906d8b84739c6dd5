"""The post's author is told of comments: found in the content's real git history (the
commit that added the post's file, through a rename), mapped to an account by address,
mailed over real SMTP when a comment becomes visible — with consent and a role only, never
for their own comment, once per comment, never with anyone else's address; nobody (and no
error) for a post added by someone without an account or a content folder outside git."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from auth_helpers import engine_of
from conftest import build, post, write
from content_repo import content_repos, git
from discussion_helpers import comment, person, post_form, service, signed_in
from members_helpers import addresses_in, deliver
from sqlalchemy import select, update

from avf.service.accounts import revoke_role
from avf.service.post_authors import _added_by, post_author_email
from avf.store.schema import comments, profiles

ELISE = {"GIT_AUTHOR_NAME": "Élise", "GIT_AUTHOR_EMAIL": "elise@example.org"}
MEMBER_POST = "assemblee"  # added by Élise, then moved by the network's volunteer
OTHER_POST = "sortie"  # added by the volunteer, who has no account
THREAD = f"/membres/lyon/commentaires/{MEMBER_POST}"
QUEUE = "/membres/lyon/moderation/"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The service's content checkout (real history) and its build."""
    root = tmp_path_factory.mktemp("authors")
    repos = content_repos(root / "git", {"lyon": {
        "posts/2026-10-03-sortie.md": post("Sortie au musée", "2026-10-03",
                                           extra="visibility: members")}})
    volunteer = repos.volunteer
    write(volunteer / "lyon" / "posts" / "2026-10-02-assemblee.md",
          post("Compte rendu de l'assemblée", "2026-10-02", extra="visibility: members"))
    git(volunteer, "add", "-A")
    git(volunteer, "commit", "-q", "-m", "L'assemblée", env=ELISE)
    git(volunteer, "mv", "lyon/posts/2026-10-02-assemblee.md", "lyon/posts/assemblee.md")
    git(volunteer, "commit", "-q", "-m", "Rangement")  # by the volunteer: not the writer
    git(volunteer, "push", "-q", "origin", "main")
    git(repos.checkout, "pull", "-q", "--ff-only")
    output = root / "output"
    assert build(repos.checkout, output).ok
    return repos.checkout, output


def approve(client, comment_id: int):  # type: ignore[no-untyped-def]
    return post_form(client, QUEUE, f"{QUEUE}commentaire/{comment_id}/approuver", {})


def last_comment(app) -> int:  # type: ignore[no-untyped-def]
    with engine_of(app).connect() as connection:
        return int(connection.execute(select(comments.c.id).order_by(comments.c.id.desc())
                                      ).scalars().first())


def test_git_names_who_added_the_post_through_a_rename(built) -> None:
    checkout, _ = built
    assert post_author_email(checkout, "lyon", MEMBER_POST) == "elise@example.org"
    assert post_author_email(checkout, "lyon", OTHER_POST) == "benevole@avf.example"
    assert post_author_email(checkout, "lyon", "inconnu") is None
    assert post_author_email(checkout, "paris", MEMBER_POST) is None
    hits = _added_by.cache_info().hits
    assert post_author_email(checkout, "lyon", MEMBER_POST) == "elise@example.org"
    assert _added_by.cache_info().hits == hits + 1  # git is not asked twice per commit


def test_a_file_not_committed_or_outside_git_has_no_author(tmp_path, built) -> None:
    checkout, _ = built
    copy = tmp_path / "copie"
    shutil.copytree(checkout, copy, ignore=shutil.ignore_patterns(".git"))
    assert post_author_email(copy, "lyon", MEMBER_POST) is None
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(checkout), str(clone))
    write(clone / "lyon" / "posts" / "brouillon.md", post("Pas encore commité"))
    assert post_author_email(clone, "lyon", "brouillon") is None
    assert post_author_email(clone, "lyon", MEMBER_POST) == "elise@example.org"


def test_the_author_is_told_when_a_comment_is_approved_and_when_shown_at_once(
        tmp_path, built, smtp_server) -> None:
    with service(tmp_path, built, smtp_server) as app:
        person(app, "elise@example.org", "Élise", role="reporter", news=True)
        person(app, "marc@example.org", "Marc", news=True)
        person(app, "chef@example.org", "Chef", role="admin")
        marc, admin = signed_in(app, "marc@example.org"), signed_in(app, "chef@example.org")

        assert comment(marc, "Merci Élise !").status_code == 303  # held: first message
        assert deliver(app, smtp_server, expected=0) == []
        assert approve(admin, last_comment(app)).status_code == 303
        assert comment(marc, "Et encore merci.").headers["location"].endswith(
            "?fait=publie#commentaires")  # trusted now: shown at once

        received = deliver(app, smtp_server, expected=2)
        assert [mail["To"] for mail in received] == ["elise@example.org"] * 2
        for mail in received:
            text = mail.get_body(("plain",)).get_content()
            assert mail["Subject"] == ("Nouveau commentaire sur votre article « Compte rendu "
                                       "de l'assemblée » (AVF Lyon)")
            assert "Marc a écrit un commentaire sur votre article" in text
            assert f"http://avf.test{THREAD}#commentaires" in text
            assert addresses_in(text) <= {"elise@example.org"}
            assert "marc@example.org" not in mail.as_string()
            assert "votre article" in mail.get_body(("html",)).get_content()


def test_without_consent_or_role_the_author_is_not_told(tmp_path, built,
                                                        smtp_server) -> None:
    with service(tmp_path, built, smtp_server) as app:
        elise = person(app, "elise@example.org", "Élise", role="reporter", news=False)
        person(app, "marc@example.org", "Marc", news=True)
        person(app, "chef@example.org", "Chef", role="admin", news=True)
        marc, admin = signed_in(app, "marc@example.org"), signed_in(app, "chef@example.org")
        comment(admin, "Le bureau remercie Élise.")  # an admin's comment: shown at once
        comment(marc, "Merci !")
        approve(admin, last_comment(app))
        # The admin (in the thread, consenting) is told; Élise (no consent) is not.
        assert [mail["To"] for mail in deliver(app, smtp_server, expected=1)] == [
            "chef@example.org"]

        with engine_of(app).begin() as connection:
            revoke_role(connection, elise, "reporter", "lyon")
            connection.execute(  # she consents now, but left the city's members
                update(profiles).where(profiles.c.person_id == elise)
                .values(news_by_email=True))
        comment(marc, "Une autre remarque.")  # Marc is trusted since the approval
        received = deliver(app, smtp_server, expected=2)
        assert [mail["To"] for mail in received] == ["chef@example.org"] * 2
        assert all("votre article" not in mail["Subject"] for mail in received)


def test_the_author_is_never_told_of_her_own_comment_and_told_once(tmp_path, built,
                                                                   smtp_server) -> None:
    with service(tmp_path, built, smtp_server) as app:
        person(app, "elise@example.org", "Élise", role="admin", news=True)
        person(app, "marc@example.org", "Marc", role="admin", news=True)
        elise, marc = signed_in(app, "elise@example.org"), signed_in(app, "marc@example.org")
        assert comment(elise, "Des questions ? Écrivez ici.").status_code == 303
        assert deliver(app, smtp_server, expected=0) == []  # nobody else in the thread
        comment(marc, "Une question, justement.")
        comment(elise, "Je réponds.", parent=str(last_comment(app)))
        received = deliver(app, smtp_server, expected=2)
        # Élise: one mail for Marc's comment (the author's variant, though she wrote in
        # the thread too); Marc: one for Élise's answer; Élise never for her own texts.
        by_address = {mail["To"]: mail["Subject"] for mail in received}
        assert len(received) == 2
        assert by_address["elise@example.org"].startswith("Nouveau commentaire sur votre")
        assert by_address["marc@example.org"].startswith("Nouvelle réponse dans")


def test_a_post_added_by_someone_without_an_account_tells_only_the_thread(
        tmp_path, built, smtp_server) -> None:
    with service(tmp_path, built, smtp_server) as app:
        person(app, "elise@example.org", "Élise", role="admin", news=True)
        person(app, "marc@example.org", "Marc", role="admin", news=True)
        elise, marc = signed_in(app, "elise@example.org"), signed_in(app, "marc@example.org")
        assert comment(elise, "Qui vient ?", slug=OTHER_POST).status_code == 303
        assert comment(marc, "Moi !", slug=OTHER_POST).status_code == 303
        received = deliver(app, smtp_server, expected=1)
        assert [(mail["To"], mail["Subject"][:16]) for mail in received] == [
            ("elise@example.org", "Nouvelle réponse")]


def test_comments_work_when_the_content_is_not_a_git_checkout(tmp_path, built,
                                                              smtp_server) -> None:
    checkout, output = built
    copy = tmp_path / "contenu"
    shutil.copytree(checkout, copy, ignore=shutil.ignore_patterns(".git"))
    with service(tmp_path, (copy, output), smtp_server) as app:
        person(app, "elise@example.org", "Élise", role="admin", news=True)
        person(app, "marc@example.org", "Marc", role="admin", news=True)
        elise, marc = signed_in(app, "elise@example.org"), signed_in(app, "marc@example.org")
        assert comment(marc, "Bonjour.").headers["location"].endswith("?fait=publie"
                                                                      "#commentaires")
        assert "Bonjour." in elise.get(THREAD).text
        assert deliver(app, smtp_server, expected=0) == []  # git unknown: nobody to tell
        comment(elise, "Bonjour Marc.")
        assert [mail["To"] for mail in deliver(app, smtp_server, expected=1)] == [
            "marc@example.org"]
