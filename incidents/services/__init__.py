"""Writes to the shared security model. Views, API views, tasks and commands call these, never the ORM directly."""
