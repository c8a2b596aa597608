"""Stand-ins for the two Glue crawlers, driven by their synthesized
definitions (Targets, TablePrefix, RecrawlPolicy, SchemaChangePolicy,
Configuration), writing into moto's Glue catalog with boto3.

What a crawler does here, as Glue does it:
- lists every object under each target location (hidden `_`/`.` files skipped);
  in S3 event mode (CRAWL_EVENT_MODE) only the first crawl does; later ones
  drain the target's EventQueueArn (S3 notifications), list only the folders
  the events name and delete the messages after the crawl (a message that is
  no S3 event goes to DlqEventQueueArn); a crawl without events lists nothing;
- reads the Parquet footer (schema, row count) of each file in the folders it
  crawls: every folder with CRAWL_EVERYTHING, only folders it has not crawled
  before with CRAWL_NEW_FOLDERS_ONLY (state in <work_dir>/glue/crawlers/);
- catalog target: the declared table is kept; new partition folders become
  partitions with the table's storage descriptor (InheritFromTable); schema
  differences and vanished partitions are only logged (LOG behaviours);
- S3 target: the table is named TablePrefix + the target's folder name, is
  created from the files' combined schema with Hive-style partition keys
  (typed string, as crawlers type them), and gets a partition per new folder.
"""
from __future__ import annotations

import copy
import json
import logging
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Optional, Tuple
from urllib.parse import unquote_plus

from . import catalog, s3files

log = logging.getLogger(__name__)


class CrawlerError(RuntimeError):
    pass


class Crawl:
    """Work figures and the log of one crawl."""

    def __init__(self, name: str):
        self.name = name
        self.work: Dict[str, int] = OrderedDict(
            objects_listed=0, folders_listed=0, folders_crawled=0, files_read=0, bytes_read=0,
            tables_created=0, tables_updated=0, partitions_added=0, schema_changes_logged=0,
            partitions_missing_logged=0, events_received=0)
        self.messages: List[str] = []

    def note(self, text: str) -> None:
        self.messages.append(text)
        log.info("%s: %s", self.name, text)


def _folders(objs: List[s3files.S3Object], base_key: str) -> "OrderedDict[str, List[s3files.S3Object]]":
    groups: "OrderedDict[str, List[s3files.S3Object]]" = OrderedDict()
    for o in sorted(objs, key=lambda o: o.key):
        rel = o.key[len(base_key):]
        groups.setdefault(rel.rsplit("/", 1)[0] + "/" if "/" in rel else "", []).append(o)
    return groups


def _footers(s3, objs: List[s3files.S3Object], crawl: Crawl):
    metas = []
    for o in objs:
        try:
            meta, fetched = s3files.parquet_footer(s3, o)
        except Exception as err:  # noqa: BLE001 - a crawler classifies and skips what it cannot read
            crawl.note("cannot read %s as Parquet (%s): skipped" % (o.uri, err))
            continue
        crawl.work["files_read"] += 1
        crawl.work["bytes_read"] += fetched
        metas.append((o, meta))
    return metas


def _columns(meta) -> List[Tuple[str, str]]:
    schema = meta.schema.to_arrow_schema()
    return [(f.name, catalog.arrow_to_hive(f.type)) for f in schema]


EVENT_MODE = "CRAWL_EVENT_MODE"


class TargetEvents:
    """The S3 events of one target's queue, drained at the start of a crawl
    and deleted only after the crawl succeeded (a failed crawl sees them again)."""

    def __init__(self, sqs, target: dict, location: str):
        self.sqs = sqs
        self.url = _queue_url(sqs, target["EventQueueArn"])
        self.dlq_url = _queue_url(sqs, target["DlqEventQueueArn"]) if target.get("DlqEventQueueArn") else None
        self.bucket, self.base = s3files.split_uri(location)
        self.receipts: List[str] = []
        self.folders: "OrderedDict[str, None]" = OrderedDict()

    def drain(self, crawl: Crawl) -> None:
        while True:
            msgs = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                            VisibilityTimeout=3600).get("Messages", [])
            if not msgs:
                return
            for m in msgs:
                crawl.work["events_received"] += 1
                self.receipts.append(m["ReceiptHandle"])
                try:
                    body = json.loads(m["Body"])
                except ValueError:
                    body = None
                records = body.get("Records") if isinstance(body, dict) else None
                if records is None:
                    if isinstance(body, dict) and body.get("Event") == "s3:TestEvent":
                        continue  # S3 checking the destination
                    if self.dlq_url:
                        self.sqs.send_message(QueueUrl=self.dlq_url, MessageBody=m["Body"])
                    crawl.note("message %s is no S3 event: set aside" % m.get("MessageId"))
                    continue
                for r in records:
                    s3 = r.get("s3") or {}
                    key = unquote_plus((s3.get("object") or {}).get("key", ""))
                    if (s3.get("bucket") or {}).get("name") != self.bucket or not key.startswith(self.base):
                        continue
                    if s3files.hidden(key, self.base):
                        continue
                    rel = key[len(self.base):]
                    self.folders[rel.rsplit("/", 1)[0] + "/" if "/" in rel else ""] = None

    def delete(self) -> None:
        for i in range(0, len(self.receipts), 10):
            self.sqs.delete_message_batch(QueueUrl=self.url, Entries=[
                {"Id": str(j), "ReceiptHandle": h} for j, h in enumerate(self.receipts[i:i + 10])])


