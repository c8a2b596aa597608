"""The end-of-rehearsal table: per run and layer, the count, the landing
count, the outcome and the notification received."""

from __future__ import annotations


def run_rows(summary: dict) -> list[list[str]]:
    rows = []
    for r in summary["runs"]:
        state = "open" if r.get("open") else "closed"
        if r.get("empty"):
            rows.append([r["run_id"], f"({state}, no records)", "-", "-", "-", "-"])
            continue
        rows.append([r["run_id"] + (" (open)" if r.get("open") else ""), "s3_landing", _n(r["landing"]), _n(r["landing"]), "-", "-"])
        for l in r["layers"]:
            outcome = "match" if l["count"] is not None and l["count"] == l["landing"] else (
                "missing" if l["count"] is None else f"MISMATCH {l['count'] - (l['landing'] or 0):+d}")
            notes = []
            if l["success_messages"]:
                notes.append(f"SUCCESS x{l['success_messages']}")
            if l["failure_messages"]:
                notes.append(f"FAILURE x{l['failure_messages']}")
            rows.append(["", l["layer"], _n(l["count"]), _n(l["landing"]), outcome, ", ".join(notes) or "none"])
    return rows


def _n(v) -> str:
    return "-" if v is None else str(v)


def table(summary: dict) -> str:
    head = ["run id", "layer", "count", "landing", "outcome", "notification"]
    rows = run_rows(summary)
    widths = [max(len(head[i]), *(len(r[i]) for r in rows)) if rows else len(head[i]) for i in range(len(head))]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    out = [line(head), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    return "\n".join(out)


def work_ratios(summary: dict, first: int = 0, last: int = -1) -> dict[str, dict[str, float | None]]:
    """Per workflow step, the last run's work figures divided by the first run's."""
    wf = summary["workflow_runs"]
    if len(wf) < 2:
        return {}
    a, b = wf[first]["work"], wf[last]["work"]
    out = {}
    for step in sorted(set(a) | set(b)):
        out[step] = {}
        for k in sorted(set(a.get(step, {})) | set(b.get(step, {}))):
            x, y = a.get(step, {}).get(k, 0), b.get(step, {}).get(k, 0)
            out[step][k] = round(y / x, 3) if x else (None if y else 1.0)
    return out


# The bound on run 10's work over run 1's, per step and figure.
WORK_RATIO_LIMIT = 1.2
# Wall-clock time is no work figure: it follows the machine's load.
NOT_WORK = frozenset({"job_ms"})


def growth_beyond(ratios: dict, limit: float = WORK_RATIO_LIMIT) -> list[str]:
    """Every step figure whose ratio exceeds limit, or that grew from nothing."""
    out = []
    for step, figs in sorted(ratios.items()):
        for k, v in sorted(figs.items()):
            if k not in NOT_WORK and (v is None or v > limit):
                out.append(f"{step} {k} {'grew from 0' if v is None else v}")
    return out
