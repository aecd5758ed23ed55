"""Chat platforms: the only package that knows Slack, Teams or the local terminal exist.

base.py is the port; registry.py lists the platforms (entries: entry.py); slack/, teams/ and local/ implement the
port, each with the same layout (adapter, renderer, outbound, install). See docs/architecture.md.
"""
