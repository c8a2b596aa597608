"""A stand-in for GLUE's LocalWorkflow, for testing the CORE half alone
(trigger, stream mapping, scanner, verify): it counts the landing Parquet per
run id and writes the four audit layers the way the audit jobs do
(conditional on the count changing). The scenarios use the real LocalWorkflow."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field


@dataclass
class StepResult:
    name: str
    kind: str
    state: str
    seconds: float = 0.0
    work: dict = field(default_factory=dict)
    error: str | None = None


class StubWorkflow:
    def __init__(self, env, drop: dict | None = None):
        self.env = env
        self.drop = drop or {}  # layer -> products to lose
        self.runs = []

    def start(self):
        pass

    def stop(self):
        pass

    def run(self, workflow_run_id, hooks=None):
        import pyarrow.parquet as pq
        from rehearsal.pipeline import audit_table_name

        s3, ddb = self.env.client("s3"), self.env.client("dynamodb")
        bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if "landing" in b["Name"])
        counts = {}
        for o in s3.list_objects_v2(Bucket=bucket, Prefix="orders/").get("Contents", []):
            t = pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()))
            for row in t.select(["run_id", "products"]).to_pylist():
                counts[row["run_id"]] = counts.get(row["run_id"], 0) + len(row["products"] or [])
        table = audit_table_name(self.env)
        for layer in ("s3_landing", "s3_staging", "redshift_staging", "redshift_final"):
            for run_id, n in counts.items():
                n -= self.drop.get(layer, 0)
                try:
                    ddb.put_item(TableName=table, Item={
                        "run_id": {"S": run_id}, "layer": {"S": layer}, "record_count": {"N": str(n)},
                        "job_name": {"S": "stub"}, "job_run_id": {"S": workflow_run_id},
                        "recorded_at": {"S": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}},
                        ConditionExpression="attribute_not_exists(record_count) OR record_count <> :c",
                        ExpressionAttributeValues={":c": {"N": str(n)}})
                except ddb.exceptions.ConditionalCheckFailedException:
                    pass
        self.runs.append(workflow_run_id)
        self.env.metrics.add(workflow_run_id, "stub", objects_read=len(counts))
        return [StepResult("stub", "pythonshell", "SUCCEEDED")]
