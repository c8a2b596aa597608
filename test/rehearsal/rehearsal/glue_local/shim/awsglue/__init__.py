"""A local stand-in for the parts of AWS Glue's `awsglue` library the
project's scripts use: GlueContext.create_dynamic_frame.from_catalog (with
job bookmarks), DynamicFrame.toDF, Job.init/commit and
utils.getResolvedOptions. Everything else is real PySpark. Importing this
package imports nothing else (Python-shell jobs use only awsglue.utils)."""
