#!/usr/bin/env python3
"""Differential fuzzing of statement shapes: windows, transformations, subqueries, selectors
with tags and SHOW statements, generated against the same data in hyperbyted and in the
reference InfluxDB (shared/conformance/reference-influxd.sh); answers compared after
normalisation (floats to ten significant digits; error texts in full).

    python3 differential_shapes.py --ours http://127.0.0.1:8086 \
        --reference http://127.0.0.1:18086 --seed 7 --cases 300 [--family windows]

`differential.py` varies conditions and expressions over four points; this one varies how
a statement is shaped, over two measurements with gaps, several series, missing fields
and a field whose type differs between measurements. It drops and recreates the database
`dz` on both servers. A developer's tool for finding where answers differ.
"""
import json
import random
import sys

from differential_common import arguments, count_differences, req

args = arguments(("--family", {"default": "all",
                               "help": "windows, transforms, subqueries, selectors, show, raw, analysis or all"}))


def dataset(seed):
    """Two measurements over 0..100 s with a gap in 40..60 s; hosts a..d, region on some."""
    d = random.Random(seed)
    lines = []
    for t in range(0, 100, 3):
        if 40 <= t < 60:
            continue
        for host in "abcd":
            if d.randrange(4) == 0:
                continue
            tags = f"host={host}" + (",region=eu" if host in "ab" else ",region=us" if host == "c" else "")
            fields = []
            if d.randrange(5):
                fields.append(f"v={d.randrange(-50, 150) / 4}")
            if d.randrange(3):
                fields.append(f"i={d.randrange(-20, 40)}i")
            if d.randrange(4) == 0:
                fields.append(f's="{d.choice(["x", "y", "zz"])}"')
            if d.randrange(5) == 0:
                fields.append(f"b={d.choice(['true', 'false'])}")
            if not fields:
                fields.append("v=0")
            lines.append(f"cpu,{tags} {','.join(fields)} {t}000000000")
        if d.randrange(2):
            lines.append(f"mem,host={d.choice('ab')} free={d.randrange(1000)}i,v={d.randrange(10)}i {t}000000000")
    return "\n".join(lines) + "\n"


R = random.Random(args.seed)
AGGS = ["count", "sum", "mean", "min", "max", "first", "last", "spread", "median", "mode", "stddev"]
NUM = ["v", "i"]


def window():
    return R.choice(["5s", "10s", "7s", "30s", "1m"])


def time_range():
    lo = R.choice([0, 0, 5, 12, 33, 45])
    hi = R.choice([60, 90, 100, 120, 41])
    if hi <= lo:
        hi = lo + 30
    ops = R.choice([(">=", "<"), (">", "<="), (">=", "<=")])
    return f"time {ops[0]} {lo}s AND time {ops[1]} {hi}s"


def tag_cond():
    return R.choice(["host = 'a'", "host != 'b'", "region = 'eu'", "region = ''", "host =~ /[ab]/",
                     "region !~ /u/", "(host = 'a' OR host = 'c')"])


def field_cond():
    return R.choice(["v > 10", "i < 5", "v >= 0 AND i > 0", "s = 'x'", "b = true", "v + i > 20"])


def where(extra_field=True):
    parts = [time_range()]
    if R.randrange(2):
        parts.append(tag_cond())
    if extra_field and R.randrange(4) == 0:
        parts.append(field_cond())
    return " WHERE " + " AND ".join(parts)


def group_by(time_required=True):
    g = []
    if time_required or R.randrange(2):
        off = R.choice(["", "", ", 2s", ", -3s", ", 1m"])
        g.append(f"time({window()}{off})")
    if R.randrange(2):
        g.append(R.choice(["host", "region", "*", "host, region", "/reg/"]))
    return " GROUP BY " + ", ".join(g) if g else ""


def tail(windowed):
    s = ""
    if windowed and R.randrange(2):
        s += f" fill({R.choice(['none', 'null', '0', 'previous', 'linear', '-1'])})"
    if R.randrange(3) == 0:
        s += " ORDER BY time DESC"
    if R.randrange(3) == 0:
        s += f" LIMIT {R.randrange(1, 4)}"
        if R.randrange(2):
            s += f" OFFSET {R.randrange(3)}"
    if R.randrange(5) == 0:
        s += f" SLIMIT {R.randrange(1, 3)}"
        if R.randrange(2):
            s += f" SOFFSET {R.randrange(2)}"
    if R.randrange(8) == 0:
        s += R.choice([" tz('Europe/Paris')", " tz('America/New_York')", " tz('UTC')"])
    return s


def agg_expr():
    f = R.choice(NUM + ["s", "b", "*"] if R.randrange(6) == 0 else NUM)
    a = R.choice(AGGS + ["percentile", "integral"])
    if a == "percentile":
        return f"percentile({R.choice(NUM)}, {R.choice([5, 25, 50, 90, 99.9, 100])})"
    if a == "integral":
        return f"integral({R.choice(NUM)}{R.choice(['', ', 1s', ', 10s'])})"
    e = f"{a}({f})"
    if R.randrange(5) == 0:
        e += R.choice([" * 2", " + 1", " / 4", " - min(v)"])
    if R.randrange(6) == 0:
        e += f" AS {R.choice(['x', 'y', 'mean'])}"
    return e


