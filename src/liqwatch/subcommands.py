"""The terminal subcommands' names, in a module of their own: deciding between the terminal and the window must
not import the CLI (its engine and alert modules cost ~90 ms of the window's start-up)."""

from __future__ import annotations

SUBCOMMANDS = ("check", "export", "watch")
