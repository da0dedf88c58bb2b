"""Structured medical and financial question answering on a local Qwen2.5 model."""

__version__ = "0.1.0"
