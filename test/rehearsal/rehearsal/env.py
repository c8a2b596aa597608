"""What every rehearsal step shares: the templates, the local servers'
endpoints, the output folder, the work figures and the progress lines.

`local_env()` starts the servers (one moto server, one throwaway PostgreSQL
15) and yields an `Env`; leaving the block stops them by PID.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, TextIO

from .cdkout import Templates

REPO = Path(__file__).resolve().parents[3]
DEFAULT_OUT = REPO / ".rehearsal"
ACCOUNT = "000000000000"
REGION = "eu-west-1"


def glue_script_tests_on_path() -> None:
    """Puts glue-scripts/tests on sys.path: the rehearsal's warehouse is the
    Glue-script tests' one, the same PostgreSQL cluster (pg_cluster) and the
    same Redshift-to-PostgreSQL rule (pg_dialect)."""
    path = str(REPO / "glue-scripts" / "tests")
    if path not in sys.path:
        sys.path.insert(0, path)


class Metrics:
    """Work figures per run and step: metrics.add(run_key, step, objects_read=3, rows_read=120).

    Figures are ints and are summed when the same run/step/figure is added again.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))

    def add(self, run_key: str, step: str, **figures: int) -> None:
        with self._lock:
            for k, v in figures.items():
                if isinstance(v, bool) or not isinstance(v, int):
                    raise TypeError(f"metric {step}.{k} must be an int, got {v!r}")
                self._data[str(run_key)][step][k] += v

    def get(self, run_key: str, step: str | None = None) -> dict:
        with self._lock:
            run = self._data.get(str(run_key), {})
            if step is None:
                return {s: dict(f) for s, f in run.items()}
            return dict(run.get(step, {}))

    def runs(self) -> list[str]:
        with self._lock:
            return list(self._data)

    def as_dict(self) -> dict:
        with self._lock:
            return {r: {s: dict(f) for s, f in steps.items()} for r, steps in self._data.items()}


@dataclass
class StepRecord:
    name: str
    started: float  # seconds since the rehearsal started
    seconds: float = 0.0
    moved: dict[str, int] = field(default_factory=dict)
    note: str = ""
    ok: bool = True
    error: str | None = None


class _Step:
    def __init__(self, progress: "Progress", rec: StepRecord) -> None:
        self._p, self.record = progress, rec

    def moved(self, **figures: int) -> None:
        """What the step moved (records, files, rows, ...); summed over calls."""
        for k, v in figures.items():
            self.record.moved[k] = self.record.moved.get(k, 0) + int(v)

    def note(self, text: str) -> None:
        """A short remark printed with the step's line (e.g. a scaled setting)."""
        self.record.note = (self.record.note + "; " if self.record.note else "") + text


class Progress:
    """One line per step, with elapsed time and what it moved:

        [   3.2s] publisher                       1.1s  1000 records, 2987 products
    """

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.t0 = time.monotonic()
        self.stream = stream or sys.stdout
        self.quiet = quiet
        self.steps: list[StepRecord] = []
        self._lock = threading.Lock()

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def info(self, text: str) -> None:
        if not self.quiet:
            with self._lock:
                print(f"[{self.elapsed():7.1f}s] {text}", file=self.stream, flush=True)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[_Step]:
        rec = StepRecord(name=name, started=round(self.elapsed(), 3))
        s = _Step(self, rec)
        start = time.monotonic()
        try:
            yield s
        except BaseException as e:
            rec.ok, rec.error = False, f"{type(e).__name__}: {e}"
            raise
        finally:
            rec.seconds = round(time.monotonic() - start, 3)
            with self._lock:
                self.steps.append(rec)
            moved = ", ".join(f"{v} {k}" for k, v in rec.moved.items())
            status = "" if rec.ok else f"  FAILED: {rec.error}"
            note = f"  ({rec.note})" if rec.note else ""
            self.info(f"{name:<42} {rec.seconds:6.1f}s  {moved}{note}{status}")

    def as_list(self) -> list[dict]:
        with self._lock:
            return [vars(r).copy() for r in self.steps]


@dataclass
class Env:
    templates: Templates
    out_dir: Path
    work_dir: Path
    repo: Path
    region: str
    account: str
    moto_url: str
    pg_dsn: str
    metrics: Metrics = field(default_factory=Metrics)
    progress: Progress = field(default_factory=Progress)
    # Service-specific endpoints on top of moto (botocore service names, e.g.
    # "athena", "redshift-data"): aws_env() exports them as
    # AWS_ENDPOINT_URL_<SERVICE>, client() uses them.
    endpoints: dict[str, str] = field(default_factory=dict)
    # Anything else a step keeps for later steps or the summary.
    state: dict = field(default_factory=dict)

    def aws_env(self) -> dict[str, str]:
        env = {
            "AWS_ENDPOINT_URL": self.moto_url,
            # The Lambdas' run-state client (internal/runstate.ClientFromEnv)
            # reads only the DynamoDB-specific variable.
            "AWS_ENDPOINT_URL_DYNAMODB": self.moto_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_MAX_ATTEMPTS": "3",
        }
        for service, url in self.endpoints.items():
            env["AWS_ENDPOINT_URL_" + service.upper().replace("-", "_")] = url
        return env

    def client(self, service: str):
        import boto3
        from botocore.config import Config

        cfg = Config(
            connect_timeout=5,
            read_timeout=60,
            retries={"max_attempts": 3, "mode": "standard"},
            s3={"addressing_style": "path"},
        )
        return boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", aws_session_token="testing", region_name=self.region
        ).client(service, endpoint_url=self.endpoints.get(service, self.moto_url), config=cfg)

    def write_json(self, name: str, data) -> Path:
        p = self.out_dir / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(data, indent=2, default=str) + "\n")
        return p


@contextlib.contextmanager
def local_env(out_dir: Path | None = None, cdk_out: Path | None = None, progress: Progress | None = None, provision: bool = True) -> Iterator[Env]:
    """Start moto and PostgreSQL, create the resources the Storage and Audit
    templates declare (buckets, stream, tables, catalog, topics), and yield an Env.
    Everything started is stopped by PID when the block ends."""
    from . import servers

    out_dir = Path(out_dir or DEFAULT_OUT).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    # One rehearsal per output folder at a time (the worktree may be shared):
    # a second one waits rather than wiping the first one's work folder.
    import fcntl

    lock = open(out_dir / ".lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        (progress or Progress()).info(f"waiting for another rehearsal using {out_dir}")
        fcntl.flock(lock, fcntl.LOCK_EX)
    work_dir = out_dir / "work"
    # the servers start empty, so must every file-backed state (bookmarks, logs)
    import shutil

    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True, exist_ok=True)
    templates = Templates.load(Path(cdk_out or REPO / "cdk.out"), ACCOUNT, REGION)
    with contextlib.ExitStack() as stack:
        stack.callback(lock.close)
        moto = stack.enter_context(servers.moto_server(work_dir, ACCOUNT))
        pg_dsn = stack.enter_context(servers.postgres(work_dir))
        env = Env(
            templates=templates, out_dir=out_dir, work_dir=work_dir, repo=REPO, region=REGION, account=ACCOUNT,
            moto_url=moto, pg_dsn=pg_dsn, progress=progress or Progress(),
        )
        if provision:
            servers.provision(env)
        yield env


__all__ = ["Env", "Metrics", "Progress", "Templates", "local_env", "REPO", "DEFAULT_OUT"]
