"""The `cims` command line."""
