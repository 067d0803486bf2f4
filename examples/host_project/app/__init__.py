"""The example application (its models only)."""
