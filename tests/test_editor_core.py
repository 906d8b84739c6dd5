"""The editor's core on real git repositories: which files may be named (the security
boundary), every save a commit authored by the volunteer, conflicts never overwritten,
pushes rebased and never forced, history and restore, and the workflow's rules."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import post, write
from content_repo import ContentRepos, git, small_network
from sqlalchemy import Engine, insert, select

from avf.editor.checkout import (
    Change,
    Checkout,
    EditConflict,
    author_person_id,
    volunteer_author,
)
from avf.editor.drafts import Draft, read_draft, write_draft
from avf.editor.paths import (
    PathRefused,
    city_file,
    documents_of,
    new_document_rel,
    new_text_file,
)
from avf.editor.validation import check_document
from avf.editor.workflow import Invalid, Refused, Workflow, allowed_actions, status_of
from avf.service.people import Person
from avf.store.schema import editor_events, editor_schedules, people

WRITER = volunteer_author(7, "Hélène Dupont", "avf.example")
ADMIN = volunteer_author(8, "Paul Martin", "avf.example")


@pytest.fixture
def repos(tmp_path: Path) -> ContentRepos:
    return small_network(tmp_path / "git", ("lyon", "gap"))


def person(person_id: int, *roles: tuple[str, str]) -> Person:
    return Person(person_id, f"p{person_id}@example.org", f"P{person_id}",
                  frozenset((city, role) for role, city in roles))


# --- Paths: the security boundary --------------------------------------------------------

@pytest.mark.parametrize("rel", [
    "../gap/posts/bienvenue.md", "posts/../../gap/city.yaml", "/etc/passwd",
    "posts/%2e%2e/x.md", "posts\\..\\x.md", "posts/.hidden.md", "posts/x.md\x00.jpg",
    "posts/x.txt", "themes/avf/base.html", ".git/config", "posts", "", "media/x.svg",
    "posts/a/b/c.md", "posts//x.md", "posts/./x.md", "posts/x..md", "C:/x.md",
])
def test_paths_outside_what_a_volunteer_edits_are_refused(repos: ContentRepos,
                                                          rel: str) -> None:
    with pytest.raises(PathRefused):
        city_file(repos.checkout, "lyon", rel)


@pytest.mark.parametrize("city", ["../lyon", "lyon/..", "LYON", "nowhere", ".git", "media",
                                  "lyon/posts", ""])
def test_unknown_or_malformed_cities_are_refused(repos: ContentRepos, city: str) -> None:
    with pytest.raises(PathRefused):
        city_file(repos.checkout, city, "posts/x.md")


def test_symbolic_links_are_never_crossed(repos: ContentRepos, tmp_path: Path) -> None:
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "x.md").write_text("secret")
    os.symlink(outside, repos.checkout / "lyon" / "posts" / "lien")
    os.symlink(outside / "x.md", repos.checkout / "lyon" / "posts" / "fichier.md")
    os.symlink(repos.checkout / "lyon", repos.checkout / "alias")
    for rel in ("posts/lien/x.md", "posts/fichier.md"):
        with pytest.raises(PathRefused, match="lien symbolique"):
            city_file(repos.checkout, "lyon", rel)
    with pytest.raises(PathRefused):
        city_file(repos.checkout, "alias", "posts/bienvenue.md")
    assert documents_of(repos.checkout / "lyon") == ["posts/bienvenue.md"]


def test_files_a_volunteer_edits_are_named(repos: ContentRepos) -> None:
    named = city_file(repos.checkout, "lyon", "posts/bienvenue.md")
    assert (named.kind, named.path) == ("post", repos.checkout / "lyon/posts/bienvenue.md")
    assert city_file(repos.checkout, "lyon", "pages/adherer.md").kind == "page"
    assert city_file(repos.checkout, "lyon", "media/photo.jpg").kind == "media"
    assert city_file(repos.checkout, "lyon", "city.yaml").kind == "card"
    assert city_file(repos.checkout, "_network", "pages/a-propos.md").kind == "page"
    folder = repos.checkout / "lyon"
    assert new_document_rel(folder, "post", "bienvenue", None) == "posts/bienvenue-2.md"
    assert new_document_rel(folder, "post", "gouter", "2026-11-29") == \
        "posts/2026-11-29-gouter.md"
    for day in ("../../gap/posts/2026-01-10", "2026-1-5", "2026-11-29/x"):
        with pytest.raises(PathRefused, match="année-mois-jour"):
            new_document_rel(folder, "post", "gouter", day)


def test_a_new_text_is_named_from_its_title_and_a_real_date(repos: ContentRepos) -> None:
    today = datetime(2026, 11, 29, tzinfo=UTC)
    named = new_text_file(repos.checkout, "lyon", "post", "Goûter de Noël !", "2026-12-05",
                          today)
    assert named.rel == "posts/2026-12-05-gouter-de-noel.md" and named.kind == "post"
    for typed in ("../../gap/posts/2026-01-10", "5 décembre", ""):
        assert new_text_file(repos.checkout, "lyon", "post", "Goûter", typed, today).rel == \
            "posts/2026-11-29-gouter.md"
    assert new_text_file(repos.checkout, "lyon", "page", "Nos horaires", "2026-12-05",
                         today).rel == "pages/nos-horaires.md"
    with pytest.raises(PathRefused, match="au moins une lettre"):
        new_text_file(repos.checkout, "lyon", "post", "« ! »", "", today)


# --- Saving: commits, conflicts, pushes --------------------------------------------------

def test_a_save_is_a_commit_by_the_volunteer_and_is_pushed(repos: ContentRepos) -> None:
    checkout = Checkout(repos.checkout)
    file = city_file(repos.checkout, "lyon", "posts/2026-11-29-gouter.md")
    saved = checkout.save([Change(file, post("Goûter", "2026-11-29"), "")], WRITER,
                          "Enregistré : « Goûter »")
    assert saved.pushed and saved.commit == repos.head() == repos.checkout_head()
    log = git(repos.checkout, "log", "-1", "--format=%an|%ae|%cn|%s")
    assert log == "Hélène Dupont|benevole-7@noreply.avf.example|Service AVF|" \
                  "Enregistré : « Goûter »"
    assert author_person_id("benevole-7@noreply.avf.example") == 7
    assert author_person_id("benevole@avf.example") is None
    again = checkout.save([Change(file, post("Goûter", "2026-11-29"), None)], WRITER, "x")
    assert again.commit is None  # nothing changed: no empty commit


def test_a_second_save_from_an_old_version_is_a_conflict(repos: ContentRepos) -> None:
    checkout = Checkout(repos.checkout)
    file = city_file(repos.checkout, "lyon", "posts/bienvenue.md")
    opened = checkout.blob(file)
    checkout.save([Change(file, post("Version de Paul", "2026-01-10"), opened)], ADMIN, "a")
    with pytest.raises(EditConflict) as conflict:
        checkout.save([Change(file, post("Version d'Hélène", "2026-01-10"), opened)],
                      WRITER, "b")
    assert "Version de Paul" in (conflict.value.theirs or "")
    assert conflict.value.by == "Paul Martin"
    assert "Version de Paul" in file.path.read_text()  # nothing overwritten
    merged = checkout.save([Change(file, post("Fusion", "2026-01-10"),
                                   conflict.value.theirs_blob)], WRITER, "c")
    assert merged.commit is not None


def test_a_push_refused_because_someone_pushed_first_is_rebased(repos: ContentRepos) -> None:
    repos.change({"gap/posts/autre.md": post("Autre", "2026-02-01")})  # origin moved on
    checkout = Checkout(repos.checkout)
    file = city_file(repos.checkout, "lyon", "posts/neuf.md")
    saved = checkout.save([Change(file, post("Neuf", "2026-02-01"), "")], WRITER, "Neuf")
    assert saved.pushed
    assert repos.head() == repos.checkout_head() == saved.commit
    history = git(repos.checkout, "log", "--format=%s", "-3").splitlines()
    assert history[:2] == ["Neuf", "Mise à jour"]  # rebased on top, nothing forced


def test_a_push_that_conflicts_keeps_our_commit_on_a_rescue_branch(
        repos: ContentRepos) -> None:
    checkout = Checkout(repos.checkout)
    file = city_file(repos.checkout, "lyon", "posts/bienvenue.md")
    opened = checkout.blob(file)
    repos.change({"lyon/posts/bienvenue.md": post("Poussé d'ailleurs", "2026-01-10")})
    with pytest.raises(EditConflict) as conflict:
        checkout.save([Change(file, post("Écrit ici", "2026-01-10"), opened)], WRITER, "Ici")
    rescue = conflict.value.rescue_branch
    assert rescue and "Poussé d'ailleurs" in (conflict.value.theirs or "")
    assert "Écrit ici" in git(repos.checkout, "show", f"{rescue}:lyon/posts/bienvenue.md")
    assert repos.checkout_head() == repos.head()  # the checkout follows origin


def test_an_unreachable_origin_keeps_the_commit_local(repos: ContentRepos) -> None:
    git(repos.checkout, "remote", "set-url", "origin", str(repos.origin) + "-absent")
    checkout = Checkout(repos.checkout)
    file = city_file(repos.checkout, "gap", "posts/hors-ligne.md")
    saved = checkout.save([Change(file, post("Hors ligne", "2026-02-01"), "")], WRITER, "x")
    assert saved.commit == repos.checkout_head() and not saved.pushed
    assert "sera refait automatiquement" in saved.push_problem
    git(repos.checkout, "remote", "set-url", "origin", str(repos.origin))
    later = city_file(repos.checkout, "gap", "posts/plus-tard.md")
    next_save = checkout.save([Change(later, post("Plus tard", "2026-02-02"), "")], WRITER, "y")
    assert next_save.pushed and next_save.push_problem == ""  # the next save sends both
    assert repos.head() == next_save.commit
    assert git(repos.checkout, "merge-base", "--is-ancestor", str(saved.commit),
               repos.head()) == ""


def test_history_lists_versions_and_reads_any_of_them(repos: ContentRepos) -> None:
    checkout = Checkout(repos.checkout)
    file = city_file(repos.checkout, "lyon", "posts/bienvenue.md")
    checkout.save([Change(file, post("Deuxième", "2026-01-10"), None)], WRITER, "v2")
    versions = checkout.history(file)
    assert [version.message for version in versions] == ["v2", "Le réseau"]
    assert versions[0].author == "Hélène Dupont"
    assert versions[0].when <= datetime.now(UTC)
    assert "Bienvenue à lyon" in (checkout.text(file, versions[1].commit) or "")


# --- Drafts and validation ---------------------------------------------------------------

def test_a_file_goes_through_the_form_unchanged(repos: ContentRepos) -> None:
    text = post("Café", "2026-09-12", extra="""
        slug: cafe
        tags: [café, accueil]
        event:
          start: 2026-09-12T10:00:00+02:00
          place: "Salle : Rameau"
        """, body="Venez **nombreux**.\n\n## Programme\n\n- un\n- deux")
    draft = read_draft(text)
    again = read_draft(write_draft(draft))
    assert again.fields == draft.fields and again.body == draft.body
    assert write_draft(again) == write_draft(draft)
    assert list(draft.fields) == ["title", "date", "slug", "tags", "event"]
    assert "tags: [café, accueil]" in write_draft(draft)


def test_problems_are_placed_next_to_their_field(repos: ContentRepos) -> None:
    file = city_file(repos.checkout, "lyon", "posts/neuf.md")
    text = write_draft(Draft({"title": "Neuf", "date": "2026-02-31",
                              "visibility": "secret"}, "[lien](../pages/absente.md)"))
    problems = check_document(repos.checkout, file, text)
    assert problems[0].field == "date" and "2026-02-31" in problems[0].message
    fixed = write_draft(Draft({"title": "Neuf", "date": "2026-02-01"},
                              "Voir [la page](../pages/absente.md)."))
    body = check_document(repos.checkout, file, fixed)
    assert [problem.field for problem in body] == ["body"]
    assert check_document(repos.checkout, file, post("Neuf", "2026-02-01")) == []


def test_deleting_a_linked_text_is_caught(repos: ContentRepos) -> None:
    write(repos.checkout / "lyon" / "posts" / "lien.md",
          post("Lien", "2026-02-01", body="Voir [bienvenue](bienvenue.md)."))
    file = city_file(repos.checkout, "lyon", "posts/bienvenue.md")
    problems = check_document(repos.checkout, file, None)
    assert problems and problems[0].field is None and "lien.md" in problems[0].message


# --- The workflow ------------------------------------------------------------------------

@pytest.fixture
def workflow(repos: ContentRepos, engine: Engine) -> tuple[Workflow, list[list[str]]]:
    builds: list[list[str]] = []
    with engine.begin() as connection:  # the people the tests act as
        connection.execute(insert(people), [
            {"id": number, "email": f"p{number}@example.org", "created_at": datetime.now(UTC)}
            for number in (7, 8, 9)])

    def request_build(cities: list[str], reason: str, requested_by: str) -> list[int]:
        builds.append(cities)
        return [len(builds)]

    return Workflow(repos.checkout, engine, Checkout(repos.checkout), request_build), builds


def test_reporter_drafts_submits_and_the_admin_publishes(
        repos: ContentRepos, engine: Engine, workflow: tuple[Workflow, list[list[str]]],
) -> None:
    flow, builds = workflow
    reporter, admin = person(7, ("reporter", "lyon")), person(8, ("admin", "lyon"))
    file = city_file(repos.checkout, "lyon", "posts/2026-11-29-gouter.md")
    text = write_draft(Draft({"title": "Goûter", "date": "2026-11-29", "status": "draft"},
                             "Un goûter."))
    flow.act(reporter, WRITER, file, "save", text=text, base="")
    assert status_of(file.path.read_text()) == "draft" and builds == []
    with pytest.raises(Refused):
        flow.act(reporter, WRITER, file, "publish")
    flow.act(reporter, WRITER, file, "submit")
    assert status_of(file.path.read_text()) == "review"
    with pytest.raises(Refused, match="quelques mots"):
        flow.act(admin, ADMIN, file, "send_back")
    done = flow.act(admin, ADMIN, file, "publish")
    assert "status" not in read_draft(file.path.read_text()).fields  # published: default
    assert builds == [["lyon"]] and done.build_jobs == [1]
    with pytest.raises(Refused, match="seul·e un·e responsable"):
        flow.act(reporter, WRITER, file, "save", text=file.path.read_text())
    assert allowed_actions(reporter, file, "published") == []
    flow.act(admin, ADMIN, file, "unpublish")
    assert status_of(file.path.read_text()) == "unpublished" and builds[-1] == ["lyon"]
    with engine.begin() as connection:
        actions = connection.execute(select(editor_events.c.action, editor_events.c.person_id)
                                     .order_by(editor_events.c.id)).all()
    assert actions == [("save", 7), ("submit", 7), ("publish", 8), ("unpublish", 8)]
    log = git(repos.checkout, "log", "--format=%an: %s", "-4").splitlines()
    assert log[0].startswith("Paul Martin: Dépublié : « Goûter » (lyon)")
    assert log[-1].startswith("Hélène Dupont: Enregistré : « Goûter »")


def test_a_reporter_cannot_publish_by_writing_the_status(
        repos: ContentRepos, workflow: tuple[Workflow, list[list[str]]]) -> None:
    flow, builds = workflow
    reporter = person(7, ("reporter", "lyon"))
    file = city_file(repos.checkout, "lyon", "posts/neuf.md")
    with pytest.raises(Refused):
        flow.act(reporter, WRITER, file, "save", text=post("Neuf", "2026-02-01"), base="")
    assert not file.path.exists() and builds == []


def test_other_cities_pages_and_the_network_are_out_of_a_reporters_reach(
        repos: ContentRepos, workflow: tuple[Workflow, list[list[str]]]) -> None:
    flow, _ = workflow
    reporter = person(7, ("reporter", "lyon"), ("admin", "gap"))
    draft = post("X", "2026-02-01", extra="status: draft")
    for city, rel in (("lyon", "pages/x.md"), ("_network", "posts/x.md")):
        with pytest.raises(Refused):
            flow.act(reporter, WRITER, city_file(repos.checkout, city, rel), "save",
                     text=draft, base="")
    flow.act(reporter, WRITER, city_file(repos.checkout, "gap", "pages/x.md"), "save",
             text=draft, base="")  # an admin of gap edits gap's pages
    stranger = person(9, ("admin", "gap"))
    with pytest.raises(Refused):
        flow.act(stranger, WRITER, city_file(repos.checkout, "lyon", "posts/bienvenue.md"),
                 "unpublish")


def test_invalid_text_is_never_committed(repos: ContentRepos,
                                         workflow: tuple[Workflow, list[list[str]]]) -> None:
    flow, _ = workflow
    admin = person(8, ("admin", "lyon"))
    file = city_file(repos.checkout, "lyon", "posts/bienvenue.md")
    head = repos.checkout_head()
    with pytest.raises(Invalid) as invalid:
        flow.act(admin, ADMIN, file, "save", text=post("", "2026-01-10"), base=None)
    assert invalid.value.problems[0].field == "title"
    assert repos.checkout_head() == head


def test_restore_brings_the_words_back_and_keeps_the_state(
        repos: ContentRepos, workflow: tuple[Workflow, list[list[str]]]) -> None:
    flow, builds = workflow
    admin = person(8, ("admin", "lyon"))
    file = city_file(repos.checkout, "lyon", "posts/bienvenue.md")
    first = Checkout(repos.checkout).history(file)[0].commit
    flow.act(admin, ADMIN, file, "save", text=post("Nouveau titre", "2026-01-10"))
    done = flow.act(admin, ADMIN, file, "restore", restore_from=first)
    assert "Bienvenue à lyon" in file.path.read_text()
    assert done.build_jobs and builds[-1] == ["lyon"]
    versions = Checkout(repos.checkout).history(file)
    assert len(versions) == 3 and versions[0].message.startswith("Version restaurée")


def test_a_publication_can_be_scheduled(repos: ContentRepos, engine: Engine,
                                        workflow: tuple[Workflow, list[list[str]]]) -> None:
    flow, builds = workflow
    admin = person(8, ("admin", "lyon"))
    file = city_file(repos.checkout, "lyon", "posts/plus-tard.md")
    text = post("Plus tard", "2026-02-01", extra="status: draft")
    with pytest.raises(Refused, match="à venir"):
        flow.act(admin, ADMIN, file, "schedule", text=text, base="",
                 publish_at=datetime.now(UTC) - timedelta(hours=1))
    when = datetime.now(UTC) + timedelta(days=1)
    flow.act(admin, ADMIN, file, "schedule", text=text, base="", publish_at=when)
    assert status_of(file.path.read_text()) == "review" and builds == []
    with engine.begin() as connection:
        row = connection.execute(select(editor_schedules)).one()
    assert (row.city, row.path, row.requested_by) == ("lyon", "posts/plus-tard.md", 8)
    assert abs(row.publish_at - when) < timedelta(seconds=1)
