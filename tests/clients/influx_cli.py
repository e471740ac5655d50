"""Scenario for the `influx` command-line client 1.x (Debian `influxdb-client`), unmodified.

Usage: python3 influx_cli.py BASE_URL [INFLUX_BINARY]

Runs the CLI against the server at BASE_URL: `-execute` of DDL, INSERT, SELECT and SHOW in
every `-format`, `-precision rfc3339`, `-import` of a file with `# DDL` / `# DML` sections,
and an interactive session through a pseudo-terminal. Prints one JSON transcript (exit
status, stdout and stderr of each run). Normalised, because they legitimately differ: the
server's port and version in the banner `Connected to http://HOST:PORT version V`, and the
date and time Go's logger puts before the lines `-import` prints (see docs/clients.md).
"""

import gzip
import json
import os
import pty
import re
import select
import subprocess
import sys
import tempfile
import time
import urllib.parse

DB = "clidb"
OUT = []


def normalise(text, port):
    text = re.sub(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d ", "<date> <time> ", text, flags=re.M)
    text = re.sub(r"Connected to (\S+?):%d version \S+" % port,
                  r"Connected to \1:<port> version <server version>", text)
    return text


class Cli:
    def __init__(self, binary, host, port):
        self.binary, self.host, self.port = binary, host, port

    def run(self, name, *args, cwd=None):
        cmd = [self.binary, "-host", self.host, "-port", str(self.port)] + list(args)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=cwd)
        OUT.append({"step": name, "args": list(args), "status": p.returncode,
                    "stdout": normalise(p.stdout, self.port).splitlines(),
                    "stderr": normalise(p.stderr, self.port).splitlines()})

    def interactive(self, name, lines):
        """Types `lines` into an interactive session, each after the `> ` prompt."""
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(self.binary, [self.binary, "-host", self.host, "-port", str(self.port)])
        transcript = [read_until_prompt(fd)]
        for line in lines:
            os.write(fd, line.encode() + b"\n")
            transcript.append(read_until_prompt(fd))
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        text = b"".join(transcript).decode("utf-8", "replace").replace("\r\n", "\n")
        OUT.append({"step": name, "typed": lines, "status": os.waitstatus_to_exitcode(status),
                    "terminal": normalise(text, self.port).split("\n")})


def read_until_prompt(fd, timeout=20.0):
    """Reads what the CLI prints until it shows its `> ` prompt again (or exits)."""
    buf = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the session ended
            break
        if not chunk:
            break
        buf += chunk
        if buf.endswith(b"> "):
            break
    return buf


IMPORT = """# DDL
CREATE DATABASE climport
CREATE RETENTION POLICY forever ON climport DURATION INF REPLICATION 1
# DML
# CONTEXT-DATABASE: climport
# CONTEXT-RETENTION-POLICY: forever
cpu,host=a value=1 1500000000
cpu,host=b value=2.5,n=3i 1500000001
mem,host=a used=10i,note="x y" 1500000002

mem,host=b used=11i 1500000003
"""

IMPORT_BAD = """# DDL
CREATE DATABASE climport2
# DML
# CONTEXT-DATABASE: climport2
disk,host=a free=1 1500000000
this line is not line protocol
"""


IMPORT_GZ = """# DML
# CONTEXT-DATABASE: climport
io,host=a reads=1i 1500000000000000000
io,host=b reads=2i 1500000001000000000
"""


