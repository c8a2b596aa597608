"""One set of local servers, one LocalWorkflow (Spark) and one wired pipeline
per test session; each scenario looks only at what it published (a mark)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from rehearsal.env import REPO, Progress, local_env
from rehearsal.pipeline import Rehearsal

OUT = Path(os.environ.get("REHEARSAL_TEST_OUT", REPO / ".rehearsal" / "tests"))


@pytest.fixture(scope="session")
def env():
    with local_env(OUT, progress=Progress()) as e:
        yield e


@pytest.fixture(scope="session")
def workflow(env):
    if os.environ.get("REHEARSAL_STUB_WORKFLOW"):  # developing the CORE half alone; never for the scenarios' verdict
        import sys

        sys.path.insert(0, str(Path(__file__).parent))
        from stub_workflow import StubWorkflow as LocalWorkflow
    else:
        from rehearsal.workflow import LocalWorkflow

    wf = LocalWorkflow(env)
    wf.start()
    yield wf
    wf.stop()


class Hooks:
    """Per-test hooks: hooks.set({"after:<step>": fn}, runs=1) applies to the next workflow run(s) only."""

    def __init__(self):
        self.pending: list[dict] = []

    def set(self, hooks: dict, runs: int = 1):
        self.pending = [hooks] * runs

    def __call__(self, workflow_run_id, n):
        return self.pending.pop(0) if self.pending else None


@pytest.fixture(scope="session")
def hooks():
    return Hooks()


@pytest.fixture(scope="session")
def rehearsal(env, workflow, hooks):
    rh = Rehearsal(env, workflow, hooks_for=hooks)
    rh.start()
    yield rh
    rh.stop()


@pytest.fixture
def scenario(rehearsal, hooks, request):
    """The pipeline with a mark taken before the test; writes the test's summary.json."""
    mark = rehearsal.mark()
    hooks.pending = []
    result = {}

    def summary():
        s = rehearsal.summary(since=mark)
        result["s"] = s
        return s

    yield rehearsal, summary
    hooks.pending = []
    if "s" in result:
        d = OUT / request.node.name
        d.mkdir(parents=True, exist_ok=True)
        (d / "summary.json").write_text(json.dumps(result["s"], indent=2, default=str) + "\n")
