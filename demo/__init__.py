"""The synthetic demo data set: the incidents `cims demo` writes and the identities development
sign-in offers. It builds on the domain alone, so the API and the CLI can both use it without
either importing the other."""
