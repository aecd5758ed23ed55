"""The summary routine: after each meeting the note-taker writes the summary, the co-chairs approve it together, and
it is published to the team and its parties' constituencies. settings, steps, state, commands, results; the form's
syntax: form.py.

The catalog entry is in routine.py; importing this package (or a pure helper in it) imports nothing else.
"""
