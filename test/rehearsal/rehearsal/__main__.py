"""`python -m rehearsal`: batches of orders through every layer, locally.

Exit status 0 only when every compared layer of every run holding data was
notified SUCCESS exactly once, nothing was notified FAILURE, and the landing
counts add up to the publisher's manifests.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .env import DEFAULT_OUT, REPO, Progress, local_env


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rehearsal", description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=1000, help="orders per batch (default 1000)")
    ap.add_argument("--batches", type=int, default=1, help="batches, one after the other (default 1)")
    ap.add_argument("--seed", type=int, default=42, help="seed of the first batch; batch n uses seed+n")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default .rehearsal/)")
    ap.add_argument("--cdk-out", type=Path, default=REPO / "cdk.out")
    args = ap.parse_args(argv)

    from .pipeline import Rehearsal, verdict
    from .report import table

    t0 = time.monotonic()
    progress = Progress()
    progress.info(f"rehearsal: {args.batches} batch(es) of {args.orders} orders; output in {args.out}")
    with local_env(args.out, args.cdk_out, progress=progress) as env:
        from .workflow import LocalWorkflow  # GLUE's half

        wf = LocalWorkflow(env)
        with progress.step("glue workflow stand-in: start (Spark, Athena, Data API)"):
            wf.start()
        rh = Rehearsal(env, wf)
        try:
            rh.start()
            for i in range(args.batches):
                rh.publish(args.orders, args.seed + i)
                rh.settle()
            summary = rh.summary()
        finally:
            rh.stop()
            wf.stop()
        ok, problems = verdict(summary)
        summary["ok"], summary["problems"] = ok, problems
        summary["seconds"] = round(time.monotonic() - t0, 1)
        path = env.write_json("summary.json", summary)
    print()
    print(table(summary))
    print()
    for p in problems:
        print(f"PROBLEM: {p}")
    print(f"{'OK' if ok else 'FAILED'}: {len(summary['runs'])} run(s), {summary['published_products']} products published, "
          f"{summary['landed_products']} landed, {len(summary['notifications'])} notification(s); "
          f"{summary['seconds']} s; {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
