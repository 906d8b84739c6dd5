"""What volunteers' Markdown becomes: the semantics the theme relies on, safe and French."""

from __future__ import annotations

import pytest

from avf.render.markdown import RECENT_BODIES, _recent, convert, markdown_to_html


@pytest.mark.parametrize(("markdown", "html"), [
    ("## Au programme", "<h2>Au programme</h2>"),
    ("- un\n- deux", "<ul>\n<li>un</li>\n<li>deux</li>\n</ul>"),
    ("1. un\n2. deux", "<ol>\n<li>un</li>\n<li>deux</li>\n</ol>"),
    ("**gras** et *italique*", "<p><strong>gras</strong> et <em>italique</em></p>"),
    ("[adhérer](../pages/adherer.md)", '<p><a href="../pages/adherer.md">adhérer</a></p>'),
    ("![Le groupe au musée](../media/musee.jpg)",
     '<p><img src="../media/musee.jpg" alt="Le groupe au musée"></p>'),
    ("| Jour | Heure |\n| --- | --- |\n| mardi | 9 h |",
     "<table><thead><tr><th>Jour</th><th>Heure</th></tr></thead><tbody>\n"
     "<tr><td>mardi</td><td>9 h</td></tr>\n</tbody></table>"),
    ("Voir https://www.avf.asso.fr.",
     '<p>Voir <a href="https://www.avf.asso.fr">'
     "https://www.avf.asso.fr</a>.</p>"),
    ("`https://code.fr` et [lien](https://x.fr)",
     '<p><code>https://code.fr</code> et <a href="https://x.fr">'
     "lien</a></p>"),
])
def test_markdown_semantics(markdown: str, html: str) -> None:
    assert markdown_to_html(markdown).strip() == html


def test_french_quotes_and_apostrophes() -> None:
    assert markdown_to_html('Il a dit "bienvenue" à l\'AVF...').strip() == (
        "<p>Il a dit «&nbsp;bienvenue&nbsp;» à l’AVF…</p>")


@pytest.mark.parametrize("attack", [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">clic</a>',
    "[clic](javascript:alert(1))",
    "[clic](<javascript:alert(1)>)",
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>",
    '<p style="position:fixed">x</p>',
    '<svg onload="alert(1)"></svg>',
])
def test_raw_html_and_script_urls_are_made_harmless(attack: str) -> None:
    html = markdown_to_html(attack).lower()
    for danger in ("<script", "onerror", "onload", 'href="javascript:', "<iframe", "<style",
                   "style=", "<svg"):
        assert danger not in html, html


def test_rendering_keeps_no_memory() -> None:
    """A build worker renders hundreds of thousands of posts in its life."""
    def resident_mib() -> float:
        with open("/proc/self/statm") as stream:
            return int(stream.read().split()[1]) * 4096 / 2**20

    render = convert  # the renderer itself, not the memo of bodies
    post = ("## Titre\n\nUn paragraphe **gras** avec un [lien](../pages/a.md).\n\n" * 40)
    render(post)
    before = resident_mib()
    for _ in range(3000):
        render(post)
    assert resident_mib() - before < 10


def test_a_warm_process_remembers_recent_bodies_within_a_bound() -> None:
    """A one-post rebuild converts only the edited body again; the memo never grows past
    RECENT_BODIES, however many posts a worker renders."""
    _recent.cache_clear()
    bodies = [f"Texte numéro {n} : **gras**." for n in range(RECENT_BODIES + 50)]
    for body in bodies:
        markdown_to_html(body)
    assert _recent.cache_info().currsize == RECENT_BODIES
    assert markdown_to_html(bodies[-1]) == convert(bodies[-1])
    assert _recent.cache_info().hits == 1


def test_a_long_body_is_converted_each_time_never_kept() -> None:
    """The memo is bounded in characters, not only in bodies: a worker that meets a few
    hundred huge bodies (a table pasted from a word processor, a photo pasted as text)
    must not keep them all for the rest of its life."""
    import gc
    import tracemalloc

    paragraph = "Un paragraphe **gras** avec un [lien](../pages/a.md) et des mots.\n\n"
    bodies = [f"# Texte {n}\n\n" + paragraph * 3_000 for n in range(20)]  # ~200 KB each
    tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for body in bodies:
            assert "<strong>gras</strong>" in markdown_to_html(body)
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 1_000_000, f"{kept:,} bytes kept after rendering 20 long bodies"
