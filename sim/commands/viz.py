"""``escalation viz``: serve the interactive model page (``sim/app.py``) with Solara.

What lives here: the command's arguments and the ``solara run`` command line it starts (the
``solara`` next to this Python, so the project's virtual environment's). What does not: the
page itself (``sim.app``).

The command prints the page's address and keeps serving until interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from sim.errors import InputError

APP = Path(__file__).resolve().parent.parent / "app.py"
DEFAULT_HOST, DEFAULT_PORT = "localhost", 8765


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port to serve on (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}; 0.0.0.0 for "
                             "every interface)")
    parser.add_argument("--open", action="store_true",
                        help="also open the page in the default web browser")
    parser.add_argument("--dev", action="store_true",
                        help="Solara's development mode: reload when the code changes")


def solara_executable() -> str:
    """The ``solara`` command of this Python's environment (then any on PATH)."""
    here = Path(sys.executable).parent / "solara"
    if here.exists():
        return str(here)
    found = shutil.which("solara")
    if found:
        return found
    raise InputError(None, "escalation viz", "Solara is not installed; install the page's "
                     "extra: pip install -e '.[viz]'")


def command(port: int, host: str, open_browser: bool = False, dev: bool = False) -> list[str]:
    """The ``solara run`` command line that serves the page."""
    cmd = [solara_executable(), "run", str(APP), "--port", str(port), "--host", host,
           "--open" if open_browser else "--no-open",
           # No look-up of Solara's latest release at start: it blocks without a network.
           "--no-check-version"]
    if not dev:
        cmd.append("--production")
    return cmd


def main(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise InputError(None, "--port", f"{args.port} is not a port (0-65535)")
    cmd = command(args.port, args.host, args.open, args.dev)
    shown = "a free port (Solara prints it below)" if args.port == 0 else \
        f"http://{args.host}:{args.port}"
    print(f"escalation viz: serving the model page at {shown}; Ctrl-C stops it", flush=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(APP.parent.parent), os.environ.get("PYTHONPATH", "")) if p)}
    server = subprocess.Popen(cmd, env=env)

    def stop(signum, _frame):  # a terminated `escalation viz` takes its server with it
        server.terminate()
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        server.wait(timeout=10)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
        if server.poll() is None:
            server.terminate()