def main():
    url = urllib.parse.urlparse(sys.argv[1])
    binary = sys.argv[2] if len(sys.argv) > 2 else "influx"
    cli = Cli(binary, url.hostname, url.port)

    cli.run("create database", "-execute", "CREATE DATABASE " + DB)
    cli.run("show databases", "-execute", "SHOW DATABASES")
    cli.run("create rp", "-execute",
            "CREATE RETENTION POLICY week ON %s DURATION 7d REPLICATION 1 SHARD DURATION 1d" % DB)
    cli.run("insert", "-database", DB, "-execute",
            'INSERT cpu,host=a,region=eu value=1.5,n=3i,ok=true,s="a b" 1000000000')
    cli.run("insert second", "-database", DB, "-execute", "INSERT cpu,host=b value=2 2000000000")
    cli.run("insert into rp", "-database", DB, "-execute",
            "INSERT INTO week cpu,host=c value=3 3000000000")
    cli.run("insert precision", "-database", DB, "-precision", "s", "-execute",
            "INSERT mem,host=a used=10i 4")
    cli.run("insert bad", "-database", DB, "-execute", "INSERT cpu,host=a value=")
    queries = ('SELECT * FROM cpu; SELECT mean(value), count(value) FROM cpu GROUP BY host; '
               'SHOW MEASUREMENTS; SHOW TAG KEYS; SHOW TAG VALUES WITH KEY = host; '
               'SHOW FIELD KEYS; SHOW SERIES; SHOW RETENTION POLICIES; SHOW DATABASES')
    for fmt in ("json", "csv", "column"):
        cli.run("select and show -format " + fmt, "-database", DB, "-format", fmt,
                "-execute", queries)
    cli.run("-format json -pretty", "-database", DB, "-format", "json", "-pretty",
            "-execute", "SELECT * FROM cpu WHERE host = 'a'")
    cli.run("-precision rfc3339", "-database", DB, "-precision", "rfc3339", "-execute",
            "SELECT * FROM cpu; SELECT * FROM week.cpu; SELECT * FROM mem")
    cli.run("-precision rfc3339 csv", "-database", DB, "-precision", "rfc3339", "-format",
            "csv", "-execute", "SELECT value FROM cpu")
    cli.run("-precision ms", "-database", DB, "-precision", "ms", "-execute",
            "SELECT value FROM cpu")
    cli.run("group by time", "-database", DB, "-execute",
            "SELECT max(value) FROM cpu WHERE time >= 0 AND time < 4s GROUP BY time(1s) fill(none)")
    cli.run("query error", "-database", DB, "-execute", "SELECT FROM cpu")
    cli.run("unknown database", "-database", "nope", "-execute", "SELECT * FROM cpu")
    cli.run("statement error csv", "-database", DB, "-format", "csv", "-execute",
            "SELECT * FROM cpu; SHOW TAG VALUES FROM nothing WITH KEY = x; SELECT count(*) FROM mem")

    with tempfile.TemporaryDirectory() as tmp:
        # Relative paths: the CLI prints the path it imports from.
        with open(os.path.join(tmp, "import.txt"), "w") as f:
            f.write(IMPORT)
        with open(os.path.join(tmp, "import-bad.txt"), "w") as f:
            f.write(IMPORT_BAD)
        cli.run("import", "-import", "-path", "import.txt", "-precision", "s", cwd=tmp)
        cli.run("import bad line", "-import", "-path", "import-bad.txt", "-precision", "s",
                cwd=tmp)
        with open(os.path.join(tmp, "import.gz"), "wb") as f:
            f.write(gzip.compress(IMPORT_GZ.encode(), mtime=0))
        cli.run("import compressed", "-import", "-path", "import.gz", "-compressed",
                "-pps", "100", cwd=tmp)
    cli.run("after import", "-database", "climport", "-precision", "rfc3339", "-execute",
            "SELECT * FROM forever.cpu; SELECT * FROM forever.mem; SHOW RETENTION POLICIES; "
            "SELECT * FROM autogen.io")
    # On a database whose data is all in the default retention policy: InfluxDB counts
    # only that policy in the exact cardinalities (docs/clients.md).
    cli.run("cardinalities", "-database", DB, "-format", "csv", "-execute",
            "SHOW SERIES CARDINALITY; SHOW MEASUREMENT EXACT CARDINALITY; "
            "SHOW TAG VALUES CARDINALITY WITH KEY = host; SHOW TAG KEY EXACT CARDINALITY; "
            "SHOW FIELD KEY CARDINALITY")
    cli.run("-precision h, -consistency", "-database", DB, "-precision", "h",
            "-consistency", "any", "-execute", "SELECT value FROM cpu")
    cli.run("after import bad", "-database", "climport2", "-execute", "SELECT * FROM disk")

    cli.interactive("interactive session", [
        "SHOW DATABASES",
        "USE " + DB,
        "SHOW MEASUREMENTS",
        "PRECISION rfc3339",
        "SELECT * FROM cpu",
        "FORMAT csv",
        "SELECT value FROM cpu WHERE host = 'b'",
        "PRECISION ns",
        "FORMAT column",
        "INSERT cpu,host=d value=4 5000000000",
        "SELECT count(value) FROM cpu",
        "USE nope",
        "exit",
    ])
    cli.run("drop database", "-execute", "DROP DATABASE %s; DROP DATABASE climport; "
            "DROP DATABASE climport2" % DB)
    cli.run("show databases end", "-execute", "SHOW DATABASES")
    json.dump(OUT, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
