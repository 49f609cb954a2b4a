"""``python -m server_stub.sip start|stop``: the SIP edge beside a running server.

``start`` runs Kamailio in the foreground (Ctrl-C or ``stop`` from another shell ends it);
settings come from the environment (PULT_SIP_ADDRESS, PULT_SIP_PORT, PULT_EDGE_SERVER_URL,
PULT_SIP_TRUNK, PULT_SIP_TLS_*, PULT_SIP_BAN_*, PULT_SIP_SHM_MB, PULT_EDGE_TOKEN, PULT_DATA_DIR).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from server_stub.sip.edge import Edge, EdgeConfig, stop_by_pid_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server_stub.sip")
    parser.add_argument("command", choices=("start", "stop"))
    args = parser.parse_args(argv)
    data_dir = Path(os.environ.get("PULT_DATA_DIR", "data"))
    cfg = EdgeConfig.from_env(data_dir)
    if args.command == "stop":
        stopped = stop_by_pid_file(cfg.run_dir)
        print("edge stopped" if stopped else "no edge running")
        return 0
    edge = Edge(cfg)
    edge.start()
    print(f"SIP edge on {cfg.address}:{cfg.port} (udp+tcp), log {edge.log_path}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: edge.stop())
    try:
        assert edge.proc is not None
        edge.proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        edge.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
