"""Servers the tests start for themselves (a Galera cluster)."""
