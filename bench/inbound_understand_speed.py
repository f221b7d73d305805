"""Messages per second of understand() over the shared dev corpus, on one core.

Body-only fixtures are wrapped into a reply exactly as score.py does, so every message
is a whole RFC 5322 message. Prints throughput overall and per task, and latency
percentiles. Parsing + classification only: storage, matching and filing are not here.

    python bench/inbound_understand_speed.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from campaigns.mail.inbound.understand import understand  # noqa: E402

CORPORA = Path("/work/shared/corpora")


def load_messages(corpora: Path) -> list[tuple[str, bytes]]:
    """Return (task, raw message) for every distinct corpus file, wrapped like score.py."""
    spec = importlib.util.spec_from_file_location("score", corpora / "score.py")
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)
    seen, messages = set(), []
    for index in sorted((corpora / "index").glob("*.jsonl")):
        for line in index.read_text().splitlines():
            record = json.loads(line)
            if record["file"] in seen:
                continue
            seen.add(record["file"])
            raw = (corpora / record["file"]).read_bytes()
            if record["format"] == "body_text":
                raw = score.wrap_body(record["file"], raw)
            messages.append((record["task"], raw))
    return messages


def main() -> int:
    """Time understand() over the corpus and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--corpora", type=Path, default=CORPORA)
    args = ap.parse_args()
    messages = load_messages(args.corpora)
    for _, raw in messages:  # warm up imports and regex caches
        understand(raw)
    timings: dict[str, list[float]] = defaultdict(list)
    started = time.perf_counter()
    for _ in range(args.rounds):
        for task, raw in messages:
            t0 = time.perf_counter()
            understand(raw)
            timings[task].append(time.perf_counter() - t0)
    total = time.perf_counter() - started
    every = sorted(t for values in timings.values() for t in values)
    print(f"{len(messages)} messages x {args.rounds} rounds: {len(every) / total:,.0f} msg/s "
          f"on one core, mean {1000 * total / len(every):.3f} ms")
    print(f"latency p50 {1000 * every[len(every) // 2]:.3f} ms, "
          f"p95 {1000 * every[int(len(every) * 0.95)]:.3f} ms, "
          f"p99 {1000 * every[int(len(every) * 0.99)]:.3f} ms, max {1000 * every[-1]:.2f} ms")
    for task, values in sorted(timings.items()):
        print(f"  {task:<12} {len(values) / sum(values):>8,.0f} msg/s  "
              f"mean {1000 * statistics.fmean(values):.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
