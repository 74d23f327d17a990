"""Turning Graph alerts_v2 JSON into validated, normalised records (pure functions; storing is a service)."""
