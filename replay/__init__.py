"""Auditor replay from the event store alone: history, state as of, diff, verification, export."""
