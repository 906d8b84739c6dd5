"""Forges' push payloads and signatures, without HTTP: every sample payload that GitHub,
Gitea/Forgejo and GitLab really send (tests/fixtures/webhooks), with its signed headers."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from avf.service import forges
from avf.service.forges import PayloadError, Push

FIXTURES = Path(__file__).parent / "fixtures" / "webhooks"
SIGNED = json.loads((FIXTURES / "signed-requests.json").read_text(encoding="utf-8"))
SECRET = SIGNED["secret"]
SAMPLES = sorted(SIGNED["requests"])
ZERO = "0" * 40
# What each sample is: (forge, ref, before, after, deleted, built when "master" is published)
EXPECTED = {
    "github/push.octokit.json": ("github", "refs/tags/simple-tag", "6113728f27ae", ZERO,
                                 True, False),
    "github/push-new-branch.octokit.json": ("github", "refs/heads/master", ZERO,
                                            "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
                                            False, True),
    "github/push.go-scm.json": ("github", "refs/heads/master", "a10867b14bb7",
                                "199eddf46df50de8d02e99bf1c5fdb4101338224", False, True),
    "gitea/push.go-scm.json": ("gitea", "refs/heads/master", "9836a96a253c",
                               "4522cbcefc20728a5b72b3a86af35e608622c514", False, True),
    "gitlab/push.go-scm.json": ("gitlab", "refs/heads/master", "9217710ce8c7",
                                "2adc9465c4edfc33834e173fe89436a7cb899a1d", False, True),
    "gitlab/push-subgroup.go-scm.json": ("gitlab", "refs/heads/master", "9217710ce8c7",
                                         "2adc9465c4edfc33834e173fe89436a7cb899a1d", False,
                                         True),
    "gitlab/push.docs.json": ("gitlab", "refs/heads/master", "95790bf891e7",
                              "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", False, True),
}


def sample(name: str) -> tuple[bytes, dict[str, str]]:
    """A sample's exact bytes and the headers its forge sends with them."""
    headers = {key: value for key, value in SIGNED["requests"][name]["headers"].items()
               if not key.startswith("_")}
    return (FIXTURES / name).read_bytes(), headers


def forgejo_sample() -> tuple[bytes, dict[str, str]]:
    """Forgejo sends Gitea's body and headers, plus its own."""
    body, headers = sample("gitea/push.go-scm.json")
    extra = SIGNED["requests"]["gitea/push.go-scm.json"]["headers"]["_forgejo_also_sends"]
    return body, {**headers, **extra}


def test_every_sample_is_listed_with_its_exact_bytes() -> None:
    assert set(SAMPLES) == set(EXPECTED)
    for name in SAMPLES:
        body, _ = sample(name)
        assert hashlib.sha256(body).hexdigest() == SIGNED["requests"][name]["body_sha256"]


