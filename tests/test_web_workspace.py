"""The web workspace over HTTP without a browser: people's and config text is escaped everywhere, links in messages
are only http(s), pages name no other host and say so in their Content-Security-Policy, and a form posted from
another site is refused."""

from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import ClientSession
from hypothesis import given, settings

from bot.app import build_app, start
from bot.clock import FakeClock
from bot.messages import Button, Buttons, Context, Fields, Header, Markdown, Message, Text, link, md
from bot.platforms.web.renderer import inline, markdown, message_html
from bot.store.db import open_database
from tests.support import example_config_data, write_config_data
from tests.test_text_is_data import OURS, every_place, hostile

HOSTILE = "<script>alert('x')</script> Smith"


def test_markup_becomes_tags_only_around_escaped_text() -> None:
    ours = md("*Bold* and _it_ with `code <b>`\n- one {}\n  more\n\n", "<i>*x*")
    ours += link("https://example.org/a?b=1&c=2", "a <link>") + md(" by <@maria>")
    assert str(markdown(ours, {"maria": "Maria <Lopez>"})) == (
        "<p><strong>Bold</strong> and <em>it</em> with <code>code &lt;b&gt;</code></p>"
        "<ul><li>one &lt;i&gt;*x*<br>more</li></ul>"
        '<p><a href="https://example.org/a?b=1&amp;c=2" rel="noopener noreferrer">a &lt;link&gt;</a> by '
        '<span class="mention">@Maria &lt;Lopez&gt;</span></p>'
    )
    # What a person typed is literal: marks, links, tags and mentions are shown as typed.
    typed = "*not bold* <https://evil.example|x> <script>alert(1)</script> <@maria>"
    assert str(markdown(typed)) == (
        "<p>*not bold* &lt;https://evil.example|x&gt; &lt;script&gt;alert(1)&lt;/script&gt; &lt;@maria&gt;</p>"
    )
    assert str(inline(Markdown("<javascript:alert(1)|click>"))) == "click"  # a link we wrote, to a bad scheme
    assert str(inline(Markdown("5 * 3"))) == "5 * 3"  # an unpaired mark stays literal
    assert str(inline(Markdown("*a _b* c_"))) == "<strong>a <em>b</em></strong><em> c</em>"  # crossing marks nest


async def test_pages_escape_people_and_config_and_load_nothing_from_elsewhere(tmp_path: Path) -> None:
    data = example_config_data()
    data["members"]["maria"]["name"] = HOSTILE
    data["teams"]["district"]["name"] = "District <b>Team</b>"
    folder = write_config_data(tmp_path / "config", data)
    db = open_database(f"sqlite:///{tmp_path / 'web.sqlite3'}")
    clock = FakeClock(datetime(2026, 11, 28, 21, 23, tzinfo=ZoneInfo("America/Los_Angeles")))
    app = build_app({}, clock=clock, config_dir=str(folder), database=db, echo=False)
    serving = await start(app, 0, host="127.0.0.1")
    base = f"http://127.0.0.1:{serving.port}"
    assert app.local is not None
    app.local.outbound.add(
        "#district-partnership",
        Message(
            (
                Header(HOSTILE),
                Text(f"{HOSTILE} said <javascript:alert(1)|click me>"),
                Fields(((HOSTILE, "<b>x</b>"),)),
                Context("<iframe>"),
                Buttons((Button(HOSTILE, "pulse.answer", "1"),)),
            ),
            HOSTILE,
        ),
    )
    try:
        async with ClientSession() as session:
            async with session.get(f"{base}/as/maria/c/district-partnership") as response:
                page = await response.text()
                assert response.status == 200
                assert "default-src 'self'" in response.headers["Content-Security-Policy"]
            assert "<script>alert" not in page and "<b>Team</b>" not in page and "<iframe>" not in page
            assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Smith" in page
            assert 'href="javascript' not in page
            for url in re.findall(r'(?:src|href|action)="([^"]+)"', page):
                assert url.startswith(("/", "#")), f"the page names another host: {url}"

            async with session.post(
                f"{base}/as/maria/command", data={"text": "/partner help"}, headers={"Origin": "https://evil.example"}
            ) as refused:
                assert refused.status == 403
            async with session.post(
                f"{base}/as/maria/command", data={"text": "/partner help", "view": "dm"}, allow_redirects=False
            ) as accepted:
                assert accepted.status == 303 and accepted.headers["Location"] == "/as/maria/dm"
            async with session.get(f"{base}/as/maria/health/district", allow_redirects=False) as chair:
                assert chair.status == 303 and chair.headers["Location"].startswith("/dashboard/")
            async with session.get(f"{base}/as/helen/health/district", allow_redirects=False) as member:
                assert member.status == 403 and "Only the co-chairs of District &lt;b&gt;Team&lt;/b&gt;" in (
                    await member.text()
                )
            async with session.get(f"{base}/static/app.js") as script:
                assert script.status == 200 and "http" not in (await script.text()).replace("https?", "")
    finally:
        await serving.stop()
        db.engine.dispose()


