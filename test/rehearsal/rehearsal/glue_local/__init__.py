"""Local stand-ins for the Glue service around the project's own job scripts.

- spark.py: the one SparkSession of the rehearsal (local[2], S3A on moto).
- catalog.py: the Glue Data Catalog in moto, read and written with boto3.
- bookmark_store.py: job bookmark state between runs, committed by job.commit().
- runtime.py: the job run the awsglue shim serves (arguments, bookmarks, reads).
- crawlers.py: the two crawler stand-ins, driven by their CloudFormation definitions.
- shim/awsglue: the small `awsglue` package the Spark scripts import.
"""
