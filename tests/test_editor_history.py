"""The editor's history on real git repositories, through the service: every version with
who, when and what; one version's text and what changed; restore in one click (a new
commit, the city rebuilt by a real build); and the attacks on `path` and `version`."""

from __future__ import annotations

from pathlib import Path

import pytest
from auth_helpers import SAME_SITE
from conftest import post
from content_repo import ContentRepos, git
from editor_history_helpers import (
    HELENE,
    PAUL,
    commit,
    editor_service,
    form_fields,
    post_form,
    signed_in,
)

POST = "posts/bienvenue.md"
HISTORY = f"/editeur/lyon/historique/{POST}"
GALETTE = "La galette des rois aura lieu samedi à la salle des fêtes."
CANCELLED = "La sortie est annulée <faute> de participants & de neige."


@pytest.fixture
def service(tmp_path: Path):  # type: ignore[no-untyped-def]
    with editor_service(tmp_path) as (app, repos):
        yield app, repos


def two_versions(repos: ContentRepos, status: str = "") -> tuple[str, str]:
    extra = f"status: {status}" if status else ""
    first = commit(repos, "lyon", POST, post("Galette", "2026-01-10", extra, GALETTE),
                   HELENE, "Enregistré : « Galette » (lyon)")
    second = commit(repos, "lyon", POST, post("Sortie annulée", "2026-01-10", extra,
                                              CANCELLED), PAUL, "Publié : « Sortie » (lyon)")
    return first, second


def test_every_version_is_listed_newest_first_with_who_when_and_what(service) -> None:  # type: ignore[no-untyped-def]
    app, repos = service
    first, second = two_versions(repos, "draft")
    page = signed_in(app, "reporter").get(HISTORY)
    assert page.status_code == 200
    text = page.text
    assert text.index("Publié : « Sortie » (lyon)") < text.index(
        "Enregistré : « Galette » (lyon)") < text.index("Le réseau")
    assert "Paul Martin" in text and "Hélène Dupont" in text
    assert "noreply" not in text and "benevole@" not in text  # names, never addresses
    when = git(repos.checkout, "log", "-1", "--format=%aI", second)
    assert f"?version={second}" in text and f"?version={first}" in text
    assert any(month in text for month in ("janvier", "février", "mars", "avril", "mai",
                                           "juin", "juillet", "août", "septembre",
                                           "octobre", "novembre", "décembre")), when
    assert page.headers["cache-control"] == "private, no-store"


def test_a_version_shows_its_text_and_what_changed_before_and_since(service) -> None:  # type: ignore[no-untyped-def]
    app, repos = service
    first, second = two_versions(repos, "draft")
    client = signed_in(app, "reporter")
    page = client.get(f"{HISTORY}?version={second}").text
    assert "<strong>Titre</strong>" in page and "« Galette »" in page
    assert "« Sortie annulée »" in page
    assert "&lt;faute&gt;" in page and "<faute>" not in page  # the volunteer's text escaped
    assert "ajouté : " in page and "supprimé : " in page
    assert "Restaurer cette version" not in page  # it is the current one
    older = client.get(f"{HISTORY}?version={first}").text
    assert "Ce qui a changé depuis, jusqu'à aujourd'hui" in older
    assert GALETTE in older
    assert "Restaurer cette version" in older


@pytest.mark.parametrize("version", [
    "HEAD", "HEAD:../../gap/city.yaml", "--output=/tmp/avf-history-pwned", "-p",
    "--all", "main", "HEAD~1", "0" * 40, "abc", "", "%00",
])
def test_versions_that_are_not_commits_of_this_file_are_refused(service, version: str,
                                                                ) -> None:  # type: ignore[no-untyped-def]
    app, repos = service
    two_versions(repos, "draft")
    client = signed_in(app, "reporter")
    page = client.get(HISTORY, params={"version": version})
    assert page.status_code == 404
    assert "Gap" not in page.text and "accueil@avf-gap" not in page.text
    assert not Path("/tmp/avf-history-pwned").exists()
    refused = post_form(client, f"{HISTORY}", f"{HISTORY}/restaurer", {"version": version})
    assert refused.status_code == 404


def test_a_commit_of_another_file_or_city_is_refused(service) -> None:  # type: ignore[no-untyped-def]
    app, repos = service
    two_versions(repos, "draft")
    gap_commit = commit(repos, "gap", POST, post("Secret de Gap", body="Réservé à Gap."),
                        PAUL, "Gap")
    client = signed_in(app, "reporter")
    page = client.get(HISTORY, params={"version": gap_commit})
    assert page.status_code == 404 and "Réservé à Gap" not in page.text
    restore = post_form(client, HISTORY, f"{HISTORY}/restaurer", {"version": gap_commit})
    assert restore.status_code == 404
    assert "Sortie annulée" in (repos.checkout / "lyon" / POST).read_text()


@pytest.mark.parametrize("path", [
    "/editeur/lyon/historique/..%2F..%2Fgap%2Fcity.yaml",
    "/editeur/lyon/historique/posts/%2e%2e/%2e%2e/gap/city.yaml",
    "/editeur/lyon/historique/posts%2F..%2F..%2Fgap%2Fposts%2Fbienvenue.md",
    "/editeur/lyon/historique/%2Fetc%2Fpasswd",
    "/editeur/lyon/historique/.git/config",
    "/editeur/lyon/historique/media/photo.jpg",
    "/editeur/lyon/historique/posts/x.md%00.jpg",
])
def test_paths_outside_the_citys_texts_are_refused(service, path: str) -> None:  # type: ignore[no-untyped-def]
    app, _ = service
    page = signed_in(app, "webmaster").get(path)
    assert page.status_code == 404
    assert "accueil@avf-gap" not in page.text and "root:" not in page.text


