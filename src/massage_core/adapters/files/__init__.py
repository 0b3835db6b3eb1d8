"""Adapters that keep data in the local file system."""
