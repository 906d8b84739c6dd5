"""The built public sites (OUT/public), served by the service on the embedded default."""

from __future__ import annotations

from pathlib import Path

from starlette.staticfiles import StaticFiles


class PublicFiles(StaticFiles):
    def __init__(self, public_dir: Path):
        public_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(directory=public_dir, html=True, follow_symlink=True)
