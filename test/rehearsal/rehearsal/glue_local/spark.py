"""The rehearsal's one SparkSession: Spark 3.5.4 (Glue 5.0's version) in
local mode, reaching moto's S3 through S3A so the scripts' own s3:// paths
work unchanged.

Spark start-up is the rehearsal's main cost, so the session is made once
per process; the Spark scripts, run in-process, get it back from
SparkContext.getOrCreate(), and the Athena stand-in uses a child session
(its own SQL settings, the same SparkContext).
"""
from __future__ import annotations

import glob
import os
import time
from pathlib import Path
from typing import Dict, List, Optional

# hadoop-aws must match the Hadoop that pyspark 3.5.4 bundles (3.3.4), and
# aws-java-sdk-bundle the version that hadoop-aws 3.3.4 was built against.
HADOOP_AWS = "org.apache.hadoop:hadoop-aws:3.3.4"
AWS_SDK_BUNDLE = "com.amazonaws:aws-java-sdk-bundle:1.12.262"


def jar_dir(repo: Path) -> Path:
    return Path(repo) / ".bin" / "spark-jars"


def s3a_jars(repo: Path) -> List[str]:
    jars = sorted(glob.glob(str(jar_dir(repo) / "*.jar")))
    names = " ".join(os.path.basename(j) for j in jars)
    if "hadoop-aws-3.3.4.jar" not in names or "aws-java-sdk-bundle-1.12.262.jar" not in names:
        raise RuntimeError("S3A jars missing in %s: run `make spark-jars`" % jar_dir(repo))
    return jars


def s3a_settings(moto_url: str, region: str) -> Dict[str, str]:
    """Hadoop settings that make s3:// and s3a:// paths go to moto."""
    return {
        "fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "fs.s3a.endpoint": moto_url,
        "fs.s3a.endpoint.region": region,
        "fs.s3a.path.style.access": "true",
        "fs.s3a.connection.ssl.enabled": "false",
        "fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        "fs.s3a.access.key": "testing",
        "fs.s3a.secret.key": "testing",
        # moto's ETags are fine, but versioned buckets and copy-on-rename make
        # change detection noisy for no gain here.
        "fs.s3a.change.detection.mode": "none",
        "fs.s3a.attempts.maximum": "3",
        "fs.s3a.retry.limit": "3",
    }


_LOG4J = """\
rootLogger.level = warn
rootLogger.appenderRef.file.ref = file
appender.file.type = File
appender.file.name = file
appender.file.fileName = {path}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d{{HH:mm:ss.SSS}} %p %c{{1}}: %m%n
logger.s3a.name = org.apache.hadoop.fs.s3a
logger.s3a.level = error
logger.metrics.name = org.apache.hadoop.metrics2
logger.metrics.level = error
"""


def start_session(repo: Path, work_dir: Path, moto_url: str, region: str, cores: int = 2):
    """Starts (or returns) the process's SparkSession; returns (session, seconds it took)."""
    from pyspark.sql import SparkSession

    started = time.monotonic()
    work_dir = Path(work_dir)
    logs = work_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log4j = work_dir / "spark-log4j2.properties"
    log4j.write_text(_LOG4J.format(path=logs / "spark.log"))
    java_opts = "-Duser.timezone=UTC -Dlog4j2.configurationFile=file:%s" % log4j
    builder = (SparkSession.builder.master("local[%d]" % cores).appName("rehearsal-glue")
               .config("spark.jars", ",".join(s3a_jars(repo)))
               .config("spark.driver.memory", "1g")
               .config("spark.driver.extraJavaOptions", java_opts)
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", str(cores))
               .config("spark.default.parallelism", str(cores))
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.catalogImplementation", "in-memory")
               .config("spark.sql.warehouse.dir", str(work_dir / "spark-warehouse"))
               .config("spark.local.dir", str(work_dir / "spark-tmp")))
    for key, value in s3a_settings(moto_url, region).items():
        builder = builder.config("spark.hadoop." + key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    # getOrCreate may return a session an earlier caller made for another moto:
    # point S3A at this one and drop the cached file systems of the old one.
    hconf = spark.sparkContext._jsc.hadoopConfiguration()
    for key, value in s3a_settings(moto_url, region).items():
        hconf.set(key, value)
    spark.sparkContext._jvm.org.apache.hadoop.fs.FileSystem.closeAll()
    return spark, time.monotonic() - started


def active_session():
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()


def stop_session() -> Optional[float]:
    from pyspark import SparkContext

    sc = SparkContext._active_spark_context
    if sc is None:
        return None
    started = time.monotonic()
    sc.stop()
    return time.monotonic() - started
