"""The preview: the edit form built by the real build into a page of the city's theme,
shown only to the person who asked, never cached nor indexed, with its banner; the sample
city's preview time is measured."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from auth_helpers import SAME_SITE
from editor_helpers import editor_service, form_fields

from avf.build.images import CACHE_DIR
from avf.build.options import PROJECT_ROOT
from avf.build.preview import build_preview
from avf.service.editor_static import EDITOR_POLICY

POST = "posts/2026-02-01-brouillon.md"
DRAFT = {POST: '---\ntitle: "Brouillon"\ndate: 2026-02-01\nstatus: draft\n---\n\nTexte.\n'}


def test_a_draft_previews_in_the_theme_for_its_author_only(tmp_path: Path) -> None:
    with editor_service(tmp_path, files=DRAFT) as editor:
        client = editor.client("reporter")
        fields = {**form_fields(client.get(f"/editeur/lyon/texte/{POST}").text),
                  "title": "Pique-nique au parc", "body": "Apportez **une salade**.\n\n- pain\n"
                  "- fromage\n"}
        answer = client.post("/editeur/lyon/apercu", data=fields, headers=SAME_SITE)
        assert answer.status_code == 303, answer.text
        url = answer.headers["location"]
        assert url.startswith("/editeur/lyon/apercu/") and url.endswith(
            "/lyon/actualites/brouillon.html")
        page = client.get(url)
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        assert "noindex" in page.headers["x-robots-tag"]
        assert page.headers["content-security-policy"] == EDITOR_POLICY
        text = page.text
        assert "Aperçu — pas encore publié" in text
        assert "<h1>Pique-nique au parc</h1>" in text or ">Pique-nique au parc</h1>" in text
        assert "<strong>une salade</strong>" in text and "<li>fromage</li>" in text
        token = url.split("/")[4]
        stylesheet = next(part.split('"')[0] for part in text.split('href="')[1:]
                          if part.split('"')[0].endswith("avf.css"))
        assert stylesheet.startswith(f"/editeur/lyon/apercu/{token}/theme/")
        assert client.get(stylesheet).status_code == 200
        # Nothing was committed or published: the file is still the draft.
        assert "status: draft" in (editor.repos.checkout / "lyon" / POST).read_text()
        # Another editor of the city, or a stranger, cannot open it.
        assert editor.client("reporter2").get(url).status_code == 404
        assert editor.client("admin").get(url).status_code == 404
        assert editor.client("reporter_gap").get(
            url.replace("/lyon/", "/gap/", 1)).status_code in (403, 404)
        # Outside the preview: refused.
        assert client.get(f"/editeur/lyon/apercu/{token}/lyon/../../x").status_code == 404
        assert client.get(f"/editeur/lyon/apercu/{token}/gap/index.html").status_code == 404


def test_a_members_only_text_previews_as_members_see_it(tmp_path: Path) -> None:
    with editor_service(tmp_path, files=DRAFT) as editor:
        client = editor.client("reporter")
        fields = {**form_fields(client.get(f"/editeur/lyon/texte/{POST}").text),
                  "members_only": "1", "body": "Réservé aux adhérents."}
        answer = client.post("/editeur/lyon/apercu", data=fields, headers=SAME_SITE)
        assert answer.status_code == 303
        assert "/membres/lyon/actualites/brouillon.html" in answer.headers["location"]
        assert "Réservé aux adhérents." in client.get(answer.headers["location"]).text


def test_a_text_the_build_refuses_says_why(tmp_path: Path) -> None:
    with editor_service(tmp_path, files=DRAFT) as editor:
        client = editor.client("reporter")
        fields = {**form_fields(client.get(f"/editeur/lyon/texte/{POST}").text),
                  "event": "1", "event_start_date": "pas une date"}
        answer = client.post("/editeur/lyon/apercu", data=fields, headers=SAME_SITE)
        assert answer.status_code == 422
        assert "L'aperçu n'a pas pu être préparé" in answer.text and 'role="alert"' in answer.text


def test_a_new_text_previews_too(tmp_path: Path) -> None:
    with editor_service(tmp_path) as editor:
        client = editor.client("reporter")
        fields = {**form_fields(client.get("/editeur/lyon/nouveau").text),
                  "title": "Sortie au musée", "body": "Rendez-vous à 14 h."}
        answer = client.post("/editeur/lyon/apercu", data=fields, headers=SAME_SITE)
        assert answer.status_code == 303
        assert "Rendez-vous à 14 h." in client.get(answer.headers["location"]).text
        assert not list((editor.repos.checkout / "lyon" / "posts").glob("*musee*"))


def test_the_sample_city_previews_quickly_in_a_warm_process(tmp_path: Path) -> None:
    """content/lyon, a photo-rich post: the first preview imports Pelican; then each one
    must stay well under a second (measured: ~0.25 s on 2 cores)."""
    content = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "content", content)
    rel = "posts/2026-09-12-cafe-accueil.md"
    text = (content / "lyon" / rel).read_text().replace("Café", "Café (aperçu)", 1)
    out = tmp_path / "OUT"
    (out / CACHE_DIR).mkdir(parents=True)  # the service's OUT has one after its first build
    build_preview(content, out, "lyon", rel, text, tmp_path / "p0", "/apercu/x", "v")
    times = []
    for number in range(1, 4):
        started = time.perf_counter()
        made = build_preview(content, out, "lyon", rel, text, tmp_path / f"p{number}",
                             "/apercu/x", "v")
        times.append(time.perf_counter() - started)
        assert not made.errors and made.page == "public/actualites/cafe-accueil.html"
    print(f"preview of content/lyon: {min(times):.3f}-{max(times):.3f} s (warm)")
    assert min(times) < 1.5
    assert "Café (aperçu)" in (made.public / "actualites/cafe-accueil.html").read_text()
    assert not (made.public / "pagefind").exists()  # no search index for a preview
