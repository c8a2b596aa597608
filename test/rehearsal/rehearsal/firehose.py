"""Firehose stand-in for `orders-firehose`: reads the Kinesis stream (every
shard, GetShardIterator/GetRecords), batches records by the processor buffer
of the Ingestion template, invokes the real transformer bootstrap under the
Lambda Runtime Interface Emulator with invocations shaped as Firehose sends
them from a Kinesis source, converts the Ok records to Parquet/Snappy against
the Glue table the template names (OpenX JSON SerDe semantics), and writes
objects under the template's Prefix / ErrorOutputPrefix.

Every setting is read from cdk.out. Buffer intervals are scaled down for a
rehearsal (`Scale`); the scaled values are printed in the progress lines.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import io
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field

from .lambda_rie import FunctionError, Lambda
from .poller import Poller

UTC = dt.timezone.utc


# ---- settings ----------------------------------------------------------------

@dataclass
class Scale:
    """How the rehearsal shortens the template's buffer intervals (sizes are kept)."""
    processor_interval: float = 2.0  # seconds for the processor's BufferIntervalInSeconds (60 in the template)
    destination_interval: float = 2.0  # seconds for the S3 destination's IntervalInSeconds (300)
    poll: float = 0.2  # Firehose reads each shard about once a second; scaled like the buffers

    def describe(self, s: "FirehoseSettings") -> str:
        return (f"processor buffer {s.processor_mib} MiB / {s.processor_interval_s} s -> "
                f"{s.processor_mib} MiB / {self.processor_interval:g} s, "
                f"S3 buffer {s.dest_mib} MiB / {s.dest_interval_s} s -> {s.dest_mib} MiB / {self.destination_interval:g} s, "
                f"{s.retries} retries (rehearsal scale)")


@dataclass
class FirehoseSettings:
    name: str
    arn: str
    stream_arn: str
    stream_name: str
    bucket: str
    prefix: str
    error_prefix: str
    dest_mib: int
    dest_interval_s: int
    processor_mib: int
    processor_interval_s: int
    retries: int
    lambda_arn: str
    lambda_logical_id: str
    case_insensitive: bool
    compression: str
    database: str
    table: str
    columns: list[tuple[str, str]]  # (name, hive type) in table order
    # DynamicPartitioningConfiguration: with it on, Prefix takes the
    # !{partitionKeyFromLambda:<key>} values each record returns in
    # metadata.partitionKeys, and the S3 buffer is kept per partition.
    dynamic_partitioning: bool = False
    partition_retry_s: int = 300

    @classmethod
    def from_templates(cls, env) -> "FirehoseSettings":
        t = env.templates
        lid, _ = t.one("ingestion", "AWS::KinesisFirehose::DeliveryStream")
        p = t.properties("ingestion", lid)
        d = p["ExtendedS3DestinationConfiguration"]
        params = {}
        for proc in d["ProcessingConfiguration"]["Processors"]:
            if proc["Type"] == "Lambda":
                params = {x["ParameterName"]: x["ParameterValue"] for x in proc["Parameters"]}
        conv = d["DataFormatConversionConfiguration"]
        deser = conv["InputFormatConfiguration"]["Deserializer"]
        if "OpenXJsonSerDe" not in deser:
            raise NotImplementedError(f"deserializer {list(deser)} (the stand-in implements OpenX JSON SerDe)")
        ser = conv["OutputFormatConfiguration"]["Serializer"]
        if "ParquetSerDe" not in ser:
            raise NotImplementedError(f"serializer {list(ser)} (the stand-in implements Parquet)")
        sc = conv["SchemaConfiguration"]
        # the Glue table as synthesized in the Storage template
        tlid, _ = t.one("storage", "AWS::Glue::Table",
                        where=lambda r: t.resolve("storage", r["Properties"]["TableInput"]["Name"]) == sc["TableName"])
        tin = t.properties("storage", tlid)["TableInput"]
        cols = [(c["Name"], c["Type"]) for c in tin["StorageDescriptor"]["Columns"]]
        lambda_arn = params["LambdaArn"]
        fn_name = lambda_arn.rsplit(":function:", 1)[1].split(":")[0]
        fn_lid = next(lid for lid in t.resources("ingestion", "AWS::Lambda::Function")
                      if t.properties("ingestion", lid).get("FunctionName", t.name_of("ingestion", lid)) == fn_name)
        stream_arn = p["KinesisStreamSourceConfiguration"]["KinesisStreamARN"]
        dp = d.get("DynamicPartitioningConfiguration") or {}
        dynamic = bool(dp.get("Enabled"))
        if not dynamic and "!{partitionKeyFrom" in d["Prefix"]:
            raise ValueError("the Prefix uses partition keys but dynamic partitioning is not enabled (Firehose refuses it)")
        if dynamic and "!{partitionKeyFrom" not in d["Prefix"]:
            raise ValueError("dynamic partitioning is enabled but the Prefix uses no partition key (Firehose refuses it)")
        return cls(
            name=p["DeliveryStreamName"], arn=t.resolve("ingestion", {"Fn::GetAtt": [lid, "Arn"]}),
            stream_arn=stream_arn, stream_name=stream_arn.rsplit("/", 1)[1],
            bucket=d["BucketARN"].split(":::", 1)[1], prefix=d["Prefix"], error_prefix=d["ErrorOutputPrefix"],
            dest_mib=int(d["BufferingHints"]["SizeInMBs"]), dest_interval_s=int(d["BufferingHints"]["IntervalInSeconds"]),
            processor_mib=int(params.get("BufferSizeInMBs", 1)), processor_interval_s=int(params.get("BufferIntervalInSeconds", 60)),
            retries=int(params.get("NumberOfRetries", 3)), lambda_arn=lambda_arn, lambda_logical_id=fn_lid,
            case_insensitive=bool(deser["OpenXJsonSerDe"].get("CaseInsensitive", True)),
            compression=ser["ParquetSerDe"].get("Compression", "SNAPPY"), database=sc["DatabaseName"], table=sc["TableName"],
            columns=cols, dynamic_partitioning=dynamic,
            partition_retry_s=int((dp.get("RetryOptions") or {}).get("DurationInSeconds", 300)),
        )


