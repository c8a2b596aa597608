"""Step 3: the completion object's S3 "Object Created" event, matched by
EventBridge (moto's implementation) against the workflow rule's EventPattern
as synthesized, delivered to the rule's targets: the real run-rotator
bootstrap under the RIE, and the Glue workflow's EVENT trigger, which batches
events (BatchSize / BatchWindow of the template, window scaled) and then
starts the workflow (GLUE's LocalWorkflow.run).

moto sends S3 events to EventBridge when the bucket's EventBridge
notifications are on (the Storage template turns them on); the rule gets an
SQS queue as its target here, which this module reads.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field

from .lambda_rie import FunctionError, Lambda


@dataclass
class TriggerSettings:
    rule_name: str
    rule_logical_id: str
    pattern: dict
    workflow_name: str
    rotator_logical_id: str | None
    batch_size: int
    batch_window_s: int
    retry_attempts: int

    @classmethod
    def from_templates(cls, env) -> "TriggerSettings":
        t = env.templates
        wf_lid, _ = t.one("orchestration", "AWS::Glue::Workflow")
        wf_name = t.name_of("orchestration", wf_lid)
        wf_arn = t.resolve("orchestration", {"Fn::GetAtt": [wf_lid, "Arn"]})
        rules = [(lid, t.properties("orchestration", lid)) for lid in t.resources("orchestration", "AWS::Events::Rule")]
        rules = [(lid, p) for lid, p in rules if any(x["Arn"] == wf_arn for x in p.get("Targets", []))]
        if len(rules) != 1:
            raise LookupError(f"expected one rule targeting workflow {wf_name}, found {[l for l, _ in rules]}")
        lid, p = rules[0]
        rot_lid = None
        for tgt in p["Targets"]:
            if ":lambda:" in tgt["Arn"]:
                fn = tgt["Arn"].rsplit(":function:", 1)[1]
                for l in t.resources("ingestion", "AWS::Lambda::Function"):
                    if t.properties("ingestion", l).get("FunctionName", t.name_of("ingestion", l)) == fn:
                        rot_lid = l
        _, trig = t.one("orchestration", "AWS::Glue::Trigger", where=lambda r: r["Properties"]["Type"] == "EVENT")
        cond = trig["Properties"].get("EventBatchingCondition", {})
        return cls(
            rule_name=p.get("Name") or t.name_of("orchestration", lid), rule_logical_id=lid,
            pattern=p["EventPattern"] if isinstance(p["EventPattern"], dict) else json.loads(p["EventPattern"]),
            workflow_name=wf_name, rotator_logical_id=rot_lid,
            batch_size=int(cond.get("BatchSize", 1)), batch_window_s=int(cond.get("BatchWindow", 900)),
            retry_attempts=int(p["Targets"][0].get("RetryPolicy", {}).get("MaximumRetryAttempts", 185)),
        )


@dataclass
class WorkflowRunRecord:
    workflow_run_id: str
    events: list[str]
    batched_at: float
    started_at: float = 0.0
    seconds: float = 0.0
    steps: list = field(default_factory=list)  # StepResult-like dicts
    error: str | None = None


class Trigger:
    """The rule's targets: rotator (at once) and the workflow's EVENT trigger (batched)."""

    def __init__(self, env, workflow, batch_window: float | None = None, hooks_for=None):
        self.env = env
        self.s = TriggerSettings.from_templates(env)
        self.workflow = workflow  # LocalWorkflow (GLUE) or anything with run(workflow_run_id, hooks)
        # The README's rule: the window must cover the Firehose buffers plus the
        # transformer's run-id cache, so the closing run is flushed first.
        self.batch_window = batch_window if batch_window is not None else 10.0
        self.hooks_for = hooks_for or (lambda wr_id, n: None)  # (workflow_run_id, nth run) -> hooks
        self.rotator = Lambda(env, "ingestion", self.s.rotator_logical_id, "lambdas/runrotator") if self.s.rotator_logical_id else None
        self.events: list[dict] = []
        self.rotations: list[dict] = []
        self.runs: list[WorkflowRunRecord] = []
        self._pending: list[dict] = []
        self._pending_since = 0.0
        self._fired: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._busy = threading.Event()
        self.failure: BaseException | None = None
        self._queue_url = ""
        self._lock = threading.Lock()

    def start(self) -> "Trigger":
        with self.env.progress.step("eventbridge rule + run rotator under RIE") as step:
            events, sqs = self.env.client("events"), self.env.client("sqs")
            self._queue_url = sqs.create_queue(QueueName=f"rehearsal-{self.s.rule_name}-target")["QueueUrl"]
            qarn = sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            events.put_rule(Name=self.s.rule_name, EventPattern=json.dumps(self.s.pattern), State="ENABLED")
            events.put_targets(Rule=self.s.rule_name, Targets=[{"Id": "rehearsal-capture", "Arn": qarn}])
            if self.rotator:
                self.rotator.start()
            step.note(f"rule {self.s.rule_name}; EVENT trigger BatchSize {self.s.batch_size} / BatchWindow "
                      f"{self.s.batch_window_s} s -> {self.s.batch_size} / {self.batch_window:g} s (rehearsal scale)")
        for target in (self._receive_loop, self._workflow_loop):
            th = threading.Thread(target=self._guard(target), daemon=True, name=target.__name__)
            th.start()
            self._threads.append(th)
        return self

    def _guard(self, fn):
        def run():
            try:
                fn()
            except BaseException as e:
                self.failure = e
        return run

    def stop(self) -> None:
        self._stop.set()
        self._fired.put(None)
        for th in self._threads:
            th.join(60)
        if self.rotator:
            self.rotator.stop()

    # EventBridge → targets
    def _receive_loop(self) -> None:
        sqs = self.env.client("sqs")
        while not self._stop.is_set():
            msgs = sqs.receive_message(QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            for m in msgs:
                ev = json.loads(m["Body"])
                # moto gives every S3 event the same id; EventBridge gives each its own
                # (the rotator's de-duplication relies on it)
                ev["id"] = str(uuid.uuid4())
                self._deliver(ev)
                sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=m["ReceiptHandle"])
            with self._lock:
                if self._pending and (len(self._pending) >= self.s.batch_size or time.monotonic() - self._pending_since >= self.batch_window):
                    batch, self._pending = self._pending, []
                    self._fired.put(batch)

    def _deliver(self, ev: dict) -> None:
        key = ev.get("detail", {}).get("object", {}).get("key")
        self.events.append(ev)
        if self.rotator:
            with self.env.progress.step(f"run rotator ({key})") as step:
                last = None
                for _ in range(1 + min(self.s.retry_attempts, 3)):
                    try:
                        rot = self.rotator.invoke(ev)
                        break
                    except FunctionError as e:
                        last = e
                else:
                    raise RuntimeError(f"run rotator failed: {last}")
                self.rotations.append({"event_id": ev["id"], "key": key, **rot})
                step.note(f"closed {rot.get('Closed')}, opened {rot.get('Opened')}{' (duplicate)' if rot.get('Duplicate') else ''}")
        with self._lock:
            if not self._pending:
                self._pending_since = time.monotonic()
            self._pending.append(ev)

    def _workflow_loop(self) -> None:
        n = 0
        while True:
            batch = self._fired.get()
            if batch is None:
                return
            n += 1
            wr = WorkflowRunRecord(workflow_run_id="wr_" + uuid.uuid4().hex + uuid.uuid4().hex, events=[e["id"] for e in batch],
                                   batched_at=self.env.progress.elapsed())
            self._busy.set()
            try:
                wr.started_at = self.env.progress.elapsed()
                self.env.progress.info(f"workflow {self.s.workflow_name} run {wr.workflow_run_id[:15]}… starts ({len(batch)} event(s))")
                t0 = time.monotonic()
                try:
                    results = self.workflow.run(wr.workflow_run_id, hooks=self.hooks_for(wr.workflow_run_id, n))
                    wr.steps = [vars(r).copy() if hasattr(r, "__dict__") else dict(r) for r in results]
                except Exception as e:  # a crashed run is reported, later batches still run
                    wr.error = f"{type(e).__name__}: {e}"
                    self.env.progress.info(f"workflow run failed: {wr.error}")
                wr.seconds = round(time.monotonic() - t0, 3)
                self.runs.append(wr)
            finally:
                self._busy.clear()

    def wait_idle(self, timeout: float = 900) -> None:
        """Until no event is pending, no batch waits and no workflow runs."""
        deadline = time.monotonic() + timeout
        stable = 0
        while time.monotonic() < deadline:
            if self.failure:
                raise RuntimeError(f"trigger failed: {self.failure!r}") from self.failure
            with self._lock:
                idle = not self._pending and self._fired.empty() and not self._busy.is_set()
            stable = stable + 1 if idle else 0
            if stable >= 3:
                return
            time.sleep(0.5)
        raise TimeoutError("trigger/workflow did not finish in time")

    def wait_events(self, n: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.events) < n:
            if self.failure:
                raise RuntimeError(f"trigger failed: {self.failure!r}") from self.failure
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(self.events)} of {n} completion events arrived")
            time.sleep(0.1)
