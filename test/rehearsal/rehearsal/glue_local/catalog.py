"""The Glue Data Catalog, which lives in moto: reading tables and
partitions, the Hive types Glue stores and their Arrow/Spark counterparts,
and registering the catalog in a Spark session for the Athena stand-in."""
from __future__ import annotations

import logging
from typing import Dict, List, Optional, Sequence, Tuple

log = logging.getLogger(__name__)

PARQUET_SERDE = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                  "Parameters": {"serialization.format": "1"}},
}


def get_table(glue, database: str, table: str) -> dict:
    return glue.get_table(DatabaseName=database, Name=table)["Table"]


def find_table(glue, database: str, table: str) -> Optional[dict]:
    try:
        return get_table(glue, database, table)
    except glue.exceptions.EntityNotFoundException:
        return None


def get_partitions(glue, database: str, table: str, expression: str = "") -> List[dict]:
    """The table's partitions; with an expression, only those the catalog
    selects with it (GetPartitions' server-side filter)."""
    partitions: List[dict] = []
    kwargs = {"DatabaseName": database, "TableName": table}
    if expression:
        kwargs["Expression"] = expression
    while True:
        page = glue.get_partitions(**kwargs)
        partitions.extend(page.get("Partitions", []))
        if not page.get("NextToken"):
            return partitions
        kwargs["NextToken"] = page["NextToken"]


def classification(table: dict) -> str:
    params = table.get("Parameters") or {}
    found = params.get("classification")
    serde = (table.get("StorageDescriptor", {}).get("SerdeInfo") or {}).get("SerializationLibrary", "")
    if not found and "parquet" in serde.lower():
        found = "parquet"
    return (found or "").lower()


def partition_keys(table: dict) -> List[str]:
    return [k["Name"] for k in table.get("PartitionKeys") or []]


def folder_partition_values(rel_folder: str, keys: Sequence[str]) -> Optional[List[str]]:
    """Values of a partition folder relative to the table location
    ('processing_date=2026-11-28/processing_hour=01/'); Hive-style key=value
    segments give the value, other segments are the value themselves (as Glue
    names them partition_0, ...). None when the depth does not match."""
    parts = [p for p in rel_folder.split("/") if p]
    if len(parts) != len(keys):
        return None
    values = []
    for part, key in zip(parts, keys):
        name, eq, value = part.partition("=")
        if eq and name != key:
            return None
        values.append(value if eq else part)
    return values


# ---- types ----------------------------------------------------------------

def arrow_to_hive(t) -> str:
    """The Hive type a Glue crawler records for an Arrow (Parquet) type."""
    import pyarrow.types as pt

    plain = ((pt.is_string, "string"), (pt.is_large_string, "string"), (pt.is_boolean, "boolean"),
             (pt.is_int8, "tinyint"), (pt.is_int16, "smallint"), (pt.is_int32, "int"), (pt.is_int64, "bigint"),
             (pt.is_float32, "float"), (pt.is_float64, "double"), (pt.is_timestamp, "timestamp"), (pt.is_date, "date"),
             (pt.is_binary, "binary"), (pt.is_large_binary, "binary"))
    for is_type, name in plain:
        if is_type(t):
            return name
    if pt.is_decimal(t):
        return "decimal(%d,%d)" % (t.precision, t.scale)
    if pt.is_list(t) or pt.is_large_list(t):
        return "array<%s>" % arrow_to_hive(t.value_type)
    if pt.is_struct(t):
        return "struct<%s>" % ",".join("%s:%s" % (f.name, arrow_to_hive(f.type)) for f in t)
    if pt.is_map(t):
        return "map<%s,%s>" % (arrow_to_hive(t.key_type), arrow_to_hive(t.item_type))
    raise ValueError("no Hive type for Arrow type %s" % t)


def hive_to_arrow(type_text: str):
    """The Arrow type of a Hive type string (for test data and empty frames)."""
    import pyarrow as pa

    text = type_text.strip()

    def parse(s: str, i: int):
        def ident(i):
            j = i
            while j < len(s) and (s[j].isalnum() or s[j] == "_"):
                j += 1
            return s[i:j], j

        def past(ch: str, i: int) -> int:
            assert s[i] == ch, (s, i)
            return i + 1

        name, i = ident(i)
        name = name.lower()
        if name == "array":
            inner, i = parse(s, past("<", i))
            return pa.list_(inner), past(">", i)
        if name == "struct":
            i = past("<", i)
            fields = []
            while True:
                fname, i = ident(i)
                ftype, i = parse(s, past(":", i))
                fields.append(pa.field(fname, ftype))
                if s[i] == ",":
                    i += 1
                    continue
                return pa.struct(fields), past(">", i)
        if name == "map":
            k, i = parse(s, past("<", i))
            v, i = parse(s, past(",", i))
            return pa.map_(k, v), past(">", i)
        if name == "decimal":
            if i < len(s) and s[i] == "(":
                j = s.index(")", i)
                p, sc = (int(x) for x in s[i + 1:j].split(","))
                return pa.decimal128(p, sc), j + 1
            return pa.decimal128(10, 0), i
        if name in ("varchar", "char") and i < len(s) and s[i] == "(":
            return pa.string(), s.index(")", i) + 1
        simple = {"string": pa.string(), "varchar": pa.string(), "char": pa.string(), "boolean": pa.bool_(),
                  "tinyint": pa.int8(), "smallint": pa.int16(), "int": pa.int32(), "integer": pa.int32(),
                  "bigint": pa.int64(), "float": pa.float32(), "double": pa.float64(), "date": pa.date32(),
                  "timestamp": pa.timestamp("us"), "binary": pa.binary()}
        if name not in simple:
            raise ValueError("unknown Hive type %r in %r" % (name, s))
        return simple[name], i

    t, end = parse(text.replace(" ", ""), 0)
    return t


