"""Job bookmark state, kept between job runs the way Glue keeps it.

Glue's bookmark for an S3-backed catalog source remembers, per job and
transformation_ctx, which files it has processed (by path and modification
time); a run reads only files it has not seen, and the new state is saved
only when the script calls job.commit(). A run that fails or ends without
committing leaves the previous state, so the next run reads the same files
again. State lives in <work_dir>/glue/bookmarks/<job name>.json.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Dict


class BookmarkStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, job_name: str) -> Path:
        return self.root / (job_name + ".json")

    def load(self, job_name: str) -> Dict:
        p = self._path(job_name)
        if not p.exists():
            return {"job_name": job_name, "run": 0, "attempt": 0, "contexts": {}}
        return json.loads(p.read_text())

    def save(self, job_name: str, state: Dict) -> None:
        p = self._path(job_name)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
        os.replace(tmp, p)

    def reset(self, job_name: str) -> None:
        """glue reset-job-bookmark: the next run reads everything."""
        p = self._path(job_name)
        if p.exists():
            p.unlink()

    def seen(self, job_name: str, context: str) -> Dict[str, float]:
        return dict(self.load(job_name)["contexts"].get(context, {}).get("files", {}))
