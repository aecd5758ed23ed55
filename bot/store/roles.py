"""Transitional, until summary asks the catalog for MEETING_ROLE_HOLDER instead of importing this (the merge of
issue 10 switches it, then deletes this module). The roles tables and role_holder live in bot/flows/roles/state.py.
"""

from bot.flows.roles.state import role_holder

__all__ = ["role_holder"]
