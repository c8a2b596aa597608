"""`make smoke`: publish a small batch to a deployed stage and wait for its
SUCCESS notifications, with the rehearsal's verify code.

Stacks are found by stage name (orders-pipeline-<stage>-*) with
CloudFormation DescribeStacks; which output is the landing bucket, the
stream, the run-state or the audit table is read from the synthesized
templates in cdk.out (the same app, so the same output names). The topics are
the audit stack's AWS::SNS::Topic resources. The check reads the audit
table's notified#<layer> items; with --subscribe it also subscribes a
temporary SQS queue to the topics and counts the messages (and deletes the
queue at the end).

    make smoke SMOKE_ARGS="--stage dev --count 20"
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

from . import verify
from .cdkout import Templates
from .env import REPO

STACK = "orders-pipeline-{stage}-{suffix}"


def stack_outputs(cfn, stack_name: str) -> dict[str, str]:
    st = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in st.get("Outputs", [])}


def output_for(templates: Templates, suffix: str, outputs: dict[str, str], logical_id: str, attr: str = "Ref") -> str:
    """The deployed value of the template output that exports logical_id (Ref or GetAtt)."""
    want = {"Ref": logical_id} if attr == "Ref" else {"Fn::GetAtt": [logical_id, attr]}
    for name, out in templates.stack(suffix).get("Outputs", {}).items():
        if out.get("Value") == want:
            if name not in outputs:
                raise LookupError(f"the deployed {suffix} stack has no output {name} ({logical_id}.{attr}); is it the same app version?")
            return outputs[name]
    raise LookupError(f"no output of {suffix} exports {logical_id}.{attr}")


class Stage:
    """Names of a deployed stage."""

    def __init__(self, session, stage: str, templates: Templates):
        self.session, self.stage, self.t = session, stage, templates
        cfn = session.client("cloudformation")
        storage = STACK.format(stage=stage, suffix="storage")
        outs = stack_outputs(cfn, storage)
        def lid(type_, where=None):
            return templates.one("storage", type_, where)[0]

        landing = templates.find_by_name("storage", "AWS::S3::Bucket", templates.resolve(
            "ingestion", templates.properties("ingestion", templates.one("ingestion", "AWS::KinesisFirehose::DeliveryStream")[0])
            ["ExtendedS3DestinationConfiguration"]["BucketARN"]).split(":::", 1)[1])[0]
        self.landing_bucket = output_for(templates, "storage", outs, landing)
        self.stream_arn = output_for(templates, "storage", outs, lid("AWS::Kinesis::Stream"), "Arn")
        tables = templates.resources("storage", "AWS::DynamoDB::Table")
        audit_lid = next(t for t, r in tables.items() if "StreamSpecification" in r["Properties"])
        run_lid = next(t for t in tables if t != audit_lid)
        self.audit_table = output_for(templates, "storage", outs, audit_lid)
        self.run_state_table = output_for(templates, "storage", outs, run_lid)
        audit = STACK.format(stage=stage, suffix="audit")
        res = cfn.describe_stack_resources(StackName=audit)["StackResources"]
        self.topics = sorted(r["PhysicalResourceId"] for r in res if r["ResourceType"] == "AWS::SNS::Topic")


def open_run(ddb, table: str) -> str | None:
    # the open run's item; the table also holds a run#<id> record per closed run
    item = ddb.get_item(TableName=table, Key={"pk": {"S": "current"}}, ConsistentRead=True).get("Item")
    return item["run_id"]["S"] if item else None


class TempSubscription:
    """A temporary SQS queue subscribed to the topics (deleted by close())."""

    def __init__(self, session, topics: list[str]):
        self.sns, self.sqs = session.client("sns"), session.client("sqs")
        self.url = self.sqs.create_queue(QueueName=f"orders-smoke-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.sqs.set_queue_attributes(QueueUrl=self.url, Attributes={"Policy": json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                                                    "Action": "sqs:SendMessage", "Resource": arn,
                                                    "Condition": {"ArnEquals": {"aws:SourceArn": topics}}}]})})
        self.subs = [self.sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=arn, ReturnSubscriptionArn=True)["SubscriptionArn"]
                     for t in topics]
        self.received = []

    def collect(self):
        from .audit_stream import parse_sns_envelope

        while True:
            msgs = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            if not msgs:
                return self.received
            for m in msgs:
                self.received.append(parse_sns_envelope(json.loads(m["Body"])))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"])

    def close(self):
        for s in self.subs:
            self.sns.unsubscribe(SubscriptionArn=s)
        self.sqs.delete_queue(QueueUrl=self.url)


def check_runs(ddb, table: str, runs: list[str], collect, layers: list[str], expected_products: int) -> tuple[bool, list[str], list]:
    checks = []
    for r in runs:
        items = verify.audit_items(ddb, table, r)
        if not items:
            continue
        checks.append(verify.check_run(items, r, collect() if collect else None, layers))
    problems = [p for c in checks for p in c.problems()]
    landed = sum(c.landing or 0 for c in checks)
    if landed < expected_products:
        problems.append(f"landing counts of runs {', '.join(runs)} add up to {landed} products, the batch has {expected_products}")
    return (not problems and bool(checks)), problems, checks


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="make smoke", description=__doc__.split("\n\n")[0])
    ap.add_argument("--stage", required=True)
    ap.add_argument("--region")
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=2700, help="seconds to wait (the workflow's batch window is 900 s by default)")
    ap.add_argument("--subscribe", action="store_true", help="also subscribe a temporary SQS queue to the topics and count messages")
    ap.add_argument("--cdk-out", type=Path, default=REPO / "cdk.out")
    args = ap.parse_args(argv)

    import subprocess

    import boto3

    from .lambda_rie import go_build

    session = boto3.session.Session(region_name=args.region)
    region = session.region_name
    account = session.client("sts").get_caller_identity()["Account"]
    templates = Templates.load(args.cdk_out, account, region)
    stage = Stage(session, args.stage, templates)
    layers = verify.compared_layers(templates)
    ddb = session.client("dynamodb")
    sub = TempSubscription(session, stage.topics) if args.subscribe else None
    try:
        before = open_run(ddb, stage.run_state_table)
        binary = go_build(REPO, "cmd/publisher", REPO / ".rehearsal" / "smoke" / "publisher", lambda_bootstrap=False)
        batch = f"smoke-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{uuid.uuid4().hex[:6]}"
        r = subprocess.run([str(binary), "--stream", stage.stream_arn, "--bucket", stage.landing_bucket, "--region", region,
                            "--count", str(args.count), "--batch-id", batch, "--progress", "never"], capture_output=True, text=True)
        print(r.stdout + r.stderr, end="")
        if r.returncode:
            return 1
        manifest = json.loads(session.client("s3").get_object(
            Bucket=stage.landing_bucket, Key=f"batch-completion/{batch}.json")["Body"].read())
        deadline = time.monotonic() + args.timeout
        after = before
        while after == before and time.monotonic() < deadline:
            time.sleep(2)
            after = open_run(ddb, stage.run_state_table)
        runs = [x for x in (before, after) if x]
        print(f"waiting for runs {', '.join(runs)} (up to {args.timeout:.0f} s)")
        while True:
            ok, problems, checks = check_runs(ddb, stage.audit_table, runs, sub.collect if sub else None, layers, manifest["product_count"])
            if ok or time.monotonic() >= deadline:
                break
            time.sleep(15)
        for c in checks:
            for lc in c.layers:
                print(f"{c.run_id}  {lc.layer:<18} count {lc.count}  landing {lc.landing}  "
                      f"{lc.notified_outcome or '-'}  {lc.problem or 'ok'}")
        for p in problems:
            print(f"PROBLEM: {p}")
        print("SMOKE OK" if ok else "SMOKE FAILED")
        return 0 if ok else 1
    finally:
        if sub:
            sub.close()


if __name__ == "__main__":
    sys.exit(main())
