"""The CIMS policy's rules as pure functions: each refuses with a named `PolicyViolation`."""