# ---- Hive types and OpenX JSON SerDe semantics ---------------------------------

def parse_hive_type(s: str):
    """A Hive type string (array<struct<a:int,b:decimal(10,2)>>) as a pyarrow type."""
    import pyarrow as pa

    pos = 0

    def token(pattern: str, wanted: str) -> str:
        nonlocal pos
        m = re.compile(r"\s*(" + pattern + r")\s*").match(s, pos)
        if not m:
            raise ValueError(f"bad Hive type {s!r}{wanted} at {pos}")
        pos = m.end()
        return m.group(1)

    def ident() -> str:
        return token(r"[A-Za-z_][A-Za-z0-9_]*", "")

    def ident_num() -> int:
        return int(token(r"\d+", ": number expected"))

    def past_spaces(p: int) -> int:
        while p < len(s) and s[p] == " ":
            p += 1
        return p

    def expect(ch: str) -> None:
        nonlocal pos
        pos = past_spaces(pos)
        if not s.startswith(ch, pos):
            raise ValueError(f"bad Hive type {s!r}: expected {ch!r} at {pos}")
        pos += len(ch)

    def peek(ch: str) -> bool:
        return s.startswith(ch, past_spaces(pos))

    def typ():
        name = ident().lower()
        simple = {"string": pa.string(), "int": pa.int32(), "integer": pa.int32(), "bigint": pa.int64(), "smallint": pa.int16(),
                  "tinyint": pa.int8(), "boolean": pa.bool_(), "double": pa.float64(), "float": pa.float32(),
                  "timestamp": pa.timestamp("ns"), "date": pa.date32(), "binary": pa.binary()}
        if name in simple:
            return simple[name]
        if name in ("varchar", "char"):
            expect("(")
            ident_num()
            expect(")")
            return pa.string()
        if name == "decimal":
            if peek("("):
                expect("(")
                p_ = ident_num()
                expect(",")
                s_ = ident_num()
                expect(")")
                return pa.decimal128(p_, s_)
            return pa.decimal128(10, 0)
        if name == "array":
            expect("<")
            inner = typ()
            expect(">")
            return pa.list_(inner)
        if name == "map":
            expect("<")
            k = typ()
            expect(",")
            v = typ()
            expect(">")
            return pa.map_(k, v)
        if name == "struct":
            expect("<")
            fields = []
            while True:
                fname = ident()
                expect(":")
                fields.append(pa.field(fname, typ()))
                if peek(","):
                    expect(",")
                    continue
                break
            expect(">")
            return pa.struct(fields)
        raise ValueError(f"unsupported Hive type {name!r} in {s!r}")

    t = typ()
    if s[pos:].strip():
        raise ValueError(f"bad Hive type {s!r}: trailing {s[pos:]!r}")
    return t


