"""Step 4: the audit table's stream → AuditTableScannerFn → SNS.

A poller that behaves like Lambda's event source mapping as the Audit
template configures it: TRIM_HORIZON on every shard of moto's DynamoDB
stream, FilterCriteria (matched with moto's EventBridge-pattern
implementation against the record JSON as Lambda sees it), BatchSize,
ReportBatchItemFailures (retry from the lowest reported sequence number),
BisectBatchOnFunctionError, MaximumRetryAttempts, MaximumRecordAgeInSeconds
and the on-failure SQS destination. It invokes the real scanner bootstrap
under the RIE with the template's environment (topic ARNs are moto's topics).

`Notifications` subscribes one SQS queue per topic and collects what SNS
delivered (subject, message, attributes) as received.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from dataclasses import dataclass

from .lambda_rie import FunctionError, Lambda
from .poller import Poller


def event_pattern(pattern: dict):
    """moto's EventBridge pattern matcher (prefix, anything-but, $or, ...)."""
    from moto.events.models import EventPattern, EventPatternParser

    raw = json.dumps(pattern)
    return EventPattern(raw, EventPatternParser(raw).parse())


@dataclass
class MappingSettings:
    function_logical_id: str
    stream_arn: str
    batch_size: int
    starting_position: str
    filters: list[dict]
    report_item_failures: bool
    bisect: bool
    max_retries: int
    max_record_age_s: int
    on_failure_arn: str | None

    @classmethod
    def from_templates(cls, env) -> "MappingSettings":
        t = env.templates
        lid, _ = t.one("audit", "AWS::Lambda::EventSourceMapping")
        p = t.properties("audit", lid)
        fn = p["FunctionName"]
        fn_lid = next(l for l in t.resources("audit", "AWS::Lambda::Function")
                      if t.properties("audit", l).get("FunctionName", t.name_of("audit", l)) == fn)
        return cls(
            function_logical_id=fn_lid, stream_arn=p["EventSourceArn"], batch_size=int(p.get("BatchSize", 100)),
            starting_position=p.get("StartingPosition", "LATEST"),
            filters=[json.loads(f["Pattern"]) for f in p.get("FilterCriteria", {}).get("Filters", [])],
            report_item_failures="ReportBatchItemFailures" in p.get("FunctionResponseTypes", []),
            bisect=bool(p.get("BisectBatchOnFunctionError", False)),
            max_retries=int(p.get("MaximumRetryAttempts", -1)),
            max_record_age_s=int(p.get("MaximumRecordAgeInSeconds", -1)),
            on_failure_arn=p.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"),
        )


def lambda_record(rec: dict) -> dict:
    """A DynamoDB Streams record (boto3) as Lambda hands it to the function."""
    out = json.loads(json.dumps(rec, default=str))
    ddb = rec.get("dynamodb", {})
    if isinstance(ddb.get("ApproximateCreationDateTime"), dt.datetime):
        out["dynamodb"]["ApproximateCreationDateTime"] = int(ddb["ApproximateCreationDateTime"].timestamp())
    return out


@dataclass
class StreamStats:
    records_read: int = 0
    records_filtered_out: int = 0
    invocations: int = 0
    records_delivered: int = 0
    item_failures_reported: int = 0
    function_errors: int = 0
    retries: int = 0
    sent_to_on_failure: int = 0
    get_records_calls: int = 0


