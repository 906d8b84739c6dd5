"""What a build is asked to do, read once from the command line or the service."""

from __future__ import annotations

import os
import runpy
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SETTINGS = PROJECT_ROOT / "pelicanconf.py"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})


@dataclass(frozen=True)
class BuildOptions:
    """A build of some or all cities of `content_dir` into `output_dir`."""

    content_dir: Path
    output_dir: Path
    cities: tuple[str, ...] = ()  # empty: every city
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    settings_file: Path = DEFAULT_SETTINGS
    site_url: str | None = None  # overrides SITE_BASE_URL of the settings file
    now: str | None = None  # ISO datetime that stands for "now" (reproducible output)
    force: bool = False  # rebuild even the cities that did not change
    strict: bool = False  # a warning (an image without description…) fails its city
    # Both on in production; off only to measure what they cost (`avf build --no-search
    # --no-precompress`, the benchmarks): without search, the search pages find nothing.
    search: bool = True  # a Pagefind index per site (build/search_index.py)
    precompress: bool = True  # .gz/.br beside the pages (build/precompress.py)

    @cached_property
    def base_settings(self) -> dict[str, object]:
        """The settings file's upper-case names (read without importing Pelican)."""
        names = runpy.run_path(str(self.settings_file))
        return {key: value for key, value in names.items() if key.isupper()}

    @cached_property
    def settings_sources(self) -> list[Path]:
        """The settings file and the modules it imports from its own folder
        (publishconf.py imports pelicanconf.py): a change to any of them changes the
        output."""
        import sys

        self.base_settings  # noqa: B018 - runs the settings file, importing its modules
        folder = self.settings_file.resolve().parent
        imported = {path for module in list(sys.modules.values())
                    if (path := _resolved(getattr(module, "__file__", None)))
                    and path.parent == folder}
        return sorted({self.settings_file.resolve(), *imported})

    @property
    def base_url(self) -> str:
        url = self.site_url or str(self.base_settings.get("SITE_BASE_URL", ""))
        return url.rstrip("/")

    @property
    def custom_domains(self) -> bool:
        """Whether cities' own domains (`domain:` in city.yaml) address their sites: yes,
        unless the network is built for this machine (`avf serve`, `avf watch`, a local
        preview), where no such domain leads: every city then stays at its sub-path. It
        follows from `base_url`, which every city's fingerprint already holds."""
        return (urlsplit(self.base_url).hostname or "") not in LOCAL_HOSTS


@cache
def _resolved(file: str | None) -> Path | None:
    """A module's file, resolved once per process: a warm build process (`avf watch`, the
    service's worker) has hundreds of modules loaded, and resolving them all for every
    build cost ~25 ms."""
    return Path(file).resolve() if file else None
