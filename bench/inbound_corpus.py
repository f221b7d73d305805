"""Score inbound understanding on the shared dev corpus next to the baselines of issue 5.

Runs the corpus's own score.py twice: once with our `inbound inspect` command, once with
the library baseline (bench/inbound_library_baseline.py: RFC 3464/3834 headers +
flufl.bounce + mail-parser-reply), and prints both beside the held-out baseline figures
quoted in the issue.

    python bench/inbound_corpus.py [--cmd "campaigns inbound inspect"] [--split dev]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPORA = Path("/work/shared/corpora")
# Issue 5: the best combination of existing libraries, measured on held-out data.
ISSUE_BASELINE = {"bounce_detect": 0.86, "bounce_rcpt": 0.95, "status_exact": 0.66,
                  "auto_recall": 0.36, "human_ok": 0.99, "quote_exact": 0.44}
ROWS = [
    ("bounce_detect", "bounce detection"),
    ("bounce_rcpt", "recipient (corpus truth)"),
    ("bounce_rcpt_derived_high", "recipient (derived, not truth)"),
    ("hardsoft", "hard/soft (corpus truth)"),
    ("hardsoft_sisimai", "hard/soft (sisimai taxonomy)"),
    ("status_exact", "DSN status"),
    ("status_class", "status class 4/5"),
    ("arf_not_human", "ARF not human"),
    ("other_dsn_not_bounce", "delivered/delay DSN not bounce"),
    ("auto_recall", "auto-reply recall"),
    ("auto_return_date", "auto-reply return date"),
    ("human_ok", "human kept human"),
    ("quote_exact", "quote exact"),
    ("quote_assert", "quote assertions"),
    ("unsub_recall", "unsubscribe recall"),
]


def default_command() -> str:
    """Use the console script when it is installed, else run the module directly."""
    if shutil.which("campaigns"):
        return "campaigns inbound inspect"
    return f"{sys.executable} -m campaigns.mail.inbound.inspect"


def run_score(command: str, split: str, corpora: Path) -> tuple[dict, str]:
    """Run score.py with a command; return (metrics, its SCORE line)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "score.json"
        subprocess.run([sys.executable, str(corpora / "score.py"), "--split", split, "--quiet",
                        "--cmd", command, "--json", str(out)],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL, timeout=1800)
        doc = json.loads(out.read_text())
    return doc["metrics"], doc["summary"]


def cell(metrics: dict, key: str) -> str:
    """Format one metric as 'rate (k/n)', or n/a."""
    m = metrics.get(key)
    if not m or not m["n"]:
        return "n/a"
    return f"{m['rate']:.2f} ({m['k']}/{m['n']})"


def main() -> int:
    """Score both commands and print the comparison table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cmd", default=default_command(), help="our inspect command")
    ap.add_argument("--split", default="dev")
    ap.add_argument("--corpora", type=Path, default=CORPORA)
    args = ap.parse_args()
    baseline_cmd = f"{sys.executable} {ROOT / 'bench' / 'inbound_library_baseline.py'}"
    ours, our_line = run_score(args.cmd, args.split, args.corpora)
    libs, lib_line = run_score(baseline_cmd, args.split, args.corpora)
    print(f"split={args.split}  ours: {args.cmd}\n")
    print(f"{'metric':<34}{'issue baseline':>16}{'library baseline':>20}{'ours':>20}")
    print("-" * 90)
    for key, label in ROWS:
        issue = ISSUE_BASELINE.get(key)
        print(f"{label:<34}{'' if issue is None else f'{issue:.2f}':>16}"
              f"{cell(libs, key):>20}{cell(ours, key):>20}")
    print("\n(issue baseline: held-out data, from the issue; the other columns: this split)")
    print(f"library: {lib_line}\nours:    {our_line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
