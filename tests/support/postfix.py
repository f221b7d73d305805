"""Postfix's smtp-sink on a loopback port: for tests and for bench/send_bench.py."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

SINK = "/usr/sbin/smtp-sink"
SOURCE = "/usr/sbin/smtp-source"


def start_smtp_sink(port: int, *flags: str, dump: Path | None = None,
                    backlog: int = 100) -> subprocess.Popen:
    """Start smtp-sink on 127.0.0.1:port with extra flags; wait until it accepts."""
    user = ["-u", "root"] if os.geteuid() == 0 else []  # it refuses to run as root without
    dumping = ["-D", str(dump)] if dump else []
    sink = subprocess.Popen([SINK, *user, *dumping, *flags, f"127.0.0.1:{port}", str(backlog)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return sink
        except OSError:
            time.sleep(0.05)
    sink.kill()
    raise RuntimeError("smtp-sink did not start")
