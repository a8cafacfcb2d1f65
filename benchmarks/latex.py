"""LaTeX printing time against derivation time (prints a table).

Target (issue 12): ``latex()`` in either notation takes at most the
derivation's time, for every built-in at orders 1-3 (:data:`CASES`: those of
``modeq list``, the parameter-block ones included). Each case runs in a fresh
interpreter (no SymPy cache or interned atom from an earlier case helps it);
times are CPU times of the process (the machine is shared; both steps are
single-threaded) and exclude imports. The last columns say whether the printed
equation reads back as the derived one (:func:`modeq.printing.reader.round_trip`,
both notations) and the CPU seconds that took (reading the texts printed above and
comparing; not printing them again).

    python benchmarks/latex.py            # all cases
    python benchmarks/latex.py adam:2     # some cases (--timeout: seconds per case)
    python benchmarks/latex.py adan:3 --no-round-trip
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from modeq.optimizers.library import BLOCKWISE, BUILTIN

#: Every built-in at orders 1-3. The longest order-3 cases (CPU seconds on the shared 2-core machine,
#: 2026-12-01, derive / index / vector): AdEMAMix 505 / 96 / 77, AdEMAMix's warm-up 344 / 182 / 166,
#: Lookahead 632 / 13 / 10 (modeq.cost estimates it: tests/test_cost_model.py), schedule-free AdamW 262 / 28 / 21, Adan
#: 130 / 35 / 33, LAMB 70 / 45 / 40, NAdam 36 / 21 / 18; shampoo_ema (its index notation nests more
#: than ten sums) 3.5 / 1.2 / 0.9.
CASES = [(name, k) for name in [*BUILTIN, *BLOCKWISE] for k in (1, 2, 3)]

PROBE = '''
import json, time
from modeq import derive
from modeq.optimizers import get
from modeq.printing.reader import round_trip
start = time.process_time(); eq = derive(get({name!r}), order={order}, max_seconds=None); derive_s = time.process_time() - start
start = time.process_time(); index = eq.latex(); index_s = time.process_time() - start
start = time.process_time(); vector = eq.latex(notation="vector"); vector_s = time.process_time() - start
row = {{"derive": derive_s, "index": index_s, "vector": vector_s, "chars": len(index)}}
print(json.dumps(row), flush=True)
if {no_trip}:
    raise SystemExit
start = time.process_time(); ok = not round_trip(eq, "index", text=index) and not round_trip(eq, "vector", text=vector); trip_s = time.process_time() - start
print(json.dumps({{**row, "round_trip": ok, "trip": trip_s}}))
'''


def run(name: str, order: int, timeout: float = 1200, trip: bool = True) -> dict:
    """One case's times; a case over ``timeout`` keeps the columns it finished (derive and print
    before the round trip), the round trip's then says so; ``trip=False``: no round trip."""
    code = PROBE.format(name=name, order=order, no_trip=not trip)
    try:
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
        out, err, late = result.stdout, result.stderr, None if trip else "not run"
        if result.returncode:
            late = (err.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
    except subprocess.TimeoutExpired as stopped:
        out, err, late = stopped.stdout or "", "", f"did not finish in {timeout:.0f} s"
        out = out.decode() if isinstance(out, bytes) else out
    rows = out.strip().splitlines()
    if not rows:
        return {"error": late}
    return {**json.loads(rows[-1]), **({"late": late} if late else {})}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", metavar="NAME:ORDER", help="built-in and order (default: every case)")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds per case (default 1200)")
    parser.add_argument("--no-round-trip", action="store_true", help="derive and print only")
    args = parser.parse_args(argv)
    cases = [(a.split(":")[0], int(a.split(":")[1])) for a in args.cases] or CASES
    print(f"{'optimizer':<20}{'order':>6}{'derive s':>10}{'index s':>10}{'vector s':>10}{'chars':>8}  {'<= derive':>9}  round trip  {'trip s':>7}")
    for name, order in cases:
        r = run(name, order, args.timeout, not args.no_round_trip)
        if "error" in r:
            print(f"{name:<20}{order:>6}  {r['error']}")
            continue
        within = "yes" if max(r["index"], r["vector"]) <= r["derive"] else "NO"
        trip = r.get("late") or f"{'ok' if r['round_trip'] else 'FAILED':<10}  {r['trip']:>7.2f}"
        print(f"{name:<20}{order:>6}{r['derive']:>10.2f}{r['index']:>10.2f}{r['vector']:>10.2f}{r['chars']:>8}  {within:>9}  "
              f"{trip}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
