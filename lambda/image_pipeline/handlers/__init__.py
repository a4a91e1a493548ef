"""Lambda entry points: parse the event, call the core, call the adapters."""
