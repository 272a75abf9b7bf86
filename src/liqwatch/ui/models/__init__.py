"""LiqWatch UI models."""
