"""``python -m desktop [--server URL] [--lang ru|en]``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop", description="Pult desktop client")
    parser.add_argument("--server", help="server address, e.g. http://127.0.0.1:8080")
    parser.add_argument("--lang", choices=("ru", "en"), default="ru", help="interface language")
    args = parser.parse_args(argv)
    # Qt is imported only now, so --help works on a machine without Qt's libraries.
    from desktop.app import run

    return run(args.server, args.lang)


if __name__ == "__main__":
    sys.exit(main())
