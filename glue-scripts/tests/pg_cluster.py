"""A throwaway PostgreSQL 15 cluster on a free 127.0.0.1 port, for Redshift's
SQL: the Glue-script tests' warehouse and the rehearsal's (which imports it
from here, as it does pg_dialect)."""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from typing import Iterator


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bin() -> str:
    """The server binaries' folder: PostgreSQL 15's, else the newest installed."""
    found = [d for d in sorted(glob.glob("/usr/lib/postgresql/15/bin")) or sorted(glob.glob("/usr/lib/postgresql/*/bin"))
             if os.path.exists(os.path.join(d, "initdb"))]
    if not found:
        raise RuntimeError("PostgreSQL server binaries missing: run `make system-tools`")
    return found[-1]


@contextlib.contextmanager
def postgres_cluster(tmp_prefix: str) -> Iterator[str]:
    """Yields the psycopg2 DSN of a new cluster in a temporary folder, stopped
    and removed on leaving. As root it runs as the `postgres` user: initdb
    refuses root."""
    bindir = postgres_bin()
    base = tempfile.mkdtemp(prefix=tmp_prefix)
    data, sockets, logfile = os.path.join(base, "data"), os.path.join(base, "sock"), os.path.join(base, "server.log")
    os.mkdir(sockets)
    prefix: list[str] = []
    if os.geteuid() == 0:
        prefix = ["runuser", "-u", "postgres", "--"]
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
    port = _free_port()

    def pg(*args: str) -> None:
        r = subprocess.run(prefix + list(args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode:
            raise RuntimeError(f"{args[0]} failed: {r.stderr.decode()[-2000:]}")

    try:
        pg(os.path.join(bindir, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale", "C")
        pg(os.path.join(bindir, "pg_ctl"), "-D", data, "-l", logfile, "-w", "-t", "60", "start", "-o",
           "-k %s -p %d -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off "
           "-c synchronous_commit=off -c TimeZone=UTC" % (sockets, port))
        yield "host=127.0.0.1 port=%d user=postgres dbname=postgres" % port
    finally:
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            subprocess.run(prefix + [os.path.join(bindir, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(base, ignore_errors=True)
