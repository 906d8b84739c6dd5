"""The editor as the security boundary, attacked: each test is an exploit found in review
(a path, a name or a value a volunteer's browser can send), and proves it now fails."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from auth_helpers import SAME_SITE
from editor_helpers import editor_service, form_fields, submit
from git import Repo
from sqlalchemy import select, update

from avf.build.preview import lay_city
from avf.store.schema import build_jobs, people


def test_a_new_texts_preview_cannot_write_outside_its_folder(tmp_path: Path) -> None:
    """The preview named a new text `posts/<date>-<slug>.md` from the form's `date`, as
    typed: a reporter of lyon could write any `.md` on the server, gap's posts included
    (the next build of gap would publish it)."""
    with editor_service(tmp_path) as editor:
        settings = editor.app.state.runtime.settings
        victim = editor.repos.checkout / "gap" / "posts" / "2026-01-10-secret.md"
        before = victim.read_text()
        # From `<data>/previews/<token>/site/content/lyon/posts` to gap's posts.
        inside = settings.data_dir / "previews" / "x" / "site" / "content" / "lyon" / "posts"
        day = os.path.relpath(victim.parent, inside) + "/2026-01-10"
        client = editor.client("reporter")
        fields = {**form_fields(client.get("/editeur/lyon/nouveau").text),
                  "title": "Secret", "date": day, "body": "Écrit par Lyon."}
        answer = client.post("/editeur/lyon/apercu", data=fields, headers=SAME_SITE)
        assert answer.status_code in (303, 400, 422), answer.text
        assert victim.read_text() == before
        written = [path for path in tmp_path.rglob("*.md")
                   if "Écrit par Lyon." in path.read_text()
                   and settings.data_dir / "previews" not in path.parents]
        assert written == []


def test_the_preview_lays_its_text_inside_its_own_copy_only(tmp_path: Path) -> None:
    city = tmp_path / "content" / "lyon"
    (city / "posts").mkdir(parents=True)
    with pytest.raises(ValueError):
        lay_city(city, tmp_path / "copy" / "lyon", "posts/../../../ailleurs.md", "texte")
    assert not (tmp_path / "ailleurs.md").exists()


def test_a_display_name_cannot_choose_the_commits_author_address(tmp_path: Path) -> None:
    """A person writes their own display name (the profile form): with `<…>` in it, git
    took the first address of `Name <x> <benevole-N@…>` — a commit credited to another
    account (the history, and the post's author for its comments: post_authors)."""
    with editor_service(tmp_path) as editor:
        victim = editor.ids["admin"]
        with editor.app.state.runtime.engine.begin() as connection:
            connection.execute(update(people).where(people.c.id == editor.ids["reporter"])
                               .values(display_name=f"Paul <benevole-{victim}@noreply."
                                                    "example.org>\nx"))
        client = editor.client("reporter")
        answer = submit(client, "/editeur/lyon/nouveau", "save", title="Usurpation",
                        body="Qui a écrit ceci ?")
        assert answer.status_code == 303, answer.text
        with Repo(editor.repos.checkout) as repo:
            written = repo.git.log("-1", "--format=%an|%ae")
        name, _, address = written.partition("|")
        assert address.startswith(f"benevole-{editor.ids['reporter']}@"), written
        assert "<" not in name and ">" not in name


def test_the_tracking_of_a_network_build_shows_no_other_citys_errors(tmp_path: Path) -> None:
    """A whole-network build (the network's own texts, a push touching several cities) is
    followed from any city's editor: its errors named other cities' files and problems."""
    with editor_service(tmp_path) as editor:
        broken = editor.repos.checkout / "gap" / "posts" / "2026-02-02-projet-confidentiel.md"
        broken.write_text("---\ntitle: [pas fermé\n---\n\nTexte.\n")
        state = editor.app.state.runtime
        (job,) = state.builds.request(["*"], "test", requested_by="web@example.org")
        state.builds.run_due()
        with state.engine.connect() as connection:
            status = connection.execute(select(build_jobs.c.status).where(
                build_jobs.c.id == job)).scalar_one()
        assert status == "failed"
        webmaster = editor.client("webmaster").get(f"/editeur/gap/suivi/{job}")
        assert "projet-confidentiel" in webmaster.text  # those who may see gap do
        for who, city in (("reporter", "lyon"), ("admin", "lyon")):
            page = editor.client(who).get(f"/editeur/{city}/suivi/{job}")
            assert page.status_code == 200
            assert "projet-confidentiel" not in page.text and "gap/" not in page.text
            assert "une autre partie du réseau" in page.text  # told where it is, not what
            data = editor.client(who).get(f"/editeur/{city}/suivi/{job}?format=json").json()
            assert "projet-confidentiel" not in str(data["errors"])
