"""How to reach the SMTP server (read from the environment by avf.service.settings)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 25
    username: str | None = None
    password: str | None = None
    tls: str = "none"  # none | starttls | ssl
    sender: str = "AVF <ne-pas-repondre@avf.localhost>"
    timeout: float = 20.0  # seconds for connecting and for each SMTP command
    # With no SMTP host (the embedded default, a developer's machine), mails are written as
    # .eml files into this folder and announced on the terminal instead of being sent.
    pickup_dir: Path | None = None

    @property
    def delivers_to_folder(self) -> bool:
        return not self.host