def windows():
    cols = ", ".join(agg_expr() for _ in range(R.randrange(1, 4)))
    src = R.choice(["cpu", "cpu", "cpu", "mem", "cpu, mem", "/./"])
    return f"SELECT {cols} FROM {src}{where()}{group_by()}{tail(True)}"


def transforms():
    t = R.choice(["derivative", "non_negative_derivative", "difference", "non_negative_difference",
                  "cumulative_sum", "moving_average", "elapsed"])
    arg = ""
    if t in ("derivative", "non_negative_derivative") and R.randrange(2):
        arg = R.choice([", 1s", ", 10s", ", 1m"])
    if t == "moving_average":
        arg = f", {R.randrange(1, 4)}"
    if t == "elapsed" and R.randrange(2):
        arg = R.choice([", 1s", ", 1ms"])
    if R.randrange(2):
        inner = f"{R.choice(['mean', 'max', 'sum', 'count', 'last', 'min'])}({R.choice(NUM)})"
        return f"SELECT {t}({inner}{arg}) FROM cpu{where(False)}{group_by()}{tail(True)}"
    return f"SELECT {t}({R.choice(NUM)}{arg}) FROM cpu{where()}{group_by(False)}{tail(False)}"


def subqueries():
    inner_agg = R.choice(["mean", "max", "sum", "count", "last"])
    inner = (f"SELECT {inner_agg}({R.choice(NUM)}) AS x FROM cpu{where(False)}"
             f" GROUP BY time({R.choice(['5s', '10s'])}){R.choice(['', ', host', ', *'])}")
    if R.randrange(3) == 0:
        inner = f"SELECT v AS x, i, host FROM cpu{where()}"
    outer = R.choice(["max(x)", "mean(x)", "count(x)", "sum(x), count(x)", "x", "*", "top(x, 2)",
                      "last(x), host", "derivative(x)"])
    g = R.choice(["", " GROUP BY host", f" GROUP BY time({R.choice(['20s', '30s'])})",
                  " GROUP BY time(20s), host"])
    if outer in ("x", "*", "derivative(x)") and "time(" in g:
        g = ""
    w = R.choice(["", " WHERE x > 5", " WHERE host = 'a'", " WHERE time > 10s AND time < 80s"])
    if "time(" in g and "time >" not in w:
        # An outer GROUP BY time without bounds runs to now(): millions of windows.
        w = (w + " AND" if w else " WHERE") + " time >= 0s AND time < 90s"
    return f"SELECT {outer} FROM ({inner}){w}{g}{tail('time(' in g)}"


def selectors():
    sel = R.choice(["max(v)", "min(i)", "first(v)", "last(i)", "top(v, 2)", "bottom(i, 3)",
                    "top(v, host, 2)", "bottom(v, region, 2)", "percentile(v, 50)", "sample(v, 100)"])
    extra = R.choice(["", ", host", ", region", ", host, region", ", i", ", v, host", ", *"])
    if sel.startswith(("top", "bottom")) and extra == ", *":
        extra = ""
    return f"SELECT {sel}{extra} FROM cpu{where()}{group_by(False)}{tail('GROUP BY time' in sel)}"


def show():
    c = R.randrange(8)
    src = R.choice(["", " FROM cpu", " FROM mem", " FROM /./", " FROM cpu, mem", " FROM nosuch"])
    cond = R.choice(["", " WHERE host = 'a'", " WHERE region = 'eu'", " WHERE host =~ /[bc]/",
                     " WHERE region != ''", " WHERE host = 'a' OR region = 'us'"])
    lim = R.choice(["", "", " LIMIT 1", " LIMIT 2 OFFSET 1", " OFFSET 1"])
    if c == 0:
        key = R.choice(["= host", "= region", "IN (host, region)", "=~ /o/", "!= host"])
        return f"SHOW TAG VALUES{src} WITH KEY {key}{cond}{lim}"
    if c == 1:
        return f"SHOW SERIES{src}{cond}{lim}"
    if c == 2:
        return f"SHOW TAG KEYS{src}{cond}{lim}"
    if c == 3:
        return f"SHOW FIELD KEYS{src}{lim}"
    if c == 4:
        w = R.choice(["", " WITH MEASUREMENT = cpu", " WITH MEASUREMENT =~ /m/"])
        return f"SHOW MEASUREMENTS{w}{cond}{lim}"
    if c == 5:
        return f"SHOW SERIES CARDINALITY{src}{cond}"
    if c == 6:
        return f"SHOW TAG VALUES CARDINALITY{src} WITH KEY = host{cond}"
    return f"SHOW MEASUREMENT CARDINALITY{cond}"


