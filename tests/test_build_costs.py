"""What makes builds cheaper without changing what they publish: compiled templates kept
on disk between processes, list pages left out of the search index, and the two costly
extras (search, precompression) that a build can leave out to be measured without them."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from jinja2 import DictLoader, Environment

from avf.build import BuildOptions, build_network
from avf.build.templates_cache import FOLDER, WORKER_TEMPLATES, MemoryBytecodeCache
from tests.conftest import FIXED_NOW, TEST_SITE_URL, build, post, write_city
from tests.test_build import every_file


def city_with_lists(content: Path) -> None:
    """Lyon with enough posts for a second home page and a tag page."""
    write_city(content, "lyon", {
        f"posts/2026-10-{day:02d}-sortie-{day}.md": post(
            f"Sortie {day}", date=f"2026-10-{day:02d}", extra="tags: [sorties]",
            body=f"Rendez-vous numéro{day} devant la mairie.")
        for day in range(1, 13)
    })


def indexed_urls(bundle: Path) -> set[str]:
    urls = set()
    for fragment in (bundle / "fragment").glob("*.pf_fragment"):
        data = gzip.decompress(fragment.read_bytes()).removeprefix(b"pagefind_dcd")
        urls.add(json.loads(data)["url"])
    return urls


def test_search_indexes_posts_and_standing_pages_not_lists(network: Path) -> None:
    city_with_lists(network)
    out = network.parent / "output"
    assert build(network, out).ok
    site = out / "public" / "lyon"
    assert (site / "index-2.html").is_file() and (site / "etiquettes" / "sorties.html").is_file()
    urls = indexed_urls(site / "pagefind")
    assert {f"/actualites/sortie-{day}.html" for day in range(1, 13)} <= urls
    assert "/" in urls  # the home page
    assert not [url for url in urls if "index-2" in url or "archives" in url
                or (url.startswith("/etiquettes/") and url.endswith(".html"))]


def test_a_build_without_search_nor_precompression(network: Path) -> None:
    city_with_lists(network)
    out = network.parent / "output"
    def run(**extras: bool):  # type: ignore[no-untyped-def]
        return build_network(BuildOptions(content_dir=network, output_dir=out, jobs=2,
                                          site_url=TEST_SITE_URL, now=FIXED_NOW, **extras))
    bare = run(search=False, precompress=False)
    assert bare.ok
    public = list(every_file(out / "public" / "lyon"))
    assert public and not [path for path in public
                           if path.suffix in (".gz", ".br") or "pagefind" in path.parts]
    # Turning them back on changes what a release holds: every site is built again.
    full = run()
    assert full.ok and [r.slug for r in full.results] == ["lyon"] and full.portal
    assert (out / "public" / "lyon" / "pagefind" / "pagefind-entry.json").is_file()
    # Big files get their siblings (pages are gzipped on the fly: build/precompress.py).
    assert (out / "public" / "lyon" / "pagefind" / "pagefind-ui.js.br").is_file()
    assert not (out / "public" / "lyon" / "index.html.gz").exists()
    assert not run().results  # and then nothing changed


def render_with(folder: Path) -> str:
    """Render a template in a fresh environment whose compiled templates live in `folder`
    (as a new `avf build` process does)."""
    templates = MemoryBytecodeCache()
    templates.use_folder(folder)
    environment = Environment(loader=DictLoader({"t.html": "{{ 6 * 7 }} villes"}),
                              bytecode_cache=templates)
    return environment.get_template("t.html").render()


def test_compiled_templates_are_kept_on_disk_for_the_next_process(tmp_path: Path) -> None:
    folder = tmp_path / FOLDER
    assert render_with(folder) == "42 villes"
    [cached] = folder.glob("*.bytecode")
    written = cached.stat().st_mtime_ns
    assert render_with(folder) == "42 villes"
    assert cached.stat().st_mtime_ns == written  # read back, not compiled and written again


def test_a_damaged_compiled_template_is_compiled_again(tmp_path: Path) -> None:
    folder = tmp_path / FOLDER
    assert render_with(folder) == "42 villes"
    [cached] = folder.glob("*.bytecode")
    good = cached.read_bytes()
    for damaged in (good[:-7], b"", good[:32] + b"\x80\x04 pas du bytecode"):
        cached.write_bytes(damaged)
        assert render_with(folder) == "42 villes"
        assert cached.read_bytes() == good  # rewritten whole


def test_a_build_keeps_its_compiled_templates_in_the_output(network: Path) -> None:
    city_with_lists(network)
    out = network.parent / "output"
    WORKER_TEMPLATES.clear()  # as in a new process: nothing compiled yet
    assert build(network, out).ok
    assert list((out / FOLDER).glob("*.bytecode"))
    assert not (out / "public" / FOLDER).exists()  # never published


def test_an_edited_template_is_used_by_the_next_build_of_the_same_process(
        network: Path, tmp_path: Path) -> None:
    """Jinja does not check templates again within one city's build (`auto_reload` off):
    each build makes new environments, so an edited template is read at the next one."""
    import shutil

    from avf.build.options import PROJECT_ROOT
    from tests.test_incremental import settings_copy

    write_city(network, "lyon", {"posts/2026-10-01-a.md": post("Rentrée")})
    theme = tmp_path / "theme"
    shutil.copytree(PROJECT_ROOT / "themes" / "avf", theme)
    settings = settings_copy(tmp_path / "conf.py", f"\nTHEME = {str(theme)!r}\n")
    out = network.parent / "output"

    def home() -> str:
        assert build_network(BuildOptions(
            content_dir=network, output_dir=out, cities=("lyon",), jobs=1,
            site_url=TEST_SITE_URL, now=FIXED_NOW, settings_file=settings)).ok
        return (out / "public" / "lyon" / "index.html").read_text()

    assert "Modèle modifié" not in home()
    base = theme / "templates" / "base.html"
    base.write_text(base.read_text().replace("<main", "<p>Modèle modifié</p><main", 1))
    assert "Modèle modifié" in home()  # built in this same process (one city)


def test_the_theme_listing_is_skipped_unless_pelican_logs_it() -> None:
    """Pelican lists the theme's templates for each generator only to log them at debug
    level: the build's environment lists nothing unless that log is on."""
    import logging

    from jinja2 import DictLoader

    from avf.theme.environment import BuildEnvironment

    environment = BuildEnvironment(loader=DictLoader({"a.html": "", "b.html": ""}))
    logger = logging.getLogger("pelican.generators")
    level = logger.level
    try:
        logger.setLevel(logging.INFO)
        assert environment.list_templates() == []
        logger.setLevel(logging.DEBUG)
        assert environment.list_templates() == ["a.html", "b.html"]
    finally:
        logger.setLevel(level)


