"""SQL files: read from S3 (the stacks upload glue-scripts/sql/ as assets) and split into statements."""
from __future__ import annotations

from typing import List

import job_args


def read_s3_text(s3_client, uri: str) -> str:
    bucket, key = job_args.split_s3_uri(uri)
    return s3_client.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")


def split_statements(text: str) -> List[str]:
    """Splits a script on ';' outside quotes and comments; drops comment-only pieces.

    The Data API runs one statement per call (or a list as a batch), so a file
    of several statements must be split. Handles '...', "...", -- and /* */.
    """
    statements: List[str] = []
    current: List[str] = []
    has_code = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "-" and text.startswith("--", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            current.append(text[i:end])
            i = end
            continue
        if ch == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise ValueError("unterminated /* comment in SQL script")
            current.append(text[i:end + 2])
            i = end + 2
            continue
        if ch in ("'", '"'):
            end = i + 1
            while True:
                end = text.find(ch, end)
                if end < 0:
                    raise ValueError("unterminated %s quote in SQL script" % ch)
                if text.startswith(ch * 2, end):  # doubled quote is an escaped quote
                    end += 2
                    continue
                break
            current.append(text[i:end + 1])
            has_code = True
            i = end + 1
            continue
        if ch == ";":
            if has_code:
                statements.append("".join(current).strip())
            current, has_code = [], False
            i += 1
            continue
        if not ch.isspace():
            has_code = True
        current.append(ch)
        i += 1
    if has_code:
        statements.append("".join(current).strip())
    return statements


def load_statements(s3_client, uri: str) -> List[str]:
    statements = split_statements(read_s3_text(s3_client, uri))
    if not statements:
        raise ValueError("no SQL statement in %s" % uri)
    return statements
