"""Every kind of neutral block rendered as an Adaptive Card, validated against the typed Adaptive Card models that
Microsoft ships for Teams (microsoft-teams-cards): each element and action type must exist there, each property must
be one the model declares, with a value of the declared type and enumeration."""

from __future__ import annotations

from typing import Any

import pytest
from microsoft_teams.cards import core
from pydantic import BaseModel

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
    Message,
    Text,
)
from bot.platforms.teams import renderer as cards

# "Input.Text" -> TextInput, "Action.Submit" -> SubmitAction, ... straight from the package's models.
TYPED: dict[str, type[core.SerializableObject]] = {
    cls.model_fields["type"].default: cls
    for cls in vars(core).values()
    if isinstance(cls, type) and issubclass(cls, core.SerializableObject) and "type" in cls.model_fields
}
GENERIC = (core.CardElement, core.Action, core.ContainerLayout)
FREE_FORM = (core.SubmitActionData,)  # Action.Submit data is whatever the bot wants back


def validate(node: dict[str, Any], path: str = "card") -> None:
    assert node.get("type") in TYPED, f"{path}: unknown Adaptive Card type {node.get('type')!r}"
    model = TYPED[node["type"]].model_validate(node)  # raises on a wrong value type or enumeration
    _check_model(model, path, allowed_extra={"$schema"} if path == "card" else set())


def _check_model(model: BaseModel, path: str, allowed_extra: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    if type(model) in GENERIC:  # a nested typed element: validate it with its own model
        validate(dict(model.model_extra or {}), path)
        return
    if not isinstance(model, FREE_FORM):
        unknown = set(model.model_extra or {}) - allowed_extra
        assert not unknown, f"{path}: properties {sorted(unknown)} are not in the {type(model).__name__} model"
    for name in type(model).model_fields:
        _check_value(getattr(model, name), f"{path}.{name}")


def _check_value(value: Any, path: str) -> None:
    if isinstance(value, BaseModel):
        _check_model(value, path)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_value(item, f"{path}[{i}]")


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000"
    "1e221bc330000000049454e44ae426082"
)

MESSAGES = {
    "header, text, context, divider": Message(
        (
            Header("Norm of the meeting"),
            Text("*Paying attention* to <https://x.org|self> and others\n- one"),
            Divider(),
            Context("Results are shown when 5 have answered"),
        ),
        "norm",
    ),
    "fields": Message((Fields((("Facilitator", "Maria"), ("Note taker", "Sam"))),), "roles"),
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
                    FormField("decisions", "Decisions", "multiline", hint="one per line"),
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
                intro="Draft for *co-chair* approval",
            ),
        ),
        "form",
    ),
}


@pytest.mark.parametrize("kind", sorted(MESSAGES))
def test_each_message_kind_is_a_valid_adaptive_card(kind: str) -> None:
    card = cards.render_card(MESSAGES[kind])
    validate(card)
    assert card["version"] == "1.5" and card["fallbackText"] == MESSAGES[kind].fallback


def test_the_validator_rejects_what_teams_would_not_render() -> None:
    with pytest.raises(AssertionError, match="not in the TextBlock model"):
        validate({"type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": "x", "colour": "red"}]})
    with pytest.raises(AssertionError, match="unknown Adaptive Card type"):
        validate({"type": "AdaptiveCard", "body": [{"type": "Input.Slider", "id": "x"}]})
    with pytest.raises(ValueError):
        validate({"type": "AdaptiveCard", "actions": [{"type": "Action.Submit", "style": "primary"}]})


def _elements(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return ([node] if "type" in node else []) + [e for v in node.values() for e in _elements(v)]
    if isinstance(node, list):
        return [e for v in node for e in _elements(v)]
    return []


def test_buttons_and_scales_submit_the_action_id_and_value() -> None:
    card = cards.render_card(MESSAGES["buttons"])
    submits = [e for e in _elements(card) if e["type"] == "Action.Submit"]
    assert [s["data"] for s in submits] == [
        {"partnerbot_action": "roles.confirm", "value": "7"},
        {"partnerbot_action": "roles.decline", "value": "7"},
        {"partnerbot_action": "roles.later", "value": ""},
    ]
    assert [s.get("style") for s in submits] == ["positive", "destructive", None]

    short = [e for e in _elements(cards.render_card(MESSAGES["short scale"])) if e["type"] == "Action.Submit"]
    assert [s["data"]["value"] for s in short] == ["n3:1", "n3:2", "n3:3", "n3:4", "n3:5"]

    long_card = cards.render_card(MESSAGES["long scale"])
    [choice_set] = [e for e in _elements(long_card) if e["type"] == "Input.ChoiceSet"]
    [submit] = [e for e in _elements(long_card) if e["type"] == "Action.Submit"]
    # What Teams sends back when p6 is chosen: the button's data with the input's value beside it.
    sent = {**submit["data"], choice_set["id"]: "i2:6"}
    assert sent["partnerbot_action"] == "pulse.answer" and cards.submitted_value(sent) == "i2:6"


def test_form_inputs_come_back_keyed_by_field_name() -> None:
    card = cards.render_card(MESSAGES["form"])
    inputs = [e for e in _elements(card) if e["type"].startswith("Input.")]
    assert all(e.get("id") for e in inputs)  # an input without an id is never sent to the bot
    [submit] = [e for e in _elements(card) if e["type"] == "Action.Submit"]
    sent = {**submit["data"], **{e["id"]: "x" for e in inputs}}
    assert sent["partnerbot_action"] == "summary.submit" and cards.submitted_value(sent) == "meeting-3"
    assert set(cards.form_values(sent)) == {f.name for f in MESSAGES["form"].blocks[0].fields}  # type: ignore[union-attr]


def test_image_is_embedded_as_a_data_uri_and_markdown_is_teams_markdown() -> None:
    [image] = [e for e in _elements(cards.render_card(MESSAGES["image"])) if e["type"] == "Image"]
    assert image["url"].startswith("data:image/png;base64,") and image["altText"] == "bar chart of ratings"
    assert cards.teams_markdown("*bold* and _it_ <https://a.b|link>") == "**bold** and _it_ [link](https://a.b)"
