"""The Glue workflow `orders-workflow`, run locally from its synthesized
definition.

LocalWorkflow reads the Orchestration template: the workflow, its EVENT
start trigger and CONDITIONAL triggers (the graph: which step starts when
which one ended in which state), the crawlers and the jobs with their
DefaultArguments. A run starts the start trigger's actions and then fires
every trigger whose predicate the ended steps satisfy, as Glue does; nothing
about the order is written here.

- Crawlers run as stand-ins (glue_local/crawlers.py) on moto's Glue catalog.
- Python-shell jobs run their own script (the cdk.out asset) as a
  subprocess of the venv's Python, with their arguments as Glue passes them
  (Glue's run arguments, then DefaultArguments), PYTHONPATH = the modules of
  --extra-py-files (from the BucketDeployment's source asset) plus the
  awsglue shim, and the AWS environment pointing at moto, the local Athena
  and the local Redshift Data API.
- Spark jobs run their own script in this process (runpy, sys.argv set) on
  the one SparkSession, with the awsglue shim for the Glue edges.
- Jobs are retried MaxRetries times, as Glue does; a step that still fails
  ends the run with a FAILED StepResult carrying the error.
"""
from __future__ import annotations

import collections
import contextlib
import hashlib
import io
import json
import os
import runpy
import shutil
import subprocess
import sys
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from .glue_local import runtime as glue_runtime
from .glue_local import s3files
from .glue_local.bookmark_store import BookmarkStore
from .glue_local.crawlers import CrawlerStandIn

Hook = Callable[[object, str], None]

SHIM_DIR = Path(__file__).resolve().parent / "glue_local" / "shim"
ORCHESTRATION = "orchestration"

# How much of a failed job's stderr a StepResult carries.
STDERR_TAIL = 4000


@dataclass
class StepResult:
    name: str
    kind: str  # "crawler" | "pythonshell" | "glueetl"
    state: str  # "SUCCEEDED" | "FAILED"
    seconds: float
    work: Dict[str, int]
    error: Optional[str]
    run_id: Optional[str] = None  # the Glue job run id (last attempt) or crawl id
    attempts: int = 1
    log: Optional[str] = None  # the step's log file


@dataclass
class Node:
    name: str
    kind: str
    logical_id: str
    props: dict


@dataclass
class Trigger:
    name: str
    type: str
    logical: str  # AND | ANY
    conditions: List[Tuple[str, str]]  # (node name, state)
    actions: List[dict]  # {"name": node, "arguments": {...}}


class WorkflowDefinitionError(ValueError):
    pass


def _tail(text: str, n: int = STDERR_TAIL) -> str:
    return text if len(text) <= n else "..." + text[-n:]


