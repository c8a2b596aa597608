"""The workflow graph comes from the synthesized triggers; a failing step ends the run."""
from __future__ import annotations

import random

import job_args
from rehearsal.workflow import LocalWorkflow, StepResult


def test_order_follows_the_start_trigger_and_the_conditional_predicates(env):
    wf = LocalWorkflow(env)
    order = wf.order()
    assert order[0] == wf.start_trigger.actions[0]["name"] and wf.start_trigger.type == "EVENT"
    assert len(order) == len(set(order)) == 9
    for prev, step in zip(order, order[1:]):
        (trigger,) = [t for t in wf.triggers if step in [a["name"] for a in t.actions]]
        assert trigger.conditions == [(prev, "SUCCEEDED")]
    random.Random(1).shuffle(wf.triggers)
    assert wf.order() == order


def test_a_failed_step_ends_the_run_and_later_steps_do_not_start(env, monkeypatch):
    wf = LocalWorkflow(env)
    order = wf.order()
    ran = []

    def fake(run_key, node, args):
        ran.append(node.name)
        state = "FAILED" if node.name == order[2] else "SUCCEEDED"
        return StepResult(node.name, node.kind, state, 0.0, {}, "boom" if state == "FAILED" else None)

    monkeypatch.setattr(wf, "_run_node", fake)
    monkeypatch.setattr(wf, "_started", True)
    called = []
    results = wf.run("wr_test", hooks={"before:" + order[1]: lambda e, s: called.append(("before", s)),
                                       "after:" + order[2]: lambda e, s: called.append(("after", s))})
    assert ran == order[:3] and [r.state for r in results] == ["SUCCEEDED", "SUCCEEDED", "FAILED"]
    assert called == [("before", order[1])]  # no after-hook for a failed step


def test_job_arguments_are_what_the_scripts_resolve(env):
    wf = LocalWorkflow(env)
    node = wf.nodes["orders_landing_audit_load"]
    argv = ["script.py"] + wf.job_arguments("wr_1", node, {}, "jr_abc", 0)
    assert job_args.run_identity(argv) == {"JOB_NAME": "orders_landing_audit_load", "JOB_RUN_ID": "jr_abc"}
    args = job_args.resolve(argv, ["layer", "database", "table", "athena_workgroup", "audit_table"])
    assert args["layer"] == "s3_landing" and args["table"] == "orders"
    assert argv[argv.index("--WORKFLOW_RUN_ID") + 1] == "wr_1"
