"""Thin views of the Incidents & alerts section: they read through selectors and write through services."""
