"""The service's settings, read once from the environment (`AVF_*`) into a frozen object.

| variable | meaning | default |
| --- | --- | --- |
| AVF_DATA_DIR | state, SQLite database, build logs, secret key | `var/` of the project |
| AVF_DATABASE_URL | SQLAlchemy URL (e.g. `postgresql+psycopg://…`) | SQLite in AVF_DATA_DIR |
| AVF_SECRET_KEY | signs cookies and tokens | generated once into AVF_DATA_DIR |
| AVF_PUBLIC_URL | the public address, for links in emails | `http://HOST:PORT` |
| AVF_PRODUCTION | `1`: cookies are `Secure` (HTTPS only) | off |
| AVF_WEBHOOK_SECRET | HMAC secret (GitHub/Gitea/Forgejo) or token (GitLab) | none: hooks refused |
| AVF_GIT_BRANCH | the content branch whose pushes are built | the checkout's branch |
| AVF_SMTP_HOST | the SMTP server | none: mails are written to AVF_DATA_DIR/mail/ |
| AVF_SMTP_PORT | its port | 25 |
| AVF_SMTP_USER / AVF_SMTP_PASSWORD | SMTP login, when the server wants one | none |
| AVF_SMTP_TLS | `starttls`, `ssl` or `none` | none |
| AVF_MAIL_FROM | the sender of every email | `AVF <ne-pas-repondre@avf.localhost>` |
| AVF_BUILD_DELAY | seconds: a build asked this soon after the last waits as long for more | 3 |
| AVF_BUILD_JOBS | worker processes of a whole-network build | number of cores |
| AVF_ACCEL_REDIRECT | `1`: nginx sends member files the service allowed (X-Accel-Redirect) | off |
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from avf.build.options import DEFAULT_SETTINGS, PROJECT_ROOT
from avf.mail.settings import SmtpSettings

DEFAULT_DATA_DIR = PROJECT_ROOT / "var"


class SettingsError(ValueError):
    """A setting has a value the service cannot use (the message names the variable)."""


@dataclass(frozen=True)
class ServiceSettings:
    content_dir: Path
    output_dir: Path
    data_dir: Path
    database_url: str
    secret_key: str
    public_url: str
    production: bool = False
    webhook_secret: str | None = None
    git_branch: str | None = None
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    build_delay: float = 3.0  # seconds: the coalescing window of the build queue
    build_jobs: int = os.cpu_count() or 1
    pelican_settings: Path = DEFAULT_SETTINGS
    run_workers: bool = True  # False in tests that drive the outbox and queue by hand
    # Member files: answer with `X-Accel-Redirect` and let nginx send the bytes.
    accel_redirect: bool = False

    @classmethod
    def from_environ(cls, content_dir: Path, output_dir: Path,
                     public_url: str = "http://127.0.0.1:8000",
                     environ: Mapping[str, str] | None = None, **overrides: object,
                     ) -> ServiceSettings:
        """Settings from `environ` (default: os.environ); keyword overrides win."""
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("AVF_DATA_DIR") or DEFAULT_DATA_DIR)
        values: dict[str, object] = {
            "content_dir": content_dir,
            "output_dir": output_dir,
            "data_dir": data_dir,
            "database_url": env.get("AVF_DATABASE_URL")
            or f"sqlite:///{(data_dir / 'avf.sqlite3').resolve()}",
            "secret_key": env.get("AVF_SECRET_KEY") or _stored_secret(data_dir),
            "public_url": (env.get("AVF_PUBLIC_URL") or public_url).rstrip("/"),
            "production": _flag(env, "AVF_PRODUCTION"),
            "webhook_secret": env.get("AVF_WEBHOOK_SECRET") or None,
            "git_branch": env.get("AVF_GIT_BRANCH") or None,
            "smtp": SmtpSettings(
                host=env.get("AVF_SMTP_HOST", ""),
                port=_integer(env, "AVF_SMTP_PORT", 25),
                username=env.get("AVF_SMTP_USER") or None,
                password=env.get("AVF_SMTP_PASSWORD") or None,
                tls=_choice(env, "AVF_SMTP_TLS", ("none", "starttls", "ssl")),
                sender=env.get("AVF_MAIL_FROM", SmtpSettings.sender),
                pickup_dir=data_dir / "mail",
            ),
            "build_delay": _number(env, "AVF_BUILD_DELAY", 3.0),
            "build_jobs": _integer(env, "AVF_BUILD_JOBS", os.cpu_count() or 1),
            "accel_redirect": _flag(env, "AVF_ACCEL_REDIRECT"),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def public_dir(self) -> Path:
        return self.output_dir / "public"

    @property
    def members_dir(self) -> Path:
        return self.output_dir / "members"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "build-logs"


def _stored_secret(data_dir: Path) -> str:
    """A random key made on first start and kept (mode 600), so sessions survive restarts."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(key + "\n")
    return key


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in {"1", "true", "yes", "oui", "on"}


def _integer(env: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(env.get(name) or default)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {env.get(name)!r}") from None


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        return float(env.get(name) or default)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {env.get(name)!r}") from None


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = (env.get(name) or choices[0]).strip().lower()
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value
