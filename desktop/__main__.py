"""``python -m desktop [--server URL] [--lang ru|en] [tel:…|sip:…|callto:…]``.

With a link, a client that is already running dials it and this launch exits at once
(click-to-call from a browser or a CRM: packaging/pult.desktop registers the schemes).
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop", description="Pult desktop client")
    parser.add_argument("--server", help="server address, e.g. http://127.0.0.1:8080")
    parser.add_argument("--lang", choices=("ru", "en"), default="ru", help="interface language")
    parser.add_argument(
        "link",
        nargs="?",
        help="a number or a tel:, sip: or callto: link to dial (handed to the running client)",
    )
    args = parser.parse_args(argv)
    # Qt is imported only now, so --help works on a machine without Qt's libraries.
    from desktop.common.single_instance import parse_call_uri

    if args.link is not None and parse_call_uri(args.link) is None:
        parser.error(f"not a phone number or a tel:/sip:/callto: link: {args.link}")
    from desktop.app import run

    return run(args.server, args.lang, args.link)


if __name__ == "__main__":
    sys.exit(main())
