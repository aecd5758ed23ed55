"""Chat platforms: the only package that knows Slack, Teams or the local terminal exist.

base.py is the port; slack, teams and local implement it.
"""
