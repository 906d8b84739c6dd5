"""Forty hostile texts sent through the real forms — a post's comment, a group topic, a
topic's reply — come out inert on every page that shows them: the thread, the topic, the
moderation queue. Inert: no script element, no event-handler attribute, no link or source
to a `javascript:`, `vbscript:` or `data:` address, and every link of a member's text
carries rel="nofollow ugc"."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from discussion_helpers import (
    MEMBER_POST,
    build_discussion,
    comment,
    person,
    post_form,
    service,
    signed_in,
)
from starlette.applications import Starlette

from avf.service.discussion import render_text

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<img src=x onerror="alert(1)">',
    "<img src=x onerror=alert(1)//",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<body onload=alert(1)>",
    '<iframe src="javascript:alert(1)"></iframe>',
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<a href="javascript:alert(1)">clic</a>',
    '<a href="JaVaScRiPt:alert(1)">clic</a>',
    '<a href=" javascript:alert(1)">clic</a>',
    '<a href="&#106;avascript:alert(1)">clic</a>',
    '<a href="&#x6A;&#x61;&#x76;&#x61;script:alert(1)">clic</a>',
    '<a href="java&#09;script:alert(1)">clic</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">clic</a>',
    '<a href="vbscript:msgbox(1)">clic</a>',
    "[clic](javascript:alert(1))",
    "[clic](JAVASCRIPT:alert(1))",
    "[clic](&#106;avascript:alert(1))",
    "[clic](data:text/html,<script>alert(1)</script>)",
    '[clic](https://ok.example "titre" onclick="alert(1)")',
    "![image](javascript:alert(1))",
    "![x](https://evil.example/x.png)",
    "<javascript:alert(1)>",
    "<https://ok.example/\" onmouseover=\"alert(1)>",
    'https://ok.example/"onmouseover="alert(1)',
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph>"
    "</table></mtext></math>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<form action=javascript:alert(1)><button>go</button></form>",
    '<input autofocus onfocus="alert(1)">',
    "<details open ontoggle=alert(1)>",
    '<object data="javascript:alert(1)"></object>',
    '<embed src="data:text/html,<script>alert(1)</script>">',
    "<!--><script>alert(1)</script>-->",
    '<a href="https://ok.example" onclick="alert(1)" rel="opener">lien</a>',
    "`<script>alert(1)</script>` et\n\n```\n<img src=x onerror=alert(1)>\n```",
]
TAG = re.compile(r"<[a-zA-Z][^>]*>")
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
ADDRESS = re.compile(r"""\s(?:href|src|action|data|formaction|srcdoc)\s*=\s*["']?([^"'\s>]*)""",
                     re.IGNORECASE)
TEXTS = re.compile(r'<div class="discussion-text">(.*?)</div>', re.DOTALL)


def test_there_are_enough_payloads() -> None:
    assert len(PAYLOADS) >= 30


def assert_inert(page: str, baseline_scripts: int) -> None:
    assert page.lower().count("<script") == baseline_scripts
    for tag in TAG.findall(page):
        assert not HANDLER.search(tag), tag
        for address in ADDRESS.findall(tag):
            plain = re.sub(r"[\s\x00-\x1f]", "", html.unescape(address)).lower()
            assert not plain.startswith(("javascript:", "vbscript:", "data:")), tag
    for text in TEXTS.findall(page):
        for link in re.findall(r"<a\b[^>]*>", text):
            rel = re.search(r'rel="([^"]*)"', link)
            assert rel and {"nofollow", "ugc"} <= set(rel.group(1).split()), link
        assert "<img" not in text and "<iframe" not in text and "<style" not in text


@pytest.mark.parametrize("payload", PAYLOADS)
def test_render_text_alone_is_inert(payload: str) -> None:
    assert_inert(f'<div class="discussion-text">{render_text(payload)}</div>', 0)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Starlette]:
    root = tmp_path_factory.mktemp("xss")
    with service(root / "service", build_discussion(root)) as application:
        yield application


def test_payloads_through_comments_and_group_topics_are_inert(app: Starlette) -> None:
    person(app, "chef@example.org", "Chef", role="admin")
    admin = signed_in(app, "chef@example.org", ip="192.0.2.1")
    thread = f"/membres/lyon/commentaires/{MEMBER_POST}"
    scripts = admin.get(thread).text.lower().count("<script")
    post_form(admin, "/membres/lyon/groupes/", "/membres/lyon/groupes/",
              {"nom": "Randonnée", "description": "<script>alert(1)</script> Marcher."})
    group = "/membres/lyon/groupes/randonnee/"
    # The admin's topic is shown at once: members reply to it.
    post_form(admin, group, f"{group}rejoindre", {})
    post_form(admin, group, f"{group}sujets", {"titre": "Sorties", "message": "Bienvenue"})
    topic = f"{group}sujets/1"
    assert admin.get(topic).status_code == 200
    for number, payload in enumerate(PAYLOADS):
        email = f"membre{number}@example.org"
        person(app, email, f"Membre {number} <b onmouseover=alert(1)>")
        member = signed_in(app, email, ip=f"198.51.100.{number + 1}")
        assert comment(member, payload).status_code == 303
        post_form(member, group, f"{group}rejoindre", {})
        assert post_form(member, group, f"{group}sujets",
                         {"titre": payload[:150], "message": payload}).status_code == 303
        assert post_form(member, topic, topic, {"message": payload}).status_code == 303
        # What the author sees of their own held texts.
        assert_inert(member.get(thread).text, scripts)
        assert_inert(member.get(topic).text, scripts)
        assert_inert(member.get(group).text, scripts)
    queue = admin.get("/membres/lyon/moderation/")
    # Every payload held three times (comment, topic, reply), the queue shows them all.
    assert len(TEXTS.findall(queue.text)) == 3 * len(PAYLOADS)
    assert_inert(queue.text, scripts)
    # Every held text approved: all of them visible to everyone, still inert.
    for comment_id in re.findall(r"/moderation/commentaire/(\d+)/approuver", queue.text):
        post_form(admin, "/membres/lyon/moderation/",
                  f"/membres/lyon/moderation/commentaire/{comment_id}/approuver", {})
    for topic_id in re.findall(r"/moderation/sujet/(\d+)/approuver", queue.text):
        post_form(admin, "/membres/lyon/moderation/",
                  f"/membres/lyon/moderation/sujet/{topic_id}/approuver", {})
    for page in (thread, topic, group, f"{group}sujets/2", "/membres/lyon/groupes/"):
        assert_inert(admin.get(page).text, scripts)
    shown = admin.get(thread).text
    assert len(TEXTS.findall(shown)) == len(PAYLOADS)
    feed = admin.get(f"{group}fil.atom")
    assert feed.status_code == 200 and "<script" not in feed.text
