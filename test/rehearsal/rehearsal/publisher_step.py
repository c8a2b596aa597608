"""Step 1: the real `cmd/publisher` binary sends a batch to moto's Kinesis
stream and writes the completion object to moto's landing bucket; the names
are the Storage template's."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass

from .lambda_rie import go_build


@dataclass
class Published:
    batch_id: str
    records: int
    products: int
    manifest_key: str
    manifest: dict
    seconds: float


def stream_and_bucket(env) -> tuple[str, str]:
    t = env.templates
    stream_lid, _ = t.one("storage", "AWS::Kinesis::Stream")
    # the landing bucket is the one the Firehose delivers to
    fh_lid, _ = t.one("ingestion", "AWS::KinesisFirehose::DeliveryStream")
    bucket_arn = t.properties("ingestion", fh_lid)["ExtendedS3DestinationConfiguration"]["BucketARN"]
    return t.name_of("storage", stream_lid), bucket_arn.split(":::", 1)[1]


def build(env):
    out = env.work_dir / "bin" / "publisher"
    if "publisher_bin" not in env.state:
        env.state["publisher_bin"] = go_build(env.repo, "cmd/publisher", out, lambda_bootstrap=False)
    return env.state["publisher_bin"]


def publish(env, count: int, seed: int, batch_id: str, start: str | None = None, extra_args: list[str] | None = None) -> Published:
    """Run the publisher; returns what its manifest says."""
    binary = build(env)
    stream, bucket = stream_and_bucket(env)
    args = [str(binary), "--stream", stream, "--bucket", bucket, "--s3-path-style", "--progress", "never",
            "--count", str(count), "--seed", str(seed), "--batch-id", batch_id]
    if start:
        args += ["--start", start]
    args += extra_args or []
    with env.progress.step(f"publisher {batch_id}") as step:
        r = subprocess.run(args, env={"PATH": "/usr/bin:/bin", **env.aws_env()}, capture_output=True, text=True, timeout=300)
        (env.work_dir / f"publisher-{batch_id}.log").write_text(r.stdout + r.stderr)
        if r.returncode != 0:
            raise RuntimeError(f"publisher exited {r.returncode}:\n{r.stdout}{r.stderr}")
        m = re.search(r"wrote s3://([^/]+)/(\S+)", r.stdout)
        if not m:
            raise RuntimeError(f"publisher output has no completion object: {r.stdout}")
        key = m.group(2)
        manifest = json.loads(env.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
        step.moved(records=manifest["record_count"], products=manifest["product_count"])
    env.metrics.add(batch_id, "publisher", records_put=manifest["record_count"], objects_written=1)
    return Published(batch_id, manifest["record_count"], manifest["product_count"], key, manifest, step.record.seconds)
