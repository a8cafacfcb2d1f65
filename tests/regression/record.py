"""Rewrite ``terms.json`` from the current implementation (see ``cases.py``).

    python -m tests.regression.record [--max-seconds 10] [--missing]

Cases of order 4 that take longer than ``--max-seconds`` are left out; the
others are recorded with their refusal message where the derivation refuses.
``--missing`` records only the cases the fixture lacks (new built-ins) and
keeps every existing record as it is.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from modeq.codec import Encoder

from .cases import CASES, describe

FIXTURE = Path(__file__).with_name("terms.json")


class OutOfTime(BaseException):
    """An order-4 case over the time limit (not an ``Exception``: a refusal
    recorded by :func:`describe` is one)."""


def _encoded(components, encoder: Encoder):
    """Nested lists of expressions as the same lists of node indices."""
    return [_encoded(c, encoder) for c in components] if isinstance(components, list) else encoder.add(components)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-seconds", type=float, default=10.0)
    parser.add_argument("--missing", action="store_true", help="record only the cases the fixture lacks")
    args = parser.parse_args()
    records = json.loads(FIXTURE.read_text()) if args.missing else {}
    def give_up(signum, frame):
        raise OutOfTime

    signal.signal(signal.SIGALRM, give_up)
    for case in CASES:
        if case.name in records:
            continue
        fourth = case.name.endswith("order 4")
        signal.alarm(int(args.max_seconds) + 1 if fourth else 0)
        try:
            record = describe(case)
        except OutOfTime:
            print(f"{case.name:<55} left out (over {args.max_seconds} s)", file=sys.stderr, flush=True)
            continue
        finally:
            signal.alarm(0)
        slow = record["seconds"] > args.max_seconds
        print(f"{case.name:<55} {record['seconds']:8.2f} s {'error' if 'error' in record else ''}"
              f"{' (left out)' if slow and case.name.endswith('order 4') else ''}", file=sys.stderr, flush=True)
        if slow and case.name.endswith("order 4"):
            continue
        if "components" in record:
            encoder = Encoder()
            record["components"] = _encoded(record["components"], encoder)
            record["nodes"] = encoder.nodes
        record["seconds"] = round(record["seconds"], 2)
        records[case.name] = record
    FIXTURE.write_text(json.dumps(records, indent=None, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
