"""The local servers (one moto server, one throwaway PostgreSQL 15) and the
resources the templates declare, created in moto from the synthesized
properties. Every server listens on a free 127.0.0.1 port and is stopped by
its PID."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

from .env import glue_script_tests_on_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen, timeout: float = 5.0) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # own process group, started by us
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wait_http(url: str, proc: subprocess.Popen | None, what: str, log: Path | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # it answers
        except Exception:
            time.sleep(0.1)
    out = log.read_text()[-3000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} did not answer on {url}\n{out}")


@contextlib.contextmanager
def moto_server(work_dir: Path, account: str) -> Iterator[str]:
    """moto in server mode: S3, Kinesis, DynamoDB(+Streams), SNS, SQS, EventBridge, Glue, STS, Secrets Manager."""
    port = free_port()
    log = Path(work_dir) / "moto.log"
    # moto_server with the corrections in rehearsal/moto_fixes.py
    cmd = [sys.executable, "-m", "rehearsal.moto_fixes", "-H", "127.0.0.1", "-p", str(port)]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, "MOTO_ACCOUNT_ID": account,
                                     "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]),
                                                                    os.environ.get("PYTHONPATH", "")])})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/moto-api/", proc, "moto server", log)
        yield url
    finally:
        _stop(proc)


@contextlib.contextmanager
def postgres(work_dir: Path) -> Iterator[str]:
    """A throwaway PostgreSQL cluster: the Glue-script tests' (pg_cluster)."""
    glue_script_tests_on_path()
    from pg_cluster import postgres_cluster

    with postgres_cluster("rehearsal-pg-") as dsn:
        yield dsn


# ---- resources the templates declare --------------------------------------

def provision(env) -> None:
    """Create in moto what the Storage and Audit stacks declare, with the
    synthesized (resolved) names and settings, and bind the values moto
    chooses (stream ARNs, queue URLs) back into the templates."""
    t = env.templates
    with env.progress.step("create local resources from cdk.out") as step:
        n = 0
        s3 = env.client("s3")
        for lid in t.resources("storage", "AWS::S3::Bucket"):
            name = t.name_of("storage", lid)
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": env.region})
            n += 1
        kinesis = env.client("kinesis")
        for lid in t.resources("storage", "AWS::Kinesis::Stream"):
            p = t.properties("storage", lid)
            mode = p.get("StreamModeDetails", {}).get("StreamMode", "PROVISIONED")
            args = {"StreamName": p["Name"], "StreamModeDetails": {"StreamMode": mode}}
            if mode == "PROVISIONED":
                args["ShardCount"] = int(p.get("ShardCount", 1))
            kinesis.create_stream(**args)
            kinesis.get_waiter("stream_exists").wait(StreamName=p["Name"], WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
            arn = kinesis.describe_stream_summary(StreamName=p["Name"])["StreamDescriptionSummary"]["StreamARN"]
            t.bind("storage", lid, "Arn", arn)
            n += 1
        ddb = env.client("dynamodb")
        for lid in t.resources("storage", "AWS::DynamoDB::Table"):
            p = t.properties("storage", lid)
            name = t.name_of("storage", lid)
            args = {
                "TableName": name,
                "AttributeDefinitions": p["AttributeDefinitions"],
                "KeySchema": p["KeySchema"],
                "BillingMode": p.get("BillingMode", "PROVISIONED"),
            }
            if args["BillingMode"] == "PROVISIONED":
                args["ProvisionedThroughput"] = p.get("ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
            if "StreamSpecification" in p:
                args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": p["StreamSpecification"]["StreamViewType"]}
            desc = ddb.create_table(**args)["TableDescription"]
            if desc.get("LatestStreamArn"):
                t.bind("storage", lid, "StreamArn", desc["LatestStreamArn"])
            n += 1
        glue = env.client("glue")
        for lid in t.resources("storage", "AWS::Glue::Database"):
            p = t.properties("storage", lid)
            glue.create_database(CatalogId=p["CatalogId"], DatabaseInput=p["DatabaseInput"])
            n += 1
        for lid in t.resources("storage", "AWS::Glue::Table"):
            p = t.properties("storage", lid)
            glue.create_table(CatalogId=p["CatalogId"], DatabaseName=p["DatabaseName"], TableInput=p["TableInput"])
            n += 1
        sns, sqs = env.client("sns"), env.client("sqs")
        for lid in t.resources("audit", "AWS::SNS::Topic"):
            name = t.name_of("audit", lid)
            arn = sns.create_topic(Name=name)["TopicArn"]
            t.bind("audit", lid, "Ref", arn)
            t.bind("audit", lid, "TopicArn", arn)
            n += 1
        for suffix in ("storage", "audit", "orchestration"):
            queues = t.resources(suffix, "AWS::SQS::Queue")
            # dead-letter queues first: a redrive policy names its target's ARN
            for lid in sorted(queues, key=lambda q: "RedrivePolicy" in t.properties(suffix, q)):
                p = t.properties(suffix, lid)
                name = t.name_of(suffix, lid)
                attrs = {k: str(p[k]) for k in ("VisibilityTimeout", "MessageRetentionPeriod") if k in p}
                if "RedrivePolicy" in p:
                    attrs["RedrivePolicy"] = json.dumps(p["RedrivePolicy"])
                url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
                t.bind(suffix, lid, "Ref", url)
                t.bind(suffix, lid, "QueueUrl", url)
                t.bind(suffix, lid, "Arn", sqs.get_queue_attributes(
                    QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])
                n += 1
        provision_bucket_notifications(env)
        n += provision_queue_rules(env)
        step.moved(resources=n)


def provision_bucket_notifications(env) -> None:
    """Each bucket's NotificationConfiguration as synthesized: EventBridge on,
    and the S3 notifications to queues (the crawlers' event queues), which
    moto delivers in S3's own event format. After the queues: S3 checks that
    a destination exists."""
    t = env.templates
    s3 = env.client("s3")
    for lid in t.resources("storage", "AWS::S3::Bucket"):
        nc = t.properties("storage", lid).get("NotificationConfiguration", {})
        config = {}
        if nc.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
            config["EventBridgeConfiguration"] = {}
        queues = [{"QueueArn": q["Queue"], "Events": [q["Event"]],
                   "Filter": {"Key": {"FilterRules": q["Filter"]["S3Key"]["Rules"]}}}
                  for q in nc.get("QueueConfigurations", [])]
        if queues:
            config["QueueConfigurations"] = queues
        if config:
            s3.put_bucket_notification_configuration(Bucket=t.name_of("storage", lid), NotificationConfiguration=config)


def provision_queue_rules(env) -> int:
    """The orchestration rules whose targets are all SQS queues (the landing
    events rule), created in moto's EventBridge with their synthesized
    pattern, so S3's Object Created events reach the queue as in AWS. The
    workflow rule is the trigger step's (trigger.py)."""
    t = env.templates
    events = env.client("events")
    made = 0
    for lid in t.resources("orchestration", "AWS::Events::Rule"):
        p = t.properties("orchestration", lid)
        targets = p.get("Targets", [])
        if not targets or not all(":sqs:" in str(x["Arn"]) for x in targets):
            continue
        name = p.get("Name") or t.name_of("orchestration", lid)
        pattern = p["EventPattern"] if isinstance(p["EventPattern"], dict) else json.loads(p["EventPattern"])
        events.put_rule(Name=name, EventPattern=json.dumps(pattern), State=p.get("State", "ENABLED"))
        events.put_targets(Rule=name, Targets=[{"Id": x["Id"], "Arn": x["Arn"]} for x in targets])
        made += 1
    return made
