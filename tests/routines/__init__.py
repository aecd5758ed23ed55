"""Routines defined only in the tests, to prove that a routine is one folder plus one catalog entry."""