class AuditStream(Poller):
    def __init__(self, env, poll: float = 0.25):
        # A batch read is delivered at once (no pause while busy), as Lambda does.
        super().__init__("audit stream poller", poll, busy_pause=0, settle=poll * 2)
        self.env = env
        self.s = MappingSettings.from_templates(env)
        self.patterns = [event_pattern(f) for f in self.s.filters]
        self.scanner = Lambda(env, "audit", self.s.function_logical_id, "lambdas/auditscanner")
        self.stats = StreamStats()
        self._iters: dict[str, str | None] = {}
        self._pending: dict[str, list[dict]] = {}
        self._attempts: dict[str, int] = {}
        self._limit: dict[str, int] = {}
        self.responses: list[dict] = []

    def matches(self, record: dict) -> bool:
        if not self.patterns:
            return True
        return any(p.matches_event(record) for p in self.patterns)

    def start(self) -> "AuditStream":
        with self.env.progress.step("audit stream mapping + AuditTableScannerFn under RIE") as step:
            self.scanner.start()
            step.note(f"batch {self.s.batch_size}, {len(self.s.filters)} filter(s), report item failures "
                      f"{self.s.report_item_failures}, bisect {self.s.bisect}, {self.s.max_retries} retries")
        self._start_polling("audit-stream")
        return self

    def stop(self) -> None:
        self._stop_polling()
        self.scanner.stop()

    def _shards(self, streams) -> None:
        desc = streams.describe_stream(StreamArn=self.s.stream_arn)["StreamDescription"]
        for sh in desc["Shards"]:
            sid = sh["ShardId"]
            if sid not in self._iters:
                kind = "TRIM_HORIZON" if self.s.starting_position == "TRIM_HORIZON" else "LATEST"
                self._iters[sid] = streams.get_shard_iterator(StreamArn=self.s.stream_arn, ShardId=sid, ShardIteratorType=kind)["ShardIterator"]
                self._pending[sid] = []
                self._attempts[sid] = 0

    def _rounds(self):
        streams, sqs = self.env.client("dynamodbstreams"), self.env.client("sqs")
        last_shard_check = 0.0

        def poll_once() -> bool:
            nonlocal last_shard_check
            if time.monotonic() - last_shard_check > 5:
                self._shards(streams)
                last_shard_check = time.monotonic()
            busy = False
            for sid in list(self._iters):
                busy |= self._read(streams, sid)
                if self._pending[sid]:
                    busy = True
                    self._deliver(sid, sqs)
            return not busy

        return poll_once

    def _read(self, streams, sid: str) -> bool:
        it = self._iters[sid]
        if not it:
            return False
        r = streams.get_records(ShardIterator=it, Limit=1000)
        self.stats.get_records_calls += 1
        self._iters[sid] = r.get("NextShardIterator")
        for rec in r.get("Records", []):
            self.stats.records_read += 1
            lr = lambda_record(rec)
            if self.matches(lr):
                self._pending[sid].append(lr)
            else:
                self.stats.records_filtered_out += 1
        return bool(r.get("Records"))

    def _deliver(self, sid: str, sqs) -> None:
        pending = self._pending[sid]
        if self.s.max_record_age_s > 0:
            now = time.time()
            old = [r for r in pending if now - r["dynamodb"].get("ApproximateCreationDateTime", now) > self.s.max_record_age_s]
            if old:
                self._on_failure(sqs, sid, old, "RecordAgeExceeded")
                pending = [r for r in pending if r not in old]
                self._pending[sid] = pending
                if not pending:
                    return
        n = min(self.s.batch_size, self._limit.get(sid) or self.s.batch_size, len(pending))
        batch = pending[:n]
        self.stats.invocations += 1
        self.stats.records_delivered += len(batch)
        failed_from = None
        try:
            resp = self.scanner.invoke({"Records": batch})
            self.responses.append(resp or {})
            if self.s.report_item_failures:
                failed_from = self._lowest_failure(resp, batch)
        except FunctionError:
            self.stats.function_errors += 1
            failed_from = 0
            if self.s.bisect and len(batch) > 1:
                self._limit[sid] = max(1, len(batch) // 2)
        if failed_from is None:
            self._pending[sid] = pending[n:]
            self._attempts[sid] = 0
            self._limit.pop(sid, None)
            return
        # records before the lowest failure are done (checkpointed)
        self._pending[sid] = pending[failed_from:]
        self._attempts[sid] += 1
        if self.s.max_retries >= 0 and self._attempts[sid] > self.s.max_retries:
            rest = batch[failed_from:]
            self._on_failure(sqs, sid, rest, "RetryAttemptsExhausted")
            self._pending[sid] = pending[n:]
            self._attempts[sid] = 0
            self._limit.pop(sid, None)
        else:
            self.stats.retries += 1
            time.sleep(min(0.2 * self._attempts[sid], 1.0))

    def _lowest_failure(self, resp, batch: list[dict]) -> int | None:
        fails = (resp or {}).get("batchItemFailures") or []
        if not fails:
            return None
        self.stats.item_failures_reported += len(fails)
        seqs = [r["dynamodb"]["SequenceNumber"] for r in batch]
        idx = []
        for f in fails:
            ident = f.get("itemIdentifier")
            if ident not in seqs:
                return 0  # an unknown or empty identifier fails the whole batch, as Lambda does
            idx.append(seqs.index(ident))
        return min(idx)

    def _on_failure(self, sqs, sid: str, records: list[dict], condition: str) -> None:
        self.stats.sent_to_on_failure += len(records)
        if not self.s.on_failure_arn:
            return
        name = self.s.on_failure_arn.rsplit(":", 1)[1]
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        body = {
            "requestContext": {"condition": condition, "functionArn": self.scanner.name},
            "DDBStreamBatchInfo": {
                "shardId": sid, "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"], "batchSize": len(records),
                "streamArn": self.s.stream_arn,
            },
        }
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))

    def drain(self, timeout: float = 60) -> None:
        super().drain(timeout)


@dataclass
class Notification:
    topic_arn: str
    outcome: str | None
    layer: str | None
    run_id: str | None
    subject: str
    message: str
    attributes: dict
    message_id: str
    received_at: str


class Notifications:
    """One SQS queue subscribed to each topic; collects SNS messages as received."""

    def __init__(self, env, topic_arns: list[str]):
        self.env = env
        self.topic_arns = topic_arns
        self.received: list[Notification] = []
        self._queues: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    @classmethod
    def for_audit_topics(cls, env) -> "Notifications":
        t = env.templates
        lid = next(iter(t.resources("audit", "AWS::Lambda::Function")))
        vars_ = t.properties("audit", lid)["Environment"]["Variables"]
        arns = sorted({v for k, v in vars_.items() if k.endswith("_TOPIC_ARN")})
        return cls(env, arns)

    def subscribe(self) -> "Notifications":
        sns, sqs = self.env.client("sns"), self.env.client("sqs")
        for i, arn in enumerate(self.topic_arns):
            url = sqs.create_queue(QueueName=f"rehearsal-notifications-{i}")["QueueUrl"]
            qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn)
            self._queues.append((arn, url))
        return self

    def collect(self) -> list[Notification]:
        """Read whatever arrived since the last call."""
        sqs = self.env.client("sqs")
        new = []
        for arn, url in self._queues:
            while True:
                msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
                if not msgs:
                    break
                for m in msgs:
                    new.append(parse_sns_envelope(json.loads(m["Body"]), arn))
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        with self._lock:
            self.received.extend(new)
        return new


def parse_sns_envelope(body: dict, topic_arn: str | None = None) -> Notification:
    attrs = {k: v.get("Value") for k, v in (body.get("MessageAttributes") or {}).items()}
    return Notification(
        topic_arn=body.get("TopicArn", topic_arn or ""), outcome=attrs.get("outcome"), layer=attrs.get("layer"),
        run_id=attrs.get("run_id"), subject=body.get("Subject", ""), message=body.get("Message", ""), attributes=attrs,
        message_id=body.get("MessageId", ""), received_at=body.get("Timestamp", ""),
    )
