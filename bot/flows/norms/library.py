"""Built-in norm sets a team can start from, in our own words. Only the names of the Seven Norms of Collaborative
Work come from the literature; every gist and tip here is Partnerbot's.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Norm:
    name: str
    gist: str
    tip: str = ""


SEVEN_NORMS: tuple[Norm, ...] = (
    Norm(
        "Pausing",
        "Leave a beat of silence before answering, so thinking can catch up with talking.",
        "After someone finishes, count to three before you speak.",
    ),
    Norm(
        "Paraphrasing",
        "Say back what you heard in your own words before adding your own view.",
        'Start with "So you\'re saying..." and let the speaker correct you.',
    ),
    Norm(
        "Probing",
        "Ask gentle questions that make vague ideas specific.",
        'Try "What would that look like in a classroom?" or "Which students do we mean?"',
    ),
    Norm(
        "Putting ideas on the table",
        "Offer ideas openly, and be just as ready to take them off the table.",
        'Label it: "Here is one idea, not a proposal yet."',
    ),
    Norm(
        "Paying attention to self and others",
        "Notice how you speak and how others are taking it, including who has not spoken.",
        "Before you speak a second time, check whether everyone has spoken once.",
    ),
    Norm(
        "Presuming positive intentions",
        "Assume colleagues from every party at the table act in good faith, and let your words show it.",
        'Replace "Why would you..." with "Help me understand what you hope for with..."',
    ),
    Norm(
        "Pursuing a balance between advocacy and inquiry",
        "Argue for your view and ask about others' views in roughly equal measure.",
        'After making your case, ask "What am I missing?"',
    ),
)

SIX_CATEGORIES: tuple[Norm, ...] = (
    Norm("Meeting logistics", "We start and end on time, and agendas go out ahead of the meeting."),
    Norm("Participation", "Everyone is present in mind as well as body, and every voice gets room."),
    Norm(
        "Record keeping",
        "The note-taker captures decisions and action items, and notes go out within two days.",
    ),
    Norm("Decision making", "We say up front how a decision will be made, and seek consensus before voting."),
    Norm("Expectations", "We come prepared, follow through on what we take on, and say early when we cannot."),
    Norm("Communication", "We agree on talking points together and speak for the team, not for one party."),
)

BUILT_IN_SETS: dict[str, tuple[Norm, ...]] = {"seven-norms": SEVEN_NORMS, "six-categories": SIX_CATEGORIES}
