"""Text is data, never markup: for any string a person or a config could supply, every place of the neutral message
model and every renderer (Slack's mrkdwn, Teams' markdown, the terminal) shows it as text. Hypothesis draws hostile
strings; markdown-it (a CommonMark reader, as Adaptive Cards use) reads the Teams side."""

from __future__ import annotations

import json
import re
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.messages import (
    Button,
    Buttons,
    ChoiceScale,
    Context,
    Fields,
    Form,
    FormField,
    Header,
    Image,
    Markdown,
    Message,
    Text,
    block_to_json,
    escape,
    link,
    md,
    mention,
    message_from_json,
    message_json_text,
    message_to_json,
    printable,
    quoted,
    tokens,
    unescape,
)
from bot.platforms.slack import renderer as slack
from bot.platforms.teams import renderer as teams
from bot.render import Templates
from tests.textcheck import SLACK_CONTROL, live_markdown, mrkdwn_texts, teams_texts

ATTACKS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U024BE7LH>",
    "<#C024BE7LR>",
    "<!subteam^S123|@admins>",
    "<http://evil.example/login|Reset your district password>",
    "<mailto:x@evil.example|mail>",
    "[Reset your password](http://evil.example)",
    "![pixel](http://evil.example/p.png)",
    "<at>Maria</at>",
    "<b>bold</b><script>x</script>",
    "&lt;!channel&gt;",
    "*bold* _it_ ~st~ `code`",
    "\\*not bold\\*",
    "http://evil.example",
    "\x1b[2J\x1b[31mred",
    "\u202eevil\u202c",
    "line\nbreak\r\n> quote\n# heading\n- item",
]
hostile = st.one_of(
    st.sampled_from(ATTACKS),
    st.lists(st.sampled_from([*"<>&|*_~`[]()!@#^\\\n -:/.=", "a", "U1", "http://", "\x1b"]), max_size=25).map("".join),
    st.lists(st.sampled_from(ATTACKS), min_size=2, max_size=3).map(" ".join),
    st.text(max_size=30),
)
TERMINAL_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
OURS = "https://partnerbot.example/agenda"


def every_place(value: str) -> Message:
    """A message with `value` in every text field of the model, as plain text and inside our own markup."""
    return Message(
        (
            Header(value),
            Text(value),
            Text(md("*{}* was marked done by {}. {}", value, value, link(OURS, value))),
            Text(Markdown("After the pulse:\n") + quoted(value)),
            Fields(((value, value),)),
            Context(md("_{}_", value)),
            Buttons((Button(value, "x.press", "1"),)),
            ChoiceScale(value, "x.scale", (1, 2), (value, value)),
            Image(b"\x89PNG", alt=value, title=value),
            Form(value, "x.form", (FormField("f", value, "choice", (("1", value),), hint=value),), intro=value),
        ),
        value,
    )


@settings(max_examples=150, deadline=None)
@given(hostile)
def test_slack_shows_any_text_without_a_control_sequence(value: str) -> None:
    message = every_place(value)
    texts = [slack.fallback_text(message), *mrkdwn_texts(slack.render(message))]
    sequences = [seq for text in texts for seq in SLACK_CONTROL.findall(text)]
    # The only link is the one we made, to our own address.
    assert all(seq.startswith(f"<{OURS}|") for seq in sequences), sequences
    assert len(sequences) == 1
    for text in texts:
        assert re.sub(r"&(amp|lt|gt);", "", text).count("&") == 0, text


@settings(max_examples=150, deadline=None)
@given(hostile)
def test_teams_shows_any_text_without_a_link_or_html(value: str) -> None:
    card = teams.render_card(every_place(value))
    found = [item for text in teams_texts(card) for item in live_markdown(text)]
    # Only our own link (a line of theirs that starts a list may break it up; it never makes one of theirs).
    assert set(found) <= {OURS}
    if "\n" not in value and "\r" not in value:
        assert found == [OURS]
    plain = teams.outgoing_activity(Message.text(md("*{}*", value)))
    assert live_markdown(plain.text) == []


@settings(max_examples=150, deadline=None)
@given(hostile)
def test_the_terminal_shows_any_text_as_typed_and_no_control_character(value: str) -> None:
    shown = every_place(value).plain()
    assert not TERMINAL_CONTROL.search(shown)
    assert printable(value).split("\n")[0] in shown


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_escaped_text_reads_back_as_itself_and_as_one_literal(value: str) -> None:
    assert unescape(escape(value)) == value
    parsed = tokens(md("*{}*", value))
    assert [t.kind for t in parsed] == ["mark", "text", "mark"] if value else ["mark", "mark"]
    message = message_from_json(message_to_json(Message.text(md("*{}*", value))))
    assert message.blocks[0] == Text(md("*{}*", value)), "stored markup comes back as the same markup"


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40))
def test_a_message_stored_from_its_blocks_written_out_once_is_stored_as_itself(value: str) -> None:
    # The outbox writes out a block shared by many messages once and puts each message's text together from them.
    message = every_place(value)
    texts = [json.dumps(block_to_json(block)) for block in message.blocks]
    assert message_json_text(message, texts) == json.dumps(message_to_json(message))
    assert message_from_json(json.loads(message_json_text(message, texts))) == message


def test_a_plain_string_where_markup_goes_is_literal_text() -> None:
    assert Text("<!here> *hi*").markdown == escape("<!here> *hi*")
    assert [t.kind for t in tokens(Text("*hi*").markdown)] == ["text"]
    assert [t.kind for t in tokens(md("*{}*", "hi"))] == ["mark", "text", "mark"]


def test_mentions_are_built_from_member_keys_and_rendered_from_ids() -> None:
    message = Message.text(md("Thanks, {}!", mention("maria")))
    assert message.mentioned() == {"maria"}
    [section] = slack.render(message, {"maria": "U024BE7LH"})
    assert section["text"]["text"] == "Thanks, <@U024BE7LH>!"
    [unknown] = slack.render(message)
    assert unknown["text"]["text"] == "Thanks, @maria!"
    assert teams.teams_markdown(message.blocks[0].markdown) == "Thanks, @maria!"
    assert message.plain() == "Thanks, @maria!"
    # Text that looks like a mention is text: only mention() makes one.
    assert Message.text("<@maria>").mentioned() == set()


def test_links_only_to_web_and_mail_addresses() -> None:
    assert link("javascript:alert(1)", "click") == escape("click")
    assert link("https://a.example/x y|z>", "go") == Markdown("<https://a.example/x%20y%7Cz%3E|go>")
    assert slack.slack_markup(link("https://a.example/?q=<!here>", "go")) == "<https://a.example/?q=%3C!here%3E|go>"


def test_templates_escape_every_value_and_keep_their_own_formatting() -> None:
    templates = Templates()
    text = templates.render(
        "pulse/followup.md.j2", instrument=type("I", (), {"name": "<!here>"})(), text="we *did*\n<@U1>"
    )
    assert tokens(text)[1:4] == tokens(md("*{}*", "<!here>"))
    assert slack.slack_markup(text).endswith("&gt; we *did*\n&gt; &lt;@U1&gt;")
    assert unescape(text).endswith("> we *did*\n> <@U1>")


def test_every_punctuation_character_survives_every_renderer() -> None:
    value = string.punctuation + " plain"
    message = Message.text(md("{}", value))
    assert message.plain() == value
    assert slack.render(message)[0]["text"]["text"] == slack.slack_escape(value)
