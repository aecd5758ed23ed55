"""Block Kit from neutral messages: what Slack would reject (duplicate action ids, over-long text, too many blocks)
never leaves the renderer, and a modal's submitted state comes back as the form's field values."""

from __future__ import annotations

import re

import pytest

from bot.messages import Button, Buttons, ChoiceScale, Form, FormField, Header, Message, Text
from bot.platforms.slack.renderer import (
    MAX_BLOCKS,
    MODAL_TITLE,
    SECTION_TEXT,
    form_values,
    modal,
    neutral_action_id,
    pack_form,
    render,
    slack_markup,
    unpack_form,
)


def test_buttons_sharing_an_action_get_distinct_slack_ids_that_map_back() -> None:
    message = Message(
        (Buttons((Button("Confirm", "roles.answer", "yes"), Button("Swap", "roles.answer", "swap", "danger"))),),
        "Your role",
    )
    (block,) = render(message)
    ids = [element["action_id"] for element in block["elements"]]
    assert len(set(ids)) == 2 and {neutral_action_id(i) for i in ids} == {"roles.answer"}
    assert block["elements"][1]["style"] == "danger"


def test_a_scale_is_a_question_and_one_button_per_point() -> None:
    scale = ChoiceScale("Did we listen?", "norms.rate", (1, 2, 3, 4, 5), value_prefix="n3:")
    question, actions = render(Message((scale,), "Rate"))
    assert "Did we listen?" in question["text"]["text"]
    assert [e["value"] for e in actions["elements"]] == ["n3:1", "n3:2", "n3:3", "n3:4", "n3:5"]


def test_long_content_is_cut_to_slacks_limits() -> None:
    message = Message((Header("H" * 400), *(Text(f"line {i}") for i in range(80))), "long")
    blocks = render(message)
    assert len(blocks) == MAX_BLOCKS
    assert len(blocks[0]["text"]["text"]) == 150
    assert len(render(Message((Text("x" * 7000),), "x"))) == 3  # split into 3000-character sections


def test_long_text_splits_at_lines_and_words_never_inside_a_word_or_a_bold_run() -> None:
    """Issue 13: a summary over 3,000 characters was split mid-word and mid-bold ("each cha" | "nge",
    "- Ac" | "tion 15"). Each section now holds whole lines, or whole words outside formatting, within Slack's
    documented 3,000 characters per section text."""
    from bot.messages import md

    lines = [md("- *Action {}*: each change is recorded with its owner and due date.", n) for n in range(1, 80)]
    long_line = md("*{}*", "word " * 900) + md(" and *a bold ending*")
    for markup in (md("\n").join(lines), long_line):
        sections = [b["text"]["text"] for b in render(Message((Text(markup),), "x"))]
        assert len(sections) > 1 and all(len(s) <= SECTION_TEXT for s in sections)

        def words(text: str) -> str:
            return re.sub(r"[\s*]", "", text)

        assert words("".join(sections)) == words(slack_markup(markup))  # no word lost or added
        for section in sections:
            assert section.count("*") % 2 == 0, section[-40:]  # a bold run closes in each section it spans
            assert not section.endswith(("cha", "- Ac")) and not section.startswith(("nge", "tion"))
        if markup is not long_line:
            assert all(s.startswith("- *Action") for s in sections)  # whole lines


def test_every_modal_title_and_button_fits_without_being_cut() -> None:
    """Issue 13: titles over 24 characters ended in "..." ("How well did we keep our norms?"). Every form the
    routines open is written for Slack's documented 24 characters (title, submit and close)."""
    import ast
    from pathlib import Path

    found = 0
    for path in Path("bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Form":
                title = node.args[0] if node.args else next(k.value for k in node.keywords if k.arg == "title")
                assert isinstance(title, ast.Constant), f"{path}:{node.lineno}: a form title is written, not built"
                assert len(title.value) <= MODAL_TITLE, f"{path}:{node.lineno}: {title.value!r}"
                submit = [k.value for k in node.keywords if k.arg == "submit_label"] + node.args[4:5]
                for label in submit:
                    assert isinstance(label, ast.Constant) and len(label.value) <= MODAL_TITLE, path
                found += 1
    assert found >= 10
    view = modal(Form("A title far longer than Slack allows", "x.y", ()), {})
    assert view["title"]["text"] == "A title far longer…"  # a fallback, at a word: never reached by our forms


FORM = Form(
    "Deliverable status",
    "deliverables.update",
    (
        FormField("status", "Status", "choice", (("on_track", "On track"), ("late", "Late")), initial="late"),
        FormField("owners", "Owners", "multi_choice", (("maria", "Maria"), ("tom", "Tom"))),
        FormField("due", "Due", "date", required=False),
        FormField("note", "Note", "multiline", required=False, hint="optional"),
    ),
    value="d-12",
)


def test_a_form_travels_in_its_button_and_opens_as_a_modal() -> None:
    assert unpack_form(pack_form(FORM)) == FORM
    view = modal(FORM, {"channel": "C1", "ts": "1.2"})
    status, owners, due, note = view["blocks"]
    assert status["element"]["type"] == "static_select" and status["element"]["initial_option"]["value"] == "late"
    assert owners["element"]["type"] == "multi_static_select"
    assert due["optional"] is True and due["element"]["type"] == "datepicker"
    assert note["element"]["multiline"] is True and note["hint"]["text"] == "optional"


def test_submitted_state_comes_back_as_field_values() -> None:
    state = {
        "status": {"status": {"type": "static_select", "selected_option": {"value": "on_track"}}},
        "owners": {
            "owners": {"type": "multi_static_select", "selected_options": [{"value": "maria"}, {"value": "tom"}]}
        },
        "due": {"due": {"type": "datepicker", "selected_date": "2027-01-15"}},
        "note": {"note": {"type": "plain_text_input", "value": None}},
    }
    assert form_values(state) == {"status": "on_track", "owners": "maria,tom", "due": "2027-01-15", "note": ""}


def test_a_form_too_large_for_a_button_is_refused_at_render_time() -> None:
    import random

    noise = random.Random(1)
    options = tuple((f"{noise.random()}", f"{noise.random()}") for _ in range(200))
    with pytest.raises(ValueError, match="too large"):
        pack_form(Form("Huge", "x.y", (FormField("pick", "Pick", "choice", options),)))


def test_a_follow_up_form_keeps_where_it_came_from_but_submits_its_own_action() -> None:
    import json

    first = json.loads(modal(FORM, {"channel": "C1", "ts": "1.2"})["private_metadata"])
    follow_up = Form("Why late?", "deliverables.reason", (FormField("why", "Why"),), value="d-12")
    second = json.loads(modal(follow_up, first)["private_metadata"])
    assert second == {"channel": "C1", "ts": "1.2", "action_id": "deliverables.reason", "value": "d-12"}


def test_mentions_of_known_members_become_their_member_keys() -> None:
    from bot.platforms.slack.adapter import MENTION, normalise_mentions

    text = "roles swap <@UTOM|tom> with <@ULEE> not <@UNOBODY|x>"
    members = {user: {"UTOM": "tom", "ULEE": "lee"}.get(user) for user in MENTION.findall(text)}
    assert normalise_mentions(text, members) == "roles swap @tom with @lee not <@UNOBODY|x>"