def published(network: Path, output: Path) -> dict[str, bytes]:
    """Build `network` into `output`; every published file (search index aside) by path."""
    assert build(network, output).ok
    return {path.relative_to(output).as_posix(): path.read_bytes()
            for area in ("public", "members") for path in every_file(output / area)
            if "pagefind" not in path.parts}


def test_links_resolved_by_the_plugin_are_those_pelican_writes(
        network: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """avf_links writes the URL of a linked text itself instead of leaving Pelican to look
    it up: the pages are byte for byte those Pelican resolves (fragments, member-only
    texts, pages; queries and the rest are still left to Pelican)."""
    import sys

    links = ("[page](../pages/adherer.md), [tarifs](../pages/adherer.md#tarifs), "
             "[sortie](2026-10-02-sortie.md), [réservé](2026-10-03-conseil.md#ordre), "
             "[requête](2026-10-02-sortie.md?vue=1#x), [vide](2026-10-02-sortie.md#), "
             "![Tasses](../media/cafe.jpg)")
    media = write_city(network, "lyon", {
        "posts/2026-10-01-cafe.md": post("Café", body=f"Liens : {links}"),
        "posts/2026-10-02-sortie.md": post("Sortie", date="2026-10-02"),
        "posts/2026-10-03-conseil.md": post("Conseil", date="2026-10-03",
                                            extra="visibility: members",
                                            body=f"Et ici : {links}"),
        "pages/adherer.md": '---\ntitle: "Adhérer"\n---\n\n## Tarifs\n\n20 €.\n',
    }) / "media"
    media.mkdir()
    (media / "cafe.jpg").write_bytes(b"\xff\xd8\xff\xe0fake-jpeg")

    ours = published(network, tmp_path / "ours")
    plugin = sys.modules["avf_links"]  # loaded by Pelican from plugins/, in this process
    monkeypatch.setattr(plugin, "document_resolver", lambda content: lambda path: None)
    assert published(network, tmp_path / "pelican") == ours
    page = ours["public/lyon/actualites/cafe.html"].decode()
    assert f'href="{TEST_SITE_URL}/lyon/adherer/#tarifs"' in page
    assert f'href="{TEST_SITE_URL}/membres/lyon/actualites/conseil.html#ordre"' in page
    assert f'href="{TEST_SITE_URL}/lyon/actualites/sortie.html?vue=1#x"' in page


def test_links_on_a_city_domain_and_the_portal_are_those_pelican_writes(
        network: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same comparison on the harder addresses: a city on its own domain (its SITEURL,
    its member-only texts on the network's host), the portal's own pages and news, `./`,
    sub-folders, a `..` that leaves the city and comes back, names with spaces or accents
    (percent-encoded: left to Pelican), raw HTML links with `;` or `&amp;` in a fragment."""
    import sys

    from tests.conftest import CITY_YAML, write

    links = ("[page](../pages/adherer.md) [point](./2026-10-02-sortie.md) "
             "[sous](2025/2025-01-01-vieux.md) [retour](../../lyon/pages/adherer.md) "
             "[espace](<../pages/mon fichier.md>) [accent](../pages/café.md) "
             "[membres](2026-10-03-conseil.md) [frag](../pages/adherer.md#a;b) "
             '<a href="../pages/mon fichier.md">brut</a> '
             '<a href="./../pages/adherer.md#x&amp;y">et</a>')
    write(network / "_network" / "pages" / "a-propos.md",
          '---\ntitle: "Le réseau"\n---\n\n[charte](charte.md) [p](./charte.md) '
          "[actu](../posts/2026-10-01-nouvelle.md#suite)\n")
    write(network / "_network" / "pages" / "charte.md",
          '---\ntitle: "Charte"\n---\n\n[retour](a-propos.md)\n')
    write(network / "_network" / "posts" / "2026-10-01-nouvelle.md",
          post("Nouvelle", body="[charte](../pages/charte.md)"))
    write_city(network, "lyon", {
        "posts/2026-10-01-cafe.md": post("Café", body=links),
        "posts/2026-10-02-sortie.md": post("Sortie", date="2026-10-02",
                                           body="[café](2026-10-01-cafe.md)"),
        "posts/2026-10-03-conseil.md": post("Conseil", date="2026-10-03",
                                            extra="visibility: members", body=links),
        "posts/2025/2025-01-01-vieux.md": post(
            "Vieux", date="2025-01-01", body="[haut](../2026-10-01-cafe.md) "
                                             "[page](../../pages/adherer.md)"),
        "pages/adherer.md": '---\ntitle: "Adhérer"\n---\n\n[c](../posts/2026-10-03-conseil.md)\n',
        "pages/mon fichier.md": '---\ntitle: "Mon fichier"\nslug: mon-fichier\n---\n\nx\n',
        "pages/café.md": '---\ntitle: "Café"\nslug: cafe-page\n---\n\nx\n',
    }, card=CITY_YAML.format(slug="lyon", title="Lyon") + 'domain: "avf-lyon.fr"\n')

    ours = published(network, tmp_path / "ours")
    plugin = sys.modules["avf_links"]
    written: list[str] = []
    resolver = plugin.document_resolver

    def noting(content: object):  # the plugin's own resolver, its answers noted
        resolve = resolver(content)

        def resolve_noted(path: str) -> str | None:
            written.append(url := resolve(path))
            return url
        return resolve_noted

    monkeypatch.setattr(plugin, "document_resolver", noting)
    assert published(network, tmp_path / "ours-again") == ours
    assert None not in written and len(written) >= 20  # the plugin wrote them, not Pelican
    monkeypatch.setattr(plugin, "document_resolver", lambda content: lambda path: None)
    assert published(network, tmp_path / "pelican") == ours
    page = ours["public/lyon/actualites/cafe.html"].decode()
    assert 'href="https://avf-lyon.fr/adherer/#x&amp;y"' in page
    assert 'href="https://avf-lyon.fr/actualites/vieux.html"' in page
    assert f'href="{TEST_SITE_URL}/membres/lyon/actualites/conseil.html"' in page
    assert f'href="{TEST_SITE_URL}/actualites/nouvelle.html#suite"' in ours[
        "public/reseau/a-propos/index.html"].decode()