class LocalWorkflow:
    def __init__(self, env, workflow_name: Optional[str] = None):
        self.env = env
        t = env.templates
        workflows = {t.name_of(ORCHESTRATION, lid): lid for lid in t.resources(ORCHESTRATION, "AWS::Glue::Workflow")}
        if workflow_name is None:
            if len(workflows) != 1:
                raise WorkflowDefinitionError("expected one Glue workflow in the orchestration stack, found %s" % sorted(workflows))
            workflow_name = next(iter(workflows))
        if workflow_name not in workflows:
            raise WorkflowDefinitionError("no Glue workflow %r (have %s)" % (workflow_name, sorted(workflows)))
        self.name = workflow_name
        self.nodes: Dict[str, Node] = {}
        for lid in t.resources(ORCHESTRATION, "AWS::Glue::Crawler"):
            props = t.properties(ORCHESTRATION, lid)
            self.nodes[props["Name"]] = Node(props["Name"], "crawler", lid, props)
        for lid in t.resources(ORCHESTRATION, "AWS::Glue::Job"):
            props = t.properties(ORCHESTRATION, lid)
            self.nodes[props["Name"]] = Node(props["Name"], props["Command"]["Name"], lid, props)
        self.start_trigger: Optional[Trigger] = None
        self.triggers: List[Trigger] = []
        for lid in t.resources(ORCHESTRATION, "AWS::Glue::Trigger"):
            p = t.properties(ORCHESTRATION, lid)
            if p.get("WorkflowName") != self.name:
                continue
            trig = self._trigger(p)
            if trig.type == "CONDITIONAL":
                self.triggers.append(trig)
            elif self.start_trigger is None:
                self.start_trigger = trig
            else:
                raise WorkflowDefinitionError("workflow %s has two start triggers: %s and %s" % (self.name, self.start_trigger.name, trig.name))
        if self.start_trigger is None:
            raise WorkflowDefinitionError("workflow %s has no start trigger" % self.name)
        self.triggers.sort(key=lambda tr: tr.name)
        self.spark = None
        self.athena = None
        self.dataapi = None
        self.timings: Dict[str, float] = {}
        self.glue_dir = Path(env.work_dir) / "glue"
        self.bookmarks = BookmarkStore(self.glue_dir / "bookmarks")
        self._extra_py: Dict[str, Path] = {}
        self._started = False
        # Injected faults: job name -> job runs (attempts) still to fail at job.commit().
        self._commit_faults: Dict[str, int] = {}

    def _trigger(self, p: dict) -> Trigger:
        actions = []
        for a in p.get("Actions", []):
            name = a.get("JobName") or a.get("CrawlerName")
            if name not in self.nodes:
                raise WorkflowDefinitionError("trigger %s starts %r, which is no job or crawler of the stack" % (p["Name"], name))
            actions.append({"name": name, "arguments": dict(a.get("Arguments") or {})})
        pred = p.get("Predicate") or {}
        conds = []
        for c in pred.get("Conditions", []):
            if c.get("LogicalOperator", "EQUALS") != "EQUALS":
                raise WorkflowDefinitionError("trigger %s: condition operator %s" % (p["Name"], c.get("LogicalOperator")))
            if c.get("JobName"):
                conds.append((c["JobName"], c.get("State", "SUCCEEDED")))
            else:
                conds.append((c["CrawlerName"], c.get("CrawlState", "SUCCEEDED")))
        return Trigger(p["Name"], p["Type"], pred.get("Logical", "AND"), conds, actions)

    # ---- the graph ----------------------------------------------------------------
    def order(self) -> List[str]:
        """The steps a run executes when every step succeeds (for display and checks)."""
        ended: Dict[str, str] = {}
        fired: set = set()
        queue = collections.deque(a["name"] for a in self.start_trigger.actions)
        out: List[str] = []
        while queue:
            name = queue.popleft()
            out.append(name)
            ended[name] = "SUCCEEDED"
            for tr in self._ready(ended, fired):
                queue.extend(a["name"] for a in tr.actions)
        return out

    def _ready(self, ended: Dict[str, str], fired: set) -> List[Trigger]:
        ready = []
        for tr in self.triggers:
            if tr.name in fired or not tr.conditions:
                continue
            hits = [ended.get(n) == s for n, s in tr.conditions]
            if (all(hits) if tr.logical == "AND" else any(hits)):
                fired.add(tr.name)
                ready.append(tr)
        return ready

    def fail_next_commit(self, job_name: str, times: int = 1) -> None:
        """Fault injection for scenarios: the next `times` runs (attempts) of a Spark
        job die when the script calls job.commit(), after everything it wrote."""
        if self.nodes.get(job_name) is None or self.nodes[job_name].kind != "glueetl":
            raise ValueError("%r is not a Spark job of the workflow" % job_name)
        self._commit_faults[job_name] = self._commit_faults.get(job_name, 0) + times

    # ---- start / stop ---------------------------------------------------------
    def start(self) -> None:
        if self._started:
            return
        from . import athena_local, dataapi_local
        from .glue_local import spark as glue_spark

        env = self.env
        # Bookmarks and crawler state describe the catalog and buckets of this
        # rehearsal's moto, which starts empty: start from no state either.
        if self.glue_dir.exists():
            shutil.rmtree(self.glue_dir)
        self.glue_dir.mkdir(parents=True)
        self._extra_py.clear()
        self.spark, spark_seconds = glue_spark.start_session(env.repo, env.work_dir, env.moto_url, env.region)
        self.timings["spark_start_seconds"] = round(spark_seconds, 3)
        self._upload_assets()
        self.athena = athena_local.AthenaLocal(self.spark, env.client("glue"), env.client("s3"),
                                               self._athena_workgroups(), on_query=self._record_query)
        self.timings["athena_warm_up_seconds"] = round(self.athena.warm_up(), 3)
        env.endpoints["athena"] = self.athena.start()
        wh = self._warehouse()
        self.dataapi = dataapi_local.DataApiLocal(env.pg_dsn, env.client("s3"), on_statement=self._record_statement, **wh)
        env.endpoints["redshift-data"] = self.dataapi.start()
        env.state["redshift_dsn"] = self.dataapi.dsn(sorted(wh["databases"])[0])
        self._started = True

    def stop(self) -> None:
        from .glue_local import spark as glue_spark

        for server, key in ((self.athena, "athena"), (self.dataapi, "redshift-data")):
            if server is not None:
                server.stop()
            self.env.endpoints.pop(key, None)
        self.athena = self.dataapi = None
        if self.spark is not None:
            glue_spark.stop_session()
            self.spark = None
        self._started = False

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def _athena_workgroups(self) -> Dict[str, dict]:
        t = self.env.templates
        out = {}
        for lid in t.resources(ORCHESTRATION, "AWS::Athena::WorkGroup"):
            p = t.properties(ORCHESTRATION, lid)
            cfg = p.get("WorkGroupConfiguration") or {}
            out[p["Name"]] = {"OutputLocation": (cfg.get("ResultConfiguration") or {}).get("OutputLocation"),
                              "Enforce": bool(cfg.get("EnforceWorkGroupConfiguration"))}
        return out

    def _warehouse(self) -> dict:
        """What the local Data API accepts, from the Warehouse template (or, for an
        existing warehouse, from the jobs' arguments)."""
        t = self.env.templates
        wh: dict = {"workgroups": set(), "clusters": set(), "databases": set(), "secrets": set(), "copy_roles": set()}
        if "warehouse" in t.suffixes:
            for lid in t.resources("warehouse", "AWS::RedshiftServerless::Workgroup"):
                wh["workgroups"].add(t.properties("warehouse", lid)["WorkgroupName"])
            for lid in t.resources("warehouse", "AWS::RedshiftServerless::Namespace"):
                p = t.properties("warehouse", lid)
                wh["databases"].add(p.get("DbName", "dev"))
                wh["copy_roles"].update(p.get("IamRoles") or [])
                if p.get("DefaultIamRoleArn"):
                    wh["copy_roles"].add(p["DefaultIamRoleArn"])
            for lid in t.resources("warehouse", "AWS::SecretsManager::Secret"):
                wh["secrets"].add(t.resolve("warehouse", {"Ref": lid}))
        for node in self.nodes.values():
            args = node.props.get("DefaultArguments") or {}
            if "--redshift_database" in args and not wh["databases"]:
                wh["databases"].add(args["--redshift_database"])
            if args.get("--cluster_identifier"):
                wh["clusters"].add(args["--cluster_identifier"])
            if args.get("--workgroup_name") and not wh["workgroups"]:
                wh["workgroups"].add(args["--workgroup_name"])
        if not wh["databases"]:
            wh["databases"].add("dev")
        return wh

    def _upload_assets(self) -> None:
        """Puts the scripts and SQL files the jobs name by S3 URI (cdk assets) into
        moto, as `cdk deploy` publishes them."""
        s3 = self.env.client("s3")
        t = self.env.templates
        made = set()
        for node in self.nodes.values():
            if node.kind == "crawler":
                continue
            uris = [node.props["Command"]["ScriptLocation"]]
            uris += [v for v in (node.props.get("DefaultArguments") or {}).values()
                     if isinstance(v, str) and v.startswith("s3://") and "," not in v]
            for uri in uris:
                bucket, key = s3files.split_uri(uri)
                try:
                    path = t.asset_path(uri)
                except KeyError:
                    continue
                if path.is_dir():
                    continue
                if bucket not in made:
                    try:
                        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": self.env.region})
                    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
                        pass
                    made.add(bucket)
                s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())

    # ---- metrics from the stand-ins ---------------------------------------------
    def _append_jsonl(self, name: str, record: dict) -> None:
        with open(self.glue_dir / name, "a") as f:
            f.write(json.dumps(record, default=str) + "\n")

    def _record_query(self, q) -> None:
        if q.context:
            run, step = q.context
            self.env.metrics.add(run, step, athena_queries=1, athena_rows_scanned=q.rows_scanned,
                                 athena_bytes_scanned=q.bytes_scanned, athena_files_scanned=q.files_scanned)
        self._append_jsonl("athena-queries.jsonl", {
            "run": q.context, "id": q.id, "state": q.state, "sql": q.sql, "reason": q.reason,
            "rows_scanned": q.rows_scanned, "bytes_scanned": q.bytes_scanned, "files_scanned": q.files_scanned,
            "result_rows": len(q.rows), "engine_ms": q.engine_ms, "catalog_ms": q.catalog_ms})

    def _record_statement(self, stmt) -> None:
        for sub in stmt.subs:
            self._append_jsonl("redshift-statements.jsonl", {
                "run": stmt.context, "id": sub.id, "status": sub.status, "sql": " ".join(sub.sql.split())[:500],
                "error": sub.error, "result_rows": sub.result_rows, "work": sub.work, "tables": sub.tables,
                "ms": round(max(sub.duration_ns, 0) / 1e6, 1)})
        if stmt.context:
            run, step = stmt.context
            w = stmt.work()
            rewritten = sum(v.get("rows_deleted", 0) + v.get("rows_updated", 0)
                            for s in stmt.subs for t, v in s.tables.items() if not t.startswith("pg_temp."))
            self.env.metrics.add(run, step, redshift_statements=len(stmt.subs),
                                 redshift_rows_scanned=w.get("rows_scanned", 0),
                                 redshift_rows_inserted=w.get("rows_inserted", 0),
                                 redshift_rows_deleted=w.get("rows_deleted", 0),
                                 redshift_rows_updated=w.get("rows_updated", 0),
                                 rows_rewritten=rewritten,
                                 **{k: w[k] for k in ("copy_files", "copy_rows", "copy_bytes") if k in w})

    # ---- a workflow run ------------------------------------------------------------
    def run(self, workflow_run_id: str, hooks: Optional[Dict[str, Hook]] = None) -> List[StepResult]:
        """Runs the workflow once: the start trigger's actions, then every
        trigger the ended steps satisfy. Hooks "before:<step>" run before a
        step starts, "after:<step>" after it SUCCEEDED; a hook that raises
        ends the run with that exception (it is the scenario's error, not the
        pipeline's)."""
        if not self._started:
            self.start()
        hooks = dict(hooks or {})
        unknown = [k for k in hooks if k.split(":", 1)[-1] not in self.nodes or k.split(":", 1)[0] not in ("before", "after")]
        if unknown:
            raise ValueError("hooks for unknown steps or phases: %s (steps: %s)" % (unknown, ", ".join(self.order())))
        results: List[StepResult] = []
        ended: Dict[str, str] = {}
        fired: set = set()
        queue = collections.deque(self.start_trigger.actions)
        run_started = time.monotonic()
        while queue:
            action = queue.popleft()
            node = self.nodes[action["name"]]
            if "before:" + node.name in hooks:
                hooks["before:" + node.name](self.env, node.name)
            result = self._run_node(workflow_run_id, node, action["arguments"])
            results.append(result)
            ended[node.name] = result.state
            if result.state == "SUCCEEDED" and "after:" + node.name in hooks:
                hooks["after:" + node.name](self.env, node.name)
            for tr in self._ready(ended, fired):
                queue.extend(tr.actions)
        self.timings.setdefault("runs", {})[workflow_run_id] = round(time.monotonic() - run_started, 3)
        return results

    def _run_node(self, run_key: str, node: Node, action_args: dict) -> StepResult:
        env = self.env
        log_dir = Path(env.work_dir) / "logs" / run_key
        log_dir.mkdir(parents=True, exist_ok=True)
        ctx = (run_key, node.name)
        self.athena.context = self.dataapi.context = ctx
        started = time.monotonic()
        with env.progress.step("%s %s" % (node.kind, node.name)) as p:
            try:
                if node.kind == "crawler":
                    result = self._run_crawler(node, log_dir)
                else:
                    result = self._run_job(run_key, node, action_args, log_dir)
            finally:
                self.athena.context = self.dataapi.context = None
            result.seconds = round(time.monotonic() - started, 3)
            if result.work:
                env.metrics.add(run_key, node.name, **result.work)
            # With what the Athena and Data API stand-ins recorded for the step.
            result.work = env.metrics.get(run_key, node.name)
            headline = {k: v for k, v in result.work.items() if v and k in (
                "partitions_added", "objects_read", "rows_read", "rows_written", "objects_written")}
            if headline:
                p.moved(**headline)
            if result.state != "SUCCEEDED":
                p.note("FAILED: " + _last_error_line(result.error))
        return result

    # ---- crawlers -------------------------------------------------------------------
    def _run_crawler(self, node: Node, log_dir: Path) -> StepResult:
        crawl_id = str(uuid.uuid4())
        log_path = log_dir / (node.name + ".log")
        try:
            stand_in = CrawlerStandIn(node.props, self.env.client("glue"), self.env.client("s3"), self.glue_dir / "crawlers",
                                      self.env.client("sqs"))
            crawl = stand_in.run()
            log_path.write_text("\n".join(crawl.messages) + "\n")
            return StepResult(node.name, "crawler", "SUCCEEDED", 0.0, dict(crawl.work), None, crawl_id, 1, str(log_path))
        except Exception as err:  # noqa: BLE001 - the crawl FAILED, with its error text
            text = traceback.format_exc()
            log_path.write_text(text)
            return StepResult(node.name, "crawler", "FAILED", 0.0, {}, "%s: %s\n%s" % (type(err).__name__, err, _tail(text)),
                              crawl_id, 1, str(log_path))

    # ---- jobs ------------------------------------------------------------------------
    def job_arguments(self, run_key: str, node: Node, action_args: dict, job_run_id: str, attempt: int) -> List[str]:
        """sys.argv[1:] of a job run, as Glue builds it: its run arguments, then the
        job's DefaultArguments overridden by the trigger action's Arguments."""
        args = dict(node.props.get("DefaultArguments") or {})
        args.update(action_args)
        argv = ["--JOB_ID", "j_" + hashlib.sha256(node.name.encode()).hexdigest(), "--JOB_RUN_ID", job_run_id,
                "--JOB_NAME", node.name, "--WORKFLOW_NAME", self.name, "--WORKFLOW_RUN_ID", run_key]
        if attempt:
            argv += ["--attempt", str(attempt)]
        args.setdefault("--job-bookmark-option", "job-bookmark-disable")
        for key, value in args.items():
            if key.startswith("--"):  # keys without dashes (library-set) are settings Glue consumes
                argv += [key, str(value)]
        return argv

    def _extra_py_dir(self, node: Node) -> Path:
        spec = (node.props.get("DefaultArguments") or {}).get("--extra-py-files", "")
        key = hashlib.sha256(spec.encode()).hexdigest()[:16]
        if key in self._extra_py:
            return self._extra_py[key]
        out = self.glue_dir / "extra-py-files" / key
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        for uri in [u for u in spec.split(",") if u]:
            src = self._deployed_file(uri)
            shutil.copyfile(src, out / os.path.basename(src))
        self._extra_py[key] = out
        return out

    def _deployed_file(self, uri: str) -> Path:
        """The local source of an object a BucketDeployment put in S3 (or a cdk asset)."""
        t = self.env.templates
        bucket, key = s3files.split_uri(uri)
        for suffix in t.suffixes:
            for lid, r in t.stack(suffix).get("Resources", {}).items():
                if not str(r.get("Type", "")).startswith("Custom::CDKBucketDeployment"):
                    continue
                p = t.properties(suffix, lid)
                prefix = p.get("DestinationBucketKeyPrefix", "")
                if p.get("DestinationBucketName") != bucket or not key.startswith(prefix):
                    continue
                for obj_key in p.get("SourceObjectKeys", []):
                    candidate = Path(t.asset_path(obj_key)) / key[len(prefix):]
                    if candidate.is_file():
                        return candidate
        try:
            path = t.asset_path(uri)
            if path.is_file():
                return path
        except KeyError:
            pass
        raise FileNotFoundError("no deployment or asset in %s provides %s" % (t.cdk_out, uri))

    def _python(self) -> str:
        venv = Path(self.env.repo) / ".venv" / "bin" / "python"
        return str(venv) if venv.exists() else sys.executable

    def _job_env(self, extra_dir: Path) -> Dict[str, str]:
        env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "JAVA_HOME") if k in os.environ}
        env.update(self.env.aws_env())
        env["PYTHONPATH"] = os.pathsep.join([str(extra_dir), str(SHIM_DIR)])
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _run_job(self, run_key: str, node: Node, action_args: dict, log_dir: Path) -> StepResult:
        attempts = 1 + int(node.props.get("MaxRetries") or 0)
        total: Dict[str, int] = collections.Counter()
        result = None
        for attempt in range(attempts):
            job_run_id = "jr_" + hashlib.sha256(("%s/%s/%s/%d/%s" % (run_key, node.name, attempt, time.time(), uuid.uuid4())).encode()).hexdigest()
            argv = self.job_arguments(run_key, node, action_args, job_run_id, attempt)
            log_path = log_dir / ("%s%s.log" % (node.name, "" if attempt == 0 else ".attempt%d" % attempt))
            if node.kind == "glueetl":
                state, error, work = self._run_spark_job(node, argv, job_run_id, log_path)
            elif node.kind == "pythonshell":
                state, error, work = self._run_python_shell(node, argv, log_path)
            else:
                state, error, work = "FAILED", "job command %r is not supported locally" % node.kind, {}
            total.update(work)
            result = StepResult(node.name, node.kind, state, 0.0, {}, error, job_run_id, attempt + 1, str(log_path))
            if state == "SUCCEEDED":
                break
        result.work = dict(total)
        if result.attempts > 1:
            result.work["attempts"] = result.attempts
        return result

    def _run_python_shell(self, node: Node, argv: List[str], log_path: Path):
        script = self.env.templates.asset_path(node.props["Command"]["ScriptLocation"])
        extra = self._extra_py_dir(node)
        timeout = 60 * int(node.props.get("Timeout") or 2880)
        cwd = log_path.parent
        started = time.monotonic()
        try:
            proc = subprocess.run([self._python(), str(script)] + argv, cwd=str(cwd), env=self._job_env(extra),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
            out, err, rc = proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"), proc.returncode
        except subprocess.TimeoutExpired as exc:
            out = (exc.stdout or b"").decode("utf-8", "replace")
            err = (exc.stderr or b"").decode("utf-8", "replace") + "\njob run timed out after %d s" % timeout
            rc = -1
        log_path.write_text("$ %s %s\n--- stdout\n%s--- stderr\n%s" % (script.name, " ".join(argv), out, err))
        work = {"job_ms": int((time.monotonic() - started) * 1000)}
        if rc == 0:
            return "SUCCEEDED", None, work
        return "FAILED", "exit status %d; stderr:\n%s" % (rc, _tail(err or out)), work

    # ---- Spark jobs, in this process -----------------------------------------------------
    @contextlib.contextmanager
    def _in_process_job(self, extra_dir: Path, argv0: str, argv: List[str], log_path: Path):
        """What a Glue job process has, for a script run in this process: its argv, the
        --extra-py-files modules and the shim first on sys.path, the AWS environment, and
        stdout/stderr/logging going to the step's log. The workflow runs in one thread
        while other rehearsal threads go on: output of other threads keeps its place,
        and only the environment variables the job needs are set (and put back)."""
        import logging
        import threading

        import boto3

        aws = self.env.aws_env()
        saved_env = {k: os.environ.get(k) for k in aws}
        saved_argv, saved_path = sys.argv, list(sys.path)
        saved_modules = set(sys.modules)
        root = logging.getLogger()
        saved_level = root.level
        saved_out, saved_err = sys.stdout, sys.stderr
        log_file = open(log_path, "w")
        me = threading.get_ident()
        handler = logging.StreamHandler(log_file)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(lambda record: record.thread == me)
        saved_handlers = list(root.handlers)
        # A handler in place makes the script's logging.basicConfig (glue_logging.setup) a
        # no-op, with the same format: the job's log lines go to its log, not the console.
        root.handlers.insert(0, handler)
        root.setLevel(logging.INFO)
        os.environ.update(aws)
        boto3.DEFAULT_SESSION = None
        sys.argv = [argv0] + argv
        sys.path[:0] = [str(extra_dir), str(SHIM_DIR)]
        sys.stdout, sys.stderr = _ThreadTee(saved_out, log_file, me), _ThreadTee(saved_err, log_file, me)
        try:
            yield log_file
        finally:
            sys.stdout, sys.stderr = saved_out, saved_err
            for h in list(root.handlers):
                if h not in saved_handlers:
                    root.removeHandler(h)
            root.setLevel(saved_level)
            log_file.close()
            sys.argv, sys.path[:] = saved_argv, saved_path
            for name in set(sys.modules) - saved_modules:
                mod = sys.modules.get(name)
                f = getattr(mod, "__file__", None) or ""
                if f.startswith((str(extra_dir), str(SHIM_DIR))):
                    del sys.modules[name]
            for k, v in saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            boto3.DEFAULT_SESSION = None

    def _output_folders(self, argv: List[str]) -> List[str]:
        """The job's S3 folder arguments (…/ URIs outside the asset and code buckets): where it writes."""
        out = []
        for i in range(1, len(argv), 2):
            v = argv[i]
            if isinstance(v, str) and v.startswith("s3://") and v.endswith("/") and "," not in v:
                out.append(v)
        return out

    def _snapshot(self, folders: List[str]) -> Dict[str, s3files.S3Object]:
        s3 = self.env.client("s3")
        snap = {}
        for f in folders:
            for o in s3files.list_objects(s3, f, skip_hidden=False):
                snap[o.uri] = o
        return snap

    def _run_spark_job(self, node: Node, argv: List[str], job_run_id: str, log_path: Path):
        script = self.env.templates.asset_path(node.props["Command"]["ScriptLocation"])
        extra = self._extra_py_dir(node)
        opts = dict(zip(argv[0::2], argv[1::2]))
        folders = self._output_folders(argv)
        before = self._snapshot(folders)
        run = glue_runtime.JobRun(job_name=node.name, job_run_id=job_run_id,
                                  bookmark_option=opts.get("--job-bookmark-option", "job-bookmark-disable"),
                                  glue=self.env.client("glue"), s3=self.env.client("s3"), store=self.bookmarks)
        if self._commit_faults.get(node.name):
            self._commit_faults[node.name] -= 1
            run.fail_commit = True
        started = time.monotonic()
        state, error = "SUCCEEDED", None
        with self._in_process_job(extra, str(script), argv, log_path) as log_file:
            with glue_runtime.activate(run):
                try:
                    runpy.run_path(str(script), run_name="__main__")
                except SystemExit as exc:
                    if exc.code not in (None, 0):
                        state, error = "FAILED", "SystemExit(%r)" % (exc.code,)
                except BaseException as exc:  # noqa: BLE001 - the job run FAILED with the script's error
                    text = traceback.format_exc()
                    log_file.write(text)
                    state, error = "FAILED", "%s: %s\n%s" % (type(exc).__name__, _first_line(exc), _tail(text))
            work: Dict[str, int] = collections.Counter()
            for read in run.reads:
                work.update(objects_listed=read.objects_listed, objects_read=read.objects_read, bytes_read=read.bytes_read,
                            objects_skipped_by_bookmark=read.objects_skipped_by_bookmark)
                if read.frame is not None and read.objects_read:
                    work["rows_read"] += read.frame.count()
        work["job_ms"] = int((time.monotonic() - started) * 1000)
        work["bookmark_committed"] = int(run.committed)
        after = self._snapshot(folders)
        s3 = self.env.client("s3")
        for uri, o in after.items():
            if uri in before and before[uri].etag == o.etag:
                continue
            work["objects_written"] += 1
            work["bytes_written"] += o.size
            if o.key.endswith(".parquet"):
                meta, _ = s3files.parquet_footer(s3, o)
                work["rows_written"] += meta.num_rows
        return state, error, dict(work)


class _ThreadTee:
    """sys.stdout/sys.stderr while a job runs in-process: the job thread's writes go to
    the job's log, every other thread's to where they went before."""

    def __init__(self, original, log_file, thread_id: int):
        self._original, self._log, self._thread = original, log_file, thread_id

    def _target(self):
        import threading

        return self._log if threading.get_ident() == self._thread else self._original

    def write(self, text):
        return self._target().write(text)

    def flush(self):
        self._target().flush()

    def __getattr__(self, name):
        return getattr(self._original, name)


def _last_error_line(error: Optional[str]) -> str:
    """The most telling line of an error text: the last 'Xxx: message' line of a traceback, else the first line."""
    lines = [l.strip() for l in (error or "").strip().splitlines() if l.strip()]
    for line in reversed(lines):
        head = line.split(":", 1)[0]
        if ":" in line and head.replace(".", "").replace("_", "").isalnum() and not line.startswith("File "):
            return line[:300]
    return (lines[0] if lines else "no error text")[:300]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.split("\n")[0][:500] if text else type(exc).__name__


# ---- helpers for scenarios ---------------------------------------------------------------

def _landing_location(env) -> str:
    t = env.templates
    for lid in t.resources("storage", "AWS::Glue::Table"):
        p = t.properties("storage", lid)
        if p["TableInput"]["Name"] == "orders":
            return s3files.folder(p["TableInput"]["StorageDescriptor"]["Location"])
    raise LookupError("no landing table `orders` in the storage stack")


def redshift_dsn(env) -> str:
    """psycopg2 DSN of the warehouse database the local Data API uses."""
    if "redshift_dsn" in env.state:
        return env.state["redshift_dsn"]
    raise RuntimeError("the local Data API is not started (LocalWorkflow.start())")


def hide_landing_object(env, step: str = "") -> dict:
    """Hook: takes the newest landing data object out of S3 (its bytes are kept
    in <work_dir>/hidden/), as if it had been lost before the next step read it.
    Returns and records (env.state["hidden_landing_objects"]) what it hid."""
    s3 = env.client("s3")
    objs = s3files.list_objects(s3, _landing_location(env))
    if not objs:
        raise RuntimeError("no landing object to hide")
    o = max(objs, key=lambda x: (x.mtime, x.key))
    body = s3.get_object(Bucket=o.bucket, Key=o.key)["Body"].read()
    keep = Path(env.work_dir) / "hidden" / o.bucket / o.key
    keep.parent.mkdir(parents=True, exist_ok=True)
    keep.write_bytes(body)
    s3.delete_object(Bucket=o.bucket, Key=o.key)
    rows = 0
    products = 0
    try:
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(body))
        rows = table.num_rows
        if "products" in table.column_names:
            products = sum(len(p or []) for p in table.column("products").to_pylist())
    except Exception:  # noqa: BLE001 - the figures are informative only
        pass
    info = {"uri": o.uri, "bytes": o.size, "rows": rows, "products": products, "before": step, "kept": str(keep)}
    env.state.setdefault("hidden_landing_objects", []).append(info)
    return info


