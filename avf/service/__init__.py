"""The companion service: one ASGI app beside the static sites (create_app in app.py).

Parts, one module each: settings, templating, static (OUT/public), auth (magic links,
sessions, roles), security (CSRF, rate limits), hooks (git webhooks), forges (payloads and
signatures), repo (fetch and diff the content checkout), queue (build jobs), dashboard,
contact (pré-accueil), profile_pages and privacy (a member's profile and data),
directory_pages and relay_pages (the members' directory and messages). Mail lives in
avf.mail, tables in avf.store.
"""

from avf.service.app import create_app
from avf.service.settings import ServiceSettings

__all__ = ["ServiceSettings", "create_app"]
