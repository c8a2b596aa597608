"""awsglue.utils.getResolvedOptions, as Glue's library behaves: every name
asked for is a required `--name value` argument; Glue's own reserved
arguments are accepted; anything else in argv is ignored."""
from __future__ import annotations

import argparse
from typing import Dict, List, Sequence

_BOOKMARK_CHOICES = ["job-bookmark-enable", "job-bookmark-disable", "job-bookmark-pause"]


class GlueArgumentError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # Glue raises instead of exiting
        raise GlueArgumentError(message)


def getResolvedOptions(args: Sequence[str], options: List[str]) -> Dict[str, str]:
    parser = _Parser(add_help=False, allow_abbrev=False)
    reserved = {"job_bookmark_option": "--job-bookmark-option", "job_bookmark_from": "--job-bookmark-from",
                "job_bookmark_to": "--job-bookmark-to", "continuation_option": "--continuation-option"}
    for name in options:
        if name in reserved or name.replace("_", "-") in ("job-bookmark-option", "continuation-option"):
            raise RuntimeError("Using reserved arguments --%s" % name)
    parser.add_argument("--job-bookmark-option", dest="job_bookmark_option", choices=_BOOKMARK_CHOICES,
                        default="job-bookmark-disable", required=False)
    parser.add_argument("--job-bookmark-from", dest="job_bookmark_from", required=False)
    parser.add_argument("--job-bookmark-to", dest="job_bookmark_to", required=False)
    parser.add_argument("--continuation-option", dest="continuation_option", required=False,
                        default="continuation-disabled")
    for name in options:
        parser.add_argument("--" + name, dest=name, required=True)
    parsed, _extra = parser.parse_known_args(list(args[1:]))
    return {k: v for k, v in vars(parsed).items()}
