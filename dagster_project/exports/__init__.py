"""Exports layer: what leaves the warehouse (the read-only BI serving copy)."""
