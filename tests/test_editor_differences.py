"""The readable differences of the editor's history: fields by name in plain French, the
body by paragraph then by word, moves told as moves, and every character of the
volunteers' texts escaped (only the <ins>/<del> marks are HTML)."""

from __future__ import annotations

import re

from conftest import CITY_YAML, post

from avf.editor.differences import (
    compare_cards,
    compare_documents,
    compare_paragraphs,
    word_diff,
)

ADDED = '<ins><span class="visually-hidden">ajouté : </span>'
REMOVED = '<del><span class="visually-hidden">supprimé : </span>'


def test_words_with_accents_are_compared_whole() -> None:
    html = str(word_diff("La fête d'été à Lyon.", "La fête d'hiver à Lyon."))
    assert html == (f"La fête d&#39;{REMOVED}été</del>{ADDED}hiver</ins> à Lyon.")


def test_every_change_is_named_in_words_not_only_marked() -> None:
    html = str(word_diff("Rendez-vous mardi.", "Rendez-vous jeudi matin."))
    assert html.count("ajouté : ") == 1 and html.count("supprimé : ") == 1
    assert "<del>" in html and "<ins>" in html  # struck through and underlined as well


def test_html_in_a_volunteers_text_is_escaped() -> None:
    old = post("Goûter", body='Venez <script>alert("x")</script> nombreux.')
    new = post("Goûter <b>gratuit</b>", body='Venez <img src=x onerror=alert(1)> nombreux.')
    difference = compare_documents(old, new)
    (title,) = difference.fields
    assert title.sentence == "Titre : « Goûter » → « Goûter <b>gratuit</b> »"  # plain text
    (paragraph,) = difference.changed_paragraphs
    html = str(paragraph.html)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;" in html and "&gt;" in html and "&#34;" in html
    ours = re.compile(r'</?(ins|del)>|<span class="visually-hidden">|</span>')
    assert "<" not in ours.sub("", html)  # nothing but our own marks is HTML


def test_fields_are_compared_by_name_in_plain_french() -> None:
    old = post("Galette", "2026-01-10", extra="tags: [fête, hiver]\nstatus: draft")
    new = post("Galette des rois", "2026-01-12",
               extra="tags: [fête]\nstatus: review\nevent:\n  place: Salle des fêtes")
    sentences = [change.sentence for change in compare_documents(old, new).fields]
    assert sentences == [
        "Titre : « Galette » → « Galette des rois »",
        "Date : « 2026-01-10 » → « 2026-01-12 »",
        "Mots-clés : « fête, hiver » → « fête »",
        "État : « Brouillon » → « À relire »",
        "Lieu de l'événement : (vide) → « Salle des fêtes »",
    ]


def test_a_published_text_without_a_status_is_said_online() -> None:
    old = post("Galette")
    new = post("Galette", extra="status: unpublished")
    (change,) = compare_documents(old, new).fields
    assert change.sentence == "État : « En ligne » → « Dépublié »"


def test_paragraphs_changed_added_and_removed() -> None:
    old = "Premier paragraphe sur la galette.\n\nDeuxième.\n\nUn paragraphe qui s'en va."
    new = "Premier paragraphe sur la galette des rois.\n\nDeuxième.\n\nTout nouveau texte."
    kinds = [(change.kind, str(change.html)) for change in compare_paragraphs(old, new)]
    assert kinds == [
        ("changed", f"Premier paragraphe sur la galette{ADDED} des rois</ins>."),
        ("same", "Deuxième."),
        ("removed", f"{REMOVED}Un paragraphe qui s&#39;en va.</del>"),
        ("added", f"{ADDED}Tout nouveau texte.</ins>"),
    ]


def test_reordered_paragraphs_are_told_as_moved_and_nothing_is_lost() -> None:
    old = "Un.\n\nDeux.\n\nTrois."
    new = "Trois.\n\nUn.\n\nDeux."
    changes = compare_paragraphs(old, new)
    assert [(change.kind, change.text) for change in changes] == [
        ("moved", "Trois."), ("same", "Un."), ("same", "Deux.")]


def test_an_unreadable_header_is_compared_as_plain_text() -> None:
    old = "---\ntitle: [cassé\n---\n\nTexte."
    new = "---\ntitle: \"Réparé\"\n---\n\nTexte."
    difference = compare_documents(old, new)
    assert not difference.empty
    assert any("cassé" in str(change.html) for change in difference.changed_paragraphs)


def test_a_city_card_is_compared_field_by_field() -> None:
    old = CITY_YAML.format(slug="lyon", title="Lyon")
    new = old.replace('phone: "04 78 00 00 00"', 'phone: "04 78 11 11 11"') + (
        'opening_hours:\n  - "mardi 14 h – 17 h"\nsocial:\n  facebook: "https://fb.example"\n')
    sentences = [change.sentence for change in compare_cards(old, new).fields]
    assert sentences == ["Téléphone : « 04 78 00 00 00 » → « 04 78 11 11 11 »",
                         "Horaires : (vide) → « mardi 14 h – 17 h »",
                         "Lien « facebook » : (vide) → « https://fb.example »"]
    assert compare_cards(old, old).empty
