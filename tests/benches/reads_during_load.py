#!/usr/bin/env python3
"""Reads while a sustained write load runs (docs/benchmarks.md, "writes feed the tier
themselves").

Generates TSBS cpu-only line protocol (HOSTS hosts, HOURS hours at 10 s, full-precision
random walks, 5,000-line batches, time-major), creates database `benchmark` on the server
at URL, loads the batches with 4 writers (`precision=s`, a 503 is sent again after
50 ms) while one reader asks one query every 50 ms, in turn, of each shape below for a
random host among the first 50. Prints the acknowledgement time and, per shape, how many
answers came during the load and their median / p90 / max in ms.

    python3 tests/benches/reads_during_load.py http://127.0.0.1:8086 1000 12
    python3 tests/benches/reads_during_load.py http://127.0.0.1:8086 100 24 --first-hour

Works against InfluxDB 1.x as well. Standard library only.
"""
import argparse, http.client, random, statistics, threading, time, urllib.parse

FIELDS = ["usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
          "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"]
REGIONS = ["us-east-1", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1",
           "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1"]
START = 1451606400


def batches(hosts, hours):
    rng = random.Random(1)
    tags = []
    for h in range(hosts):
        r = rng.choice(REGIONS)
        tags.append(f"hostname=host_{h},region={r},datacenter={r}a,rack={rng.randint(0, 99)},"
                    f"os=Ubuntu16.04LTS,arch=x64,team=SF,service={rng.randint(0, 19)},"
                    f"service_version={rng.randint(0, 1)},service_environment=test")
    vals = [[rng.random() * 100 for _ in FIELDS] for _ in range(hosts)]
    out, lines = [], []
    for step in range(hours * 360):
        ts = START + step * 10
        for h in range(hosts):
            v = vals[h]
            for i in range(10):
                v[i] = min(100.0, max(0.0, v[i] + rng.uniform(-1, 1)))
            fields = ",".join(f"{FIELDS[i]}={v[i]!r}" for i in range(10))
            lines.append(f"cpu,{tags[h]} {fields} {ts}")
            if len(lines) == 5000:
                out.append("\n".join(lines).encode())
                lines = []
    if lines:
        out.append("\n".join(lines).encode())
    return out


def write_all(conn, bodies, writers=4):
    """Posts every body (`precision=s`) from `writers` threads, each with its own
    connection from `conn()`, and returns once all are answered 204; a 503 is sent again
    after 50 ms, any other status stops the load. Returns how many 503s came."""
    next_body, lock, retries = [0], threading.Lock(), [0]

    def writer():
        c = conn()
        while True:
            with lock:
                i = next_body[0]
                next_body[0] += 1
            if i >= len(bodies):
                return
            while True:
                c.request("POST", "/write?db=benchmark&precision=s", body=bodies[i])
                r = c.getresponse()
                body = r.read()
                if r.status == 204:
                    break
                if r.status != 503:
                    raise SystemExit(f"write answered {r.status}: {body[:200]!r}")
                with lock:
                    retries[0] += 1
                time.sleep(0.05)

    threads = [threading.Thread(target=writer) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return retries[0]


def shapes(first_hour):
    host = "hostname = 'host_{h}'"
    if first_hour:
        span = f"time >= {START}s AND time < {START + 3600}s"
        return {
            "max per minute, first hour": f"SELECT max(usage_user) FROM cpu WHERE {host} AND {span} GROUP BY time(1m)",
            "SELECT *, first hour": f"SELECT * FROM cpu WHERE {host} AND {span}",
        }
    span = f"time >= {START}s AND time < {START + 12 * 3600}s"
    return {
        "SELECT *, 12 h": f"SELECT * FROM cpu WHERE {host} AND {span}",
        "SELECT * latest 10": f"SELECT * FROM cpu WHERE {host} ORDER BY time DESC LIMIT 10",
        "max per minute, 12 h": f"SELECT max(usage_user) FROM cpu WHERE {host} AND {span} GROUP BY time(1m)",
        "two fields, 12 h": f"SELECT usage_user, usage_system FROM cpu WHERE {host} AND {span}",
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("hosts", type=int)
    ap.add_argument("hours", type=int)
    ap.add_argument("--first-hour", action="store_true", help="read the first hour only")
    a = ap.parse_args()
    u = urllib.parse.urlparse(a.url)
    conn = lambda: http.client.HTTPConnection(u.hostname, u.port or 8086, timeout=600)
    bodies = batches(a.hosts, a.hours)
    c0 = conn()
    c0.request("POST", "/query?q=" + urllib.parse.quote("CREATE DATABASE benchmark"))
    c0.getresponse().read()
    done = [False]

    kinds = shapes(a.first_hour)
    lat = {k: [] for k in kinds}

    def reader():
        c, rng, i = conn(), random.Random(3), 0
        while not done[0]:
            k = list(kinds)[i % len(kinds)]
            i += 1
            q = kinds[k].format(h=rng.randrange(min(50, a.hosts)))
            t = time.perf_counter()
            c.request("GET", "/query?db=benchmark&q=" + urllib.parse.quote(q))
            c.getresponse().read()
            lat[k].append((time.perf_counter() - t) * 1000)
            time.sleep(0.05)

    t0 = time.time()
    r = threading.Thread(target=reader)
    r.start()
    write_all(conn, bodies)
    ack = time.time() - t0
    done[0] = True
    r.join()
    lines = sum(b.count(b"\n") + 1 for b in bodies)
    print(f"{lines} lines acknowledged in {ack:.1f} s")
    for k, v in lat.items():
        v.sort()
        if v:
            print(f"{k:28s} answers {len(v):3d}  median {statistics.median(v):8.1f}  "
                  f"p90 {v[int(len(v) * 0.9)]:8.1f}  max {v[-1]:8.1f} ms")


if __name__ == "__main__":
    main()
