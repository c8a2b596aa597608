"""DynamicFrame, reduced to what the scripts use: a Spark DataFrame in a
Glue wrapper (toDF, fromDF, count)."""
from __future__ import annotations


class DynamicFrame:
    def __init__(self, df, glue_ctx, name: str = ""):
        self._df = df
        self.glue_ctx = glue_ctx
        self.name = name

    def toDF(self, options=None):
        return self._df

    @classmethod
    def fromDF(cls, dataframe, glue_ctx, name: str):
        return cls(dataframe, glue_ctx, name)

    def count(self) -> int:
        return self._df.count()

    def schema(self):
        return self._df.schema

    def printSchema(self) -> None:
        self._df.printSchema()

    def __getattr__(self, name):
        raise NotImplementedError("DynamicFrame.%s is not provided by the local Glue adapter" % name)
