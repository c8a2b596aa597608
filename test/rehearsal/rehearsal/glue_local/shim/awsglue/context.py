"""GlueContext: a SparkSession plus the catalog reader, resolved through the
rehearsal's active job run (moto's Glue catalog, S3A on moto, bookmarks)."""
from __future__ import annotations

import logging

from awsglue.dynamicframe import DynamicFrame


class _DynamicFrameReader:
    def __init__(self, glue_context: "GlueContext"):
        self._glue = glue_context

    def from_catalog(self, database=None, table_name=None, redshift_tmp_dir="", transformation_ctx="",
                     push_down_predicate="", additional_options=None, catalog_id=None, **kwargs):
        from rehearsal.glue_local import runtime

        if not database or not table_name:
            raise ValueError("from_catalog needs database and table_name")
        df = runtime.current().read_catalog(self._glue.spark_session, database, table_name, transformation_ctx,
                                            push_down_predicate, additional_options or {})
        return DynamicFrame(df, self._glue, transformation_ctx)

    def __getattr__(self, name):
        raise NotImplementedError("create_dynamic_frame.%s is not provided by the local Glue adapter" % name)


class GlueContext:
    def __init__(self, sparkContext, **options):
        from pyspark.sql import SparkSession

        self._sc = sparkContext
        self.spark_session = SparkSession.builder.getOrCreate()
        self.create_dynamic_frame = _DynamicFrameReader(self)

    def create_dynamic_frame_from_catalog(self, database, table_name, **kwargs):
        return self.create_dynamic_frame.from_catalog(database=database, table_name=table_name, **kwargs)

    def get_logger(self):
        return logging.getLogger("GlueLogger")
