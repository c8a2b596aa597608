"""Job arguments, resolved the way Glue passes them (``--name value``).

Glue provides ``awsglue.utils.getResolvedOptions``; it cannot express
optional arguments, so optional names are asked for only when present.
Outside Glue (tests, a laptop) a small argparse parser does the same job.
"""
from __future__ import annotations

import argparse
from typing import Dict, Iterable, List, Sequence, Tuple

# Glue adds these to every run; audit items record them.
JOB_NAME = "JOB_NAME"
JOB_RUN_ID = "JOB_RUN_ID"
# Glue passes --WORKFLOW_RUN_ID to the jobs a workflow starts; it names the manifest.
WORKFLOW_RUN_ID = "WORKFLOW_RUN_ID"

WAREHOUSE_REQUIRED = ["redshift_database"]
WAREHOUSE_TARGETS = ["workgroup_name", "cluster_identifier"]
# Without a secret, the Data API authenticates a Serverless workgroup's caller
# with temporary credentials of the job's own IAM role; a provisioned
# cluster always needs one.
WAREHOUSE_SECRET = "secret_arn"


class ArgumentError(ValueError):
    """A job argument is missing or contradicts another one."""


def _present(argv: Sequence[str], name: str) -> bool:
    flag = "--" + name
    return any(a == flag or a.startswith(flag + "=") for a in argv)


def resolve(argv: Sequence[str], required: Iterable[str], optional: Iterable[str] = ()) -> Dict[str, str]:
    """Returns the required arguments (error when one is missing) and the optional ones given."""
    required = list(required)
    wanted = required + [n for n in optional if _present(argv, n)]
    missing = [n for n in required if not _present(argv, n)]
    if missing:
        raise ArgumentError("missing job argument(s): " + ", ".join("--" + n for n in missing))
    try:
        from awsglue.utils import getResolvedOptions  # type: ignore
    except ImportError:
        return _argparse_resolve(argv, wanted)
    return dict(getResolvedOptions(list(argv), wanted))


def _argparse_resolve(argv: Sequence[str], names: List[str]) -> Dict[str, str]:
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for name in names:
        parser.add_argument("--" + name, dest=name, required=True)
    known, _ = parser.parse_known_args(list(argv[1:]))
    return {n: getattr(known, n) for n in names}


def run_identity(argv: Sequence[str]) -> Dict[str, str]:
    """The job name and job run id Glue passes, or "unknown" when run by hand."""
    found = resolve(argv, [], [JOB_NAME, JOB_RUN_ID])
    return {JOB_NAME: found.get(JOB_NAME, "unknown"), JOB_RUN_ID: found.get(JOB_RUN_ID, "unknown")}


def workflow_run_id(argv: Sequence[str]) -> str:
    """The Glue workflow run that started the job; "manual" for a job started by hand."""
    return resolve(argv, [], [WORKFLOW_RUN_ID]).get(WORKFLOW_RUN_ID, "manual")


def warehouse(argv: Sequence[str]) -> Dict[str, str]:
    """The warehouse arguments: database, exactly one of workgroup or cluster, and the secret (optional for a workgroup)."""
    found = resolve(argv, WAREHOUSE_REQUIRED, WAREHOUSE_TARGETS + [WAREHOUSE_SECRET])
    targets = [t for t in WAREHOUSE_TARGETS if found.get(t)]
    if len(targets) != 1:
        raise ArgumentError("give exactly one of --workgroup_name or --cluster_identifier, got %d" % len(targets))
    if targets[0] == "cluster_identifier" and not found.get(WAREHOUSE_SECRET):
        raise ArgumentError("missing job argument(s): --secret_arn (a provisioned cluster needs the secret the Data API signs in with)")
    return found


def split_s3_uri(uri: str) -> Tuple[str, str]:
    """s3://bucket/key → (bucket, key)."""
    if not uri.startswith("s3://"):
        raise ArgumentError("not an s3:// URI: %r" % uri)
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not bucket or not key:
        raise ArgumentError("S3 URI needs a bucket and a key: %r" % uri)
    return bucket, key

