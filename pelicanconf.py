"""Pelican settings shared by every city site and by the national portal.

`avf build` reads this file once per worker and adds each city's own settings on top
(SITEURL, SITENAME, PATH, OUTPUT_PATH and the AVF_* context): see avf/build/city_settings.py.
Only what is the same for all 350 sites belongs here.
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent

# Where the network is served from; each city lives under SITE_BASE_URL/<slug>/.
# `avf serve --port P` sets AVF_SITE_URL so that links follow the port it serves on.
SITE_BASE_URL = os.environ.get("AVF_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

AUTHOR = "AVF"
TIMEZONE = "Europe/Paris"
DEFAULT_LANG = "fr"
LOCALE = ("fr_FR.UTF-8", "C.UTF-8", "")
DEFAULT_DATE_FORMAT = "%d/%m/%Y"

THEME = str(ROOT / "themes" / "avf")
# The theme's CSS, fonts and scripts are published once for the whole network under
# /theme/ (not copied into 350 sites): see avf/build/publish.py.
THEME_STATIC_PATHS: list[str] = []

PLUGIN_PATHS = [str(ROOT / "plugins")]
PLUGINS = ["avf_frontmatter", "avf_links", "avf_visibility", "avf_city", "avf_agenda",
           "avf_feeds", "avf_images", "avf_seo"]

# Content layout inside content/<city>/ (see docs/content-format.md).
ARTICLE_PATHS = ["posts"]
PAGE_PATHS = ["pages"]
STATIC_PATHS = ["media"]
IGNORE_FILES = [".*", "*~", "#*#"]
USE_FOLDER_AS_CATEGORY = False
DEFAULT_CATEGORY = "Actualités"

# French URLs. Standing pages get short addresses to print on a flyer (/lyon/adherer/);
# posts, tags and list pages are plain .html files, which any static server (and file://)
# serves without rewrite rules and which cost no directory each (350 cities × 40 posts).
ARTICLE_URL = "actualites/{slug}.html"
ARTICLE_SAVE_AS = "actualites/{slug}.html"
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
TAG_URL = "etiquettes/{slug}.html"
TAG_SAVE_AS = "etiquettes/{slug}.html"
TAGS_URL = "etiquettes/"
TAGS_SAVE_AS = "etiquettes/index.html"
ARCHIVES_URL = "archives.html"
ARCHIVES_SAVE_AS = "archives.html"
AGENDA_URL = "agenda/"
AGENDA_SAVE_AS = "agenda/index.html"
INDEX_SAVE_AS = "index.html"
# Each site's search page, on its own Pagefind index (avf/build/search_index.py).
RECHERCHE_SAVE_AS = "recherche/index.html"
# Every city's pré-accueil page (its form posts to the service; phone, address and hours
# beside it when no service answers) and every site's accessibility statement (RGAA).
CONTACT_SAVE_AS = "contact/index.html"
ACCESSIBILITE_SAVE_AS = "accessibilite/index.html"
# "404": every site's « Page introuvable », written at its root as Pelican's default
# `404.html` (a setting named 404_SAVE_AS cannot be written here); the service and nginx
# send it for a missing address (the city's, else the portal's). Not in the sitemap.
# A city's home (index.html) is written by the avf_city plugin: paginated over its news,
# without the events « Prochainement » already shows.
DIRECT_TEMPLATES = ["tags", "archives", "agenda", "recherche", "contact", "accessibilite",
                    "404"]
PAGINATED_TEMPLATES = {"index": 10, "tag": 20}
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{name}-{number}{extension}", "{name}-{number}{extension}"),
)
DEFAULT_PAGINATION = 10
# Nothing a volunteer did not ask for: no author pages, no per-author or category feeds.
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
CATEGORIES_SAVE_AS = ""
CATEGORY_SAVE_AS = ""  # categories stay as metadata; tags are the one way to browse
YEAR_ARCHIVE_SAVE_AS = ""
MONTH_ARCHIVE_SAVE_AS = ""
DRAFT_SAVE_AS = ""
DRAFT_PAGE_SAVE_AS = ""

# One Atom feed per city (and an iCalendar agenda, written by the avf_agenda plugin).
FEED_ALL_ATOM = "atom.xml"
FEED_ALL_RSS = None
CATEGORY_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None
FEED_MAX_ITEMS = 20
AGENDA_ICS_SAVE_AS = "agenda.ics"

SUMMARY_MAX_LENGTH = 40
# Markdown is rendered by cmark-gfm (avf/render/markdown.py), not by Python-Markdown.

# Member-only pages of a city are published under SITE_BASE_URL/membres/<slug>/,
# served only by the companion service to that city's signed-in members.
MEMBERS_URL_PREFIX = "membres"
# The national portal's own pages and news (content/_network/).
NETWORK_PAGE_URL = "reseau/{slug}/"  # short addresses, like a city's standing pages
NETWORK_PAGE_SAVE_AS = "reseau/{slug}/index.html"

# When the network established the accessibility statement of its theme (accessibilite/):
# change it with the statement, after a new check of the theme.
import datetime as _datetime  # noqa: E402

AVF_ACCESSIBILITY_DATE = _datetime.date(2026, 11, 29)

# French dates in templates, whatever locales the server has (avf/theme/filters.py).
from avf.theme.filters import FILTERS  # noqa: E402

JINJA_FILTERS = dict(FILTERS)

# Every `{{ value }}` of the theme is HTML-escaped (avf/theme/environment.py says why).
from avf.theme.environment import JINJA_ENVIRONMENT as _THEME_ENVIRONMENT  # noqa: E402

JINJA_ENVIRONMENT = dict(_THEME_ENVIRONMENT)
