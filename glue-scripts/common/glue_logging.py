"""Log format of every job: Glue ships stdout/stderr to CloudWatch Logs."""
from __future__ import annotations

import logging
import sys


def setup() -> None:
    logging.basicConfig(stream=sys.stdout, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
