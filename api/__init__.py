"""The HTTP API for front ends: a thin FastAPI layer over the ledger and read models."""
