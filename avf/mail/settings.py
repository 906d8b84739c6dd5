"""How to reach the SMTP server (read from the environment by avf.service.settings)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 25
    username: str | None = None
    password: str | None = None
    tls: str = "none"  # none | starttls | ssl
    sender: str = "AVF <ne-pas-repondre@avf.localhost>"
    timeout: float = 20.0  # seconds for connecting and for each SMTP command
