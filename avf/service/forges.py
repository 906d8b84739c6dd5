"""What the forges send on a push, without HTTP: who sent it, whether it is signed with our
secret, and what was pushed. Pure functions over headers and raw body bytes.

| forge | event header | signature |
| --- | --- | --- |
| GitHub | `X-GitHub-Event` | `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>` |
| Gitea | `X-Gitea-Event` | `X-Gitea-Signature: <hex HMAC-SHA256(secret, body)>` |
| Forgejo | `X-Forgejo-Event` | `X-Forgejo-Signature: <hex HMAC-SHA256(secret, body)>` |
| GitLab | `X-Gitlab-Event` | `X-Gitlab-Token: <the secret itself>` (no HMAC) |

Gitea and Forgejo also send GitHub's headers for compatibility, so a forge is recognized
by its own headers first. Only headers authenticate: old Gitea's `secret` field in the
JSON body is never looked at.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass

ZERO_SHA = "0" * 40
PUSH_EVENTS = {"push", "push hook", "tag push hook"}  # GitHub/Gitea/Forgejo, GitLab
PING_EVENTS = {"ping"}
# Each forge: (its name, the header naming the event, the header carrying the signature).
FORGES = (
    ("forgejo", "x-forgejo-event", "x-forgejo-signature"),
    ("gitea", "x-gitea-event", "x-gitea-signature"),
    ("gitlab", "x-gitlab-event", "x-gitlab-token"),
    ("github", "x-github-event", "x-hub-signature-256"),
)
DELIVERY_HEADERS = {
    "forgejo": ("x-forgejo-delivery",),
    "gitea": ("x-gitea-delivery",),
    "gitlab": ("x-gitlab-event-uuid", "idempotency-key"),
    "github": ("x-github-delivery",),
}


class PayloadError(ValueError):
    """The body is not the JSON of a push this module understands (a 400 for the sender)."""


@dataclass(frozen=True)
class Push:
    """One pushed ref: `before` → `after` (40 zeros on either side for a creation or
    deletion)."""

    forge: str
    delivery_id: str
    ref: str
    before: str
    after: str
    deleted: bool
    pusher: str | None = None

    @property
    def branch(self) -> str | None:
        return self.ref.removeprefix("refs/heads/") if self.ref.startswith("refs/heads/") \
            else None

    @property
    def is_tag(self) -> bool:
        return self.ref.startswith("refs/tags/")


def identify(headers: Mapping[str, str]) -> str | None:
    """The forge that sent these headers ("github", "gitea", "forgejo", "gitlab"), or None."""
    lowered = {name.lower() for name in headers}
    for forge, event_header, signature_header in FORGES:
        if event_header in lowered or signature_header in lowered:
            return forge
    return None


def event_of(forge: str, headers: Mapping[str, str]) -> str:
    """The event name the forge gave, lower-cased ("push", "ping", "push hook"…)."""
    event_header = next(event for name, event, _ in FORGES if name == forge)
    return _header(headers, event_header).strip().lower()


def is_signed(forge: str, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    """Whether the request carries our secret's signature over these exact bytes."""
    if not secret:
        return False
    if forge == "gitlab":
        token = _header(headers, "x-gitlab-token")
        return bool(token) and hmac.compare_digest(token.encode(), secret.encode())
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if forge == "github":
        sent = _header(headers, "x-hub-signature-256")
        scheme, _, digest = sent.partition("=")
        return scheme == "sha256" and hmac.compare_digest(digest.lower().encode(),
                                                          expected.encode())
    signature_header = next(sig for name, _, sig in FORGES if name == forge)
    sent = _header(headers, signature_header)
    return bool(sent) and hmac.compare_digest(sent.strip().lower().encode(), expected.encode())


def delivery_id(forge: str, headers: Mapping[str, str], body: bytes) -> str:
    """The forge's id of this delivery (resent deliveries keep it); a hash of the body when
    the forge gives none."""
    for header in DELIVERY_HEADERS.get(forge, ()):
        value = _header(headers, header).strip()
        if value:
            return f"{forge}:{value}"[:200]
    return f"{forge}:sha256:{hashlib.sha256(body).hexdigest()}"


def read_json(body: bytes) -> dict[str, object]:
    """The body as a JSON object; PayloadError otherwise."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise PayloadError("le corps de la requête n'est pas du JSON valide") from None
    if not isinstance(payload, dict):
        raise PayloadError("le corps de la requête n'est pas un objet JSON")
    return payload


def parse_push(forge: str, delivery: str, payload: Mapping[str, object]) -> Push:
    """The ref a push event moved. Deletions are `deleted: true` (GitHub) or an `after` of
    40 zeros (every forge)."""
    ref, before, after = (payload.get(key) for key in ("ref", "before", "after"))
    if not (isinstance(ref, str) and isinstance(before, str) and isinstance(after, str)):
        raise PayloadError("un push doit donner « ref », « before » et « after »")
    if not (_is_sha(before) and _is_sha(after)):
        raise PayloadError("« before » et « after » doivent être des identifiants de commit")
    deleted = payload.get("deleted") is True or after.strip("0") == ""
    return Push(forge=forge, delivery_id=delivery, ref=ref, before=before.lower(),
                after=after.lower(), deleted=deleted, pusher=_pusher(forge, payload))


def ignored_because(push: Push, branch: str) -> str | None:
    """Why this push is not built (in French), or None when it moved `branch`."""
    if push.is_tag:
        return f"étiquette {push.ref.removeprefix('refs/tags/')} : rien à construire"
    if push.branch is None:
        return f"référence {push.ref} : rien à construire"
    if push.branch != branch:
        return f"branche {push.branch} : seule la branche {branch} est publiée"
    if push.deleted:
        return f"suppression de la branche {branch} : le site en ligne est conservé"
    return None


def _pusher(forge: str, payload: Mapping[str, object]) -> str | None:
    """Who pushed, as the forge names them (for the build history)."""
    if forge == "gitlab":
        name = payload.get("user_username") or payload.get("user_name")
        return str(name)[:320] if name else None
    pusher = payload.get("pusher")
    if isinstance(pusher, dict):
        name = pusher.get("name") or pusher.get("login") or pusher.get("username")
        return str(name)[:320] if name else None
    return None


def _is_sha(value: str) -> bool:
    return len(value) in (40, 64) and all(c in "0123456789abcdefABCDEF" for c in value)


def _header(headers: Mapping[str, str], name: str) -> str:
    """A header by its lower-case name, from Starlette's headers or a plain dict."""
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), "")
    return value
