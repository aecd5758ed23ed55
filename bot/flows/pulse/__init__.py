"""The pulse routine: anonymous surveys opened on a cadence or by a co-chair, private invitations and reminders,
results with a trend at closing, and the "you said, we did" follow-up.

Layout: settings.py (PulseSettings), steps.py (PulseFlow: open, remind, close), state.py (tables, anonymity of
storage, queries), commands.py (subcommands, buttons, forms, App Home), results.py (scoring, the results post, the
export), instruments.py (the `surveys:` config section), charts.py (the trend chart). Wording: templates/pulse/.

The catalog entry is in routine.py; importing this package (or a pure helper in it) imports nothing else.
"""
