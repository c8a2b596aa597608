"""Job: init loads the job's bookmark state, commit saves what this run read."""
from __future__ import annotations


class Job:
    def __init__(self, glue_context):
        from rehearsal.glue_local import runtime

        self._glue = glue_context
        self._run = runtime.current()

    def init(self, job_name, args=None):
        self._run.init(job_name, args)

    def commit(self):
        self._run.commit()