def raw():
    """Raw reads: projections with casts, regexes, arithmetic, wildcards and literals."""
    col = lambda: R.choice(["v", "i", "s", "b", "host", "region", "v::float", "i::integer",
                            "v::integer", "i::float", "host::tag", "host::field", "s::string",
                            "b::boolean", "v + i", "v * 2 - i", "i / 3", "i % 7", "-v", "v ^ 2",
                            "i & 3", "i | 8", "/^[vi]$/", "*", "v AS x", "\"v\"", "1 + v",
                            "s + 'a'", "time"])
    cols = ", ".join(col() for _ in range(R.randrange(1, 4)))
    cond = R.choice(["", " AND v > 1", " AND s =~ /x|y/", " AND s !~ /z/", " AND b = false",
                     " AND i = 3", " AND v = 0.5", " AND host = 'a' OR host = 'b'",
                     " AND (v < 0 OR i > 30)", " AND s = 'zz'", " AND v + 1 > i",
                     " AND region =~ /^e/", " AND i != 4", " AND v::integer > 3"])
    src = R.choice(["cpu", "cpu", "mem", "cpu, mem", "/m/"])
    return f"SELECT {cols} FROM {src} WHERE {time_range()}{cond}{group_by(False)}{tail(False)}"


def analysis():
    """Distinct values, the technical analysis functions and Holt-Winters."""
    f = R.choice(NUM)
    c = R.randrange(6)
    if c == 0:
        e = R.choice([f"distinct({f})", f"count(distinct({f}))", "distinct(s)", "count(distinct(s))"])
        return f"SELECT {e} FROM cpu{where(False)}{group_by(False)}{tail(False)}"
    if c == 1:
        fn = R.choice(["exponential_moving_average", "double_exponential_moving_average",
                       "triple_exponential_moving_average", "relative_strength_index",
                       "triple_exponential_derivative", "kaufmans_efficiency_ratio",
                       "kaufmans_adaptive_moving_average", "chande_momentum_oscillator"])
        n = R.randrange(1, 5)
        extra = R.choice(["", f", {R.randrange(-1, 4)}", f", {R.randrange(-1, 4)}, 'exponential'",
                          f", {R.randrange(-1, 4)}, 'simple'", ", -1, 'none'"])
        if fn.startswith("kaufmans") or fn in ("relative_strength_index",):
            extra = R.choice(["", f", {R.randrange(-1, 3)}"])
        if R.randrange(2):
            return f"SELECT {fn}({f}, {n}{extra}) FROM cpu{where()}{group_by(False)}{tail(False)}"
        inner = f"{R.choice(['mean', 'max', 'last'])}({f})"
        return f"SELECT {fn}({inner}, {n}{extra}) FROM cpu{where(False)}{group_by()}{tail(True)}"
    if c == 2:
        hw = R.choice(["holt_winters", "holt_winters_with_fit"])
        return (f"SELECT {hw}({R.choice(['mean', 'max', 'first'])}({f}), {R.randrange(1, 4)}, "
                f"{R.randrange(0, 3)}) FROM cpu WHERE {time_range()}"
                f" GROUP BY time({R.choice(['5s', '10s'])}){R.choice(['', ', host'])}")
    if c == 3:
        a = R.choice(["mode(s)", "first(s)", "last(b)", "count(s)", "max(s)", "mean(b)",
                      "min(b)", "sum(s)", "spread(i)", "median(i)", "stddev(i)"])
        return f"SELECT {a} FROM cpu{where(False)}{group_by(False)}{tail(False)}"
    if c == 4:
        return (f"SELECT {R.choice(['max', 'min', 'first', 'last'])}({f}), "
                f"{R.choice(['v', 'i', 's', 'host', 'region', 'b'])} FROM cpu{where()}"
                f"{group_by(False)}{tail(False)}")
    return f"SELECT {R.choice(['mean', 'count', 'sum'])}({f}) FROM cpu{where()}{tail(False)}"


FAMILIES = {"windows": windows, "transforms": transforms, "subqueries": subqueries,
            "selectors": selectors, "show": show, "raw": raw, "analysis": analysis}


def norm(t):
    try:
        v = json.loads(t)
    except ValueError:
        return t

    def walk(x):
        if isinstance(x, dict):
            return {k: walk(w) for k, w in x.items()}
        if isinstance(x, list):
            return [walk(y) for y in x]
        if isinstance(x, float):
            return float(f"{x:.10g}")
        return x
    return walk(v)


def main():
    body = dataset(args.seed)
    for base in (args.ours, args.reference):
        req(base, "/query", {"q": "DROP DATABASE dz"})
        req(base, "/query", {"q": "CREATE DATABASE dz"})
        status, text = req(base, "/write", {"db": "dz"}, body)
        if status != 204:
            sys.exit(f"{base}: write answered {status} {text}")
    names = list(FAMILIES) if args.family == "all" else args.family.split(",")
    queries = (FAMILIES[R.choice(names)]() for _ in range(args.cases))
    count_differences(args, "dz", queries, norm, timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
