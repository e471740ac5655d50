#!/usr/bin/env python3
"""Differential fuzzing of parse errors: valid statements of many shapes, mutated by
deleting, inserting or replacing a token or two, sent to hyperbyted and to the reference
InfluxDB (shared/conformance/reference-influxd.sh); status and body compared in full
(error texts and their positions included).

    python3 differential_errors.py --ours http://127.0.0.1:8086 \
        --reference http://127.0.0.1:18086 --seed 7 --cases 300

Statements run against database `dz` (create it first, e.g. with differential_shapes.py;
a mutation may still run: the seeds hold no DROP, so both servers change alike). A
developer's tool for finding where answers differ.
"""
import random
import sys

from differential_common import arguments, count_differences

args = arguments()

SHAPES = [
    "SELECT mean(v) FROM cpu WHERE time > 0s AND host = 'a' GROUP BY time(10s), host fill(none) LIMIT 2",
    "SELECT v, i FROM cpu WHERE v > 3 ORDER BY time DESC LIMIT 3 OFFSET 1",
    "SHOW TAG VALUES FROM cpu WITH KEY = host WHERE region = 'eu'",
    "SELECT count(v) FROM (SELECT v FROM cpu WHERE i > 0) GROUP BY time(30s)",
    "SHOW SERIES FROM cpu WHERE host =~ /a/ LIMIT 2",
    "SELECT top(v, host, 2) FROM cpu",
    "SELECT derivative(mean(v), 1s) FROM cpu WHERE time > 0s GROUP BY time(10s)",
    "DROP SERIES FROM cpu WHERE host = 'zz'",
    "CREATE RETENTION POLICY r ON dz DURATION 1d REPLICATION 1",
    "SHOW FIELD KEYS FROM cpu",
    "CREATE CONTINUOUS QUERY cq ON dz BEGIN SELECT mean(v) INTO m2 FROM cpu GROUP BY time(1m) END",
    "CREATE USER u WITH PASSWORD 'p' WITH ALL PRIVILEGES",
    "GRANT READ ON dz TO u",
    "SHOW RETENTION POLICIES ON dz",
    "ALTER RETENTION POLICY autogen ON dz DURATION 2000d DEFAULT",
    "SELECT * FROM cpu WHERE time > now() - 1h AND host =~ /^a/ ORDER BY time DESC",
    "SHOW MEASUREMENTS WITH MEASUREMENT =~ /c/ LIMIT 1",
    "SELECT v INTO dz.autogen.m2 FROM cpu WHERE time < 1s",
    "SHOW TAG KEYS ON dz FROM cpu",
    "SHOW SERIES CARDINALITY ON dz FROM cpu WHERE host = 'a'",
    "SELECT percentile(v, 95), count(distinct(i)) FROM cpu WHERE time < 30s GROUP BY time(10s) fill(0)",
    "SELECT v::float, i::integer, host::tag FROM cpu WHERE s =~ /x/ SLIMIT 1 SOFFSET 1",
    "CREATE DATABASE dz2 WITH DURATION 1d REPLICATION 1 SHARD DURATION 1h NAME r2",
    "SHOW GRANTS FOR u",
]
TOKENS = ["SELECT", "FROM", "WHERE", "GROUP", "BY", "(", ")", ",", "'x'", "=", "AND", "OR",
          "1", "1.5", "time", "*", "/re/", "LIMIT", "fill(", "mean(", '"q"', ";", "::", "-",
          "10s", "ON", "INTO", "AS", "desc", "=~", "!~", "<>", "!", "$p", "now()", ".", "..",
          "IN"]


def mutate(r, text):
    words = text.replace("(", " ( ").replace(")", " ) ").replace(",", " , ").split()
    for _ in range(r.randrange(1, 3)):
        op, i = r.randrange(3), r.randrange(len(words) + 1)
        if op == 0 and words:
            words.pop(min(i, len(words) - 1))
        elif op == 1:
            words.insert(i, r.choice(TOKENS))
        elif words:
            words[min(i, len(words) - 1)] = r.choice(TOKENS)
    return " ".join(words)


def main():
    r = random.Random(args.seed)
    queries = (mutate(r, r.choice(SHAPES)) for _ in range(args.cases))
    count_differences(args, "dz", queries, timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
