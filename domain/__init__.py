"""CIMS Ledger domain: the Incident aggregate, the policy's rules, deadlines and obligations."""
