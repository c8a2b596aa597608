"""The final check, written against AWS APIs only (a DynamoDB query of the
audit table, incl. the scanner's notified#<layer> items, and the SNS
messages an SQS queue received), so the same code verifies a deployment
(`make smoke`) and the rehearsal.

"Every layer of run X matched": for each compared layer, the audit count
equals the landing count, the scanner's notified#<layer> item records a sent
SUCCESS for that count, and the topics delivered exactly one SUCCESS and no
FAILURE for (run, layer).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal

LANDING = "s3_landing"
NOTIFIED = "notified#"
# internal/audit.ComparedLayers; compared_layers() reads them from the
# template's stream filter when a template is at hand.
DEFAULT_COMPARED = ["s3_staging", "redshift_staging", "redshift_final"]


def compared_layers(templates) -> list[str]:
    """The layers the scanner compares: the ones its stream filter passes."""
    import json

    lid, _ = templates.one("audit", "AWS::Lambda::EventSourceMapping")
    p = templates.properties("audit", lid)
    for f in p.get("FilterCriteria", {}).get("Filters", []):
        layers = json.loads(f["Pattern"]).get("dynamodb", {}).get("NewImage", {}).get("layer", {}).get("S")
        if layers:
            return list(layers)
    return list(DEFAULT_COMPARED)


def _plain(v):
    if isinstance(v, Decimal):
        return int(v) if v == int(v) else float(v)
    return v


def _deserialize(item: dict) -> dict:
    from boto3.dynamodb.types import TypeDeserializer

    d = TypeDeserializer()
    return {k: _plain(d.deserialize(v)) for k, v in item.items()}


def audit_items(ddb, table: str, run_id: str) -> dict[str, dict]:
    """layer (or notified#layer) -> item, strongly consistent."""
    out, kwargs = {}, {"TableName": table, "KeyConditionExpression": "run_id = :r",
                       "ExpressionAttributeValues": {":r": {"S": run_id}}, "ConsistentRead": True}
    while True:
        r = ddb.query(**kwargs)
        for it in r["Items"]:
            item = _deserialize(it)
            out[item["layer"]] = item
        if "LastEvaluatedKey" not in r:
            return out
        kwargs["ExclusiveStartKey"] = r["LastEvaluatedKey"]


def audited_runs(ddb, table: str) -> list[str]:
    """Every run id with a landing count (a scan: for the rehearsal's small table)."""
    runs, kwargs = set(), {"TableName": table, "ProjectionExpression": "run_id, layer", "ConsistentRead": True}
    while True:
        r = ddb.scan(**kwargs)
        for it in r["Items"]:
            if it["layer"]["S"] == LANDING:
                runs.add(it["run_id"]["S"])
        if "LastEvaluatedKey" not in r:
            return sorted(runs)
        kwargs["ExclusiveStartKey"] = r["LastEvaluatedKey"]


@dataclass
class LayerCheck:
    run_id: str
    layer: str
    count: int | None
    landing: int | None
    notified_outcome: str | None
    notified_count: int | None
    notify_state: str | None
    success_messages: int
    failure_messages: int
    ok: bool = False
    problem: str = ""


@dataclass
class RunCheck:
    run_id: str
    landing: int | None
    layers: list[LayerCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.landing is not None and all(l.ok for l in self.layers)

    def problems(self) -> list[str]:
        out = [] if self.landing is not None else [f"run {self.run_id}: no landing count"]
        return out + [f"run {self.run_id} {l.layer}: {l.problem}" for l in self.layers if not l.ok]

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "landing": self.landing, "ok": self.ok, "layers": [asdict(l) for l in self.layers]}


def check_run(items: dict[str, dict], run_id: str, notifications: list | None, layers: list[str]) -> RunCheck:
    """Compare what the audit table and the received messages say for one run
    (notifications None: messages not collected, the notified# items decide)."""
    landing_item = items.get(LANDING)
    landing = landing_item.get("record_count") if landing_item else None
    rc = RunCheck(run_id, landing)
    for layer in layers:
        it = items.get(layer) or {}
        nt = items.get(NOTIFIED + layer) or {}
        msgs = [n for n in (notifications or []) if n.run_id == run_id and n.layer == layer]
        succ = sum(1 for n in msgs if n.outcome == "SUCCESS")
        fail = sum(1 for n in msgs if n.outcome == "FAILURE")
        lc = LayerCheck(run_id, layer, it.get("record_count"), landing, nt.get("notified_outcome"), nt.get("notified_count"),
                        nt.get("notify_state"), succ, fail)
        if lc.count is None:
            lc.problem = "no audit count yet (job not run, or failed)"
        elif landing is None:
            lc.problem = f"count {lc.count} but no landing count"
        elif lc.count != landing:
            lc.problem = f"count {lc.count} differs from landing {landing} ({lc.count - landing:+d})"
        elif lc.notified_outcome is None:
            lc.problem = "counts match, but the scanner has not notified yet"
        elif lc.notified_outcome != "SUCCESS" or lc.notified_count != lc.count or lc.notify_state != "sent":
            lc.problem = f"scanner item says {lc.notified_outcome} for count {lc.notified_count} ({lc.notify_state})"
        elif fail:
            lc.problem = f"{fail} FAILURE message(s) received"
        elif notifications is not None and succ != 1:
            lc.problem = f"{succ} SUCCESS messages received (expected exactly 1)"
        else:
            lc.ok = True
        rc.layers.append(lc)
    return rc


def wait_for_run(ddb, table: str, run_id: str, collect, layers: list[str], timeout: float = 60, poll: float = 1.0) -> RunCheck:
    """Poll until every layer of run_id matched and was notified, or the timeout.
    `collect()` returns every notification received so far."""
    deadline = time.monotonic() + timeout
    while True:
        rc = check_run(audit_items(ddb, table, run_id), run_id, collect(), layers)
        if rc.ok or time.monotonic() >= deadline:
            return rc
        # a FAILURE already notified will not turn into a SUCCESS by waiting
        # for it, unless late data changes the count: keep waiting until the timeout
        time.sleep(poll)
