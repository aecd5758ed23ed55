"""A weekly one-word check-in: a question in the team channel, answered with a button, counted by a command.
Layout as every routine: routine.py (the catalog entry), settings.py, steps.py, commands.py; no tables of its own
(it writes to the audit log).
"""
