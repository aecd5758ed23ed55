"""State: what happened (occurrences, outbox, role history, answers). Config never lives here.

db.py opens databases and runs migrations; models.py declares the tables.
"""
