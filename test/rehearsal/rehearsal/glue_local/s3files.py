"""S3 listing and ranged reads on moto, counting the work done."""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import List, Tuple


def split_uri(uri: str) -> Tuple[str, str]:
    """s3://bucket/key or s3a://bucket/key -> (bucket, key); the key may be empty."""
    for scheme in ("s3://", "s3a://"):
        if uri.startswith(scheme):
            bucket, _, key = uri[len(scheme):].partition("/")
            if not bucket:
                break
            return bucket, key
    raise ValueError("not an S3 URI: %r" % uri)


def folder(key: str) -> str:
    return key if not key or key.endswith("/") else key + "/"


def hidden(key: str, base: str = "") -> bool:
    """Hadoop, Spark, Athena and Glue crawlers skip files and folders whose
    name starts with '_' or '.' (e.g. _SUCCESS) and folder marker objects."""
    rel = key[len(base):] if key.startswith(base) else key
    if key.endswith("/"):
        return True
    return any(part.startswith(("_", ".")) for part in rel.split("/") if part)


@dataclass
class S3Object:
    bucket: str
    key: str
    size: int
    mtime: float  # LastModified, seconds since the epoch
    etag: str

    @property
    def uri(self) -> str:
        return "s3://%s/%s" % (self.bucket, self.key)


def list_objects(s3, uri: str, skip_hidden: bool = True) -> List[S3Object]:
    """Every object under the prefix (paginated), hidden files skipped."""
    bucket, prefix = split_uri(uri)
    found: List[S3Object] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            if skip_hidden and hidden(o["Key"], prefix):
                continue
            found.append(S3Object(bucket, o["Key"], int(o["Size"]), o["LastModified"].timestamp(), o.get("ETag", "")))
    return found


class RangedS3File(io.RawIOBase):
    """A read-only file over one S3 object that fetches only the byte ranges
    asked for, so pyarrow reads a Parquet footer without the whole object."""

    def __init__(self, s3, obj: S3Object):
        super().__init__()
        self._s3, self._obj, self._pos = s3, obj, 0
        self.bytes_fetched = 0
        self.requests = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self._pos = offset
        elif whence == io.SEEK_CUR:
            self._pos += offset
        else:
            self._pos = self._obj.size + offset
        return self._pos

    def size(self) -> int:
        return self._obj.size

    def read(self, n: int = -1) -> bytes:
        end = self._obj.size if n is None or n < 0 else min(self._obj.size, self._pos + n)
        if end <= self._pos:
            return b""
        body = self._s3.get_object(Bucket=self._obj.bucket, Key=self._obj.key,
                                   Range="bytes=%d-%d" % (self._pos, end - 1))["Body"].read()
        self.requests += 1
        self.bytes_fetched += len(body)
        self._pos += len(body)
        return body

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)


def parquet_footer(s3, obj: S3Object):
    """(pyarrow FileMetaData, bytes fetched) of one Parquet object, reading only its footer."""
    import pyarrow.parquet as pq

    f = RangedS3File(s3, obj)
    meta = pq.ParquetFile(f).metadata
    return meta, f.bytes_fetched
