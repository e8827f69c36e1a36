"""Read models fed from the ledger's notification log, one module per read model."""
