"""Real ``dramatiq`` worker processes for the fault tests, killed with SIGKILL on demand."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class WorkerPool:
    """``python -m dramatiq`` in its own process group: start, kill -9, stop."""

    def __init__(self, env: dict[str, str], *, processes: int = 2, threads: int = 2,
                 module: str = "tests.support.fault_worker") -> None:
        self.env, self.processes, self.threads, self.module = env, processes, threads, module
        self.log = Path(tempfile.mkstemp(prefix="dramatiq-", suffix=".log")[1])
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> WorkerPool:
        """Start the pool and wait until every worker process says it is ready."""
        with self.log.open("a") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "dramatiq", self.module, "--processes",
                 str(self.processes), "--threads", str(self.threads)],
                cwd=ROOT, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        ready_before = self._ready_lines()
        deadline = time.monotonic() + timeout
        while self._ready_lines() - ready_before < self.processes:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("workers did not start:\n" + self.log.read_text()[-3000:])
            time.sleep(0.05)
        return self

    def kill(self) -> None:
        """SIGKILL every process of the pool (no cleanup runs) and reap the parent."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)
        self.proc = None

    def stop(self, timeout: float = 20) -> None:
        """Ask the pool to finish its messages and exit; kill it if it does not."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.kill()
        self.proc = None

    def output(self) -> str:
        """Return what the workers logged."""
        return self.log.read_text()

    def _ready_lines(self) -> int:
        return self.log.read_text().count("is ready for action")
