"""The routines, one folder each, and what they share: api.py (what a routine is, how it declares commands and
steps) and catalog.py (the routine set). Importing this package imports no routine.
"""
