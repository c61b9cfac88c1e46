"""The flow as events and handlers: the message bus (``bus``) and the one registry of who
handles what (``handlers``), the composition root that knows every package's handlers."""
