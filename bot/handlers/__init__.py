"""The inbound side: port.py (the inbound port every platform adapter calls), the /partner grammar (commands.py),
button and form handling (actions.py), platform events and the home view (events.py, home.py). Routines declare
their subcommands and actions with bot/flows/api.py; the dispatchers find them in the runtime's catalog.
"""
