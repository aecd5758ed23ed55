"""Rotating meeting roles: a fair line-up before each meeting, confirmations, swaps, "can't make it", reminders and
the facilitator's brief. settings, steps, state, commands; pure: lineup (who gets which role), history, seats.

The catalog entry is in routine.py; importing this package (or a pure helper in it) imports nothing else.
"""
