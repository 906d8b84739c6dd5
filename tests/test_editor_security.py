"""The editor as the security boundary, attacked: each test is an exploit found in review
(a path, a name or a value a volunteer's browser can send), and proves it now fails."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from auth_helpers import SAME_SITE
from editor_helpers import editor_service, form_fields, submit
from git import Repo
from sqlalchemy import select, update

from avf.build.preview import lay_city
from avf.editor.card_form import card_fields, card_values
from avf.service.editor_preview import PREVIEW_LIMIT
from avf.service.ratelimit import RateLimiter
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


SCRIPT = "<script>alert(document.cookie)</script>"


def test_no_markup_reaches_the_theme_through_a_texts_fields(tmp_path: Path) -> None:
    """The theme writes a text's fields as they are (Pelican does not escape), and the
    city sites share the service's address: a reporter's `<script>` title, published by
    an admin who did not notice, ran for every visitor, a signed-in webmaster included."""
    attacks = {"title": f"Galette {SCRIPT}", "author": "Hélène <b>",
               "tags": f"fête, {SCRIPT}", "event_place": "<img src=x onerror=alert(1)>",
               "summary": 'Tout " onfocus="alert(1)', "category": "&lt;script&gt;",
               "image_alt": 'x" onerror="alert(1)'}
    with editor_service(tmp_path) as editor:
        client = editor.client("reporter")
        # A description goes with a photo (without one, « Pas de photo » drops it).
        media = editor.repos.checkout / "lyon" / "media"
        media.mkdir()
        (media / "galette.jpg").write_bytes(b"\xff\xd8\xff\xe0 une photo")
        for field, value in attacks.items():
            extra = {"event": "1", "event_start_date": "2026-05-01"} \
                if field == "event_place" else {}
            if field == "image_alt":
                extra = {"image": "../media/galette.jpg"}
            answer = submit(client, "/editeur/lyon/nouveau", "submit",
                            **{"title": "Galette", "body": "Venez !", **extra, field: value})
            assert answer.status_code == 400, (field, answer.status_code)
            assert "ne sont pas permis ici" in answer.text, field
        assert not list((editor.repos.checkout / "lyon" / "posts").glob("*galette*"))
        # Plain words still go through, typographic quotes and « & » included.
        fine = submit(client, "/editeur/lyon/nouveau", "submit",
                      title='La "galette" des rois & la fève', summary="« Tous » les adhérents",
                      body="Venez !")
        assert fine.status_code == 303, fine.text


def test_no_markup_reaches_the_theme_through_the_city_card(tmp_path: Path) -> None:
    with editor_service(tmp_path) as editor:
        client = editor.client("admin")
        card = editor.repos.checkout / "lyon" / "city.yaml"
        page = client.get("/editeur/lyon/fiche")
        assert page.status_code == 200
        hidden = dict(re.findall(r'name="(csrf_token|base)" value="([^"]*)"', page.text))
        for field, value in (("tagline", 'Bienvenue" http-equiv="refresh'),
                             ("name", f"AVF Lyon {SCRIPT}"),
                             ("social", "facebook https://facebook.com/x\"onclick=alert(1)")):
            fields = {**card_values(card_fields(card.read_text())), **hidden, field: value}
            answer = client.post("/editeur/lyon/fiche", data=fields, headers=SAME_SITE)
            assert answer.status_code == 422, (field, answer.status_code)
            assert "ne sont pas permis ici" in answer.text, field
        assert SCRIPT not in card.read_text()


def test_previews_are_rate_limited(tmp_path: Path) -> None:
    """Each preview builds the whole city and keeps a copy for an hour: without a limit,
    one signed-in reporter could keep the service's processor and disk busy."""
    with editor_service(tmp_path) as editor:
        state = editor.app.state.runtime
        limiter = RateLimiter(state.engine, state.settings.secret_key)
        client = editor.client("reporter")
        fields = {**form_fields(client.get("/editeur/lyon/nouveau").text),
                  "title": "Sortie", "body": "Texte."}
        assert client.post("/editeur/lyon/apercu", data=fields,
                           headers=SAME_SITE).status_code == 303
        for _ in range(PREVIEW_LIMIT.attempts - 1):  # the person's earlier previews
            limiter.allow(PREVIEW_LIMIT, str(editor.ids["reporter"]))
        answer = client.post("/editeur/lyon/apercu", data=fields, headers=SAME_SITE)
        assert answer.status_code == 429 and "demandé beaucoup" in answer.text
        previews = state.settings.data_dir / "previews"
        assert len([one for one in previews.iterdir()]) == 1  # nothing built for it
        # Someone else still may.
        other = editor.client("admin")
        fields = {**form_fields(other.get("/editeur/lyon/nouveau").text),
                  "title": "Sortie", "body": "Texte."}
        assert other.post("/editeur/lyon/apercu", data=fields,
                          headers=SAME_SITE).status_code == 303


def test_the_photo_field_tells_nothing_of_the_servers_files(tmp_path: Path) -> None:
    """The photo field's check said « n'existe pas » for a missing file and « doit être
    dans le dossier media » for an existing one anywhere: a reporter could probe the
    server's files (`../../../../etc/…`) one by one."""
    with editor_service(tmp_path) as editor:
        client = editor.client("reporter")
        said = {}
        for name in ("passwd", "pas-de-fichier-ici"):
            target = "../" * 12 + f"etc/{name}"
            answer = submit(client, "/editeur/lyon/nouveau", "save", title="Sonde",
                            body="Texte.", image=target, image_alt="Une photo")
            assert answer.status_code == 400
            said[name] = set(re.findall(re.escape(target) + r" » ([^<]*)", answer.text))
            assert said[name]
        assert said["passwd"] == said["pas-de-fichier-ici"]
