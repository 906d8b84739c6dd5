"""The service's pages are rendered with the sites' own theme (themes/avf/templates), so
sign-in, dashboard, members' area and editor look like the city sites. Service templates
live in `themes/avf/templates/service/` and extend the theme's `base.html`."""

from __future__ import annotations

from pathlib import Path

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from avf.build.options import PROJECT_ROOT
from avf.service.csrf import issue_token
from avf.theme.filters import FILTERS

THEME = PROJECT_ROOT / "themes" / "avf"


class Templates:
    """Render a theme template for a request, with what base.html expects."""

    def __init__(self, theme_url: str, network_name: str = "Réseau AVF"):
        environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(THEME / "templates")), autoescape=True)
        environment.filters.update(FILTERS, seconds_fr=seconds_fr)
        environment.globals.update(
            SITENAME=network_name, SITEURL="", THEME_URL=theme_url, AVF_CITY=None,
            AVF_NETWORK_URL="", FEED_ALL_ATOM="atom.xml", menu_pages=[])
        self.environment = environment
        self._templates = Jinja2Templates(env=environment)

    def render(self, request: Request, name: str, context: dict[str, object] | None = None,
               status_code: int = 200) -> HTMLResponse:
        values: dict[str, object] = {
            "person": getattr(request.state, "person", None),
            "csrf_token": issue_token(request),
            **(context or {}),
        }
        response = self._templates.TemplateResponse(request, name, values,
                                                    status_code=status_code)
        # Every service page is made for the person asking: no shared cache keeps it.
        response.headers.setdefault("Cache-Control", "private, no-store")
        return response  # type: ignore[return-value]


def seconds_fr(seconds: float | None) -> str:
    """A duration for people, in French: « 0,03 s », « 1,2 s », « 2 min 05 s »."""
    value = float(seconds or 0)
    if value >= 60:
        return f"{int(value // 60)} min {int(value % 60):02d} s"
    shown = f"{value:.2f}" if value < 1 else f"{value:.1f}"
    return shown.replace(".", ",") + " s"


def theme_static_dir() -> Path:
    return THEME / "static"
