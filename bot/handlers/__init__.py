"""The inbound side: port.py (the inbound port every platform adapter calls), the /partner grammar (commands.py),
button and form handling (actions.py) and platform events (events.py). Routines declare their subcommands and
actions in registry.py; the dispatchers here do the rest.
"""
