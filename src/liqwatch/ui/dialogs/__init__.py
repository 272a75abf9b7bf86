"""LiqWatch UI dialogs."""
