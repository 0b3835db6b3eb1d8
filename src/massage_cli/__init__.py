"""The massage back-office CLI."""