def test_githubs_documented_test_vector() -> None:
    headers = {"X-GitHub-Event": "push", "X-Hub-Signature-256":
               "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}
    assert forges.is_signed("github", headers, b"Hello, World!", "It's a Secret to Everybody")
    assert not forges.is_signed("github", headers, b"Hello, World?",
                                "It's a Secret to Everybody")


@pytest.mark.parametrize("name", SAMPLES)
def test_each_sample_is_recognized_verified_and_parsed(name: str) -> None:
    forge, ref, before, after, deleted, built = EXPECTED[name]
    body, headers = sample(name)
    assert forges.identify(headers) == forge
    assert forges.event_of(forge, headers) in forges.PUSH_EVENTS
    assert forges.is_signed(forge, headers, body, SECRET)
    push = forges.parse_push(forge, forges.delivery_id(forge, headers, body),
                             forges.read_json(body))
    assert (push.forge, push.ref, push.after, push.deleted) == (forge, ref, after, deleted)
    assert push.before.startswith(before)
    assert (forges.ignored_because(push, "master") is None) is built


@pytest.mark.parametrize("name", SAMPLES)
def test_a_changed_byte_or_a_wrong_secret_is_refused(name: str) -> None:
    body, headers = sample(name)
    forge = forges.identify(headers)
    assert forge is not None
    flipped = bytearray(body)
    flipped[len(flipped) // 2] ^= 0x01
    # GitLab's token is a shared password, not a signature of the body: GitLab's
    # deliveries are only as safe as TLS makes them (the sync still checks that the
    # pushed commit is really in origin before anything moves).
    assert forges.is_signed(forge, headers, bytes(flipped), SECRET) is (forge == "gitlab")
    assert not forges.is_signed(forge, headers, body, "another-secret")
    assert not forges.is_signed(forge, headers, body, "")
    signature = {"gitlab": "X-Gitlab-Token", "gitea": "X-Gitea-Signature",
                 "github": "X-Hub-Signature-256"}[forge]
    tampered = {**headers, signature: headers[signature][:-1] + "0"}
    if tampered[signature] != headers[signature]:
        assert not forges.is_signed(forge, tampered, body, SECRET)
    unsigned = {key: value for key, value in headers.items() if key != signature}
    assert not forges.is_signed(forge, unsigned, body, SECRET)


def test_forgejo_is_recognized_by_its_own_headers() -> None:
    body, headers = forgejo_sample()
    assert forges.identify(headers) == "forgejo"
    assert forges.is_signed("forgejo", headers, body, SECRET)
    assert forges.delivery_id("forgejo", headers, body) == \
        "forgejo:61f0178c-613e-5d0a-9c32-812c3f795afd"
    without_own = {k: v for k, v in headers.items() if k != "X-Forgejo-Signature"}
    assert not forges.is_signed("forgejo", without_own, body, SECRET)


def test_a_secret_in_the_body_never_authenticates() -> None:
    """Gitea before 1.14 also put the secret in the JSON body: that is no signature."""
    payload = json.loads(sample("gitea/push.go-scm.json")[0])
    body = json.dumps({**payload, "secret": SECRET}).encode()
    headers = {"X-Gitea-Event": "push", "X-Gitea-Delivery": "1"}
    assert not forges.is_signed("gitea", headers, body, SECRET)


def test_signatures_are_compared_whatever_the_header_case() -> None:
    body = b'{"zen": "Keep it logically awesome."}'
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"x-github-event": "ping", "x-hub-signature-256": f"sha256={digest.upper()}"}
    assert forges.identify(headers) == "github"
    assert forges.event_of("github", headers) == "ping"
    assert forges.is_signed("github", headers, body, SECRET)
    assert not forges.is_signed("github", {"x-hub-signature-256": digest}, body, SECRET)


def test_delivery_ids() -> None:
    body, headers = sample("gitlab/push.docs.json")
    assert forges.delivery_id("gitlab", headers, body) == \
        "gitlab:f3faf26e-5235-5295-b6b0-e4a2110fdf1e"
    headers = {k: v for k, v in headers.items() if k != "X-Gitlab-Event-UUID"}
    assert forges.delivery_id("gitlab", headers, body) == \
        "gitlab:f3faf26e-5235-5295-b6b0-e4a2110fdf1e"  # Idempotency-Key
    assert forges.delivery_id("gitlab", {}, body) == \
        f"gitlab:sha256:{hashlib.sha256(body).hexdigest()}"


def test_unknown_senders_are_not_identified() -> None:
    assert forges.identify({"Content-Type": "application/json"}) is None


@pytest.mark.parametrize("body", [b"", b"{not json", b"\xff\xfe", b"[1, 2]", b'"push"'])
def test_malformed_bodies(body: bytes) -> None:
    with pytest.raises(PayloadError):
        forges.read_json(body)


@pytest.mark.parametrize("payload", [
    {"before": "a" * 40, "after": "b" * 40},
    {"ref": "refs/heads/main", "before": "a" * 40},
    {"ref": "refs/heads/main", "before": "a" * 40, "after": "not-a-sha"},
    {"ref": 3, "before": "a" * 40, "after": "b" * 40},
])
def test_a_push_without_its_ref_and_commits_is_refused(payload: dict[str, object]) -> None:
    with pytest.raises(PayloadError):
        forges.parse_push("github", "github:1", payload)


def push(ref: str, after: str = "b" * 40, deleted: bool = False) -> Push:
    return Push("gitea", "gitea:1", ref, "a" * 40, after, deleted)


@pytest.mark.parametrize(("pushed", "reason"), [
    (push("refs/heads/main"), None),
    (push("refs/heads/essai"), "branche essai : seule la branche main est publiée"),
    (push("refs/tags/v1"), "étiquette v1 : rien à construire"),
    (push("refs/heads/main", ZERO, deleted=True),
     "suppression de la branche main : le site en ligne est conservé"),
    (push("refs/notes/commits"), "référence refs/notes/commits : rien à construire"),
])
def test_only_pushes_to_the_published_branch_are_built(pushed: Push,
                                                       reason: str | None) -> None:
    assert forges.ignored_because(pushed, "main") == reason


def test_a_gitlab_branch_deletion_is_seen_from_its_zero_commit() -> None:
    payload = json.loads(sample("gitlab/push.go-scm.json")[0])
    parsed = forges.parse_push("gitlab", "gitlab:1", {**payload, "after": ZERO,
                                                      "checkout_sha": None})
    assert parsed.deleted and parsed.branch == "master"
    assert parsed.pusher == payload["user_username"]