class ConversionError(ValueError):
    pass


_TS_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$")
_TS_SQL = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$")


def parse_openx_timestamp(v) -> dt.datetime:
    """The timestamp forms Firehose documents for the OpenX JSON SerDe:
    yyyy-MM-dd'T'HH:mm:ss[.S]'Z' and yyyy-[M]M-[d]d HH:mm:ss[.S] (fraction up to 9
    digits), epoch seconds, epoch milliseconds, floating-point epoch seconds."""
    if isinstance(v, bool):
        raise ConversionError(f"not a timestamp: {v!r}")
    if isinstance(v, (int, float)):
        n = float(v)
        if isinstance(v, int) and abs(v) >= 10**11:  # epoch milliseconds
            return dt.datetime.fromtimestamp(v / 1000, UTC).replace(tzinfo=None)
        return dt.datetime.fromtimestamp(n, UTC).replace(tzinfo=None)
    if isinstance(v, str):
        m = _TS_ISO.match(v) or _TS_SQL.match(v)
        if m:
            y, mo, d, h, mi, s, frac = m.groups()
            us = int((frac or "0").ljust(9, "0")[:6])
            try:
                return dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), us)
            except ValueError as e:
                raise ConversionError(f"bad timestamp {v!r}: {e}") from None
        if re.fullmatch(r"-?\d+", v):
            return parse_openx_timestamp(int(v))
        if re.fullmatch(r"-?\d+\.\d+", v):
            return parse_openx_timestamp(float(v))
    raise ConversionError(f"timestamp {v!r} is in none of the OpenX JSON SerDe's formats")


def convert_value(v, t, path: str):
    """One JSON value to the Python value pyarrow stores for type t (OpenX semantics)."""
    import pyarrow as pa

    if v is None:
        return None
    if pa.types.is_string(t):
        if isinstance(v, str):
            return v
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return json.dumps(v)
        return json.dumps(v, separators=(",", ":"))
    if pa.types.is_integer(t):
        if isinstance(v, bool):
            raise ConversionError(f"{path}: boolean for an integer column")
        if isinstance(v, str):
            if not re.fullmatch(r"\s*-?\d+\s*", v):
                raise ConversionError(f"{path}: {v!r} is not an integer")
            v = int(v)
        if isinstance(v, float):
            if v != int(v):
                raise ConversionError(f"{path}: {v!r} is not an integer")
            v = int(v)
        if not isinstance(v, int):
            raise ConversionError(f"{path}: {type(v).__name__} for an integer column")
        bits = t.bit_width
        if not -(2 ** (bits - 1)) <= v < 2 ** (bits - 1):
            raise ConversionError(f"{path}: {v} overflows {t}")
        return v
    if pa.types.is_decimal(t):
        if isinstance(v, bool) or not isinstance(v, (int, float, str, decimal.Decimal)):
            raise ConversionError(f"{path}: {type(v).__name__} for a decimal column")
        try:
            d = decimal.Decimal(str(v))
        except decimal.InvalidOperation:
            raise ConversionError(f"{path}: {v!r} is not a number") from None
        q = d.quantize(decimal.Decimal(1).scaleb(-t.scale), rounding=decimal.ROUND_HALF_UP)
        if len(q.as_tuple().digits) > t.precision:
            return None  # Hive: a decimal that does not fit its precision reads as NULL
        return q
    if pa.types.is_floating(t):
        if isinstance(v, bool):
            raise ConversionError(f"{path}: boolean for a floating column")
        try:
            return float(v)
        except (TypeError, ValueError):
            raise ConversionError(f"{path}: {v!r} is not a number") from None
    if pa.types.is_boolean(t):
        if isinstance(v, bool):
            return v
        if isinstance(v, str) and v.lower() in ("true", "false"):
            return v.lower() == "true"
        raise ConversionError(f"{path}: {v!r} is not a boolean")
    if pa.types.is_timestamp(t):
        return parse_openx_timestamp(v)
    if pa.types.is_date(t):
        if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
            return dt.date.fromisoformat(v)
        raise ConversionError(f"{path}: {v!r} is not a date")
    if pa.types.is_list(t):
        if not isinstance(v, list):
            raise ConversionError(f"{path}: {type(v).__name__} for an array column")
        return [convert_value(x, t.value_type, f"{path}[{i}]") for i, x in enumerate(v)]
    if pa.types.is_struct(t):
        if not isinstance(v, dict):
            raise ConversionError(f"{path}: {type(v).__name__} for a struct column")
        return convert_object(v, [(t.field(i).name, t.field(i).type) for i in range(t.num_fields)], True, path)
    if pa.types.is_map(t):
        if not isinstance(v, dict):
            raise ConversionError(f"{path}: {type(v).__name__} for a map column")
        return [(convert_value(k, t.key_type, path), convert_value(x, t.item_type, f"{path}.{k}")) for k, x in v.items()]
    raise ConversionError(f"{path}: unsupported type {t}")


