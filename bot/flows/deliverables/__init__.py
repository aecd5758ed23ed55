"""The deliverables routine: a committee's commitments, reminded before they are due, escalated when overdue,
celebrated when done. settings, steps, state, commands; other routines add items through ADD_DELIVERABLE.

The catalog entry is in routine.py; importing this package (or a pure helper in it) imports nothing else.
"""
