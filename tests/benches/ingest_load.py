#!/usr/bin/env python3
"""An ingest load with the server sampled (docs/benchmarks.md, the by-hand sections).

Generates the same TSBS cpu-only line protocol as reads_during_load.py (HOSTS hosts, HOURS
hours at 10 s, full-precision random walks, 5,000-line batches, time-major), creates
database `benchmark` on the server at URL, and posts the batches with 4 writers
(`precision=s`; a 503 is sent again after 50 ms). Prints rows/s until the last 204 and
until `SELECT count(usage_user) FROM cpu` (polled every 50 ms) equals the rows sent, and,
given the server's PID, its CPU time (user + system) over that span and its peak VmRSS
(sampled every 50 ms); `--trace` adds the RSS every half second.

    python3 tests/benches/ingest_load.py http://127.0.0.1:8086 1000 12 --pid "$(pidof hyperbyted)"

Alternate two binaries run by run: on a shared 2-core machine one run's figures move by
10-15%. Standard library only.
"""
import argparse, http.client, json, os, sys, threading, time, urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reads_during_load import batches, write_all  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("hosts", type=int)
    ap.add_argument("hours", type=int)
    ap.add_argument("--pid", type=int)
    ap.add_argument("--trace", action="store_true")
    a = ap.parse_args()
    u = urllib.parse.urlparse(a.url)
    bodies = batches(a.hosts, a.hours)
    rows = sum(b.count(b"\n") + 1 for b in bodies)

    def request(conn, method, path, body=None):
        conn.request(method, path, body=body)
        r = conn.getresponse()
        return r.status, r.read()

    control = http.client.HTTPConnection(u.hostname, u.port)
    request(control, "POST", "/query?q=" + urllib.parse.quote("CREATE DATABASE benchmark"))

    def cpu_seconds():
        fields = open(f"/proc/{a.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    rss, stop = [], threading.Event()

    def sample():
        while not stop.is_set():
            for line in open(f"/proc/{a.pid}/status"):
                if line.startswith("VmRSS"):
                    rss.append((time.time(), int(line.split()[1]) // 1024))
            time.sleep(0.05)

    if a.pid:
        threading.Thread(target=sample, daemon=True).start()
    cpu0 = cpu_seconds() if a.pid else 0.0
    t0 = time.time()
    retries = write_all(lambda: http.client.HTTPConnection(u.hostname, u.port, timeout=600), bodies)
    acked = time.time() - t0
    count = "/query?db=benchmark&q=" + urllib.parse.quote("SELECT count(usage_user) FROM cpu")
    # A fresh connection: the first one idled through the load, longer than a server's
    # idle timeout may allow (hyperbyted's http.idle_timeout_secs).
    control = http.client.HTTPConnection(u.hostname, u.port)
    while True:
        _, body = request(control, "GET", count)
        try:
            n = json.loads(body)["results"][0]["series"][0]["values"][0][1]
        except (KeyError, IndexError, ValueError):
            n = 0
        if n >= rows:
            break
        time.sleep(0.05)
    queryable = time.time() - t0
    stop.set()
    line = (f"rows {rows}: until acknowledged {rows / acked:,.0f} rows/s ({acked:.2f} s), "
            f"until queryable {rows / queryable:,.0f} rows/s ({queryable:.2f} s), 503s {retries}")
    if a.pid:
        line += f", server CPU {cpu_seconds() - cpu0:.1f} s, peak RSS {max(r for _, r in rss)} MB"
    print(line)
    if a.trace and rss:
        marks, shown = [], t0
        for at, mb in rss:
            if at >= shown:
                marks.append(f"{at - t0:.1f}s:{mb}")
                shown = at + 0.5
        print("RSS MB:", " ".join(marks))


if __name__ == "__main__":
    main()