def convert_object(obj: dict, fields: list[tuple[str, object]], case_insensitive: bool, path: str = "") -> dict:
    """OpenX: keys matched to the schema's names (lower-cased first when case-insensitive);
    unknown keys are ignored, missing ones are NULL."""
    if case_insensitive:
        folded: dict = {}
        for k, v in obj.items():
            folded.setdefault(k.lower(), v)
        obj = folded
    out = {}
    for name, t in fields:
        key = name.lower() if case_insensitive else name
        out[name] = convert_value(obj.get(key), t, f"{path}.{name}" if path else name)
    return out


def joda_to_strftime(fmt: str) -> str:
    out, i = [], 0
    table = [("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S"), ("yy", "%y")]
    while i < len(fmt):
        for j, s in table:
            if fmt.startswith(j, i):
                out.append(s)
                i += len(j)
                break
        else:
            out.append(fmt[i].replace("%", "%%"))
            i += 1
    return "".join(out)


def evaluate_prefix(prefix: str, when: dt.datetime, error_type: str | None = None,
                    partition_keys: dict | None = None) -> str:
    """!{timestamp:<Joda format>} (UTC), !{firehose:error-output-type} and, with
    dynamic partitioning, !{partitionKeyFromLambda:<key>}."""
    def repl(m: re.Match) -> str:
        ns, arg = m.group(1), m.group(2)
        if ns == "partitionKeyFromLambda":
            if partition_keys is None:
                raise ValueError("!{partitionKeyFromLambda:...} needs dynamic partitioning")
            if arg not in partition_keys:
                raise PartitionKeyMissing(f"the record has no partition key {arg!r}")
            return str(partition_keys[arg])
        if ns == "timestamp":
            return when.astimezone(UTC).strftime(joda_to_strftime(arg))
        if ns == "firehose" and arg == "error-output-type":
            if error_type is None:
                raise ValueError("!{firehose:error-output-type} is only allowed in the error prefix")
            return error_type
        if ns == "firehose" and arg == "random-string":
            return uuid.uuid4().hex[:11]
        raise ValueError(f"unsupported prefix expression !{{{ns}:{arg}}}")

    return re.sub(r"!\{([A-Za-z]+):([^}]+)\}", repl, prefix)


class PartitionKeyMissing(ValueError):
    """A record lacks a key the prefix names: Firehose writes it to the error prefix."""


def partition_keys_of(out_record: dict, prefix: str) -> tuple:
    """The (key, value) pairs of a transformed record's metadata.partitionKeys
    that the prefix uses, in the prefix's order; PartitionKeyMissing if one is absent."""
    keys = (out_record.get("metadata") or {}).get("partitionKeys")
    if not isinstance(keys, dict):
        keys = {}
    names = re.findall(r"!\{partitionKeyFromLambda:([^}]+)\}", prefix)
    missing = [n for n in names if not isinstance(keys.get(n), str) or keys.get(n) == ""]
    if missing:
        raise PartitionKeyMissing(f"metadata.partitionKeys lacks {missing}")
    return tuple((n, keys[n]) for n in names)


