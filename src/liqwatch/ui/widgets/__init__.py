"""LiqWatch UI widgets."""