def restore_landing_objects(env) -> List[dict]:
    """Puts every hidden landing object back (with a new modification time)."""
    s3 = env.client("s3")
    restored = []
    for info in env.state.get("hidden_landing_objects", []):
        bucket, key = s3files.split_uri(info["uri"])
        s3.put_object(Bucket=bucket, Key=key, Body=Path(info["kept"]).read_bytes())
        restored.append(info)
    env.state["hidden_landing_objects"] = []
    return restored


def delete_redshift_staging_row(env, step: str = "") -> dict:
    """Hook: deletes one row of the newest run id from staging.orders (the
    warehouse database on PostgreSQL). Returns and records
    (env.state["deleted_redshift_staging_rows"]) the deleted row's key."""
    import psycopg2

    conn = psycopg2.connect(redshift_dsn(env))
    try:
        with conn, conn.cursor() as cur:
            cur.execute("DELETE FROM staging.orders WHERE ctid = (SELECT ctid FROM staging.orders "
                        "ORDER BY run_id DESC, order_id, line_number LIMIT 1) RETURNING run_id, order_id, line_number")
            row = cur.fetchone()
    finally:
        conn.close()
    if row is None:
        raise RuntimeError("staging.orders is empty: no row to delete")
    info = {"run_id": row[0], "order_id": row[1], "line_number": row[2], "after": step}
    env.state.setdefault("deleted_redshift_staging_rows", []).append(info)
    return info


__all__ = ["LocalWorkflow", "StepResult", "Hook", "hide_landing_object", "restore_landing_objects",
           "delete_redshift_staging_row", "redshift_dsn"]
