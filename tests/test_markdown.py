"""What volunteers' Markdown becomes: the semantics the theme relies on, safe and French."""

from __future__ import annotations

import pytest

from avf.render.markdown import markdown_to_html


@pytest.mark.parametrize(("markdown", "html"), [
    ("## Au programme", "<h2>Au programme</h2>"),
    ("- un\n- deux", "<ul>\n<li>un</li>\n<li>deux</li>\n</ul>"),
    ("1. un\n2. deux", "<ol>\n<li>un</li>\n<li>deux</li>\n</ol>"),
    ("**gras** et *italique*", "<p><strong>gras</strong> et <em>italique</em></p>"),
    ("[adhérer](../pages/adherer.md)", '<p><a href="../pages/adherer.md">adhérer</a></p>'),
    ("![Le groupe au musée](../media/musee.jpg)",
     '<p><img src="../media/musee.jpg" alt="Le groupe au musée" /></p>'),
    ("| Jour | Heure |\n| --- | --- |\n| mardi | 9 h |",
     "<table>\n<thead>\n<tr>\n<th>Jour</th>\n<th>Heure</th>\n</tr>\n</thead>\n<tbody>\n"
     "<tr>\n<td>mardi</td>\n<td>9 h</td>\n</tr>\n</tbody>\n</table>"),
    ("Voir https://www.avf.asso.fr",
     '<p>Voir <a href="https://www.avf.asso.fr">https://www.avf.asso.fr</a></p>'),
])
def test_markdown_semantics(markdown: str, html: str) -> None:
    assert markdown_to_html(markdown).strip() == html


def test_french_quotes_and_apostrophes() -> None:
    assert markdown_to_html('Il a dit "bienvenue" à l\'AVF...').strip() == (
        "<p>Il a dit «\u00a0bienvenue\u00a0» à l’AVF…</p>")


@pytest.mark.parametrize("attack", [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">clic</a>',
    "[clic](javascript:alert(1))",
])
def test_raw_html_and_script_urls_are_dropped(attack: str) -> None:
    html = markdown_to_html(attack)
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html
