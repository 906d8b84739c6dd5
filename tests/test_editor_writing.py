"""The editor's writing aids on the server: autosave (kept, replaced, offered back, gone
after a committed save, refused to people who may not save the file), the help page, the
bundle's files and the editor's Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path

from auth_helpers import SAME_SITE
from editor_helpers import editor_service, form_fields, submit
from sqlalchemy import select

from avf.service.autosaves import find_autosave
from avf.service.editor_static import EDITOR_POLICY
from avf.store.schema import editor_autosaves

POST = "posts/2026-02-01-brouillon.md"  # a draft: its reporter may save it
DRAFT = {POST: '---\ntitle: "Brouillon"\ndate: 2026-02-01\nstatus: draft\n---\n\nTexte.\n'}
JSON = {**SAME_SITE, "Accept": "application/json"}


def rows(editor):  # type: ignore[no-untyped-def]
    with editor.app.state.runtime.engine.connect() as connection:
        return connection.execute(select(editor_autosaves)).mappings().all()


def test_an_autosave_keeps_the_whole_file_and_is_offered_back(tmp_path: Path) -> None:
    with editor_service(tmp_path, files=DRAFT) as editor:
        client = editor.client("reporter")
        page = client.get(f"/editeur/lyon/texte/{POST}")
        fields = {**form_fields(page.text), "title": "Brouillon du jeudi",
                  "body": "Un **texte** pas encore enregistré.", "tags": "accueil, café"}
        answer = client.post("/editeur/lyon/autosauvegarde", data=fields, headers=JSON)
        assert answer.status_code == 200, answer.text
        assert answer.json()["saved"] and " h " in answer.json()["time"]
        [row] = rows(editor)
        assert row["path"] == POST and row["base"] == fields["base"] and row["base"]
        assert row["text"].startswith('---\ntitle: Brouillon du jeudi\n')
        assert "tags: [accueil, café]" in row["text"]
        assert row["text"].endswith("Un **texte** pas encore enregistré.\n")
        # A second autosave replaces the first.
        client.post("/editeur/lyon/autosauvegarde", data={**fields, "body": "Encore."},
                    headers=JSON)
        [row] = rows(editor)
        assert row["text"].endswith("Encore.\n")
        # The page opened again offers it back (the banner and its values).
        again = client.get(f"/editeur/lyon/texte/{POST}").text
        assert "Reprendre la version non enregistrée du" in again
        assert "data-avf-autosave-values" in again and "Encore." in again
        # Another person is offered nothing.
        other = editor.client("reporter2").get(f"/editeur/lyon/texte/{POST}").text
        assert "data-avf-autosave-values" not in other


def test_a_committed_save_forgets_the_autosave(tmp_path: Path) -> None:
    with editor_service(tmp_path, files=DRAFT) as editor:
        client = editor.client("reporter")
        page = client.get(f"/editeur/lyon/texte/{POST}")
        fields = {**form_fields(page.text), "body": "Brouillon gardé."}
        client.post("/editeur/lyon/autosauvegarde", data=fields, headers=JSON)
        assert len(rows(editor)) == 1
        saved = submit(client, f"/editeur/lyon/texte/{POST}", "save", body="Enregistré.")
        assert saved.status_code == 303, saved.text
        assert rows(editor) == []


def test_a_new_text_autosaves_under_its_key_and_the_new_page_finds_it(tmp_path: Path) -> None:
    with editor_service(tmp_path, files=DRAFT) as editor:
        client = editor.client("reporter")
        fields = {**form_fields(client.get("/editeur/lyon/nouveau").text),
                  "autosave_key": "Zx9-k_3mQpL2", "title": "Galette des rois",
                  "body": "On partage la galette."}
        assert client.post("/editeur/lyon/autosauvegarde", data=fields,
                           headers=JSON).json()["saved"]
        [row] = rows(editor)
        assert row["path"] == "new:Zx9-k_3mQpL2" and row["base"] == ""
        found = find_autosave(editor.app.state.runtime.engine, editor.ids["reporter"], "lyon",
                              "")
        assert found is not None and found.key == "Zx9-k_3mQpL2"
        page = client.get("/editeur/lyon/nouveau").text
        assert "Zx9-k_3mQpL2" in page and "On partage la galette." in page
        # A key the page never makes is refused.
        bad = client.post("/editeur/lyon/autosauvegarde",
                          data={**fields, "autosave_key": "../x"}, headers=JSON)
        assert bad.status_code == 400 and not bad.json()["saved"]
        # Saving the new text forgets its autosave.
        created = client.post("/editeur/lyon/nouveau", headers=SAME_SITE,
                              data={**fields, "action": "save"})
        assert created.status_code == 303, created.text
        assert rows(editor) == []


def test_discarding_removes_it(tmp_path: Path) -> None:
    with editor_service(tmp_path, files=DRAFT) as editor:
        client = editor.client("reporter")
        fields = form_fields(client.get(f"/editeur/lyon/texte/{POST}").text)
        client.post("/editeur/lyon/autosauvegarde", data=fields, headers=JSON)
        answer = client.post("/editeur/lyon/autosauvegarde/ecarter", data=fields,
                             headers=SAME_SITE)
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/editeur/lyon/texte/{POST}"
        assert rows(editor) == []


def test_autosave_only_for_people_who_may_save_the_file(tmp_path: Path) -> None:
    with editor_service(tmp_path, files=DRAFT) as editor:
        fields = form_fields(editor.client("admin").get(f"/editeur/lyon/texte/{POST}").text)
        # Another city's reporter, a member, a stranger: refused, nothing kept.
        for who in ("reporter_gap", "member", "anonymous"):
            client = editor.client(who)
            client.get("/compte/connexion")  # the CSRF cookie
            answer = client.post("/editeur/lyon/autosauvegarde", headers=JSON,
                                 data={**fields, "csrf_token": client.cookies.get("avf_csrf")})
            assert answer.status_code in (401, 403, 303), (who, answer.status_code)
        # A reporter may not autosave a page (pages are the admins').
        reporter = editor.client("reporter")
        token = form_fields(reporter.get(f"/editeur/lyon/texte/{POST}").text)["csrf_token"]
        page = reporter.post("/editeur/lyon/autosauvegarde", headers=JSON, data={
            **fields, "csrf_token": token, "path": "pages/adherer.md", "kind": "page"})
        assert page.status_code == 403 and "ne pouvez pas" in page.json()["message"]
        # Without the token: refused.
        assert reporter.post("/editeur/lyon/autosauvegarde", headers=JSON,
                             data={**fields, "csrf_token": "x"}).status_code == 403
        # Too long: refused.
        long = reporter.post("/editeur/lyon/autosauvegarde", headers=JSON, data={
            **fields, "csrf_token": token, "body": "x" * 199_000, "summary": "y" * 1_900,
            "title": "z" * 1_900, "author": "a" * 1_900, "category": "c" * 1_900,
            "image_alt": "d" * 1_900, "tags": ",".join(f"{n}" + "t" * 1_900 for n in range(30))})
        assert long.status_code == 413 and "trop long" in long.json()["message"]
        assert rows(editor) == []


def test_autosaves_are_rate_limited(tmp_path: Path) -> None:
    with editor_service(tmp_path, files=DRAFT) as editor:
        client = editor.client("reporter")
        fields = form_fields(client.get(f"/editeur/lyon/texte/{POST}").text)
        codes = [client.post("/editeur/lyon/autosauvegarde", data=fields,
                             headers=JSON).status_code for _ in range(32)]
        assert codes[:30] == [200] * 30 and codes[-1] == 429


def test_help_page_and_policy(tmp_path: Path) -> None:
    with editor_service(tmp_path, files=DRAFT) as editor:
        client = editor.client("reporter")
        help_page = client.get("/editeur/aide/")
        assert help_page.status_code == 200
        for heading in ("Écrire un article", "Ajouter une photo", "Proposer, publier",
                        "Programmer une publication", "Quand retirer un texte",
                        "Retrouver une ancienne version",
                        "Si deux personnes écrivent en même temps"):
            assert f">{heading}</h2>" in help_page.text
        assert help_page.text.count("<h1") == 1
        assert help_page.headers["content-security-policy"] == EDITOR_POLICY
        page = client.get(f"/editeur/lyon/texte/{POST}")
        assert page.headers["content-security-policy"] == EDITOR_POLICY
        assert 'href="/editeur/aide/"' in page.text
        # Not on other pages of the service.
        assert "content-security-policy" not in client.get("/compte/").headers


def test_the_bundle_is_served_immutable_and_named_by_the_page(tmp_path: Path) -> None:
    with editor_service(tmp_path, files=DRAFT) as editor:
        bundle = editor.app.state.editor_bundle
        client = editor.client("reporter")
        page = client.get(f"/editeur/lyon/texte/{POST}").text
        urls = bundle.urls()
        if not urls:  # no npm here: the page names no script and the textarea works alone
            assert "/editeur/static/" not in page and 'data-avf-editor' in page
            return
        assert f'<script src="{urls["js"]}" defer></script>' in page
        script = client.get(urls["js"])
        assert script.status_code == 200 and "immutable" in script.headers["cache-control"]
        assert script.headers["content-type"].startswith("text/javascript")
        assert client.get(urls["css"]).status_code == 200
        assert client.get("/editeur/static/manifest.json").status_code == 404
        assert client.get("/editeur/static/..%2f..%2fapp.py").status_code == 404


def test_without_a_bundle_the_page_names_no_script(tmp_path: Path) -> None:
    with editor_service(tmp_path, files=DRAFT) as editor:
        from avf.service.editor_static import EditorBundle

        editor.app.state.editor_bundle = EditorBundle(tmp_path / "no-build")
        page = editor.client("reporter").get(f"/editeur/lyon/texte/{POST}").text
        assert "/editeur/static/" not in page
        assert 'name="body"' in page and "Ajouter une photo" in page
