"""orders_redshift_staging_to_redshift_final (Glue Python shell).

Applies the DDL, then moves the enriched rows of the runs of this workflow
run's manifest from staging.orders into final.orders in one transaction
(sql/enrich_final.sql), replacing what final.orders held for those run ids
and nothing else. Arguments: --ddl_sql_uri --enrich_final_sql_uri
--manifest_path + the warehouse arguments.
"""
from __future__ import annotations

import logging
import sys
from typing import List, Sequence

import boto3
import glue_logging
import job_args
import redshift_data
import run_selection
import sql_script
import warehouse_counts

ARGUMENTS = ["ddl_sql_uri", "enrich_final_sql_uri", "manifest_path"]
# What enrich_final.sql selects its runs with; the job puts the manifest's run ids
# there as literals, so both statements filter final.orders on its sort key
# (run_id) with constants and Redshift's zone maps skip every other run's blocks
# (a join with a session table of the ids would read the whole column).
RUNS_SUBQUERY = "(SELECT run_id FROM enrich_runs)"

log = logging.getLogger("orders_redshift_staging_to_redshift_final")


def enrich_statements(run_ids: Sequence[str], enrich: Sequence[str]) -> List[str]:
    """The enrich transaction for these runs: enrich_final.sql's statements, each
    restricted to the run ids. A statement that is not restricted is refused: it
    would touch other runs' rows."""
    runs = "(%s)" % warehouse_counts.run_list(run_ids)
    out = []
    for statement in enrich:
        if RUNS_SUBQUERY not in statement:
            raise ValueError("an enrich statement does not select its runs with %s: %s" % (RUNS_SUBQUERY, statement[:200]))
        out.append(statement.replace(RUNS_SUBQUERY, runs))
    return out


def run(executor: redshift_data.Executor, ddl: Sequence[str], enrich: Sequence[str], run_ids: Sequence[str]) -> None:
    executor.run(ddl)
    if not run_ids:
        log.info("no run to enrich in this workflow run")
        return
    executor.run(enrich_statements(run_ids, enrich))
    log.info("final.orders now holds the enriched rows of runs %s", ", ".join(sorted(run_ids)))


def main(argv=None) -> None:
    argv = sys.argv if argv is None else argv
    glue_logging.setup()
    args = job_args.resolve(argv, ARGUMENTS)
    executor = redshift_data.DataApiExecutor.from_args(boto3.client("redshift-data"), job_args.warehouse(argv))
    s3 = boto3.client("s3")
    runs = run_selection.workflow_runs(s3, argv, args["manifest_path"])
    run(executor, sql_script.load_statements(s3, args["ddl_sql_uri"]),
        sql_script.load_statements(s3, args["enrich_final_sql_uri"]), [r["run_id"] for r in runs])


if __name__ == "__main__":
    main()
