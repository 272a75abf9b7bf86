"""The desktop application's entry point: wires the rooms together.

Qt is imported only inside `main` after the subcommand check, so `liqwatch check` never loads it.
"""

from __future__ import annotations

import sys


def main() -> int:
    from liqwatch.subcommands import SUBCOMMANDS

    if len(sys.argv) > 1 and sys.argv[1] in SUBCOMMANDS:
        from liqwatch.cli import main as cli_main

        return cli_main(sys.argv[1:])
    from liqwatch.ui.main import run_gui

    return run_gui(sys.argv[1:])
