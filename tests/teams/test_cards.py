"""Every kind of neutral block rendered as an Adaptive Card valid against the official schema 1.5 (cards.py), written
the Teams way: code in monospace runs, quotes in an emphasis container, real emoji, Teams' markdown; a large chart
shown from a hosted address instead of embedded, and no message over Teams' size limit."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.messages import (
    Button,
    Buttons,
    ChoiceScale,
    Context,
    Divider,
    Fields,
    Form,
    FormField,
    Header,
    Image,
    Markdown,
    Message,
    Text,
)
from bot.platforms.teams import renderer as cards
from tests.teams.cards import (
    assert_valid_card,
    elements,
    first_error,
    message_problems,
    shown_texts,
    text_problems,
)

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000"
    "1e221bc330000000049454e44ae426082"
)

MESSAGES = {
    "header, text, context, divider": Message(
        (
            Header("Norm of the meeting"),
            Text(Markdown("*Paying attention* to <https://x.org|self> and others\n- one")),
            Divider(),
            Context("Results are shown when 5 have answered"),
        ),
        "norm",
    ),
    "code, quote and shortcode": Message(
        (
            Text(
                Markdown(
                    ":tada: *Budget* is done! Use `/partner deliverables show 3` to see it.\n> the vendor was late\n"
                    "> twice"
                )
            ),
            Context(Markdown("Add `--team KEY` when you are on several teams.")),
        ),
        "`code` and a quote",
    ),
    "fields": Message((Fields((("Facilitator", "Maria"), ("Note taker", "Sam `#12`"))),), "roles"),
    "buttons": Message(
        (
            Buttons(
                (
                    Button("Confirm", "roles.confirm", "7", "primary"),
                    Button("Decline", "roles.decline", "7", "danger"),
                    Button("Later", "roles.later"),
                )
            ),
        ),
        "buttons",
    ),
    "short scale": Message(
        (ChoiceScale("How well did we listen?", "norms.rate", (1, 2, 3, 4, 5), (), "n3:"),), "scale"
    ),
    "long scale": Message(
        (ChoiceScale("Trust", "pulse.answer", tuple(range(1, 8)), tuple(f"p{i}" for i in range(1, 8)), "i2:"),), "s"
    ),
    "image": Message((Image(PNG, "bar chart of ratings", "Ratings"),), "chart"),
    "form": Message(
        (
            Form(
                "Meeting summary",
                "summary.submit",
                (
                    FormField("decisions", "Decisions", "multiline", hint="one per line: decision | why: reason"),
                    FormField("owner", "Owner", "member", (("l1", "Labor1"), ("m1", "Manager1"))),
                    FormField("sides", "Sides", "multi_choice", (("labor", "Labor"), ("management", "Management"))),
                    FormField("status", "Status", "choice", (("open", "Open"), ("done", "Done")), initial="open"),
                    FormField("count", "Attendees", "number", required=False, initial="12"),
                    FormField("due", "Due", "date", required=False),
                    FormField("mood", "Mood", "scale", (("1", "Low"), ("5", "High"))),
                    FormField("title", "Title"),
                ),
                value="meeting-3",
                submit_label="Save",
                intro=Markdown("Draft for *co-chair* approval"),
            ),
        ),
        "form",
    ),
}


@pytest.mark.parametrize("kind", sorted(MESSAGES))
def test_each_message_kind_is_a_valid_adaptive_card(kind: str) -> None:
    card = cards.render_card(MESSAGES[kind])
    assert_valid_card(card)
    assert card["version"] == "1.5" and card["msteams"] == {"width": "Full"}


def test_the_validator_rejects_what_teams_would_not_render() -> None:
    def card(*body: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"type": "AdaptiveCard", "version": "1.5", "body": list(body), **extra}

    assert "colour" in first_error(card({"type": "TextBlock", "text": "x", "colour": "red"}))
    assert first_error(card({"type": "Input.Slider", "id": "x"}))  # no such element
    assert first_error(card(actions=[{"type": "Action.Submit", "style": "primary"}]))  # not an action style
    assert first_error(card({"type": "TextBlock", "text": "x", "wrap": "yes"}))
    assert first_error(card(msteams={"width": "Full", "other": 1}))  # only Teams' width is allowed there
    assert not first_error(card({"type": "TextBlock", "text": "x"}, msteams={"width": "Full"}))
    assert text_problems(["Use `help`", "> quoted", "well done :tada:"]) == [
        "a backtick reaches Teams: 'Use `help`'",
        "a quote marker reaches Teams: '> quoted'",
        "the shortcode :tada: reaches Teams: 'well done :tada:'",
    ]


def test_code_quotes_and_shortcodes_become_teams_formatting() -> None:
    card = cards.render_card(MESSAGES["code, quote and shortcode"])
    first, quote, context = card["body"]
    assert first["type"] == "RichTextBlock"
    runs = {run["text"]: run for run in first["inlines"]}
    assert runs["/partner deliverables show 3"]["fontType"] == "Monospace"
    assert runs["Budget"]["weight"] == "Bolder" and "🎉" in first["inlines"][0]["text"]
    assert quote["type"] == "Container" and quote["style"] == "emphasis"
    assert quote["items"][0]["text"] == "the vendor was late\ntwice"
    assert context["inlines"][1] == {
        "type": "TextRun",
        "text": "--team KEY",
        "isSubtle": True,
        "size": "Small",
        "fontType": "Monospace",
    }
    assert card["fallbackText"] == "code and a quote"  # notifications get plain text
    assert not text_problems(shown_texts(card))


def test_plain_prose_goes_as_a_chat_message_in_teams_markdown() -> None:
    activity = cards.outgoing_activity(
        Message.text(Markdown(":wave: *Welcome* to <https://d.example/norms|our norms>"))
    )
    assert activity.text == "👋 **Welcome** to [our norms](https://d.example/norms)" and not activity.attachments
    with_code = cards.outgoing_activity(Message.text(Markdown("Type `help`")))
    assert with_code.text is None and with_code.attachments[0].content["body"][0]["type"] == "RichTextBlock"


def test_buttons_and_scales_submit_the_action_id_and_value() -> None:
    card = cards.render_card(MESSAGES["buttons"])
    submits = [e for e in elements(card) if e["type"] == "Action.Submit"]
    assert [s["data"] for s in submits] == [
        {"partnerbot_action": "roles.confirm", "value": "7"},
        {"partnerbot_action": "roles.decline", "value": "7"},
        {"partnerbot_action": "roles.later", "value": ""},
    ]
    assert [s.get("style") for s in submits] == ["positive", "destructive", None]

    short = [e for e in elements(cards.render_card(MESSAGES["short scale"])) if e["type"] == "Action.Submit"]
    assert [s["data"]["value"] for s in short] == ["n3:1", "n3:2", "n3:3", "n3:4", "n3:5"]

    long_card = cards.render_card(MESSAGES["long scale"])
    [choice_set] = [e for e in elements(long_card) if e["type"] == "Input.ChoiceSet"]
    [submit] = [e for e in elements(long_card) if e["type"] == "Action.Submit"]
    # What Teams sends back when p6 is chosen: the button's data with the input's value beside it.
    sent = {**submit["data"], choice_set["id"]: "i2:6"}
    assert sent["partnerbot_action"] == "pulse.answer" and cards.submitted_value(sent) == "i2:6"


def test_form_inputs_come_back_keyed_by_field_name() -> None:
    card = cards.render_card(MESSAGES["form"])
    inputs = [e for e in elements(card) if e["type"].startswith("Input.")]
    assert all(e.get("id") for e in inputs)  # an input without an id is never sent to the bot
    [text] = [e for e in inputs if e["id"] == "input.decisions"]
    assert text["placeholder"] == "one per line: decision | why: reason"
    [submit] = [e for e in elements(card) if e["type"] == "Action.Submit"]
    sent = {**submit["data"], **{e["id"]: "x" for e in inputs}}
    assert sent["partnerbot_action"] == "summary.submit" and cards.submitted_value(sent) == "meeting-3"
    assert set(cards.form_values(sent)) == {f.name for f in MESSAGES["form"].blocks[0].fields}  # type: ignore[union-attr]


def test_a_small_image_without_a_host_is_embedded_and_a_hosted_one_is_linked() -> None:
    [image] = [e for e in elements(cards.render_card(MESSAGES["image"])) if e["type"] == "Image"]
    assert image["url"].startswith("data:image/png;base64,") and image["altText"] == "bar chart of ratings"
    hosted = cards.render_card(MESSAGES["image"], lambda _image: "https://bot.example/teams/images/x.png?sig=1")
    [linked] = [e for e in elements(hosted) if e["type"] == "Image"]
    assert linked["url"] == "https://bot.example/teams/images/x.png?sig=1"


def test_no_message_goes_over_the_size_limit() -> None:
    chart = Image(PNG + bytes(20_000), "a large chart", "Trend")  # embedded, it alone would be about 27 KB
    comments = tuple(Text(f"> comment {i}: " + "we need agendas earlier " * 8) for i in range(150))
    big = Message((Header("Results"), chart, *comments, Buttons((Button("Follow up", "pulse.followup"),))), "big")

    hosted = cards.outgoing_activity(big, lambda _image: "https://bot.example/teams/images/x.png?sig=1")
    without_host = cards.outgoing_activity(big)
    for activity in (hosted, without_host):
        body = activity.model_dump(mode="json", by_alias=True, exclude_none=True)
        assert not message_problems(body), message_problems(body)
        card = body["attachments"][0]["content"]
        assert card["body"][-2]["type"] == "ActionSet"  # the button survives the shortening
        assert card["body"][-1]["text"] == cards.SHORTENED_NOTE
    [linked] = [e for e in elements(hosted.attachments[0].content) if e["type"] == "Image"]
    assert linked["url"].startswith("https://")
    assert not [e for e in elements(without_host.attachments[0].content) if e["type"] == "Image"]
    assert cards.CHART_LEFT_OUT in json.dumps(without_host.attachments[0].content)
