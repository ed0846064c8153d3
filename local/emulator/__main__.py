"""python -m local.emulator {geocatalog|planetary-computer} [options]: run one emulator in the foreground."""

from __future__ import annotations

import sys

USAGE = "usage: python -m local.emulator {geocatalog|planetary-computer} [--help | options]"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in ("geocatalog", "planetary-computer"):
        print(USAGE, file=sys.stderr)
        return 2
    if args[0] == "geocatalog":
        from local.emulator.geocatalog.cli import main as run
    else:
        from local.emulator.planetary_computer.cli import main as run
    return run(args[1:])


if __name__ == "__main__":
    sys.exit(main())