def test_who_may_see_and_restore(service) -> None:  # type: ignore[no-untyped-def]
    app, repos = service
    first, _ = two_versions(repos, "draft")
    reporter = signed_in(app, "reporter")
    assert reporter.get(HISTORY).status_code == 200
    assert reporter.get("/editeur/lyon/historique/city.yaml").status_code == 403
    assert reporter.get("/editeur/gap/historique/posts/bienvenue.md").status_code == 403
    assert signed_in(app, "member").get(HISTORY).status_code == 403
    assert signed_in(app, "gap").get(HISTORY).status_code == 403
    stranger = post_form(signed_in(app, "gap"), "/editeur/gap/historique/posts/bienvenue.md",
                         f"{HISTORY}/restaurer", {"version": first})
    assert stranger.status_code == 403
    anonymous = signed_in(app, "member")
    anonymous.cookies.clear()
    assert anonymous.get(HISTORY).status_code == 303  # to the sign-in page
    # A reporter restores a draft of their city: a new commit by them, the draft stays one.
    done = post_form(reporter, f"{HISTORY}?version={first}", f"{HISTORY}/restaurer",
                     {"version": first})
    assert done.status_code == 303
    assert done.headers["location"] == f"{HISTORY}?restauree=1"
    assert "Version restaurée." in reporter.get(done.headers["location"]).text
    restored = (repos.checkout / "lyon" / POST).read_text()
    assert GALETTE in restored and "status: draft" in restored
    log = git(repos.checkout, "log", "-1", "--format=%an|%s").split("|")
    assert log == ["Rose Rédactrice", "Version restaurée : « Galette » (lyon)"]


def test_a_reporter_cannot_restore_a_published_text(service) -> None:  # type: ignore[no-untyped-def]
    app, repos = service
    first, _ = two_versions(repos)  # published (no status)
    reporter = signed_in(app, "reporter")
    page = reporter.get(f"{HISTORY}?version={first}")
    assert page.status_code == 200 and "Restaurer cette version" not in page.text
    token = form_fields(reporter.get("/editeur/lyon/corbeille").text)["csrf_token"]
    refused = reporter.post(f"{HISTORY}/restaurer", headers=SAME_SITE,
                            data={"version": first, "csrf_token": token})
    assert refused.status_code == 403
    assert CANCELLED in (repos.checkout / "lyon" / POST).read_text()


def test_a_restore_without_the_form_token_is_refused(service) -> None:  # type: ignore[no-untyped-def]
    app, repos = service
    first, _ = two_versions(repos, "draft")
    admin = signed_in(app, "admin")
    refused = admin.post(f"{HISTORY}/restaurer", headers=SAME_SITE, data={"version": first})
    assert refused.status_code == 403
    assert CANCELLED in (repos.checkout / "lyon" / POST).read_text()


def test_a_text_changed_meanwhile_is_not_restored_over(service) -> None:  # type: ignore[no-untyped-def]
    app, repos = service
    first, _ = two_versions(repos, "draft")
    admin = signed_in(app, "admin")
    hidden = form_fields(admin.get(f"{HISTORY}?version={first}").text)
    commit(repos, "lyon", POST, post("Troisième", "2026-01-10", "status: draft", "Neuf."),
           PAUL, "Enregistré")
    page = admin.post(f"{HISTORY}/restaurer", headers=SAME_SITE,
                      data={**hidden, "version": first})
    assert page.status_code == 409 and "Paul Martin" in page.text
    assert "Neuf." in (repos.checkout / "lyon" / POST).read_text()


def test_a_restored_published_text_goes_back_online(service) -> None:  # type: ignore[no-untyped-def]
    app, repos = service
    queue = app.state.runtime.builds
    first, second = two_versions(repos)  # published
    queue.request(["*"], "première construction")
    queue.run_due()
    online = queue.settings.public_dir / "lyon" / "actualites" / "bienvenue.html"
    assert "annulée" in online.read_text()
    admin = signed_in(app, "admin")
    done = post_form(admin, f"{HISTORY}?version={first}", f"{HISTORY}/restaurer",
                     {"version": first})
    assert done.status_code == 303
    job = int(done.headers["location"].split("?")[0].rsplit("/", 1)[1])
    assert done.headers["location"] == f"/editeur/lyon/suivi/{job}?texte=posts/bienvenue.md"
    assert queue.run_due() == [job]
    tracking = admin.get(done.headers["location"]).text
    assert "<h1>En ligne</h1>" in tracking and 'href="/lyon/actualites/bienvenue.html"' in tracking
    page = online.read_text()
    assert "galette des rois aura lieu samedi" in page and "annulée" not in page
    # A new commit on top: the history is kept, nothing rewritten, the state unchanged.
    subjects = git(repos.checkout, "log", "--format=%s", "-3").splitlines()
    assert subjects == ["Version restaurée : « Galette » (lyon)",
                        "Publié : « Sortie » (lyon)", "Enregistré : « Galette » (lyon)"]
    assert "status:" not in (repos.checkout / "lyon" / POST).read_text()
    assert git(repos.origin, "rev-parse", "main") == repos.checkout_head()  # pushed
    assert second in git(repos.checkout, "log", "--format=%H")


def test_a_deleted_text_keeps_its_history(service) -> None:  # type: ignore[no-untyped-def]
    app, repos = service
    _first, second = two_versions(repos, "draft")
    commit(repos, "lyon", POST, None, PAUL, "Supprimé : « Sortie » (lyon)")
    admin = signed_in(app, "admin")
    page = admin.get(HISTORY).text
    assert "Supprimé : « Sortie » (lyon)" in page and "corbeille" in page
    version = admin.get(f"{HISTORY}?version={second}").text
    assert "Restaurer cette version" not in version and "corbeille" in version
    assert "annulée" in version
