"""Measurement tools kept apart from the code they measure."""