async def test_answering_in_the_browser_leaves_no_time_of_answering_in_the_database(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """What the web workspace stores for people's own actions (replies only they see, updated invitations, open
    forms) carries no time: a copy of the database cannot tell when anyone answered, on SQLite or PostgreSQL."""
    from datetime import UTC, timedelta

    from bot.simulate import send_what_is_due
    from bot.web import build_web_app
    from tests.slack.workspace import serve_on_loopback
    from tests.test_pulse_anonymity import dump

    folder = write_config_data(tmp_path / "config", example_config_data())
    clock = FakeClock(datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("America/Los_Angeles")))  # a Tuesday morning
    app = build_app({}, clock=clock, config_dir=str(folder), database=db, echo=False)
    # The web server alone: deliveries happen only when the test sends (none while people answer).
    runner, base = await serve_on_loopback(build_web_app(app.platforms.values(), app.health, app.runtime))
    assert app.local is not None
    answered_at = []
    try:
        async with ClientSession() as session:

            async def post(path: str, data: dict[str, str]) -> str:
                async with session.post(base + path, data=data, allow_redirects=False) as response:
                    assert response.status == 303, await response.text()
                    return response.headers["Location"]

            await post("/as/maria/command", {"text": "/partner pulse start", "view": "c/district-partnership"})
            await send_what_is_due(app.sender)
            for member in ("teresa", "david", "omar", "angela", "helen", "james"):
                clock.advance(minutes=37)
                answered_at.append(clock.now())
                [invitation] = [
                    p
                    for p in app.local.outbound.in_conversation(f"@{member}", member)
                    if "a short anonymous pulse" in p.message.plain()
                ]
                where = "home" if member == "omar" else str(invitation.id)  # one answers from the home view
                opened = await post(f"/as/{member}/press", {"post": where, "control": "1", "view": where})
                form = opened.split("form=")[1].split("&")[0]
                answers = {
                    f"{facet}_{n}": "4"
                    for facet in ("benevolence", "reliability", "honesty", "openness")
                    for n in (1, 2)
                } | {"competence_1": "5", "view": "dm"}
                await post(f"/as/{member}/forms/{form}", answers)
            clock.advance(hours=5)
            await post("/as/maria/command", {"text": "/partner pulse close", "view": "c/district-partnership"})
            await send_what_is_due(app.sender)
    finally:
        await runner.cleanup()

    window = (answered_at[0] - timedelta(minutes=1), answered_at[-1] + timedelta(minutes=1))
    tables = dump(db)
    # The workspace's own tables (the routines' are test_pulse_anonymity's; a tick meanwhile may stamp theirs).
    for name in ("local_posts", "local_forms", "bot_settings"):
        _, rows = tables[name]
        for row in rows:
            for value in row:
                if isinstance(value, str):
                    try:
                        value = datetime.fromisoformat(value)  # SQLite hands times back as text
                    except ValueError:
                        continue
                if isinstance(value, datetime):
                    instant = value if value.tzinfo else value.replace(tzinfo=UTC)
                    assert not window[0] <= instant <= window[1], f"{name} stores a time from the answering window"
    shown = [p for p in app.local.posts if p.only_for == "omar"]
    assert shown and all(p.at is None for p in shown)  # the reply omar saw on his home view, kept without a time


class _Seen(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


PAGE_TAGS = {"div", "h3", "p", "strong", "em", "s", "code", "a", "ul", "li", "br", "dl", "dt", "dd", "hr", "form",
             "input", "button", "figure", "figcaption", "img", "span"}  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(hostile)
def test_the_web_workspace_shows_any_text_without_a_tag_or_link_of_theirs(value: str) -> None:
    seen = _Seen()
    seen.feed(message_html(every_place(value), 7, {"maria": value}))
    assert {tag for tag, _ in seen.tags} <= PAGE_TAGS
    links = [attrs.get("href") for tag, attrs in seen.tags if tag == "a"]
    assert sorted(links) == ["/images/7/0.png", OURS], links  # the chart, and the one link we made
    for _, attrs in seen.tags:
        assert not any(name.startswith("on") or name in ("style", "srcdoc") for name in attrs)
        assert all(attrs.get(name, "/").startswith(("/", OURS)) for name in ("src", "href", "action"))
    assert value.strip() == "" or value.split("\n")[0].strip() in "".join(seen.text)
