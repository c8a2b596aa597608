"""Every layer wired together: publisher → Kinesis → Firehose stand-in
(transformer under the RIE) → S3 landing → EventBridge rule → run rotator +
EVENT trigger → LocalWorkflow (GLUE) → audit table → stream mapping →
AuditTableScannerFn → SNS → SQS, and the summary of what each run got."""

from __future__ import annotations

import time
from dataclasses import asdict

from . import publisher_step, verify
from .audit_stream import AuditStream, Notifications
from .firehose import Firehose, Scale
from .trigger import Trigger


def audit_table_name(env) -> str:
    t = env.templates
    lid, _ = t.one("audit", "AWS::Lambda::Function")
    return t.properties("audit", lid)["Environment"]["Variables"]["AUDIT_TABLE_NAME"]


def run_state(env) -> dict:
    """The run-state item (open run id), as the run rotator left it."""
    t = env.templates
    lid = next(fn for fn in t.resources("ingestion", "AWS::Lambda::Function")
               if "/RunRotator/" in t.resource("ingestion", fn).get("Metadata", {}).get("aws:cdk:path", ""))
    table = t.properties("ingestion", lid)["Environment"]["Variables"]["RUN_STATE_TABLE"]
    # the open run's item; the table also holds a run#<id> record per closed run
    item = env.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "current"}}, ConsistentRead=True).get("Item")
    return verify._deserialize(item) if item else {}


class Rehearsal:
    def __init__(self, env, workflow, scale: Scale | None = None, batch_window: float | None = None, hooks_for=None):
        self.env = env
        self.scale = scale or Scale()
        self.firehose = Firehose(env, self.scale)
        cache = int(self.firehose.transformer.variables.get("RUN_ID_CACHE_SECONDS", "5"))
        # README: the window must cover the S3 buffer interval plus the run-id cache
        # (and records still in the processor buffer), so the closing run is flushed.
        window = batch_window if batch_window is not None else (
            self.scale.destination_interval + self.scale.processor_interval + cache + 1.0)
        self.workflow = workflow
        self.trigger = Trigger(env, workflow, batch_window=window, hooks_for=hooks_for)
        self.stream = AuditStream(env)
        self.notifications = Notifications.for_audit_topics(env)
        self.table = audit_table_name(env)
        self.layers = verify.compared_layers(env.templates)
        self.published: list[publisher_step.Published] = []
        self._started = False

    def start(self) -> "Rehearsal":
        self.notifications.subscribe()
        self.firehose.start()
        self.stream.start()
        self.trigger.start()
        self._started = True
        return self

    def stop(self) -> None:
        for part in (self.trigger, self.stream, self.firehose):
            try:
                part.stop()
            except Exception as e:  # stop the rest regardless
                self.env.progress.info(f"stopping {type(part).__name__}: {e}")

    def publish(self, count: int, seed: int, batch_id: str | None = None, **kw) -> publisher_step.Published:
        batch_id = batch_id or f"batch-{len(self.published) + 1:03d}-{seed}"
        # The source pauses for the processor buffer (scaled) before its
        # completion file, as the README asks of sources that need exact
        # batch boundaries: the batch's records are stamped with the run the
        # completion file closes, not the next one.
        pause = self.firehose.scale.processor_interval + 4 * self.firehose.scale.poll
        kw["extra_args"] = ["--completion-pause", f"{pause:g}s"] + list(kw.get("extra_args") or [])
        p = publisher_step.publish(self.env, count, seed, batch_id, **kw)
        self.published.append(p)
        return p

    def settle(self, timeout: float = 900) -> None:
        """Wait until every record reached S3, every workflow run finished and
        the scanner has handled every audit write."""
        deadline = time.monotonic() + timeout
        self.trigger.wait_events(len(self.published), timeout=60)
        with self.env.progress.step("firehose: stream drained to S3") as s:
            self.firehose.drain(timeout=max(10, deadline - time.monotonic()))
            st = self.firehose.stats
            s.moved(records=st.records_read, invocations=st.invocations, objects=st.objects_written,
                    error_objects=st.error_objects_written)
        self.trigger.wait_idle(timeout=max(10, deadline - time.monotonic()))
        with self.env.progress.step("audit stream → scanner → SNS") as s:
            self.stream.drain(timeout=max(10, deadline - time.monotonic()))
            time.sleep(0.5)
            self.notifications.collect()
            s.moved(stream_records=self.stream.stats.records_read, delivered=self.stream.stats.records_delivered,
                    notifications=len(self.notifications.received))

    # results
    def mark(self) -> dict:
        """A checkpoint: summary(since=mark) covers only what came after it
        (tests share one set of servers per session)."""
        ddb = self.env.client("dynamodb")
        return {"runs": set(verify.audited_runs(ddb, self.table)) | set(self.firehose.stats.per_run),
                "published": len(self.published), "notifications": len(self.notifications.received),
                "workflow_runs": len(self.trigger.runs), "rotations": len(self.trigger.rotations)}

    def checks(self, exclude=()) -> list[verify.RunCheck]:
        ddb = self.env.client("dynamodb")
        return [verify.check_run(verify.audit_items(ddb, self.table, r), r, self.notifications.received, self.layers)
                for r in verify.audited_runs(ddb, self.table) if r not in exclude]

    def summary(self, since: dict | None = None) -> dict:
        since = since or {"runs": set(), "published": 0, "notifications": 0, "workflow_runs": 0, "rotations": 0}
        checks = self.checks(exclude=since["runs"])
        state = run_state(self.env)
        open_run = state.get("run_id")
        rotations = self.trigger.rotations[since["rotations"]:]
        closed = [r["Closed"] for r in rotations if r.get("Closed") and r["Closed"] not in since["runs"]]
        runs = []
        for rc in checks:
            d = rc.as_dict()
            d["open"] = rc.run_id == open_run
            d["firehose_rows"] = self.firehose.stats.per_run.get(rc.run_id, 0)
            runs.append(d)
        audited = {rc.run_id for rc in checks}
        for r in closed:
            if r not in audited:
                runs.append({"run_id": r, "landing": None, "ok": self.firehose.stats.per_run.get(r, 0) == 0, "open": False,
                             "firehose_rows": self.firehose.stats.per_run.get(r, 0), "layers": [], "empty": True})
        published = self.published[since["published"]:]
        notifications = self.notifications.received[since["notifications"]:]
        products = sum(p.products for p in published)
        landed = sum(rc.landing or 0 for rc in checks)
        failures = [asdict(n) for n in notifications if n.outcome == "FAILURE"]
        wf = [{"workflow_run_id": w.workflow_run_id, "events": len(w.events), "seconds": w.seconds, "error": w.error,
               "steps": w.steps, "work": self.env.metrics.get(w.workflow_run_id)} for w in self.trigger.runs[since["workflow_runs"]:]]
        return {
            "batches": [{"batch_id": p.batch_id, "records": p.records, "products": p.products, "manifest_key": p.manifest_key,
                         "manifest": p.manifest} for p in published],
            "runs": sorted(runs, key=lambda r: r["run_id"]),
            "open_run": open_run,
            "closed_runs": closed,
            "rotations": rotations,
            "workflow_runs": wf,
            "notifications": [asdict(n) for n in notifications],
            "failures": failures,
            "published_products": products,
            "landed_products": landed,
            "firehose": asdict(self.firehose.stats),
            "audit_stream": asdict(self.stream.stats),
            "metrics": self.env.metrics.as_dict(),
            "steps": self.env.progress.as_list(),
            "settings": {"scale": asdict(self.scale), "batch_window_s": self.trigger.batch_window,
                         "template_batch_window_s": self.trigger.s.batch_window_s, "compared_layers": self.layers},
        }


