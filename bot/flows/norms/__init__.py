"""Norm check-ins: the norms before each meeting with a norm of the meeting, an anonymous rating after it, trends and
nudges to the co-chairs, and revisit rounds. settings, steps, state, commands, results; library: built-in sets.

The catalog entry is in routine.py; importing this package (or a pure helper in it) imports nothing else.
"""
