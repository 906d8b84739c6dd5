"""The editor's pages on real git repositories: the city's texts by state, the edit form
(new and existing), its buttons as the workflow allows them, problems next to their
fields with everything typed kept, read-only texts, two people editing the same post,
deletion, and the links to the editor from the service's pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from auth_helpers import SAME_SITE
from conftest import post
from content_repo import git
from editor_helpers import Editor, editor_service, form_fields, submit

from avf.editor.checkout import Checkout
from avf.editor.listing import last_changes

POST_URL = "/editeur/lyon/texte/posts/2026-01-10-bienvenue.md"


@pytest.fixture
def editor(tmp_path: Path) -> Iterator[Editor]:
    with editor_service(tmp_path, files={
        "posts/2026-02-01-sortie.md": post("Sortie au musée", "2026-02-01",
                                           extra="status: review"),
        "posts/2026-03-01-bureau.md": post("Réunion du bureau", "2026-03-01",
                                           extra="status: draft\nvisibility: members"),
    }) as service:
        yield service


def buttons(page: str) -> list[str]:
    return re.findall(r'<button type="submit" name="action" value="([a-z_]+)"', page)


def committed(editor: Editor, rel: str) -> str:
    return git(editor.repos.checkout, "show", f"HEAD:lyon/{rel}")


# --- The lists ---------------------------------------------------------------------------

def test_a_reporter_of_one_city_goes_straight_to_its_texts(editor: Editor) -> None:
    client = editor.client("reporter")
    assert client.get("/editeur/").headers["location"] == "/editeur/lyon/"
    page = client.get("/editeur/lyon/").text
    # Drafts first for a reporter; every text of the city is listed, pages too.
    assert page.index("Brouillons (1)") < page.index("À relire (1)") < page.index("En ligne (2)")
    for title in ("Bienvenue à Lyon", "Sortie au musée", "Réunion du bureau", "Adhérer"):
        assert title in page
    assert "Modifié par Bénévole AVF, le " in page  # who changed it last, from the history
    assert "Créer une page" not in page and "Écrire un article" in page
    assert "Secret de Gap" not in page


def test_admins_see_what_waits_for_review_first_and_the_webmaster_every_site(
        editor: Editor) -> None:
    page = editor.client("admin").get("/editeur/lyon/").text
    assert page.index("À relire (1)") < page.index("Brouillons (1)")
    assert "Créer une page" in page
    everything = editor.client("webmaster").get("/editeur/")
    assert everything.status_code == 200
    for link in ('href="/editeur/_network/"', 'href="/editeur/lyon/"', 'href="/editeur/gap/"'):
        assert link in everything.text


def test_the_last_changes_come_from_one_log_of_the_city(editor: Editor) -> None:
    editor.repos.change({"lyon/posts/2026-01-10-bienvenue.md": post("Bienvenue !",
                                                                    "2026-01-10")},
                        message="Retouche")
    git(editor.repos.checkout, "pull", "-q")
    changes = last_changes(Checkout(editor.repos.checkout), editor.repos.checkout / "lyon")
    assert changes["posts/2026-01-10-bienvenue.md"].message == "Retouche"
    assert changes["pages/adherer.md"].message == "Le réseau"
    assert "posts/2026-01-10-secret.md" not in changes  # gap's


def test_the_editor_is_linked_for_those_who_write(editor: Editor) -> None:
    assert "Écrire sur le site" in editor.client("reporter").get("/compte/").text
    assert "Écrire sur le site" not in editor.client("member").get("/compte/").text


# --- A new post --------------------------------------------------------------------------

def test_a_new_post_is_a_draft_committed_by_its_writer(editor: Editor) -> None:
    client = editor.client("reporter")
    page = client.get("/editeur/lyon/nouveau").text
    assert buttons(page) == ["save", "submit"]  # a reporter neither publishes nor schedules
    values = form_fields(page)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", values["date"])  # today, by default
    for contract in ('<textarea id="body" name="body"', "data-avf-editor", 'id="tags"',
                     "data-avf-tags", '<fieldset id="photo">', 'name="base" value=""'):
        assert contract in page
    response = submit(client, "/editeur/lyon/nouveau", "save", title="Galette des rois !",
                      date="2026-01-05", body="Venez **nombreux**.", tags="fête, galette")
    assert response.status_code == 303
    rel = "posts/2026-01-05-galette-des-rois.md"
    assert response.headers["location"] == f"/editeur/lyon/texte/{rel}?fait=save"
    text = committed(editor, rel)
    assert "status: draft" in text and "Venez **nombreux**." in text
    assert "tags: [fête, galette]" in text
    author = git(editor.repos.checkout, "log", "-1", "--format=%an <%ae>")
    assert author == f"Hélène Dupont <benevole-{editor.ids['reporter']}@noreply.avf.test>"
    shown = client.get(response.headers["location"]).text
    assert "C&#39;est enregistré." in shown and "Brouillon" in shown


def test_problems_are_shown_next_to_their_fields_and_nothing_typed_is_lost(
        editor: Editor) -> None:
    client = editor.client("reporter")
    head = editor.repos.checkout_head()
    untitled = submit(client, "/editeur/lyon/nouveau", "save", title="  ", body="Mon texte")
    assert untitled.status_code == 400
    assert 'role="alert"' in untitled.text and 'aria-invalid="true"' in untitled.text
    assert 'aria-describedby="title-aide title-erreur-1"' in untitled.text
    assert ">Mon texte</textarea>" in untitled.text
    late = submit(client, "/editeur/lyon/nouveau", "save", title="Pique-nique",
                  body="Apportez à boire.", event="1", event_start_date="2026-06-10",
                  event_start_time="12:00", event_end_date="2026-06-09",
                  event_place="Parc de la Tête d'Or")
    assert late.status_code == 400
    fields = form_fields(late.text)
    assert fields["event_place"] == "Parc de la Tête d'Or"
    assert fields["body"] == "Apportez à boire."
    assert 'id="event_end_date-erreur-1" role="alert"' in late.text
    assert "finit" in late.text
    assert editor.repos.checkout_head() == head  # nothing committed


# --- Rules, read-only texts ---------------------------------------------------------------

def test_a_reporter_may_not_publish_and_keeps_what_was_typed(editor: Editor) -> None:
    client = editor.client("reporter")
    url = "/editeur/lyon/texte/posts/2026-03-01-bureau.md"
    page = client.get(url).text
    assert buttons(page) == ["save", "submit"]
    assert "Réservé aux adhérents" in page and "seules les personnes adhérentes" in page
    head = editor.repos.checkout_head()
    refused = submit(client, url, "publish", body="Ordre du jour modifié")
    assert refused.status_code == 403
    assert "Ce n'est pas possible" in refused.text
    assert "Ordre du jour modifié</textarea>" in refused.text
    assert editor.repos.checkout_head() == head
    assert client.get("/editeur/lyon/nouveau?type=page").status_code == 403


def test_a_published_text_is_read_only_for_a_reporter(editor: Editor) -> None:
    page = editor.client("reporter").get(POST_URL).text
    assert "Lecture seule" in page and "seul·e un·e responsable" in page
    assert buttons(page) == [] and "Supprimer…" not in page
    assert "Ce texte est en ligne" in page
    assert 'href="/lyon/actualites/bienvenue.html"' in page
    assert '<textarea id="body" name="body" rows="18" data-avf-editor readonly' in page
    head = editor.repos.checkout_head()
    response = submit(editor.client("reporter"), POST_URL, "save", body="Piraté")
    assert response.status_code == 403
    assert editor.repos.checkout_head() == head


def test_an_admin_publishes_schedules_and_sends_back(editor: Editor) -> None:
    client = editor.client("admin")
    url = "/editeur/lyon/texte/posts/2026-02-01-sortie.md"
    page = client.get(url).text
    assert buttons(page) == ["save", "publish", "schedule", "send_back"]
    assert "Supprimer…" in page
    silent = submit(client, url, "send_back")
    assert silent.status_code == 403 and "ce qu&#39;il faut revoir" in silent.text
    back = submit(client, url, "send_back", comment="Ajoutez l'heure du rendez-vous.")
    assert back.status_code == 303
    assert "status: draft" in committed(editor, "posts/2026-02-01-sortie.md")
    published = client.get(POST_URL).text
    assert buttons(published) == ["save", "unpublish"]
    assert "Enregistrer les modifications" in published


def test_pages_have_their_order_for_admins(editor: Editor) -> None:
    client = editor.client("admin")
    page = client.get("/editeur/lyon/texte/pages/adherer.md").text
    assert 'id="order"' in page and 'id="evenement"' not in page
    response = submit(client, "/editeur/lyon/texte/pages/adherer.md", "save", order="2")
    assert response.status_code == 303
    assert "order: 2" in committed(editor, "pages/adherer.md")
    new_page = submit(client, "/editeur/lyon/nouveau", "save",
                      page_url="/editeur/lyon/nouveau?type=page", title="Nos permanences",
                      body="Le mardi.")
    assert new_page.headers["location"].startswith("/editeur/lyon/texte/pages/nos-permanences")


# --- Two people, one post -------------------------------------------------------------------

def test_two_people_editing_the_same_post_lose_nothing(editor: Editor) -> None:
    url = "/editeur/lyon/texte/posts/2026-03-01-bureau.md"
    helene, marc = editor.client("reporter"), editor.client("reporter2")
    helene_form = form_fields(helene.get(url).text)
    marc_form = form_fields(marc.get(url).text)
    first = marc.post(url, headers=SAME_SITE, data={**marc_form, "action": "save",
                                                    "body": "Version de Marc."})
    assert first.status_code == 303
    second = helene.post(url, headers=SAME_SITE, data={**helene_form, "action": "save",
                                                       "body": "Version d'Hélène."})
    assert second.status_code == 409
    page = second.text
    assert "modifié par quelqu'un d'autre" in page and "Marc Petit" in page
    assert 'class="theirs"' in page and 'class="yours"' in page  # the difference
    assert "Version de Marc." in page  # their version, shown
    retry = form_fields(page)
    assert retry["body"] == "Version d'Hélène."  # the form holds HER text
    assert retry["base"] == git(editor.repos.checkout, "rev-parse",
                                "HEAD:lyon/posts/2026-03-01-bureau.md")
    assert "Version de Marc." in committed(editor, "posts/2026-03-01-bureau.md")
    merged = helene.post(url, headers=SAME_SITE, data={
        **retry, "action": "save", "body": "Version de Marc.\n\nEt celle d'Hélène."})
    assert merged.status_code == 303
    assert "Et celle d'Hélène." in committed(editor, "posts/2026-03-01-bureau.md")
    assert editor.repos.head() == editor.repos.checkout_head()  # pushed


# --- Deleting -------------------------------------------------------------------------------

def test_deleting_asks_first_and_is_the_admins(editor: Editor) -> None:
    url = "/editeur/lyon/supprimer/posts/2026-03-01-bureau.md"
    assert editor.client("reporter").get(url).status_code == 403
    client = editor.client("admin")
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Oui, supprimer ce texte" in confirm.text
    response = client.post(url, headers=SAME_SITE, data=form_fields(confirm.text, "suppression"))
    assert response.headers["location"] == "/editeur/lyon/?fait=delete"
    assert not (editor.repos.checkout / "lyon/posts/2026-03-01-bureau.md").exists()
    assert "Réunion du bureau" not in client.get("/editeur/lyon/").text


def test_a_push_that_conflicts_says_where_the_text_was_kept(editor: Editor) -> None:
    url = "/editeur/lyon/texte/posts/2026-03-01-bureau.md"
    client = editor.client("reporter")
    opened = form_fields(client.get(url).text)
    editor.repos.change({"lyon/posts/2026-03-01-bureau.md": post(
        "Réunion du bureau", "2026-03-01", extra="status: draft\nvisibility: members",
        body="Poussé depuis un ordinateur.")})  # origin moved; the checkout does not know
    response = client.post(url, headers=SAME_SITE, data={**opened, "action": "save",
                                                         "body": "Écrit dans l'éditeur."})
    assert response.status_code == 409
    assert "Poussé depuis un ordinateur." in response.text
    kept = re.search(r"branche « (avf/sauvegarde-[0-9-]+) »", response.text)
    assert kept, "the rescue branch is named"
    assert "Écrit dans l'éditeur." in git(editor.repos.checkout, "show",
                                          f"{kept.group(1)}:lyon/posts/2026-03-01-bureau.md")
    assert form_fields(response.text)["body"] == "Écrit dans l'éditeur."
