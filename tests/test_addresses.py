"""Outbox keys are built and read back in one place: what is stored is exactly what routines meant, and a prefix
query for one run's invitations never picks up another run's."""

from __future__ import annotations

import pytest

from bot.addresses import Destination, OutboxKey


def test_a_key_reads_back_as_it_was_built() -> None:
    key = OutboxKey("district", "pulse", "remind", "run7.1", "maria").to(Destination("slack", member="maria"))
    assert str(key) == "district/pulse.remind/run7.1/maria|slack:@maria"
    assert OutboxKey.parse(str(key)) == key
    assert OutboxKey.parse("lincoln/norms.opening/meeting@2026-12-08T23:30Z") == OutboxKey(
        "lincoln", "norms", "opening", "meeting@2026-12-08T23:30Z"
    )


def test_one_more_level_names_one_message_per_member() -> None:
    step = OutboxKey("district", "norms", "closing", "meeting@x")
    assert str(step / "maria") == "district/norms.closing/meeting@x/maria"
    assert str((step / "maria").to(Destination("local", channel="#district"))).endswith("|local:#district")


def test_a_prefix_matches_its_own_run_only() -> None:
    invites = OutboxKey("district", "pulse", "invite", "run7", "")  # the trailing "" keeps "run70" out
    assert invites.like_prefix() == "district/pulse.invite/run7/%"
    assert OutboxKey("team_a", "pulse", "remind", "run7.").like_prefix() == "team\\_a/pulse.remind/run7.%"


@pytest.mark.parametrize("bad", ["no-slash", "team/without-step", "team|x/norms.opening"])
def test_text_that_is_no_key_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        OutboxKey.parse(bad)


def test_a_part_may_not_smuggle_a_destination_or_a_level() -> None:
    """A constituency label with "|" made OutboxKey raise, so publishing the summary failed; one with "/" added a
    level. Both are escaped, cannot pose as a destination or a level, and read back as they were."""
    label = "teachers|slack:C1 / paras 100%"
    key = OutboxKey("district", "summary", "talking-points", "m1", label).to(Destination("slack", channel="C2"))
    assert str(key) == "district/summary.talking-points/m1/teachers%7Cslack:C1 %2F paras 100%25|slack:C2"
    assert OutboxKey.parse(str(key)) == key and OutboxKey.parse(str(key)).subject == ("m1", label)
    assert (
        OutboxKey("d", "summary", "talking-points", "m1", "a/b").like_prefix() == "d/summary.talking-points/m1/a\\%2Fb%"
    )
    with pytest.raises(ValueError):
        OutboxKey("district", "summary", "talking-points", destination="slack:C1|local:#x")
