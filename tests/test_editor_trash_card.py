"""The corbeille (deleted texts, shown and brought back as drafts) and the city card form
(checked like the build, committed as the volunteer, rebuilt, conflicts never lost), on
real git repositories through the service."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from auth_helpers import SAME_SITE, engine_of
from conftest import post
from content_repo import git
from editor_history_helpers import PAUL, commit, editor_service, form_fields, post_form, signed_in
from sqlalchemy import select

from avf.content.cards import read_city_card
from avf.content.problems import ContentError
from avf.editor.card_form import card_fields, card_values
from avf.store.schema import build_jobs

TRASH = "/editeur/lyon/corbeille"
CARD = "/editeur/lyon/fiche"
OLD_POST = "posts/2026-01-05-galette.md"


@pytest.fixture
def service(tmp_path: Path):  # type: ignore[no-untyped-def]
    with editor_service(tmp_path) as (app, repos):
        yield app, repos


# --- The corbeille ----------------------------------------------------------------------

def deleted_galette(repos) -> None:  # type: ignore[no-untyped-def]
    commit(repos, "lyon", OLD_POST, post("Galette des rois", "2026-01-05",
                                         body="On partage la galette <b>samedi</b>."))
    commit(repos, "lyon", OLD_POST, None, PAUL, "Supprimé : « Galette des rois » (lyon)")
    commit(repos, "gap", "posts/bienvenue.md", None, PAUL, "Supprimé à Gap")


def test_deleted_texts_are_listed_with_who_and_when(service) -> None:  # type: ignore[no-untyped-def]
    app, repos = service
    deleted_galette(repos)
    reporter = signed_in(app, "reporter")
    page = reporter.get(TRASH)
    assert page.status_code == 200
    assert "Galette des rois" in page.text and "Paul Martin" in page.text
    assert "Bienvenue à gap" not in page.text  # another city's deletions are not shown
    assert "Rétablir" not in page.text  # admins only
    (link,) = re.findall(r'href="(/editeur/lyon/historique/posts/2026-01-05-galette\.md'
                         r'\?version=[0-9a-f]{40})"', page.text)
    last = reporter.get(link)  # its last text
    assert last.status_code == 200 and "&lt;b&gt;samedi&lt;/b&gt;" in last.text
    refused = post_form(reporter, TRASH, f"{TRASH}/retablir", {"path": OLD_POST})
    assert refused.status_code == 403
    assert not (repos.checkout / "lyon" / OLD_POST).exists()
    assert signed_in(app, "member").get(TRASH).status_code == 403
    assert signed_in(app, "gap").get(TRASH).status_code == 403


def test_an_admin_brings_a_deleted_text_back_as_a_draft(service) -> None:  # type: ignore[no-untyped-def]
    app, repos = service
    deleted_galette(repos)
    admin = signed_in(app, "admin")
    assert "Rétablir" in admin.get(TRASH).text
    done = post_form(admin, TRASH, f"{TRASH}/retablir", {"path": OLD_POST})
    assert done.status_code == 303
    notice = admin.get(done.headers["location"]).text
    assert "est rétabli, comme brouillon" in notice
    text = (repos.checkout / "lyon" / OLD_POST).read_text()
    assert "status: draft" in text and "<b>samedi</b>" in text
    author, subject = git(repos.checkout, "log", "-1", "--format=%an|%s").split("|")
    assert author == "Anne Responsable"
    assert subject == "Rétabli depuis la corbeille : « Galette des rois » (lyon)"
    # A file of that name exists again: never restored over it.
    again = post_form(admin, TRASH, f"{TRASH}/retablir", {"path": OLD_POST})
    assert again.status_code == 409 and "existe à nouveau" in again.text
    assert "Un texte du même nom existe à nouveau" in admin.get(TRASH).text


@pytest.mark.parametrize("path", ["../gap/posts/bienvenue.md", "posts/bienvenue.md",
                                  "city.yaml", "/etc/passwd", "--output=x"])
def test_only_deleted_texts_of_the_city_can_be_brought_back(service, path: str) -> None:  # type: ignore[no-untyped-def]
    app, repos = service
    deleted_galette(repos)
    admin = signed_in(app, "admin")
    assert post_form(admin, TRASH, f"{TRASH}/retablir", {"path": path}).status_code == 404
    assert not (repos.checkout / "gap" / "posts" / "bienvenue.md").exists()


# --- The city card ----------------------------------------------------------------------

def current_values(repos, client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    values = card_values(card_fields((repos.checkout / "lyon" / "city.yaml").read_text()))
    return {**values, **form_fields(client.get(CARD).text)}


def test_the_card_form_shows_plain_french_fields(service) -> None:  # type: ignore[no-untyped-def]
    app, _ = service
    page = signed_in(app, "admin").get(CARD).text
    assert 'value="AVF Lyon"' in page and 'value="04 78 00 00 00"' in page
    assert "Jamais affichée sur le site : elle sert à vous transmettre les messages" in page
    for accent in ("Bleu", "Vert", "Bordeaux", "Violet", "Ocre", "Sarcelle"):
        assert accent in page  # each colour named, not only shown
    assert 'class="accent-sarcelle"' in page
    assert 'name="domain"' not in page  # the webmaster's; this card has none


def test_a_valid_card_is_committed_as_the_volunteer_and_rebuilt(service) -> None:  # type: ignore[no-untyped-def]
    app, repos = service
    card = repos.checkout / "lyon" / "city.yaml"
    card.write_text(card.read_text() + "comments_on_public_posts: true\n")
    git(repos.checkout, "commit", "-qam", "Commentaires")
    admin = signed_in(app, "admin")
    values = current_values(repos, admin)
    values.update(phone="04 78 99 99 99", opening_hours="mardi 14 h – 17 h\n\njeudi 9 h",
                  social="Facebook : https://www.facebook.com/avf.lyon\n"
                         "instagram https://www.instagram.com/avf.lyon",
                  accent="sarcelle", network_news="", domain="pirate.example",
                  postal_codes="69001, 69002")
    done = admin.post(CARD, headers=SAME_SITE, data=values)
    assert done.status_code == 303, done.text
    job = int(done.headers["location"].rsplit("/", 1)[1])
    assert done.headers["location"] == f"/editeur/lyon/suivi/{job}"
    text = card.read_text()
    city = read_city_card(card, "lyon/city.yaml", "lyon")
    assert city.phone == "04 78 99 99 99" and city.accent == "sarcelle"
    assert city.opening_hours == ("mardi 14 h – 17 h", "jeudi 9 h")
    assert city.social == {"Facebook": "https://www.facebook.com/avf.lyon",
                           "instagram": "https://www.instagram.com/avf.lyon"}
    assert city.postal_codes == ("69001", "69002") and city.network_news is False
    assert city.domain is None  # only the webmaster sets the domain
    assert city.comments_on_public_posts  # a field the form does not show is kept
    assert text.index("name:") < text.index("slug:") < text.index("email:") \
        < text.index("comments_on_public_posts")  # the card's order kept
    author, subject = git(repos.checkout, "log", "-1", "--format=%an|%s").split("|")
    assert (author, subject) == ("Anne Responsable", "Fiche de la ville mise à jour (lyon)")
    assert "Téléphone" in git(repos.checkout, "log", "-1", "--format=%b")
    with engine_of(app).connect() as connection:
        (queued,) = connection.execute(select(build_jobs.c.id, build_jobs.c.city).where(
            build_jobs.c.id == job)).all()
    assert queued.city == "lyon"
    assert git(repos.origin, "rev-parse", "main") == repos.checkout_head()


def test_an_invalid_card_is_never_written(service) -> None:  # type: ignore[no-untyped-def]
    app, repos = service
    card = repos.checkout / "lyon" / "city.yaml"
    before = card.read_text()
    admin = signed_in(app, "admin")
    values = current_values(repos, admin)
    values.update(email="pas-une-adresse", name="")
    page = admin.post(CARD, headers=SAME_SITE, data=values)
    assert page.status_code == 422
    assert 'id="fiche-name-erreur"' in page.text and "indiquez le nom" in page.text
    assert 'role="alert"' in page.text
    values.update(name="AVF Lyon", lat="quatre-vingt")
    page = admin.post(CARD, headers=SAME_SITE, data=values)
    assert page.status_code == 422  # the build's own reader refused it
    assert 'id="fiche-email-erreur"' in page.text or 'id="fiche-lat-erreur"' in page.text
    values.update(email="accueil@avf-lyon.example.org", postal_codes="6900")
    page = admin.post(CARD, headers=SAME_SITE, data=values)
    assert page.status_code == 422 and 'id="fiche-postal_codes-erreur"' in page.text
    assert card.read_text() == before


def test_the_webmaster_sets_the_domain(service) -> None:  # type: ignore[no-untyped-def]
    app, repos = service
    webmaster = signed_in(app, "webmaster")
    values = current_values(repos, webmaster)
    values.update(domain="avf-lyon.example.org")
    assert webmaster.post(CARD, headers=SAME_SITE, data=values).status_code == 303
    card = repos.checkout / "lyon" / "city.yaml"
    assert read_city_card(card, "lyon/city.yaml", "lyon").domain == "avf-lyon.example.org"
    author = git(repos.checkout, "log", "-1", "--format=%an|%ae")
    assert author.startswith("Wanda Webmaster|benevole-") and "@noreply." in author


def test_a_card_changed_meanwhile_shows_both_versions(service) -> None:  # type: ignore[no-untyped-def]
    app, repos = service
    admin = signed_in(app, "admin")
    values = current_values(repos, admin)
    card = repos.checkout / "lyon" / "city.yaml"
    commit(repos, "lyon", "city.yaml",
           card.read_text().replace("04 78 00 00 00", "04 78 22 22 22"), PAUL, "Téléphone")
    values.update(tagline="Bienvenue aux nouveaux Lyonnais !")
    page = admin.post(CARD, headers=SAME_SITE, data=values)
    assert page.status_code == 409
    assert "modifiée par Paul Martin" in page.text and "04 78 22 22 22" in page.text
    assert "Bienvenue aux nouveaux Lyonnais !" in page.text  # ours, still in the form
    assert "04 78 22 22 22" in card.read_text()  # theirs, not overwritten
    again = {**values, **form_fields(page.text)}
    assert admin.post(CARD, headers=SAME_SITE, data=again).status_code == 303
    assert "Bienvenue aux nouveaux Lyonnais" in card.read_text()


def test_the_card_is_the_admins(service) -> None:  # type: ignore[no-untyped-def]
    app, repos = service
    assert signed_in(app, "reporter").get(CARD).status_code == 403
    assert signed_in(app, "member").get(CARD).status_code == 403
    assert signed_in(app, "gap").get(CARD).status_code == 403
    assert signed_in(app, "webmaster").get("/editeur/_network/fiche").status_code == 403
    reporter = signed_in(app, "reporter")
    trash = reporter.get(TRASH).text
    assert 'href="/editeur/lyon/fiche"' not in trash  # the menu offers what one may do
    assert 'href="/editeur/lyon/fiche"' in signed_in(app, "admin").get(TRASH).text
    token = form_fields(trash)["csrf_token"]
    refused = reporter.post(CARD, headers=SAME_SITE,
                            data={"csrf_token": token, "name": "Pirate"})
    assert refused.status_code == 403
    assert "Pirate" not in (repos.checkout / "lyon" / "city.yaml").read_text()


def test_an_old_card_is_restored_from_its_history(service) -> None:  # type: ignore[no-untyped-def]
    app, repos = service
    card = repos.checkout / "lyon" / "city.yaml"
    first = git(repos.checkout, "log", "-1", "--format=%H", "--", "lyon/city.yaml")
    commit(repos, "lyon", "city.yaml", card.read_text().replace("04 78 00 00 00",
                                                                 "04 78 33 33 33"), PAUL, "Tél")
    admin = signed_in(app, "admin")
    history = "/editeur/lyon/historique/city.yaml"
    version = admin.get(f"{history}?version={first}").text
    assert "<strong>Téléphone</strong>" in version
    done = post_form(admin, f"{history}?version={first}", f"{history}/restaurer",
                     {"version": first})
    assert done.status_code == 303 and "/editeur/lyon/suivi/" in done.headers["location"]
    assert "04 78 00 00 00" in card.read_text()


def test_a_candidate_card_is_checked_before_it_is_written(tmp_path: Path) -> None:
    card = tmp_path / "lyon" / "city.yaml"
    with pytest.raises(ContentError, match="slug"):
        read_city_card(card, "lyon/city.yaml", "lyon",
                       text='name: "AVF"\ncity: "Lyon"\nslug: "gap"\npostal_code: "69001"\n'
                            'department: "R"\ndepartment_code: "69"\nregion: "A"\n'
                            'email: "a@b.fr"\nlat: 1\nlon: 2\n')
    assert not card.exists()
