"""The application and its store: loading, saving and recording incidents' events.

`domain/` holds the aggregate, its rules, obligations and values; this package is the only one
that knows the event store (the `eventsourcing` application, its recorders for SQLite and
PostgreSQL, command receipts, group commit) and the services that run commands over many
incidents (legacy import, patterns across a client's incidents).
"""
