"""assess: reliability assessment toolkit."""