# ---- the stand-in ----------------------------------------------------------------

@dataclass
class _InRecord:
    data: bytes
    shard_id: str
    partition_key: str
    sequence_number: str
    arrival_ms: int


@dataclass
class _DestBuffer:
    first: float
    bytes: int = 0
    records: list = field(default_factory=list)  # (transformed data, _InRecord)


# A transformed record without the partition keys the prefix names goes to
# the error prefix; these are the error code and the error-output-type
# folder the stand-in writes it under.
PARTITION_ERROR_CODE = "DynamicPartitioning.MetadataExtractionFailed"
PARTITION_ERROR_TYPE = "processing-failed"


@dataclass
class FirehoseStats:
    records_read: int = 0
    invocations: int = 0
    invocation_attempts: int = 0
    ok: int = 0
    processing_failed: int = 0
    dropped: int = 0
    conversion_failed: int = 0
    partitioning_failed: int = 0
    rows_written: int = 0
    objects_written: int = 0
    error_objects_written: int = 0
    get_records_calls: int = 0
    per_run: dict = field(default_factory=dict)  # run_id -> rows written
    errors: list = field(default_factory=list)


class Firehose(Poller):
    def __init__(self, env, scale: Scale | None = None):
        self.env = env
        self.scale = scale or Scale()
        # Firehose reads each shard at its own pace, busy or not; idle holds
        # over two polls in a row: nothing read, both buffers empty.
        super().__init__("firehose stand-in", self.scale.poll, busy_pause=self.scale.poll, settle=self.scale.poll * 1.5)
        self.s = FirehoseSettings.from_templates(env)
        import pyarrow as pa

        self.schema = pa.schema([pa.field(n, parse_hive_type(t)) for n, t in self.s.columns])
        self.fields = [(f.name, f.type) for f in self.schema]
        self.transformer = Lambda(env, "ingestion", self.s.lambda_logical_id, "lambdas/transformer")
        self.stats = FirehoseStats()
        self._iterators: dict[str, str] = {}
        self._proc_buf: list[_InRecord] = []
        self._proc_bytes = 0
        self._proc_first = 0.0
        # S3 buffers: one per partition (the partition keys' values) with
        # dynamic partitioning, else the one under the key ().
        self._dest: dict[tuple, _DestBuffer] = {}
        self._lock = threading.Lock()
        self.fail_next_invocations = 0  # tests: make the next N invocations fail as a Lambda error would

    # lifecycle
    def start(self) -> "Firehose":
        with self.env.progress.step("firehose stand-in: start transformer under RIE") as step:
            self.transformer.start()
            step.note(self.scale.describe(self.s))
        kinesis = self.env.client("kinesis")
        for sh in kinesis.list_shards(StreamName=self.s.stream_name)["Shards"]:
            self._iterators[sh["ShardId"]] = kinesis.get_shard_iterator(
                StreamName=self.s.stream_name, ShardId=sh["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        self._start_polling("firehose")
        return self

    def stop(self) -> None:
        self._stop_polling()
        self.transformer.stop()

    def _rounds(self):
        kinesis = self.env.client("kinesis")
        s3 = self.env.client("s3")

        def poll_once() -> bool:
            got = self._poll(kinesis)
            now = time.monotonic()
            with self._lock:
                if self._proc_buf and (self._proc_bytes >= self.s.processor_mib * 1024 * 1024
                                       or now - self._proc_first >= self.scale.processor_interval):
                    self._process(s3)
                for part, buf in list(self._dest.items()):
                    if (buf.bytes >= self.s.dest_mib * 1024 * 1024
                            or now - buf.first >= self.scale.destination_interval):
                        self._deliver(s3, part)
                return not got and not self._proc_buf and not self._dest

        return poll_once

    def _poll(self, kinesis) -> int:
        got = 0
        for shard_id, it in list(self._iterators.items()):
            if it is None:
                continue
            r = kinesis.get_records(ShardIterator=it, Limit=10000)
            self.stats.get_records_calls += 1
            self._iterators[shard_id] = r.get("NextShardIterator")
            for rec in r["Records"]:
                data = rec["Data"]
                ir = _InRecord(data, shard_id, rec["PartitionKey"], rec["SequenceNumber"],
                               int(rec["ApproximateArrivalTimestamp"].timestamp() * 1000))
                with self._lock:
                    # a record that would overflow the processor buffer flushes it first
                    if self._proc_buf and self._proc_bytes + len(data) > self.s.processor_mib * 1024 * 1024:
                        self._process(self.env.client("s3"))
                    if not self._proc_buf:
                        self._proc_first = time.monotonic()
                    self._proc_buf.append(ir)
                    self._proc_bytes += len(data)
                got += 1
            self.stats.records_read += len(r["Records"])
        return got

    def drain(self, timeout: float = 120) -> None:
        """Wait until everything in the stream went through to S3."""
        super().drain(timeout)

    # processor
    def _invocation(self, recs: list[_InRecord]) -> tuple[dict, dict[str, _InRecord]]:
        by_id = {}
        records = []
        for i, r in enumerate(recs):
            rid = f"{r.sequence_number}{i:012d}"
            by_id[rid] = r
            records.append({
                "recordId": rid,
                "approximateArrivalTimestamp": r.arrival_ms,
                "data": base64.b64encode(r.data).decode(),
                "kinesisRecordMetadata": {
                    "shardId": r.shard_id, "partitionKey": r.partition_key,
                    "approximateArrivalTimestamp": r.arrival_ms, "sequenceNumber": r.sequence_number,
                    "subsequenceNumber": 0,
                },
            })
        ev = {"invocationId": str(uuid.uuid4()), "deliveryStreamArn": self.s.arn, "sourceKinesisStreamArn": self.s.stream_arn,
              "region": self.env.region, "records": records}
        return ev, by_id

    def _process(self, s3) -> None:
        recs, self._proc_buf, self._proc_bytes = self._proc_buf, [], 0
        ev, by_id = self._invocation(recs)
        self.stats.invocations += 1
        attempts, last_err, resp = 0, "", None
        for _ in range(self.s.retries + 1):
            attempts += 1
            self.stats.invocation_attempts += 1
            try:
                if self.fail_next_invocations > 0:
                    self.fail_next_invocations -= 1
                    raise FunctionError("injected Lambda failure")
                resp = self.transformer.invoke(ev)
                self._check_response(resp, by_id)
                break
            except (FunctionError, ValueError, KeyError, TypeError) as e:
                last_err, resp = str(e), None
        now_ms = int(time.time() * 1000)
        if resp is None:
            # every attempt failed: the whole batch goes under processing-failed
            lines = [self._error_line(r, attempts, "Lambda.FunctionError", last_err[:500], now_ms) for r in recs]
            self.stats.processing_failed += len(recs)
            self._write_errors(s3, "processing-failed", lines, min(r.arrival_ms for r in recs))
            return
        failed, partition_failed = [], []
        for out in resp["records"]:
            r = by_id[out["recordId"]]
            res = out["result"]
            if res == "Ok":
                data = base64.b64decode(out["data"])
                part: tuple = ()
                if self.s.dynamic_partitioning:
                    try:
                        part = partition_keys_of(out, self.s.prefix)
                    except PartitionKeyMissing as e:
                        self.stats.partitioning_failed += 1
                        partition_failed.append(self._error_line(r, attempts, PARTITION_ERROR_CODE, str(e), now_ms))
                        continue
                buf = self._dest.get(part)
                if buf is None:
                    buf = self._dest[part] = _DestBuffer(first=time.monotonic())
                buf.records.append((data, r))
                buf.bytes += len(data)
                self.stats.ok += 1
            elif res == "Dropped":
                self.stats.dropped += 1
            else:
                failed.append(self._error_line(r, attempts, "Lambda.ProcessingFailed",
                                               "The Lambda function marked the record as ProcessingFailed", now_ms))
        if failed:
            self.stats.processing_failed += len(failed)
            self._write_errors(s3, "processing-failed", failed, min(r.arrival_ms for r in recs))
        if partition_failed:
            self._write_errors(s3, PARTITION_ERROR_TYPE, partition_failed, min(r.arrival_ms for r in recs))

    @staticmethod
    def _check_response(resp, by_id: dict) -> None:
        """Firehose's checks: every record id back exactly once, a known result, base64 data."""
        if not isinstance(resp, dict) or not isinstance(resp.get("records"), list):
            raise ValueError("response has no records array")
        ids = [r.get("recordId") for r in resp["records"]]
        if sorted(ids) != sorted(by_id):
            raise ValueError("response record ids do not match the request's")
        for r in resp["records"]:
            if r.get("result") not in ("Ok", "Dropped", "ProcessingFailed"):
                raise ValueError(f"record {r.get('recordId')}: result {r.get('result')!r}")
            if r["result"] == "Ok":
                base64.b64decode(r["data"], validate=True)

    def _error_line(self, r: _InRecord, attempts: int, code: str, msg: str, now_ms: int) -> bytes:
        return json.dumps({
            "attemptsMade": attempts, "arrivalTimestamp": r.arrival_ms, "errorCode": code, "errorMessage": msg,
            "attemptEndingTimestamp": now_ms, "rawData": base64.b64encode(r.data).decode(), "lambdaArn": self.s.lambda_arn,
        }).encode() + b"\n"

    # destination
    def _deliver(self, s3, part: tuple = ()) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        buf = self._dest.pop(part).records
        rows, bad, runs = [], [], {}
        now_ms = int(time.time() * 1000)
        for data, r in buf:
            try:
                doc = json.loads(data)
                if not isinstance(doc, dict):
                    raise ConversionError("record is not a JSON object")
                row = convert_object(doc, self.fields, self.s.case_insensitive)
                rows.append(row)
                runs[row.get("run_id")] = runs.get(row.get("run_id"), 0) + 1
            except (ValueError, ConversionError) as e:
                bad.append(json.dumps({
                    "attemptsMade": 1, "arrivalTimestamp": r.arrival_ms, "lastErrorCode": "DataFormatConversion.MalformedData",
                    "lastErrorMessage": str(e)[:500], "attemptEndingTimestamp": now_ms, "rawData": base64.b64encode(data).decode(),
                    "sequenceNumber": r.sequence_number, "subSequenceNumber": 0,
                    "dataCatalogTable": {"catalogId": None, "databaseName": self.s.database, "tableName": self.s.table,
                                         "region": self.env.region, "versionId": "LATEST"},
                }).encode() + b"\n")
        oldest = min(r.arrival_ms for _, r in buf)
        if bad:
            self.stats.conversion_failed += len(bad)
            self._write_errors(s3, "format-conversion-failed", bad, oldest)
        if rows:
            table = pa.Table.from_pylist(rows, schema=self.schema)
            out = io.BytesIO()
            # Firehose writes through Hive's Parquet SerDe: timestamps as INT96
            pq.write_table(table, out, compression=self.s.compression.lower(), use_deprecated_int96_timestamps=True)
            key = evaluate_prefix(self.s.prefix, dt.datetime.fromtimestamp(oldest / 1000, UTC),
                                  partition_keys=dict(part) if self.s.dynamic_partitioning else None) \
                + self._object_name(oldest) + ".parquet"
            s3.put_object(Bucket=self.s.bucket, Key=key, Body=out.getvalue())
            self.stats.rows_written += len(rows)
            self.stats.objects_written += 1
            for run_id, n in runs.items():
                self.stats.per_run[run_id] = self.stats.per_run.get(run_id, 0) + n
                self.env.metrics.add(run_id or "(no run id)", "firehose", rows_written=n)
            self.env.metrics.add("(firehose)", "firehose", objects_written=1, rows_written=len(rows))

    def _object_name(self, oldest_ms: int) -> str:
        # DeliveryStreamName-DeliveryStreamVersion-YYYY-MM-dd-HH-MM-SS-RandomString
        t = dt.datetime.fromtimestamp(oldest_ms / 1000, UTC)
        return f"{self.s.name}-1-{t:%Y-%m-%d-%H-%M-%S}-{uuid.uuid4()}"

    def _write_errors(self, s3, error_type: str, lines: list[bytes], oldest_ms: int) -> None:
        when = dt.datetime.fromtimestamp(oldest_ms / 1000, UTC)
        key = evaluate_prefix(self.s.error_prefix, when, error_type) + self._object_name(oldest_ms)
        s3.put_object(Bucket=self.s.bucket, Key=key, Body=b"".join(lines))
        self.stats.error_objects_written += 1
        self.env.metrics.add("(firehose)", "firehose", error_objects_written=1, error_records=len(lines))
