"""`python -m liqwatch`: terminal subcommands go to the CLI (no Qt import), anything else opens the window."""

from __future__ import annotations

import sys


def main() -> int:
    from liqwatch.subcommands import SUBCOMMANDS

    if len(sys.argv) > 1 and sys.argv[1] in SUBCOMMANDS:
        from liqwatch.cli import main as cli_main

        return cli_main(sys.argv[1:])
    from liqwatch.app import main as app_main

    return app_main()


if __name__ == "__main__":
    sys.exit(main())
