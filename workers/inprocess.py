"""One-process mode: worker threads and the sweep timer inside the web process."""

from __future__ import annotations

import importlib
import threading
import time
from dataclasses import dataclass

import dramatiq
from dramatiq.brokers.stub import StubBroker
from flask import Flask

from campaigns import jobs
from workers import broker as broker_setup
from workers import scheduler


@dataclass
class InProcessWorker:
    """The running worker and scheduler of this process."""

    broker: dramatiq.Broker
    worker: dramatiq.Worker
    stop_scheduler: threading.Event | None

    def drain(self, timeout_s: float = 120) -> None:
        """Wait until every queue is empty and every message processed (tests, CLI)."""
        deadline = time.monotonic() + timeout_s
        quiet_rounds = 0
        while quiet_rounds < 2:  # jobs may enqueue jobs: stop after two rounds with no work
            if time.monotonic() > deadline:
                raise TimeoutError("jobs still running after the drain timeout")
            busy = self._join_queues(int((deadline - time.monotonic()) * 1000))
            self.worker.join()
            quiet_rounds = 0 if busy or not self._idle() else quiet_rounds + 1

    def _join_queues(self, timeout_ms: int) -> bool:
        """Join every queue; tell whether any had messages."""
        busy = False
        for queue in jobs.QUEUES:
            busy = busy or not self._queue_empty(queue)
            if isinstance(self.broker, StubBroker):
                self.broker.join(queue, timeout=timeout_ms, fail_fast=True)
            else:
                self.broker.join(queue, timeout=timeout_ms)
        return busy

    def _queue_empty(self, queue: str) -> bool:
        """Tell whether a queue (and its delay queue) holds no unfinished message."""
        if isinstance(self.broker, StubBroker):
            return all(self.broker.queues[name].unfinished_tasks == 0
                       for name in (queue, f"{queue}.DQ") if name in self.broker.queues)
        return True  # Redis/RabbitMQ: join() above already waited for them

    def _idle(self) -> bool:
        """Tell whether every queue is empty now."""
        return all(self._queue_empty(queue) for queue in jobs.QUEUES)

    def stop(self) -> None:
        """Stop the scheduler and the worker threads."""
        if self.stop_scheduler is not None:
            self.stop_scheduler.set()
        self.worker.stop()


_running: InProcessWorker | None = None
_lock = threading.Lock()


def start(app: Flask, *, with_scheduler: bool = True) -> InProcessWorker:
    """Start (once per process) the worker threads and, optionally, the sweep timer."""
    global _running
    with _lock:
        broker = broker_setup.setup(app)
        if _running is not None:
            return _running
        for module in app.config["WORKER_MODULES"]:
            importlib.import_module(module)
        worker = dramatiq.Worker(broker, worker_threads=app.config["INPROCESS_WORKER_THREADS"],
                                 worker_timeout=100)
        worker.start()
        stop = scheduler.start(app) if with_scheduler else None
        _running = InProcessWorker(broker, worker, stop)
        return _running


def stop() -> None:
    """Stop the in-process worker if it runs."""
    global _running
    with _lock:
        if _running is not None:
            _running.stop()
            _running = None