def verdict(summary: dict, expect_failure: bool = False) -> tuple[bool, list[str]]:
    """Exit rule: every compared layer of every run that holds data was notified
    SUCCESS exactly once, nothing was notified FAILURE, and the runs' landing
    counts add up to what the publisher's manifests report."""
    problems = []
    for r in summary["runs"]:
        if r.get("empty"):
            if r["firehose_rows"]:
                problems.append(f"run {r['run_id']}: {r['firehose_rows']} rows landed but no landing count")
            continue
        for layer in r["layers"]:
            if not layer["ok"]:
                problems.append(f"run {r['run_id']} {layer['layer']}: {layer['problem']}")
        if r["landing"] is None:
            problems.append(f"run {r['run_id']}: no landing count")
    for f in summary["failures"]:
        problems.append(f"FAILURE notified: {f['subject']}")
    if summary["landed_products"] != summary["published_products"]:
        problems.append(f"landing counts add up to {summary['landed_products']} products, the manifests report "
                        f"{summary['published_products']}")
    for w in summary["workflow_runs"]:
        if w["error"]:
            problems.append(f"workflow run {w['workflow_run_id']}: {w['error']}")
        for s in w["steps"]:
            if s.get("state") not in (None, "SUCCEEDED"):
                problems.append(f"workflow run {w['workflow_run_id'][:15]}… step {s.get('name')}: {s.get('state')} {s.get('error') or ''}")
    if not summary["workflow_runs"]:
        problems.append("no workflow run started")
    ok = not problems
    return (not ok) if expect_failure else ok, problems