def _queue_url(sqs, arn: str) -> str:
    parts = arn.split(":")
    return sqs.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"]


class CrawlerStandIn:
    def __init__(self, definition: dict, glue, s3, state_dir: Path, sqs=None):
        self.d = definition
        self.name = definition["Name"]
        self.glue, self.s3, self.sqs = glue, s3, sqs
        self.state_path = Path(state_dir) / (self.name + ".json")
        self.recrawl = (definition.get("RecrawlPolicy") or {}).get("RecrawlBehavior", "CRAWL_EVERYTHING")
        policy = definition.get("SchemaChangePolicy") or {}
        self.update_behavior = policy.get("UpdateBehavior", "UPDATE_IN_DATABASE")
        self.delete_behavior = policy.get("DeleteBehavior", "DEPRECATE_IN_DATABASE")
        config = json.loads(definition.get("Configuration") or "{}")
        self.inherit_from_table = (config.get("CrawlerOutput", {}).get("Partitions", {})
                                   .get("AddOrUpdateBehavior") == "InheritFromTable")

    # ---- state (folders crawled, for CRAWL_NEW_FOLDERS_ONLY) ---------------
    def _load_state(self) -> Dict[str, List[str]]:
        if self.state_path.exists():
            return json.loads(self.state_path.read_text())
        return {}

    def _save_state(self, state: Dict[str, List[str]]) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        self.state_path.write_text(json.dumps(state, indent=1, sort_keys=True))

    def run(self) -> Crawl:
        crawl = Crawl(self.name)
        targets = self.d.get("Targets") or {}
        if not any(targets.get(k) for k in ("CatalogTargets", "S3Targets")):
            raise CrawlerError("%s: no CatalogTargets or S3Targets (other targets are not supported)" % self.name)
        state = self._load_state()
        done: List[TargetEvents] = []
        for target in targets.get("CatalogTargets") or []:
            for table in target["Tables"]:
                location = s3files.folder(self._catalog_table(target["DatabaseName"], table)["StorageDescriptor"]["Location"])
                events, folders = self._events(target, location, state, crawl)
                self._crawl_catalog_table(target["DatabaseName"], table, crawl, folders)
                done += [events] if events else []
        for target in targets.get("S3Targets") or []:
            if target.get("Exclusions"):
                raise CrawlerError("%s: S3 target exclusions are not supported" % self.name)
            events, folders = self._events(target, s3files.folder(target["Path"]), state, crawl)
            self._crawl_s3_target(target["Path"], state, crawl, folders)
            done += [events] if events else []
        for events in done:
            events.delete()
        if self.recrawl == EVENT_MODE:
            state["listed"] = True
        self._save_state(state)
        return crawl

    def _events(self, target: dict, location: str, state: dict,
                crawl: Crawl) -> Tuple[Optional[TargetEvents], Optional[List[str]]]:
        """In event mode, the target's drained events and the folders they name;
        folders None when the crawl lists the whole target: not in event mode, or
        the first crawl (Glue lists everything once; the events drained then are
        covered by that listing)."""
        if self.recrawl != EVENT_MODE:
            return None, None
        if not target.get("EventQueueArn"):
            raise CrawlerError("%s: CRAWL_EVENT_MODE needs the target's EventQueueArn" % self.name)
        if self.sqs is None:
            raise CrawlerError("%s: CRAWL_EVENT_MODE needs an SQS client" % self.name)
        events = TargetEvents(self.sqs, target, location)
        events.drain(crawl)
        if not state.get("listed"):
            crawl.note("first crawl: listing the whole target %s" % location)
            return events, None
        crawl.note("crawling %d folder(s) named by %d event message(s)" % (len(events.folders), len(events.receipts)))
        return events, list(events.folders)

    def _catalog_table(self, database: str, name: str) -> dict:
        table = catalog.find_table(self.glue, database, name)
        if table is None:
            raise CrawlerError("%s: catalog target table %s.%s does not exist" % (self.name, database, name))
        return table

    def _list(self, location: str, folders: Optional[List[str]]) -> List[s3files.S3Object]:
        """Every object under location, or only those in the given folders (relative to it)."""
        if folders is None:
            return s3files.list_objects(self.s3, location)
        objs: List[s3files.S3Object] = []
        for rel in folders:
            prefix = s3files.split_uri(location + rel)[1]
            objs += [o for o in s3files.list_objects(self.s3, location + rel) if "/" not in o.key[len(prefix):]]
        return objs

    # ---- catalog target: the declared table, partitions only --------------
    def _crawl_catalog_table(self, database: str, name: str, crawl: Crawl, folders: Optional[List[str]] = None) -> None:
        table = self._catalog_table(database, name)
        location = s3files.folder(table["StorageDescriptor"]["Location"])
        bucket, base = s3files.split_uri(location)
        objs = self._list(location, folders)
        crawl.work["objects_listed"] += len(objs)
        groups = _folders(objs, base)
        crawl.work["folders_listed"] += len(groups)
        keys = catalog.partition_keys(table)
        declared = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
        existing = {tuple(p["Values"]) for p in catalog.get_partitions(self.glue, database, name)}
        for files in groups.values():
            crawl.work["folders_crawled"] += 1
            for obj, meta in _footers(self.s3, files, crawl):
                if _columns(meta) != declared:
                    crawl.work["schema_changes_logged"] += 1
                    crawl.note("schema of %s differs from %s.%s: logged, table unchanged (UpdateBehavior %s)"
                               % (obj.uri, database, name, self.update_behavior))
        self._add_folder_partitions(database, name, table, (bucket, base), groups, keys, existing, crawl)
        present = {tuple(catalog.folder_partition_values(rel, keys) or ()) for rel in groups}
        # An event crawl knows only the folders its events name.
        looked_at = existing if folders is None else {tuple(catalog.folder_partition_values(rel, keys) or ()) for rel in folders}
        for values in (existing & looked_at) - present:
            crawl.work["partitions_missing_logged"] += 1
            crawl.note("partition %s has no objects any more: logged (DeleteBehavior %s)" % (list(values), self.delete_behavior))

    def _add_folder_partitions(self, database: str, name: str, table: dict, location: Tuple[str, str],
                               folders, keys: List[str], existing: set, crawl: Crawl) -> None:
        """Adds the partitions of the folders (relative to the table's location,
        given as bucket and base key) that existing lacks; existing gains them."""
        bucket, base = location
        new_parts = []
        for rel in folders if keys else ():
            values = catalog.folder_partition_values(rel, keys)
            if values is None:
                crawl.note("folder %r does not match the partition keys %s: skipped" % (rel, keys))
                continue
            if tuple(values) not in existing:
                new_parts.append((values, "s3://%s/%s%s" % (bucket, base, rel)))
                existing.add(tuple(values))
        self._add_partitions(database, name, table, new_parts, crawl)

    def _add_partitions(self, database: str, name: str, table: dict, parts, crawl: Crawl) -> None:
        inputs = []
        for values, location in parts:
            sd = copy.deepcopy(table["StorageDescriptor"])
            if not self.inherit_from_table:
                raise CrawlerError("%s: only InheritFromTable partitions are supported" % self.name)
            sd["Location"] = location
            inputs.append({"Values": list(values), "StorageDescriptor": sd,
                           "Parameters": dict(table.get("Parameters") or {})})
        for i in range(0, len(inputs), 100):  # BatchCreatePartition takes at most 100
            out = self.glue.batch_create_partition(DatabaseName=database, TableName=name,
                                                   PartitionInputList=inputs[i:i + 100])
            if out.get("Errors"):
                raise CrawlerError("%s: BatchCreatePartition on %s.%s failed: %s" % (self.name, database, name, out["Errors"]))
        crawl.work["partitions_added"] += len(inputs)
        for values, location in parts:
            crawl.note("partition %s added to %s.%s (%s)" % (values, database, name, location))

    # ---- S3 target: the crawler's own table --------------------------------
    def _crawl_s3_target(self, path: str, state: Dict[str, List[str]], crawl: Crawl, folders: Optional[List[str]] = None) -> None:
        database = self.d.get("DatabaseName")
        if not database:
            raise CrawlerError("%s: an S3 target needs the crawler's DatabaseName" % self.name)
        location = s3files.folder(path)
        bucket, base = s3files.split_uri(location)
        table_name = (self.d.get("TablePrefix") or "") + [p for p in base.split("/") if p][-1].lower()
        objs = self._list(location, folders)
        crawl.work["objects_listed"] += len(objs)
        groups = _folders(objs, base)
        crawl.work["folders_listed"] += len(groups)
        table = catalog.find_table(self.glue, database, table_name)
        crawled = set(state.get(location, [])) if table is not None else set()
        if self.recrawl == "CRAWL_NEW_FOLDERS_ONLY" or (self.recrawl == EVENT_MODE and folders is None):
            todo = OrderedDict((rel, files) for rel, files in groups.items() if rel not in crawled)
        else:
            todo = groups
        crawl.work["folders_crawled"] += len(todo)
        metas = []
        for rel, files in todo.items():
            metas.extend((rel, o, m) for o, m in _footers(self.s3, files, crawl))
        if not metas and table is None:
            crawl.note("no Parquet file under %s yet: no table created" % location)
            state[location] = sorted(crawled | set(todo))
            return
        combined: "OrderedDict[str, str]" = OrderedDict()
        for _, obj, meta in metas:
            for col, type_ in _columns(meta):
                if combined.setdefault(col, type_) != type_:
                    raise CrawlerError("%s: %s has %s %s, other files %s (incompatible schemas)"
                                       % (self.name, obj.uri, col, type_, combined[col]))
        keys = self._partition_keys([rel for rel, _, _ in metas] or list(todo))
        if table is None:
            table = self._create_table(database, table_name, location, combined, keys, metas)
            crawl.work["tables_created"] += 1
            crawl.note("table %s.%s created with %d column(s), partition keys %s" % (database, table_name, len(combined), keys))
        elif combined and list(combined.items()) != [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]:
            if self.update_behavior == "UPDATE_IN_DATABASE" and self.recrawl != "CRAWL_NEW_FOLDERS_ONLY":
                table = self._update_columns(database, table, combined)
                crawl.work["tables_updated"] += 1
            else:
                crawl.work["schema_changes_logged"] += 1
                crawl.note("new folders' schema differs from %s.%s: logged (UpdateBehavior %s)"
                           % (database, table_name, self.update_behavior))
        tkeys = catalog.partition_keys(table)
        existing = {tuple(p["Values"]) for p in catalog.get_partitions(self.glue, database, table_name)} if tkeys else set()
        self._add_folder_partitions(database, table_name, table, (bucket, base), todo, tkeys, existing, crawl)
        state[location] = sorted(crawled | set(todo))

    @staticmethod
    def _partition_keys(rels: List[str]) -> List[str]:
        depth = max((len([p for p in r.split("/") if p]) for r in rels), default=0)
        keys = []
        sample = next((r for r in rels if len([p for p in r.split("/") if p]) == depth), "")
        for i, part in enumerate([p for p in sample.split("/") if p]):
            name, eq, _ = part.partition("=")
            keys.append(name if eq else "partition_%d" % i)
        return keys

    def _create_table(self, database, name, location, columns, keys, metas) -> dict:
        compression = "none"
        records = 0
        for _, _, meta in metas:
            records += meta.num_rows
            if meta.num_row_groups and meta.row_group(0).num_columns:
                compression = meta.row_group(0).column(0).compression.lower()
        sd = dict(copy.deepcopy(catalog.PARQUET_SERDE))
        sd.update({"Columns": [{"Name": n, "Type": t} for n, t in columns.items()], "Location": location,
                   "Compressed": compression != "none", "NumberOfBuckets": -1, "StoredAsSubDirectories": False})
        params = {"classification": "parquet", "compressionType": compression, "typeOfData": "file",
                  "UPDATED_BY_CRAWLER": self.name, "CrawlerSchemaSerializerVersion": "1.0",
                  "CrawlerSchemaDeserializerVersion": "1.0", "objectCount": str(len(metas)),
                  "recordCount": str(records)}
        sd["Parameters"] = dict(params)
        table_input = {"Name": name, "StorageDescriptor": sd, "TableType": "EXTERNAL_TABLE",
                       "PartitionKeys": [{"Name": k, "Type": "string"} for k in keys], "Parameters": params}
        self.glue.create_table(DatabaseName=database, TableInput=table_input)
        return catalog.get_table(self.glue, database, name)

    def _update_columns(self, database, table, columns) -> dict:
        keep = ("Name", "Description", "Owner", "Retention", "StorageDescriptor", "PartitionKeys", "TableType", "Parameters")
        table_input = {k: copy.deepcopy(table[k]) for k in keep if k in table}
        table_input["StorageDescriptor"]["Columns"] = [{"Name": n, "Type": t} for n, t in columns.items()]
        self.glue.update_table(DatabaseName=database, TableInput=table_input)
        return catalog.get_table(self.glue, database, table["Name"])