def table_arrow_schema(table: dict, with_partitions: bool = True):
    import pyarrow as pa

    cols = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
    if with_partitions:
        cols += [(k["Name"], k["Type"]) for k in table.get("PartitionKeys") or []]
    return pa.schema([pa.field(n, hive_to_arrow(t)) for n, t in cols])


def spark_ddl(columns: Sequence[Tuple[str, str]]) -> str:
    """'`a` string, `b` array<struct<...>>': Spark accepts Hive type strings."""
    return ", ".join("`%s` %s" % (n, t) for n, t in columns)


# ---- the catalog in Spark (for the Athena stand-in) ------------------------

def _sql_str(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class SparkCatalogMirror:
    """Mirrors moto's Glue catalog into a Spark session's in-memory catalog:
    every database, every table with its location and schema, and exactly
    the partitions registered in Glue (Spark then reads only those, as
    Athena does).

    Spark's session catalog refuses database names outside [A-Za-z0-9_]
    (Glue and Athena allow '-', as in 'ecommerce-database'), so databases
    are created in the external catalog directly, which does not check
    names; tables and partitions then go through ordinary Spark SQL.
    """

    def __init__(self, session):
        self.session = session

    def _create_database(self, name: str) -> None:
        jvm = self.session._jvm
        ext = self.session._jsparkSession.sharedState().externalCatalog()
        if ext.databaseExists(name):
            return
        wh = self.session.conf.get("spark.sql.warehouse.dir")
        uri = jvm.java.net.URI("file:" + wh.replace("file:", "") + "/" + name.replace("-", "_") + ".db")
        db = jvm.org.apache.spark.sql.catalyst.catalog.CatalogDatabase(
            name, "mirrored from the Glue catalog", uri, jvm.scala.collection.immutable.HashMap())
        ext.createDatabase(db, True)

    def sync(self, glue) -> Dict[str, int]:
        """Re-registers every Glue table; returns {tables, partitions} registered."""
        tables = partitions = 0
        for page in glue.get_paginator("get_databases").paginate():
            for db in page["DatabaseList"]:
                name = db["Name"]
                self._create_database(name)
                for tpage in glue.get_paginator("get_tables").paginate(DatabaseName=name):
                    for table in tpage["TableList"]:
                        partitions += self._register(glue, name, table)
                        tables += 1
        return {"tables": tables, "partitions": partitions}

    def _register(self, glue, database: str, table: dict) -> int:
        full = "%s.%s" % (_ident(database), _ident(table["Name"]))
        self.session.sql("DROP TABLE IF EXISTS %s" % full)
        sd = table["StorageDescriptor"]
        fmt = classification(table)
        if fmt != "parquet":
            log.warning("table %s.%s is %r, only Parquet tables are mirrored", database, table["Name"], fmt)
            return 0
        cols = [(c["Name"], c["Type"]) for c in sd["Columns"]]
        keys = [(k["Name"], k["Type"]) for k in table.get("PartitionKeys") or []]
        location = sd["Location"]
        sql = "CREATE TABLE %s (%s) USING parquet" % (full, spark_ddl(cols + keys))
        if keys:
            sql += " PARTITIONED BY (%s)" % ", ".join(_ident(k) for k, _ in keys)
        sql += " LOCATION %s" % _sql_str(location)
        self.session.sql(sql)
        if not keys:
            return 0
        parts = get_partitions(glue, database, table["Name"])
        if parts:
            specs = []
            for p in parts:
                spec = ", ".join("%s = %s" % (_ident(k), _sql_str(v)) for (k, _), v in zip(keys, p["Values"]))
                specs.append("PARTITION (%s) LOCATION %s" % (spec, _sql_str(p["StorageDescriptor"]["Location"])))
            self.session.sql("ALTER TABLE %s ADD IF NOT EXISTS %s" % (full, " ".join(specs)))
        return len(parts)
