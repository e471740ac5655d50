#!/usr/bin/env python3
"""Writes the project's own conformance cases (empty expectations) into cases/.

Record them against the reference InfluxDB with shared/conformance/record.py (see
README.md beside this script), then `cargo xtask test` replays them against hyperbyted
with xtask's Rust runner and requires every check to pass.
Each case covers hostile or unusual input whose answer InfluxDB defines.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
WEEK = 7 * 86400 * 10**9
DAY = 86400 * 10**9
T2000 = 946684800 * 10**9


# Seven points of three hosts (host c without a region) with a field of every type: the
# data of the probes whose answers the newer cases record.
PROBE_CPU = (
    'cpu,host=a,region=us v=1,i=10i,s="x",b=true 0\n'
    'cpu,host=b,region=eu v=4,i=40i,s="x",b=false 5000000000\n'
    'cpu,host=a,region=us v=2,i=20i,s="y",b=false 10000000000\n'
    'cpu,host=b,region=eu v=5.25,i=50i,s="w",b=true 15000000000\n'
    'cpu,host=a,region=us v=-3.5,i=-5i,s="z",b=true 20000000000\n'
    'cpu,host=b,region=eu v=0,i=0i,s="",b=false 25000000000\n'
    'cpu,host=c v=100,i=7i 30000000000\n'
)


def q(db, text, **extra):
    params = {"q": text}
    if db:
        params["db"] = db
    params.update(extra)
    return {"method": "POST", "path": "/query", "params": params}


def w(db, body, **extra):
    params = {"db": db}
    params.update(extra)
    return {"method": "POST", "path": "/write", "params": params, "body": body}


def case(name, setup, checks):
    return {"name": name, "category": name.split("--")[0], "setup": setup, "checks": checks}


def queries_case(name, db, body, texts, **write_params):
    """A case whose setup creates `db` and writes `body`, checking `texts` as queries."""
    setup = [q("", f'CREATE DATABASE "{db}"'), w(db, body, **write_params)]
    return case(name, setup, [q(db, text) for text in texts])


def cases():
    out = []
    db = "hw_backfill"
    weekly = "".join(f"m v={i} {T2000 + i * WEEK}\n" for i in range(101))
    daily = "".join(f"d v={i} {T2000 + i * DAY}\n" for i in range(400))
    out.append(case("hostile-writes--backfill-spanning-years", [
        q("", f'CREATE DATABASE "{db}"'),
        q("", f'CREATE RETENTION POLICY daily ON "{db}" DURATION INF REPLICATION 1 SHARD DURATION 1d'),
    ], [
        w(db, weekly),
        q(db, "SELECT count(v), sum(v), min(v), max(v) FROM m"),
        q(db, "SELECT count(v) FROM m WHERE time >= '2001-01-01T00:00:00Z' AND time < '2003-01-01T00:00:00Z' GROUP BY time(52w)"),
        w(db, daily, rp="daily"),
        q(db, "SELECT count(v), sum(v) FROM daily.d"),
        q(db, "SELECT v FROM daily.d WHERE time >= '2001-01-01T00:00:00Z' LIMIT 3"),
    ]))
    db = "hw_edges"
    out.append(case("hostile-writes--ends-of-time", [q("", f'CREATE DATABASE "{db}"')], [
        w(db, "e v=1 -9223372036854775806\ne v=2 9223372036854775806\ne v=3 0\n"),
        q(db, "SELECT v FROM e WHERE time >= -9223372036854775806 AND time <= 9223372036854775806"),
        q(db, "SELECT count(v) FROM e WHERE time >= -9223372036854775806 AND time <= 9223372036854775806"),
        w(db, "e v=4 -9223372036854775807\n"),
        w(db, "e v=5 9223372036854775807\n"),
    ]))
    db = "hw_names"
    long_m = "." * 52 + "zz"
    short_m = "....................._z+8fe45165b20aa568d84ac88a2c2151"
    long_f = "f" * 300
    out.append(case("hostile-writes--long-names", [q("", f'CREATE DATABASE "{db}"')], [
        w(db, f"{long_m} a=1 1\n{short_m} b=2 1\n"),
        q(db, f'SELECT * FROM "{long_m}"'),
        q(db, f'SELECT * FROM "{short_m}"'),
        w(db, f"m,{'t' * 300}=x {long_f}=1 1\n"),
        q(db, f"SELECT count({long_f}) FROM m"),
        q(db, "SHOW TAG KEYS FROM m"),
    ]))
    db = "hw_wide"
    fields = ",".join(f"field_with_a_long_name_{i:05}={i}" for i in range(1500))
    out.append(case("hostile-writes--wide-line", [q("", f'CREATE DATABASE "{db}"')], [
        w(db, f"w,host=a {fields} 1000000000\n"),
        q(db, "SELECT field_with_a_long_name_01499, field_with_a_long_name_00000 FROM w"),
        q(db, "SELECT count(field_with_a_long_name_00042) FROM w"),
    ]))
    db = "hq_params"
    out.append(case("hostile-queries--bound-params", [
        q("", f'CREATE DATABASE "{db}"'),
        q("", 'CREATE DATABASE "hq_params_keep"'),
        w(db, "m,t=a v=1 1\nm,t=b v=2 2\n"),
    ], [
        q(db, "SELECT v FROM m WHERE t =~ $r",
          params=json.dumps({"r": {"regex": "\\/ ; DROP DATABASE hq_params_keep -- "}})),
        q(db, "SELECT v FROM m WHERE time > now() - $d",
          params=json.dumps({"d": {"duration": "1h; DROP DATABASE hq_params_keep"}})),
        q(db, "SELECT v FROM m WHERE t = $s",
          params=json.dumps({"s": "a'; DROP DATABASE hq_params_keep; SELECT '"})),
        q(db, "SELECT v FROM $i", params=json.dumps({"i": {"identifier": "m\"; DROP DATABASE hq_params_keep"}})),
        q(db, "SELECT v FROM m WHERE t = $s", params=json.dumps({"s": "a"})),
        q("", "SHOW DATABASES"),
    ]))
    db = "qs_conditions"
    data = ("m,host=a,region=eu v=1.5,i=3i,s=\"x\",b=true 1000000000\n"
            "m,host=b,region=us v=-2,i=-7i,s=\"it's\",b=false 2000000000\n"
            "m,host=a v=10,i=0i 3000000000\n"
            "m,host=c,region=eu s=\"only\" 4000000000\n")
    conditions = [
        "i / 2 = 1", "-5 % 0 = 0", "v / 0 = 0", "v % 0 = 0", "i & 1 = 1", "v | 1 = 3",
        "16 ^ 12.5 > 0", "i + 1.5 > v", "s < 'y'", "host < 'b'", "'b' > host", "s < region",
        "host != region", "s != host", "'a' != 0", "host != 5", "s != 0", "b > false",
        "b != false", "missing < host", "host != missing", "s > missing", "v > missing",
    ]
    checks = [q(db, f"SELECT v, i FROM m WHERE {c}") for c in conditions]
    checks += [q(db, "SELECT i / 2, i % 2, v % 0, i / 0 FROM m")]
    checks += [q(db, f"SELECT {f}({x}{', 50' if f == 'percentile' else ''}) FROM m WHERE time > 100s")
               for f in ("sum", "mean", "median", "spread", "stddev", "min", "max", "percentile")
               for x in ("s", "b")]
    out.append(case("query-semantics--conditions-and-types",
                    [q("", f'CREATE DATABASE "{db}"'), w(db, data)], checks))
    db = "qs_distinct"
    checks = [q(db, s) for s in (
        "SELECT distinct(v), v FROM m", "SELECT distinct(v), host FROM m",
        "SELECT distinct(v), max(v) FROM m", "SELECT distinct(v), v FROM nope",
        "SELECT count(distinct(v)), max(v) FROM m", "SELECT distinct(v) AS a FROM m",
    )]
    checks.append(q("qs_no_such_db", "SELECT distinct(v), v FROM m"))
    out.append(case("query-semantics--distinct-alone",
                    [q("", f'CREATE DATABASE "{db}"'),
                     w(db, "m,host=a v=1 1\nm,host=b v=2 2\nm,host=a v=1 3\n")], checks))
    # distinct() beside other fields or twice, top()/bottom() beside other functions:
    # refused when the fields are compiled (a missing measurement answers the same).
    checks = [q(db, s) for s in (
        "SELECT count(v), distinct(host) FROM m", "SELECT distinct(v), distinct(v) FROM m",
        "SELECT distinct(v) + distinct(v) FROM m", "SELECT count(v), distinct(v) * 2 FROM m",
        "SELECT distinct(v), count(v) FROM nope", "SELECT distinct(v), top(v, 1) FROM m",
        "SELECT top(v, 1), max(v) FROM m", "SELECT max(v), bottom(v, 1) FROM nope",
        "SELECT top(v, 1) + max(v) FROM m", "SELECT top(v, 1), host FROM m",
    )]
    out.append(case("query-semantics--distinct-top-combinations",
                    [q("", f'CREATE DATABASE "{db}"'),
                     w(db, "m,host=a v=1 1\nm,host=b v=2 2\nm,host=a v=1 3\n")], checks))
    # User statements with authentication off: InfluxDB's texts and the privilege model
    # (the case leaves no user behind).
    db = "us_db"
    checks = [q("", s) for s in [
        "CREATE USER us_a WITH PASSWORD 'pw'",
        "CREATE USER us_a WITH PASSWORD 'pw'",
        "CREATE USER us_a WITH PASSWORD 'other'",
        "CREATE USER us_a WITH PASSWORD 'pw' WITH ALL PRIVILEGES",
        "CREATE USER us_root WITH PASSWORD 'r' WITH ALL PRIVILEGES",
        "SHOW USERS",
        "GRANT ALL ON us_db TO us_a",
        "REVOKE READ ON us_db FROM us_a",
        "SHOW GRANTS FOR us_a",
        "GRANT READ ON us_db TO us_a",
        "REVOKE WRITE ON us_other FROM us_a",
        "SHOW GRANTS FOR us_a",
        "GRANT READ ON us_nodb TO us_a",
        "GRANT READ ON us_db TO us_nobody",
        "REVOKE READ ON us_db FROM us_nobody",
        "GRANT ALL PRIVILEGES TO us_a",
        "REVOKE ALL PRIVILEGES FROM us_root",
        "SHOW USERS",
        "GRANT ALL TO us_nobody",
        "SET PASSWORD FOR us_nobody = 'x'",
        "SET PASSWORD FOR us_a = 'new'",
        "SHOW GRANTS FOR us_nobody",
        "DROP DATABASE us_other",
        "SHOW GRANTS FOR us_a",
        "DROP USER us_nobody",
        "DROP USER us_a",
        "DROP USER us_root",
        "SHOW USERS",
    ]]
    # InfluxDB lists grants in Go map order (it varies between runs): compare as a set.
    checks = [dict(c, unordered=["$.results[0].series[0].values"])
              if c["params"]["q"].startswith("SHOW GRANTS") else c for c in checks]
    out.append(case("users--statements",
                    [q("", f'CREATE DATABASE "{db}"'), q("", 'CREATE DATABASE "us_other"')],
                    checks))
    db = "mon_db"
    values = "$.results[0].series[0].values"
    out.append(case("monitoring--statements", [
        q("", f'CREATE DATABASE "{db}"'),
        w(db, "m,h=a v=1 1000000000\nm,h=b v=2 2000000000\n"),
    ], [
        # qid and duration vary; the query text, database and status do not.
        dict(q(db, "SHOW QUERIES"), ignore=[f"{values}[0][0]", f"{values}[0][3]"]),
        dict(q("", "SHOW QUERIES; SHOW QUERIES"),
             ignore=[f"{values}[0][0]", f"{values}[0][3]",
                     "$.results[1].series[0].values[0][0]", "$.results[1].series[0].values[0][3]"]),
        dict(q("", "SHOW QUERIES"), method="GET", ignore=[f"{values}[0][0]", f"{values}[0][3]"]),
        q("", "KILL QUERY 999999"),
        dict(q("", "KILL QUERY 424242"), method="GET"),
        q("", "KILL QUERY 1 ON \"nowhere\""),
        # Column shapes dashboards read (the values are this server's own).
        dict(q("", "SHOW STATS FOR 'queryExecutor'"), ignore=[values]),
        dict(q("", "SHOW STATS FOR 'write'"), ignore=[values]),
        q("", "SHOW STATS FOR 'nothing'"),
        dict(q("", "SHOW DIAGNOSTICS FOR 'build'"), ignore=[values]),
        dict(q("", "SHOW DIAGNOSTICS FOR 'system'"), ignore=[values]),
        dict(q("", "SHOW DIAGNOSTICS FOR 'runtime'"), ignore=[values]),
        q("", "SHOW DIAGNOSTICS FOR 'nothing'"),
    ]))
    out.extend(clients_cases())
    out.append(last_point_case())
    out.extend(tag_conditions_cases())
    out.append(long_chains_case())
    out.append(limit_ties_case())
    out.append(group_cut_case())
    out.append(slimit_per_measurement_case())
    out.append(many_series_ties_case())
    out.append(series_cut_in_key_order_case())
    out.append(float_ties_case())
    out.append(point_selectors_case())
    out.append(median_case())
    out.append(signed_zero_case())
    out.append(extremes_case())
    out.append(extreme_times_case())
    out.append(top_bottom_company_case())
    out.append(percentile_case())
    out.append(top_other_policy_case())
    out.append(stddev_windows_case())
    out.append(mode_ties_case())
    out.append(mode_many_case())
    out.append(selector_ties_case())
    out.append(transform_equal_times_case())
    out.append(boolean_selectors_case())
    out.append(subquery_dimensions_case())
    out.append(abs_integers_case())
    out.append(transform_fill_cells_case())
    out.append(duration_overflow_case())
    out.append(transform_window_before_case())
    out.append(types_after_dropped_series_case())
    out.extend(http_edges_cases())
    out.append(delete_field_conditions_case())
    out.append(into_and_sparse_windows_case())
    out.append(chunked_meta_case())
    out.append(show_conditions_case())
    out.append(bind_param_edges_case())
    out.append(count_distinct_case())
    out.append(tag_in_function_case())
    out.append(names_compared_case())
    out.append(delete_by_names_case())
    out.append(show_names_compared_case())
    out.append(show_index_conditions_case())
    out.append(valueless_windows_under_limit_case())
    out.append(integral_beside_other_fields_case())
    out.append(names_typed_per_statement_case())
    out.append(casts_in_conditions_case())
    out.append(time_alias_case())
    out.append(time_listed_twice_case())
    out.append(float_casts_out_of_range_case())
    out.append(unsigned_arithmetic_case())
    out.append(query_string_pairs_case())
    out.append(unknown_paths_case())
    out.append(type_errors_under_series_cuts_case())
    out.append(exact_cardinality_by_policy_case())
    out.append(types_across_shard_groups_case())
    out.append(ties_across_shard_groups_case())
    out.append(show_measurements_by_tag_values_case())
    out.append(dropped_default_policy_case())
    out.append(into_selector_tags_case())
    out.append(delete_range_forgets_empty_series_case())
    out.append(show_with_time_case())
    out.append(limit_per_column_case())
    out.append(group_by_time_ends_now_case())
    out.append(one_type_across_measurements_case())
    out.append(compile_checks_case())
    out.append(condition_terms_case())
    out.append(math_around_transforms_case())
    out.append(arithmetic_types_case())
    out.append(column_names_case())
    out.append(function_arguments_case())
    out.append(option_arguments_case())
    out.append(top_under_limit_case())
    out.append(time_terms_case())
    out.append(pretty_errors_case())
    out.append(show_time_terms_case())
    out.append(selector_companions_case())
    out.append(slimit_tag_sets_case())
    out.append(cq_policies_case())
    out.append(raw_fill_case())
    out.extend(gaps_cases())
    out.append(consistency_case())
    out.append(transform_call_arguments_case())
    out.append(column_kinds_case())
    out.append(infinite_results_case())
    out.append(distinct_order_case())
    out.append(percentile_first_window_case())
    out.append(slimit_before_conditions_case())
    out.append(type_errors_without_series_case())
    out.append(subquery_outer_options_case())
    out.append(wildcard_operations_case())
    out.append(selector_without_its_field_case())
    out.append(fill_without_values_case())
    out.append(call_types_in_operations_case())
    out.append(literal_operations_case())
    out.append(shard_groups_case())
    out.append(wildcard_tags_under_outer_group_by_case())
    return out


T2020 = 1577836800 * 10**9
HOUR = 3600 * 10**9


def clients_cases():
    """Areas of issue 16's conformance gaps: tz(), OFFSET without LIMIT, subquery tags."""
    out = []
    db = "cc_tz"
    body = "".join(
        f"cpu,host=h{i % 3},region={'east' if i % 2 else 'west'} value={i}.5,n={i}i {T2020 + i * HOUR}\n"
        for i in range(60))
    out.append(case("groupby-time--tz-zones", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], [
        q(db, "SELECT count(value) FROM cpu WHERE time >= '2020-01-01T00:00:00Z' AND time < '2020-01-04T00:00:00Z' GROUP BY time(1d) tz('America/Chicago')"),
        q(db, "SELECT sum(n) FROM cpu WHERE time >= '2020-01-01T00:00:00Z' AND time < '2020-01-03T00:00:00Z' GROUP BY time(12h) tz('Asia/Kolkata')"),
        q(db, "SELECT max(value) FROM cpu WHERE time >= '2020-01-01T00:00:00Z' AND time < '2020-01-02T00:00:00Z' GROUP BY time(6h, 1h), host tz('Europe/Paris')"),
        q(db, "SELECT value FROM cpu WHERE time >= '2020-01-01T00:00:00Z' LIMIT 3 tz('America/Chicago')"),
        q(db, "SELECT value FROM cpu WHERE time >= '2020-01-01T00:00:00Z' LIMIT 2 tz('UTC')"),
        q(db, "SELECT count(value) FROM cpu WHERE time >= '2020-01-01T00:00:00Z' AND time < '2020-01-03T00:00:00Z' GROUP BY time(1d) tz('America/Chicago')", epoch="s"),
        q(db, "SELECT count(value) FROM cpu GROUP BY time(1d) tz('Nowhere/Land')"),
    ]))
    db = "cc_offset"
    body = "".join(f"cpu,host=s{i} value={i} {i * 10**9}\nmem,host=a value={i} {i * 10**9}\n" for i in range(1, 10))
    out.append(case("order-limit--offset-without-limit", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], [
        q(db, "SELECT value FROM cpu OFFSET 6"),
        q(db, "SELECT value FROM mem OFFSET 2"),
        q(db, "SELECT * FROM mem OFFSET 1"),
        q(db, "SELECT value FROM cpu, mem OFFSET 3"),
        q(db, "SELECT value FROM mem GROUP BY host OFFSET 1"),
        q(db, "SELECT value FROM mem ORDER BY time DESC OFFSET 2"),
        q(db, "SELECT value * 2 FROM mem OFFSET 1"),
        q(db, "SELECT derivative(value) FROM mem OFFSET 1"),
        q(db, "SELECT value FROM mem LIMIT 2 OFFSET 1"),
        q(db, "SELECT count(value) FROM mem WHERE time >= 0 AND time < 10s GROUP BY time(1s) OFFSET 2"),
    ]))
    db = "cc_subquery"
    body = "".join(
        f"cpu,host=h{i % 3},region={'east' if i % 2 else 'west'} value={i}.25,load={i}i {T2020 + i * 10**10}\n"
        f"mem,host=h{i % 2} used={i * 3}i {T2020 + i * 10**10}\n"
        for i in range(12))
    out.append(case("subquery--tags-stay-tags", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], [
        q(db, "SELECT count(*) FROM (SELECT * FROM cpu)"),
        q(db, "SELECT count(*) FROM (SELECT * FROM /^(cpu|mem)$/)"),
        q(db, "SELECT count(value) FROM (SELECT * FROM cpu) GROUP BY host"),
        q(db, "SELECT max(value) FROM (SELECT value, host FROM cpu) GROUP BY host"),
        q(db, "SELECT mean(value) FROM (SELECT * FROM cpu) GROUP BY region"),
        q(db, "SELECT * FROM (SELECT value, host FROM cpu) LIMIT 3"),
        q(db, "SELECT * FROM (SELECT * FROM cpu) WHERE host = 'h1' LIMIT 2"),
        q(db, "SELECT count(host) FROM (SELECT value, host FROM cpu)"),
        q(db, "SELECT max(m) FROM (SELECT mean(value) AS m FROM cpu GROUP BY host)"),
        q(db, "SELECT sum(load) FROM (SELECT load, region FROM cpu) GROUP BY region"),
    ]))
    db = "cc_fill_desc"
    body = "m,h=a v=1 0\nm,h=a v=3 20000000000\nm,h=a v=7 50000000000\nm,h=b v=2 10000000000\n"
    out.append(case("fill--descending", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], [
        q(db, "SELECT mean(v) FROM m WHERE time >= 0 AND time < 60s GROUP BY time(10s) fill(previous) ORDER BY time DESC"),
        q(db, "SELECT max(v) FROM m WHERE time >= 0 AND time < 60s GROUP BY time(10s), h fill(previous) ORDER BY time DESC"),
        q(db, "SELECT count(v) FROM m WHERE time >= 0 AND time < 60s GROUP BY time(10s) fill(previous) ORDER BY time DESC"),
        q(db, "SELECT max(v) FROM m WHERE time >= 0 AND time < 60s GROUP BY time(10s) fill(linear) ORDER BY time DESC"),
        q(db, "SELECT spread(v) FROM m WHERE time >= 0 AND time < 60s GROUP BY time(10s) fill(previous) ORDER BY time DESC"),
        q(db, "SELECT mean(v) FROM m WHERE time >= 0 AND time < 60s GROUP BY time(10s) fill(previous)"),
    ]))
    return out



def consistency_case():
    """The `consistency` parameter of /write (cluster mode reads it): every level any
    case, an unknown one refused after the database check and before the body."""
    db = "wc_levels"
    checks = [w(db, f"m v={i} {i}\n", consistency=c) for i, c in enumerate(["any", "one", "quorum", "all", "ALL", ""])]
    checks += [
        w(db, "m v=9 9\n", consistency="most"),
        w(db, "", consistency="bogus"),
        w("wc_nope", "m v=1 1\n", consistency="bogus"),
        q(db, "SELECT count(v) FROM m"),
    ]
    return case("write-params--consistency", [q("", f'CREATE DATABASE "{db}"')], checks)


def gaps_cases():
    """Issue 16's last gaps: raw tie order, buckets before 1970, integral() beside other
    aggregates, exact cardinalities per retention policy, field type conflicts (also in
    the request creating the shard group), tz() windows across daylight-saving changes."""
    out = []
    db = "gc_ties"
    body = ""
    for i in range(8):
        for h, region in (("A", "east"), ("B", "east"), ("C", "west")):
            msg = f',msg="m{i % 3}"' if (i + ord(h)) % 3 else ""
            body += f"cpu,host=server{h},region={region} value={i * 7 % 10}.5,load={i}i{msg} {T2020 + i * 10**10}\n"
    for i in range(4):
        for h in "AB":
            body += f"mem,host=server{h} used={1000 + i}i,free=5.{i} {T2020 + i * 2 * 10**10}\n"
    # Around a shard group boundary (2020-01-02T00:00:00Z, 7-day groups).
    edge = T2020 + DAY - 60 * 10**9
    for i in range(5):
        for h in "ABC":
            if h != "C" or i < 2:
                body += f"edge,host={h} v={i}i {edge + i * 30 * 10**9}\n"
    out.append(case("select-raw--tie-order", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], [
        q(db, "SELECT * FROM cpu, mem"),
        q(db, "SELECT value, host FROM cpu, mem"),
        q(db, "SELECT * FROM cpu"),
        q(db, "SELECT value FROM cpu"),
        q(db, "SELECT load, region FROM cpu"),
        q(db, "SELECT region, value FROM cpu"),
        q(db, "SELECT msg, value FROM cpu"),
        q(db, "SELECT msg FROM cpu"),
        q(db, "SELECT value, host::tag FROM cpu"),
        q(db, "SELECT * FROM cpu ORDER BY time DESC"),
        q(db, "SELECT value, host FROM cpu ORDER BY time DESC"),
        q(db, "SELECT value FROM cpu ORDER BY time DESC"),
        q(db, "SELECT value, host FROM cpu GROUP BY region"),
        q(db, "SELECT value, load FROM cpu WHERE load > 2 LIMIT 5"),
        q(db, "SELECT v FROM edge"),
        q(db, "SELECT v, host FROM edge ORDER BY time DESC"),
    ]))
    db = "gc_epoch"
    times = [-120 * WEEK - 1, -100 * WEEK, -53 * WEEK, -3 * DAY - HOUR, -DAY, -7 * HOUR, -HOUR - 1,
             -1, 0, 1, HOUR, 5 * HOUR + 1, DAY + 1, 3 * DAY, 40 * WEEK, 99 * WEEK, 120 * WEEK]
    body = "".join(f"m,h={'ab'[i % 2]} v={i + 1} {t}\n" for i, t in enumerate(times))
    out.append(case("groupby-time--before-1970", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], [
        q(db, "SELECT count(v) FROM m WHERE time >= -100w AND time <= 100w GROUP BY time(52w, 6h)"),
        q(db, "SELECT count(v) FROM m WHERE time >= -100w AND time <= 100w GROUP BY time(52w)"),
        q(db, "SELECT sum(v) FROM m WHERE time >= -100w AND time <= 100w GROUP BY time(52w, -6h)"),
        q(db, "SELECT count(v), sum(v) FROM m WHERE time >= -4d AND time < 4d GROUP BY time(1d, -3h)"),
        q(db, "SELECT max(v), min(v) FROM m WHERE time >= -4d AND time < 4d GROUP BY time(1d, 3h) fill(none)"),
        q(db, "SELECT mean(v) FROM m WHERE time >= -2h AND time < 6h GROUP BY time(1h, 20m), h"),
        q(db, "SELECT count(v) FROM m WHERE time >= -1h AND time <= 1h GROUP BY time(30m, 10m)"),
        q(db, "SELECT first(v), last(v) FROM m WHERE time >= -60w AND time < 60w GROUP BY time(7d, 2d) fill(none)"),
        q(db, "SELECT spread(v) FROM m WHERE time >= -1d AND time < 1d GROUP BY time(12h, 1ns)"),
        q(db, "SELECT count(v) FROM m WHERE time >= -1d AND time < 1d GROUP BY time(12h, -1ns)"),
    ]))
    db = "gc_integral"
    body = "".join(
        f"m,host=h{i % 2} v={i * 1.5},n={i}i {T2020 + i * 10**10}\n" for i in range(10))
    out.append(case("aggregates--integral-beside-others", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], [
        q(db, "SELECT integral(v), count(v) FROM m"),
        q(db, "SELECT count(v), integral(v) FROM m"),
        q(db, "SELECT integral(v), integral(n) FROM m"),
        # Stamped at time 0 whatever the range: apart from the others' row at its start.
        q(db, "SELECT integral(v, 1m), sum(n) FROM m WHERE time >= '2020-01-01T00:00:30Z'"),
        q(db, "SELECT integral(v) FROM m WHERE time >= '2020-01-01T00:00:30Z'"),
        q(db, "SELECT integral(v) * 2, count(v), max(n) FROM m WHERE time >= '2020-01-01T00:00:30Z' AND host = 'h1'"),
        q(db, "SELECT integral(v), count(v) FROM m WHERE time >= '2020-01-01T00:00:00Z' AND time < '2020-01-01T00:02:00Z' GROUP BY time(1m)"),
    ]))
    db = "gc_integral_fill"
    # One series with windows of several points, of one point and of none (20 s to 40 s).
    times = [0, 3, 7, 12, 41, 45, 52, 58, 60]
    body = "".join(
        f"m,host=h1 v={(t * 7) % 11 - 3.5},n={t}i {T2020 + t * 10**9}\n" for t in times)
    body += f"m,host=h2 v=1 {T2020}\n"
    window = "WHERE host = 'h1' AND time >= '2020-01-01T00:00:00Z' AND time < '2020-01-01T00:01:10Z'"
    out.append(case("aggregates--integral-filled-beside-others", [
        q("", f'CREATE DATABASE "{db}"'), w(db, body)], [
        q(db, f"SELECT integral(v), count(v) FROM m {window} GROUP BY time(10s) fill({f})")
        for f in ("null", "none", "0", "-2.5", "previous", "linear")
    ] + [
        # Alone it prints no row for a window without points, whatever the fill.
        q(db, f"SELECT integral(v) FROM m {window} GROUP BY time(10s) fill({f})")
        for f in ("0", "previous")
    ] + [
        q(db, f"SELECT integral(v, 1s), mean(n) FROM m {window} GROUP BY time(10s) fill(7)"),
        q(db, f"SELECT max(v), integral(n) FROM m {window} GROUP BY time(20s), host fill(0)"),
        q(db, f"SELECT integral(v), integral(n), sum(n) FROM m {window} GROUP BY time(10s) fill(previous)"),
    ]))
    db = "gc_count_series"
    # Host b writes `flag` only before the range read, host a inside it too.
    body = "".join(
        f"cpu,host={h},dc={'x' if h == 'a' else 'y'} v={t % 7},n={t}i {T2020 + t * 10**9}\n"
        for t in range(0, 60, 4) for h in ("a", "b"))
    body += f"cpu,host=b,dc=y flag=true {T2020 + 1 * 10**9}\ncpu,host=b,dc=y flag=false {T2020 + 2 * 10**9}\n"
    body += f"cpu,host=a,dc=x flag=true {T2020 + 33 * 10**9}\n"
    rng = "WHERE time >= '2020-01-01T00:00:20Z' AND time < '2020-01-01T00:01:00Z'"
    out.append(case("fill--count-of-a-field-a-series-lacks", [
        q("", f'CREATE DATABASE "{db}"'), w(db, body)], [
        q(db, f"SELECT mean(n), count(flag) FROM cpu {rng} GROUP BY time(10s), host {f}")
        for f in ("", "fill(null)", "fill(0)", "fill(previous)", "fill(linear)", "fill(none)")
    ] + [
        q(db, f"SELECT count(flag) FROM cpu {rng} GROUP BY time(10s), host"),
        q(db, f"SELECT count(flag), count(v) FROM cpu {rng} GROUP BY time(10s), dc"),
        q(db, f"SELECT count(flag) + count(v) FROM cpu {rng} GROUP BY time(10s), host"),
        q(db, f"SELECT count(flag), max(v) FROM cpu {rng} AND host = 'b' GROUP BY time(10s)"),
        q(db, f"SELECT count(flag) FROM cpu WHERE time >= '2020-01-01T00:00:00Z' AND time < '2020-01-01T00:01:00Z' GROUP BY time(20s), host"),
    ]))
    db = "gc_regex_dims"
    body = (
        f"cpu,host=a,region=eu v=1,i=3i {T2020}\n"
        f"cpu,host=b,region=us v=2,s=\"x\" {T2020 + 10**9}\n"
        f"cpu,host=c v=3,i=5i {T2020 + 2 * 10**9}\n"
        f"mem,host=a free=10i {T2020}\n"
    )
    out.append(case("groupby--regex-dimension-and-wildcard-fields", [
        q("", f'CREATE DATABASE "{db}"'), w(db, body)], [
        # A regex or wildcard dimension, matching a tag or not: `*` lists no tag.
        q(db, "SELECT * FROM cpu GROUP BY /reg/"),
        q(db, "SELECT * FROM cpu GROUP BY /xyz/"),
        q(db, "SELECT * FROM cpu GROUP BY region, /xyz/"),
        q(db, "SELECT * FROM cpu GROUP BY region"),
        q(db, "SELECT *, host FROM cpu GROUP BY /reg/"),
        q(db, "SELECT *::tag, v FROM cpu GROUP BY /reg/"),
        q(db, "SELECT /o/, v FROM cpu GROUP BY /xyz/"),
        q(db, "SELECT * FROM cpu, mem GROUP BY /ho/"),
        q(db, "SELECT first(v), * FROM cpu GROUP BY /reg/"),
        q(db, "SELECT max(v), * FROM cpu WHERE time >= '2020-01-01T00:00:00Z' AND time < '2020-01-01T00:00:04Z' GROUP BY time(2s), /reg/"),
        q(db, "SELECT last(v), * FROM cpu GROUP BY region"),
        q(db, "SELECT * FROM (SELECT * FROM cpu) GROUP BY /reg/"),
    ]))
    db = "gc_distinct_desc"
    # Values whose first and last points come in different orders, two series at the same
    # times (ties), a window where one value is seen once.
    seq_a = ["lo", "hi", "hi", "lo", "mid", "hi", "lo", "lo", "mid", "hi", "hi", "lo"]
    seq_b = ["hi", "hi", "lo", "lo", "lo", "mid", "mid", "hi", "lo", "lo", "hi", "hi"]
    body = "".join(
        f'w,site={site} d="{v}",n={k % 5}i {T2020 + k * 60 * 10**9}\n'
        for site, seq in (("a", seq_a), ("b", seq_b)) for k, v in enumerate(seq))
    rng = "WHERE time >= '2020-01-01T00:00:00Z' AND time < '2020-01-01T00:12:00Z'"
    out.append(case("aggregates--distinct-order-descending", [
        q("", f'CREATE DATABASE "{db}"'), w(db, body)], [
        q(db, f"SELECT distinct(d) FROM w {rng}{g}{o}")
        for g in ("", " GROUP BY site", " GROUP BY time(4m)", " GROUP BY time(5m), site")
        for o in ("", " ORDER BY time DESC")
    ] + [
        q(db, f"SELECT distinct(n) FROM w {rng} GROUP BY site ORDER BY time DESC"),
        q(db, f"SELECT distinct(d) FROM w {rng} AND site = 'a' ORDER BY time DESC LIMIT 2"),
    ]))
    db = "gc_conflict_shard"
    out.append(case("write-errors--type-conflict-in-shard", [
        q("", f'CREATE DATABASE "{db}"'),
        w(db, "z q=1 1000000000\n"),
    ], [
        w(db, "k a=1 1000000000\nk a=\"x\" 2000000000\nk b=true 3000000000\n"),
        q(db, "SHOW FIELD KEYS FROM k"),
        q(db, "SELECT * FROM k"),
        w(db, "m,host=a x=1,v=1 1000000000\nm,host=b v=\"s\",y=2 2000000000\n"),
        q(db, "SELECT * FROM m"),
        q(db, "SHOW FIELD KEYS FROM m"),
        q(db, "SHOW SERIES FROM m"),
        w(db, "n v=1i 1000000000\nn v=2 2000000000\nn v=3i 3000000000\nn w=4 4000000000\n"),
        q(db, "SELECT * FROM n"),
        # The first write into a shard group: the whole request is refused.
        w(db, "f v=1 1000000000000000000\nf v=\"s\" 1000000000000000001\n"),
        q(db, "SELECT * FROM f"),
    ]))
    db = "gc_card"
    body = "".join(f"cpu,host=h{i},region=r{i % 2} v={i} {T2020 + i * 10**9}\n" for i in range(5))
    body += "mem,host=h0 used=1i 1577836800000000000\n"
    other = "cpu,host=x9,dc=d1 v=1 1577836800000000000\ndisk,host=x9 free=1 1577836800000000000\n"
    out.append(case("show-meta--exact-cardinality", [
        q("", f'CREATE DATABASE "{db}"'),
        q("", f'CREATE RETENTION POLICY other ON "{db}" DURATION INF REPLICATION 1'),
        w(db, body),
        w(db, other, rp="other"),
    ], [
        q(db, "SHOW SERIES EXACT CARDINALITY"),
        q(db, "SHOW SERIES CARDINALITY"),
        q("", f"SHOW SERIES EXACT CARDINALITY ON {db}"),
        q(db, "SHOW SERIES EXACT CARDINALITY FROM cpu"),
        q(db, "SHOW SERIES EXACT CARDINALITY FROM cpu WHERE region = 'r1'"),
        q(db, "SHOW MEASUREMENT EXACT CARDINALITY"),
        q(db, "SHOW MEASUREMENT CARDINALITY"),
        q(db, "SHOW MEASUREMENT EXACT CARDINALITY WHERE host = 'x9'"),
        q(db, "SHOW TAG VALUES EXACT CARDINALITY WITH KEY = host"),
        q(db, "SHOW TAG VALUES EXACT CARDINALITY FROM cpu WITH KEY = host WHERE region = 'r0'"),
        q(db, "SHOW TAG VALUES CARDINALITY WITH KEY = host"),
        q(db, "SHOW TAG KEY EXACT CARDINALITY"),
        q(db, "SHOW TAG KEY EXACT CARDINALITY FROM cpu"),
        q(db, "SHOW FIELD KEY EXACT CARDINALITY"),
        q(db, "SHOW FIELD KEY CARDINALITY FROM mem"),
        q("", f'ALTER RETENTION POLICY other ON "{db}" DEFAULT'),
        q(db, "SHOW SERIES EXACT CARDINALITY"),
        q(db, "SHOW MEASUREMENT EXACT CARDINALITY"),
        q(db, "SHOW TAG VALUES EXACT CARDINALITY WITH KEY = host"),
        q(db, "SHOW TAG KEY EXACT CARDINALITY"),
    ]))
    db = "gc_dst"
    chicago = "".join(f"m v={i} {1583474400 * 10**9 + i * HOUR}\n" for i in range(24 * 5))
    berlin = "".join(f"b v={i} {1603497600 * 10**9 + i * HOUR}\n" for i in range(24 * 4))
    out.append(case("groupby-time--tz-dst", [q("", f'CREATE DATABASE "{db}"'), w(db, chicago + berlin)], [
        q(db, "SELECT count(v) FROM m WHERE time >= '2020-03-06T06:00:00Z' AND time < '2020-03-11T05:00:00Z' GROUP BY time(1d) tz('America/Chicago')"),
        q(db, "SELECT sum(v) FROM m WHERE time >= '2020-03-07T06:00:00Z' AND time < '2020-03-10T05:00:00Z' GROUP BY time(12h) tz('America/Chicago')"),
        q(db, "SELECT count(v) FROM b WHERE time >= '2020-10-24T00:00:00Z' AND time < '2020-10-27T00:00:00Z' GROUP BY time(1d) tz('Europe/Berlin')"),
        q(db, "SELECT max(v) FROM b WHERE time >= '2020-10-24T22:00:00Z' AND time < '2020-10-26T23:00:00Z' GROUP BY time(6h) tz('Europe/Berlin')"),
        q(db, "SELECT count(v) FROM m WHERE time >= '2020-03-08T00:00:00Z' AND time < '2020-03-09T12:00:00Z' GROUP BY time(1h) LIMIT 5 OFFSET 5 tz('America/Chicago')"),
        # Over the change the clocks go back: the repeated hour stays in the window in
        # progress (02:00-04:00 local holds three hours); empty windows around a change.
        q(db, "SELECT count(v) FROM b WHERE time >= '2020-10-24T18:00:00Z' AND time < '2020-10-25T08:00:00Z' GROUP BY time(2h) tz('Europe/Berlin')"),
        q(db, "SELECT count(v) FROM m WHERE time >= '2020-03-01T06:00:00Z' AND time < '2020-03-15T05:00:00Z' GROUP BY time(1d) tz('America/Chicago')"),
        q(db, "SELECT mean(v) FROM b WHERE time >= '2020-10-23T00:00:00Z' AND time < '2020-10-28T00:00:00Z' GROUP BY time(1d, 6h) tz('Europe/Berlin')"),
        q(db, "SELECT median(v), count(v) FROM m WHERE time >= '2020-03-07T06:00:00Z' AND time < '2020-03-10T05:00:00Z' GROUP BY time(12h) tz('America/Chicago')"),
        q(db, "SELECT count(v) FROM m WHERE time >= '2020-03-08T00:00:00Z' AND time < '2020-03-08T16:00:00Z' GROUP BY time(2h) fill(none) tz('America/Chicago')"),
    ]))
    # A request creating the shard group: refused whole, but the series of every point
    # and the fields before the conflict exist afterwards; then the group exists.
    db = "gc_conflict"
    out.append(case("write-errors--type-conflict-creates", [q("", f'CREATE DATABASE "{db}"')], [
        w(db, "m,host=a x=1,v=1 1000000000\nm,host=b v=\"s\",y=2 2000000000\n"),
        q(db, "SHOW FIELD KEYS"),
        q(db, "SHOW SERIES"),
        q(db, "SELECT * FROM m"),
        w(db, "n v=1,v=2i 1000000000\nn w=3 2000000000\n"),
        q(db, "SHOW FIELD KEYS FROM n"),
        q(db, "SELECT * FROM n"),
        w(db, "k a=1 1000000000\nk a=\"x\" 2000000000\nk b=true 3000000000\n"),
        q(db, "SHOW FIELD KEYS FROM k"),
        q(db, "SELECT * FROM k"),
        # Against a stored type nothing of the point is created; against a type the same
        # request gave, the fields before the conflict are.
        w(db, "k c=1,a=\"y\",d=1 4000000000\n"),
        w(db, "j a=1 1000000000\nj c=1,a=\"x\",d=1 2000000000\nj g=2 3000000000\n"),
        w(db, "r a=1i,b=2,a=2,e=1 1000000000\n"),
        q(db, "SHOW FIELD KEYS"),
    ]))
    return out


def last_point_case():
    """A lone last() is answered by the engine with its point's time (issue 15)."""
    db = "lp_last"
    body = "".join(
        f"cpu,host=h{i % 4},region={'east' if i % 3 else 'west'} v={i * 1.5},n={i}i,s=\"x{i}\",b={'true' if i % 2 else 'false'} {T2020 + i * 10**10}\n"
        for i in range(40))
    body += f"cpu,host=h9 n=7i {T2020 + 5 * 10**10}\n"
    return case("selectors--last-point-time", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], [
        q(db, "SELECT last(v) FROM cpu"),
        q(db, "SELECT last(v) FROM cpu GROUP BY host"),
        q(db, "SELECT last(n) FROM cpu GROUP BY *"),
        q(db, "SELECT last(s) FROM cpu GROUP BY region"),
        q(db, "SELECT last(b) FROM cpu"),
        q(db, "SELECT last(v) FROM cpu WHERE v < 20 GROUP BY host"),
        q(db, "SELECT last(v) FROM cpu WHERE time < '2020-01-01T00:02:00Z' GROUP BY host"),
        q(db, "SELECT last(v) FROM cpu WHERE host = 'h9'"),
        q(db, "SELECT last(n) FROM cpu WHERE host = 'h9'"),
        q(db, "SELECT last(v) AS latest FROM cpu GROUP BY host, region"),
        q(db, "SELECT last(v) FROM cpu WHERE time >= '2030-01-01T00:00:00Z'"),
    ])


def tag_conditions_cases():
    """Series picked by tag conditions (the tier's tag index) beside conditions on a
    string field, which hold for points of any series, and on a tag only some series
    carry; then the same name written as a field too, which InfluxDB resolves to the field."""
    db = "tc_tags"
    body = "".join(
        f"cpu,host=h{i % 10},region={'east' if i % 2 else 'west'}{',rack=r1' if i % 10 == 4 else ''}"
        f" v={i * 0.5},status=\"{'ok' if i % 3 else 'bad'}\" {T2020 + i * 10**10}\n"
        for i in range(60))
    checks = [q(db, s) for s in (
        "SELECT v FROM cpu WHERE host = 'h3'",
        "SELECT max(v) FROM cpu WHERE (host = 'h3' OR host = 'h7') AND time >= '2020-01-01T00:00:00Z' AND time < '2020-01-01T00:10:00Z' GROUP BY time(1m)",
        "SELECT v, status FROM cpu WHERE status = 'bad'",
        "SELECT v, host FROM cpu WHERE host = 'h1' OR status = 'bad'",
        "SELECT v, status FROM cpu WHERE host =~ /^h[12]$/ AND status != 'ok'",
        "SELECT count(v) FROM cpu WHERE region = 'east' AND host = 'h3'",
        "SELECT count(v) FROM cpu WHERE region = 'west' AND host = 'h3'",
        "SELECT count(v) FROM cpu WHERE rack = 'r1'",
        "SELECT count(v) FROM cpu WHERE rack = ''",
        "SELECT count(v) FROM cpu WHERE host = ''",
        "SELECT v FROM cpu WHERE host = 'nope'",
        "SELECT mean(v) FROM cpu WHERE host = 'h3' OR host = 'h5' GROUP BY host",
        "SELECT last(v) FROM cpu WHERE host =~ /h[89]/ GROUP BY host",
        "SELECT count(v) FROM cpu WHERE host = 'h3' AND host = 'h4'",
        "SELECT count(v) FROM cpu WHERE host = 'h3' OR v > 25",
    )]
    dual = f"cpu host=\"h3\",v=99 {T2020 + 7 * 10**10}\n"
    return [
        case("select-tags--conditions-by-tag-and-field",
             [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks),
        case("select-tags--name-both-tag-and-field",
             [q("", f'CREATE DATABASE "{db}"'), w(db, body + dual)], checks),
    ]


def long_chains_case():
    """Conditions listing a thousand and more tag values, as a dashboard variable set to
    "all" produces: one operator chained over every term, alone and inside a larger
    condition (the engine limits the nesting of the SQL it is given)."""
    db = "sw_chains"
    body = "".join(f"m,host=h{i},dc=d{i % 3} v={i} {T2020 + i * 10**9}\n" for i in range(1200))
    hosts = lambda n, op, sep: sep.join(f"host {op} 'h{i}'" for i in range(n))
    return case("select-where--long-chains", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], [
        q(db, f"SELECT count(v) FROM m WHERE {hosts(1100, '=', ' OR ')}"),
        q(db, f"SELECT sum(v) FROM m WHERE {hosts(1150, '!=', ' AND ')}"),
        q(db, f"SELECT count(v) FROM m WHERE dc = 'd1' AND ({hosts(1000, '=', ' OR ')}) AND v < 500 GROUP BY dc"),
        q(db, f"SELECT max(v) FROM m WHERE ({hosts(1200, '=', ' OR ')}) AND time >= '2020-01-01T00:00:00Z' AND time < '2020-01-01T00:20:00Z' GROUP BY time(5m)"),
        q(db, f"SELECT v FROM m WHERE ({hosts(1000, '=', ' OR ')}) AND v > 990"),
    ])


def tied_series_body():
    """Seven series sharing every time (one writing every other time, one starting late,
    one stopping early) after one series alone first; `w` and a string `s` on some
    points."""
    lines = [f"m,host=z v={1000 + i},w=1 {T2020 + i * 10**9}" for i in (-2, -1, 0)]
    for i in range(40):
        for h, tags in (("a", ",region=eu"), ("b", ""), ("c", ",region=us"), ("d", ""),
                        ("e", ",region=eu"), ("f", ""), ("g", ",region=us")):
            if (h == "e" and i % 2 == 0) or (h == "f" and i < 30) or (h == "g" and i >= 20):
                continue
            f = f"v={i * 4 + ord(h) % 4}"
            if i % 7 == 0:
                f += f",w={i % 5}"
            if i % 5 == 0:
                f += f',s="{h}{i}"'
            lines.append(f"m,host={h}{tags} {f} {T2020 + i * 10**9}")
    return "\n".join(lines) + "\n"


def limit_ties_case():
    """Raw answers cut by LIMIT/OFFSET over series that share every time (rows of one
    time ordered by the merge's heap when nothing shown is a string), one series alone
    first, one that starts late and one that stops early: the cut rows are the whole
    answer's, in its order, ascending and descending."""
    db = "ol_limit_ties"
    body = tied_series_body()
    checks = []
    for sel in ("v", "*", "v, host", "s", "w, s", "v FROM m WHERE w > 1 --"):
        base = f"SELECT {sel} FROM m" if "FROM" not in sel else f"SELECT {sel.replace(' --', '')}"
        for order in ("", " ORDER BY time DESC"):
            for cut in (" LIMIT 1", " LIMIT 3", " LIMIT 4 OFFSET 5", " LIMIT 2 OFFSET 60"):
                checks.append(q(db, base + order + cut))
    return case("order-limit--cut-ties", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def group_cut_case():
    """Raw answers grouped by tags and cut by LIMIT/OFFSET: the cut applies to each group
    (one series, or several merged with their ties), ascending and descending; an
    OFFSET past some groups' rows leaves those groups out. SLIMIT/SOFFSET beside them."""
    db = "ol_group_cut"
    body = tied_series_body()
    checks = []
    for sel, group in (("v", "host"), ("*", "*"), ("v, w", "region"), ("s, host", "region"),
                       ("v FROM m WHERE v > 60 --", "region, host")):
        base = f"SELECT {sel} FROM m" if "FROM" not in sel else f"SELECT {sel.replace(' --', '')}"
        for order in ("", " ORDER BY time DESC"):
            for cut in (" LIMIT 1", " LIMIT 3 OFFSET 2", " LIMIT 2 OFFSET 25"):
                checks.append(q(db, f"{base} GROUP BY {group}{order}{cut}"))
    # SLIMIT/SOFFSET pick series in ascending order; DESC then reverses those kept.
    checks.append(q(db, "SELECT v FROM m GROUP BY host ORDER BY time DESC LIMIT 1 SLIMIT 3 SOFFSET 1"))
    checks.append(q(db, "SELECT v FROM m GROUP BY host LIMIT 1 SLIMIT 3 SOFFSET 1"))
    checks.append(q(db, "SELECT max(v) FROM m WHERE time >= '2020-01-01T00:00:00Z' AND time < '2020-01-01T00:00:20Z' GROUP BY time(10s), host ORDER BY time DESC SLIMIT 2 SOFFSET 1"))
    checks.append(q(db, "SELECT v FROM m GROUP BY region ORDER BY time DESC LIMIT 2 SLIMIT 2"))
    return case("order-limit--group-cut", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def slimit_per_measurement_case():
    """SLIMIT/SOFFSET limit each measurement's series on its own (a query over two
    measurements shows up to SLIMIT series of each), raw and aggregated, ascending and
    descending (the kept series reversed); SOFFSET without SLIMIT keeps none."""
    db = "ol_slimit_each"
    body = "".join(
        f"{m},host={h} v={i * 10 + j} {T2020 + i * 10**9}\n"
        for m, hosts in (("m", "abc"), ("n", "bcd"), ("o", "a"))
        for j, h in enumerate(hosts)
        for i in range(3)
    )
    checks = []
    for sel in ("v FROM m, n", "v FROM /m|n|o/", "count(v) FROM m, n", "max(v) FROM /m|n/"):
        for order in ("", " ORDER BY time DESC"):
            for lim in (" SLIMIT 1", " SLIMIT 2 SOFFSET 1", " SOFFSET 2"):
                checks.append(q(db, f"SELECT {sel} GROUP BY host{order}{lim}"))
    checks.append(q(db, "SELECT v FROM m, n GROUP BY host ORDER BY time DESC LIMIT 1 OFFSET 1 SLIMIT 1 SOFFSET 1"))
    # SOFFSET without SLIMIT (or with SLIMIT 0) keeps no series.
    checks.append(q(db, "SELECT v FROM m GROUP BY host SOFFSET 1"))
    checks.append(q(db, "SELECT v FROM m GROUP BY host SLIMIT 0 SOFFSET 1"))
    checks.append(q(db, "SELECT count(v) FROM m GROUP BY host SOFFSET 1"))
    checks.append(q(db, "SELECT v FROM m GROUP BY host SLIMIT 5 SOFFSET 1"))
    checks.append(q(db, "SELECT mean(v) FROM m, n WHERE time >= '2020-01-01T00:00:00Z' AND time < '2020-01-01T00:00:03Z' GROUP BY time(1s), host SLIMIT 1 SOFFSET 1"))
    return case("order-limit--slimit-per-measurement", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def series_cut_in_key_order_case():
    """Each series' first (or last) rows of a table whose sort key has a tag after time:
    the first write creates the table with `host` and `rack`, a later one adds `region`,
    so series that share host and rack differ only in a tag the key puts after time
    (storage reads each series' first rows in the key's order). Raw cuts whose ties no
    shown string decides, grouped and not, ascending and descending, with conditions."""
    db = "ol_key_order"
    first = "".join(
        f"m,host=h{n:02d},rack=r{n % 3} v={i * 100 + n},w={(i + n) % 7}i {T2020 + i * 10**9}\n"
        for i in range(4)
        for n in range(20)
    )
    later = "".join(
        f"m,host=h{n:02d},rack=r{n % 3},region={'eu' if n % 2 else 'us'} v={i * 100 + n + 0.5} "
        f"{T2020 + i * 10**9 + 5 * 10**8}\n"
        for i in range(1, 6)
        for n in range(0, 20, 2)
    )
    setup = [
        q("", f'CREATE DATABASE "{db}"'),
        w(db, first),
        q(db, "SELECT count(v) FROM m"),
        w(db, later),
    ]
    checks = []
    for sel in ("v", "v, w", "w"):
        for order in ("", " ORDER BY time DESC"):
            for cut in (" LIMIT 3", " LIMIT 4 OFFSET 19"):
                checks.append(q(db, f"SELECT {sel} FROM m{order}{cut}"))
    for group in ("host", "region", "rack, region", "*"):
        for order in ("", " ORDER BY time DESC"):
            checks.append(q(db, f"SELECT v FROM m GROUP BY {group}{order} LIMIT 2 OFFSET 1"))
    checks.append(q(db, "SELECT v FROM m WHERE time < '2020-01-01T00:00:03Z' ORDER BY time DESC LIMIT 5"))
    checks.append(q(db, "SELECT v FROM m WHERE v > 250 LIMIT 4"))
    checks.append(q(db, "SELECT w FROM m WHERE rack = 'r1' GROUP BY region ORDER BY time DESC LIMIT 3"))
    checks.append(q(db, "SELECT * FROM m LIMIT 5"))
    checks.append(q(db, "SELECT * FROM m ORDER BY time DESC LIMIT 5"))
    return case("order-limit--series-cut-in-key-order", setup, checks)


def many_series_ties_case():
    """A raw LIMIT over more series than it shows, every series writing at every time:
    the rows of one time are ordered by the strings the columns show (tags, string
    fields), a condition on a shown field filters by its values, DESC shows the latest,
    OFFSET skips within the ties."""
    db = "ol_many_ties"
    lines = []
    for i in range(4):
        for n in range(24):
            region = ["", ",region=eu", ",region=us"][n % 3]
            fields = f"v={i * 100 + n}"
            if (i + n) % 4 == 0:
                fields += f",w={(i * 7 + n) % 9}i"
            if (i + n) % 3 == 0:
                fields += f',s="{(i * 13 + n * 7) % 11}"'
            lines.append(f"m,host=h{23 - n:02d}{region} {fields} {T2020 + i * 10**9}\n")
    body = "".join(lines)
    checks = []
    for sel in (
        "*",
        "v, host",
        "host, w",
        "w, region, host",
        "s, host",
    ):
        for order in ("", " ORDER BY time DESC"):
            for lim in (" LIMIT 3", " LIMIT 2 OFFSET 22", " LIMIT 5 OFFSET 40"):
                checks.append(q(db, f"SELECT {sel} FROM m{order}{lim}"))
    for where in ("v > 150", "w > 3", "v > 250 OR host = 'h03'", "region = 'eu' AND v < 300"):
        for order in ("", " ORDER BY time DESC"):
            checks.append(q(db, f"SELECT v, host FROM m WHERE {where}{order} LIMIT 4 OFFSET 1"))
    checks.append(q(db, "SELECT * FROM m WHERE w >= 0 LIMIT 3"))
    return case("order-limit--many-series-ties", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def float_ties_case():
    """Floats whose two shortest digit strings tie (exact values ending in ...5.125 and
    ...4.25): InfluxDB prints the even one. CSV answers compare as text, exactly."""
    db = "sr_ties"
    values = ["122817575556505.12", "940778524102574.2", "0.1", "1e-7", "1.5e21", "-0", "123456789"]
    body = "".join(f"m v={v} {i + 1}\n" for i, v in enumerate(values))
    csv = {"Accept": "application/csv"}
    return case("select-raw--float-ties", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], [
        q(db, "SELECT v FROM m"),
        dict(q(db, "SELECT v FROM m"), headers=csv, compare="text"),
        dict(q(db, "SELECT v * 1 FROM m"), headers=csv, compare="text"),
    ])


def point_selectors_case():
    """A lone first(), min() or max() without GROUP BY time prints its point's time
    (issue 15: computed where the data is, not from every point): the extreme value's
    earliest time when series or times tie, per group, with tag and field conditions,
    over integers, strings and booleans."""
    db = "sel_point"
    lines = []
    for i in range(30):
        for h in range(4):
            v = [(i * 7 + h * 5) % 11, 10 if i in (4, 9) else i % 10, (i * 3) % 7 - 3, 5][h]
            n = (i * (h + 2)) % 9 - 4
            fields = f"v={v},n={n}i"
            if (i + h) % 3:
                fields += f',s="s{(i * 5 + h) % 7}",b={"true" if (i + h) % 2 else "false"}'
            region = "east" if h % 2 else "west"
            lines.append(f"cpu,host=h{h},region={region} {fields} {T2020 + i * 10**10}\n")
    lines.append(f"cpu,host=h9 n=-4i {T2020 + 5 * 10**10}\n")
    lines.append(f"cpu,host=h8 v=-3 {T2020 + 31 * 10**10}\n")
    body = "".join(lines)
    checks = []
    for f in ("max(v)", "min(v)", "max(n)", "min(n)", "min(v) AS low"):
        for tail in ("", " GROUP BY host", " GROUP BY region", " GROUP BY *"):
            checks.append(q(db, f"SELECT {f} FROM cpu{tail}"))
    # first() of series tied at one time: InfluxDB 1.6 takes the larger value in some
    # groups and not in others (its merge order), so one series per group here.
    for f in ("first(v)", "first(n)", "first(s)", "first(b)"):
        for tail in (" GROUP BY host", " GROUP BY *"):
            checks.append(q(db, f"SELECT {f} FROM cpu{tail}"))
    for where in (
        "time >= '2020-01-01T00:01:00Z'",
        "time >= '2020-01-01T00:01:00Z' AND time < '2020-01-01T00:03:00Z'",
        "host = 'h1' OR host = 'h3'",
        "region = 'west'",
        "v > 3",
        "n < 0 AND host != 'h9'",
        "time >= '2030-01-01T00:00:00Z'",
    ):
        for f in ("max(v)", "min(n)", "first(v)"):
            checks.append(q(db, f"SELECT {f} FROM cpu WHERE {where} GROUP BY host"))
    checks.append(q(db, "SELECT max(v) FROM cpu GROUP BY host ORDER BY time DESC"))
    checks.append(q(db, "SELECT max(v) FROM cpu GROUP BY host SLIMIT 2 SOFFSET 1"))
    return case("selectors--point-time", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def median_case():
    """median() computed where the data is (issue 15): odd and even counts per group
    and window, integers (halfway as a float, large values), empty windows and fill,
    tag and field conditions."""
    db = "agg_median"
    lines = []
    for i in range(23):
        for h in range(3):
            v = [(i * 7) % 10 / 4, (i * 3) % 5 - 1.5, 0.1 * (i % 4)][h]
            n = [i * 3 % 7, 9007199254740993 + i, -(i % 5)][h]
            region = "east" if h % 2 else "west"
            if h == 2 and 5 <= i < 9:
                continue
            lines.append(f"cpu,host=h{h},region={region} v={v},n={n}i {T2020 + i * 10**10}\n")
    body = "".join(lines)
    checks = []
    for f in ("median(v)", "median(n)", "median(v), median(n)", "median(v) AS m, count(v)"):
        for tail in ("", " GROUP BY host", " GROUP BY region", " GROUP BY *"):
            checks.append(q(db, f"SELECT {f} FROM cpu{tail}"))
    span = "time >= '2020-01-01T00:00:00Z' AND time < '2020-01-01T00:04:00Z'"
    for f in ("median(v)", "median(n)"):
        for tail in (" GROUP BY time(1m)", " GROUP BY time(30s), host fill(none)",
                     " GROUP BY time(40s), region fill(0)", " GROUP BY time(1m) fill(previous)"):
            checks.append(q(db, f"SELECT {f} FROM cpu WHERE {span}{tail}"))
    for where in ("host = 'h2'", "v > 0.5", "region = 'west' AND time >= '2020-01-01T00:02:00Z'",
                  "time >= '2030-01-01T00:00:00Z'"):
        checks.append(q(db, f"SELECT median(v), median(n) FROM cpu WHERE {where} GROUP BY host"))
    return case("aggregates--median", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def signed_zero_case():
    """-0 and 0 compare equal: min() and max() print the earliest point's value and time,
    median() of an odd count its middle value itself (issue 15's pushdown)."""
    db = "sel_zero"
    body = (f"m,host=a v=-0 {T2020 + 10**10}\nm,host=b v=0 {T2020 + 2 * 10**10}\n"
            f"m,host=c v=0 {T2020}\nm,host=c v=-0 {T2020 + 3 * 10**10}\n"
            f"n,host=a v=-1 {T2020}\nn,host=a v=-0 {T2020 + 10**10}\nn,host=a v=3 {T2020 + 2 * 10**10}\n"
            f"o v=-0 {T2020}\n")
    checks = []
    for f in ("max(v)", "min(v)", "median(v)"):
        for src in ("m", "n", "o"):
            for tail in ("", " GROUP BY host", " WHERE time >= '2020-01-01T00:00:05Z'"):
                checks.append(q(db, f"SELECT {f} FROM {src}{tail}"))
    return case("selectors--signed-zero", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def extremes_case():
    """Aggregates pushed down over the integer range's ends: median's middle difference
    wraps as Go's does, min/max print their points; median of strings and booleans."""
    db = "agg_extremes"
    body = ("m n=-9223372036854775807i 1000000000\nm n=9223372036854775807i 2000000000\n"
            "m n=5i 3000000000\nm n=-5i 4000000000\n"
            "k n=-9223372036854775807i 1000000000\nk n=9223372036854775807i 2000000000\n"
            "s v=\"a\",b=true 1000000000\ns v=\"b\",b=false 2000000000\n")
    checks = [q(db, f"SELECT {f} FROM {m}") for m in ("m", "k") for f in (
        "median(n)", "max(n)", "min(n)", "max(n), min(n)", "first(n)", "median(n), count(n)")]
    checks += [q(db, "SELECT median(v) FROM s"), q(db, "SELECT median(b) FROM s"),
               q(db, "SELECT median(n) FROM m WHERE time >= 0 AND time < 6s GROUP BY time(2s)")]
    return case("aggregates--extremes", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def extreme_times_case():
    """Lone selectors grouped by a tag over points near InfluxDB's earliest and latest
    times and at the epoch (one nanosecond apart per series, so no series tie): the
    engine's min(time) grouped by a tag once answered the epoch for the earliest time
    (issue 15)."""
    db = "sel_ext_times"
    lines = []
    for i in range(60):
        h = i % 20
        t = [-9223372036854775806 + h, h, 9223372036854775806 - h][i % 3]
        lines.append(f"w,host=h{h},r={i % 4} v={(i * 37) % 101 - 50}.5,n={i}i {t}\n")
    body = "".join(lines)
    checks = []
    for f in ("first(v)", "last(v)", "min(v)", "max(v)", "first(n)", "last(n)", "median(v)", "count(v)"):
        for tail in (" GROUP BY r", " GROUP BY host", " GROUP BY *", ""):
            checks.append(q(db, f"SELECT {f} FROM w{tail}"))
    checks.append(q(db, "SELECT last(v) FROM w WHERE time < 0 GROUP BY r"))
    checks.append(q(db, "SELECT first(v) FROM w WHERE time > 0 GROUP BY r"))
    return case("selectors--extreme-times", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def top_bottom_company_case():
    """top() and bottom() with other columns and tag arguments, over series sharing
    their times (values never tie between series at one time): each row prints its own
    point's tags and fields (storage hands over only the candidates, issue 15)."""
    db = "sel_top_company"
    lines = []
    for i in range(30):
        for h in range(4):
            v = (i * 37 + h * 11) % 19 + h / 10
            n = ((i * 13 + h * 5) % 23) * 4 + h
            lines.append(f"m,host=h{h},dc=d{h % 2} v={v},n={n}i,w={i * 4 + h}i,s=\"x{h}\" "
                         f"{T2020 + i * 10**10}\n")
    body = "".join(lines)
    span = "time >= '2020-01-01T00:00:00Z' AND time < '2020-01-01T00:05:00Z'"
    checks = [q(db, f"SELECT {sel} FROM m{tail}") for sel, tail in [
        ("top(v, 3), host, w", ""),
        ("bottom(v, 3), host, n", ""),
        ("top(v, host, 2), w", ""),
        ("bottom(n, host, 3)", ""),
        ("top(v, dc, 1), host", ""),
        ("top(n, 2), host, v", " GROUP BY dc"),
        ("bottom(v, 2), w", " GROUP BY *"),
        ("top(v, 2), host", f" WHERE {span} GROUP BY time(1m)"),
        ("bottom(n, 1), host, dc", f" WHERE {span} GROUP BY time(1m), dc"),
        ("top(v, host, 1), n", f" WHERE {span} GROUP BY time(2m)"),
        ("top(v, 4), host", " WHERE w > 60 AND host != 'h3'"),
        ("top(v, 5), host, w", " LIMIT 2"),
        ("bottom(v, 3), host", " ORDER BY time DESC"),
        ("bottom(v, 2), host", f" WHERE {span} GROUP BY time(1m) ORDER BY time DESC"),
        ("top(v, 2), host", " GROUP BY dc ORDER BY time DESC"),
        ("top(v, 5), host", " LIMIT 4 OFFSET 2"),
        ("top(v, 2), host", " SLIMIT 1"),
        ("top(v, 200), host", " WHERE dc = 'd1'"),
        ("top(s, 2)", ""),
    ]]
    return case("selectors--top-bottom-company", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def percentile_case():
    """percentile() computed where the data is (issue 15): nearest rank over floats and
    integers (no value repeats within a group, so the selected point's time is InfluxDB's
    whatever its sort does with ties), a -0, ranks out of range (0 everywhere), windows,
    groups, several levels at once, a lone percentile printing its point's time, and
    field and tag conditions."""
    db = "agg_percentile"
    lines = []
    for i in range(40):
        for h in range(3):
            v = "-0" if (h, i) == (1, 7) else ((i * 37 + h * 11) % 97) + h / 10 + i / 1000 + 0.5
            n = [i * 3 - 50, 9007199254740993 + i * 7 % 40, -(i * 11 % 40) * 3 - 1][h]
            lines.append(f"cpu,host=h{h},region={'east' if h % 2 else 'west'} v={v},n={n}i "
                         f"{T2020 + i * 10**10}\n")
    body = "".join(lines)
    span = "time >= '2020-01-01T00:00:00Z' AND time < '2020-01-01T00:06:40Z'"
    checks = []
    for sel in ("percentile(v, 50)", "percentile(n, 90)", "percentile(v, 0)", "percentile(v, 3)",
                "percentile(v, 100)", "percentile(v, 33.3)", "percentile(v, 25), percentile(n, 75)",
                "percentile(v, 50) AS p, count(v)"):
        for tail in ("", " GROUP BY host", " GROUP BY region"):
            checks.append(q(db, f"SELECT {sel} FROM cpu{tail}"))
    for sel in ("percentile(v, 50)", "percentile(n, 95)", "percentile(v, 10), percentile(v, 90)"):
        for tail in (" GROUP BY time(1m)", " GROUP BY time(90s), host fill(none)",
                     " GROUP BY time(2m), region fill(0)"):
            checks.append(q(db, f"SELECT {sel} FROM cpu WHERE {span}{tail}"))
    for where in ("host = 'h1'", "v > 30", "n < 3 AND region = 'west'",
                  "time >= '2030-01-01T00:00:00Z'"):
        checks.append(q(db, f"SELECT percentile(v, 60) FROM cpu WHERE {where}"))
        checks.append(q(db, f"SELECT percentile(n, 60) FROM cpu WHERE {where} GROUP BY host"))
    return case("aggregates--percentile", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def top_other_policy_case():
    """top() through a retention policy whose table lacks the ranked field (written only
    through the default policy): no candidate, no answer; a field it has still ranks."""
    db = "sel_top_policy"
    setup = [q("", f'CREATE DATABASE "{db}"'),
             q("", f'CREATE RETENTION POLICY "two" ON "{db}" DURATION 0s REPLICATION 1'),
             w(db, "m,host=a v=1,w=1i 10000000000\nm,host=b v=2,w=2i 10000000000\n"),
             w(db, "m,host=a w=5i 10000000000\nm,host=b w=6i 20000000000\n", rp="two")]
    checks = [q(db, x) for x in (
        'SELECT top(v, 2), w FROM "two".m', 'SELECT top(v, host, 1), w FROM "two".m',
        'SELECT bottom(v, 1) FROM "two".m GROUP BY host', 'SELECT top(w, 1), v FROM "two".m',
        'SELECT top(v, 1), w FROM m')]
    return case("selectors--top-other-policy", setup, checks)


def stddev_windows_case():
    """stddev() of windows holding one point: InfluxDB prints such a window as null and
    does not fill it (fill(0) keeps null, fill(previous) then repeats null, fill(none)
    keeps the row); windows without points are filled."""
    db = "agg_stddev_windows"
    body = ("m,host=a v=1,n=1i 10000000000\nm,host=b v=2,n=2i 10000000000\n"
            "m,host=a v=3,n=3i 20000000000\nm,host=a v=4,n=5i 41000000000\n"
            "m,host=a v=6,n=8i 42000000000\nm,host=b v=7,n=9i 50000000000\n")
    span = "time >= 0s AND time < 70s"
    checks = []
    for sel in ("stddev(v)", "stddev(n)", "stddev(v), count(v)"):
        for fill in ("", " fill(0)", " fill(previous)", " fill(none)", " fill(linear)"):
            checks.append(q(db, f"SELECT {sel} FROM m WHERE {span} GROUP BY time(10s){fill}"))
    for tail in (" GROUP BY time(10s), host", " GROUP BY time(10s), host fill(none)",
                 " GROUP BY time(10s) fill(previous) ORDER BY time DESC",
                 " GROUP BY time(20s) fill(0)"):
        checks.append(q(db, f"SELECT stddev(v) FROM m WHERE {span}{tail}"))
    checks.append(q(db, "SELECT stddev(v) FROM m WHERE host = 'b'"))
    return case("aggregates--stddev-windows", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def mode_ties_case():
    """mode() among equally frequent values: InfluxDB sorts the values (equal ones in time
    order, -0 equal to 0) and a run as long as the pick takes over when it starts no later
    than the pick ends, so the smallest value is not always the one printed; booleans:
    true unless more are false. Groups stay under twelve points (Go sorts those stably)."""
    db = "agg_mode_ties"
    rows = [("a", 5, "5i", "z", "true"), ("a", 5, "5i", "z", "false"), ("a", 1, "1i", "b", "false"),
            ("a", 1, "1i", "b", "true"), ("b", 3, "3i", "q", "true"), ("b", "-0", "0i", "", "false"),
            ("b", 0, "0i", "", "false"), ("b", "-0", "-1i", "", "true"), ("b", 3, "3i", "q", "true"),
            ("c", 9, "9i", "x", "false"), ("c", 1, "1i", "y", "true"), ("c", 9, "9i", "x", "true"),
            ("c", 1, "1i", "y", "false"), ("c", 5, "5i", "w", "false")]
    body = "".join(f'm,h={h} v={v},i={i},s="{s}",b={b} {(n + 1) * 1000000000}\n'
                   for n, (h, v, i, s, b) in enumerate(rows))
    body += "m,h=d v=2,i=1i,s=\"k\" 30000000000\nm,h=e v=1,i=2i,s=\"j\" 30000000000\n"
    span = "time >= 0s AND time < 40s"
    checks = []
    for sel in ("mode(v)", "mode(i)", "mode(s)", "mode(b)", "mode(v), mode(i), mode(s), mode(b)"):
        for tail in ("", " GROUP BY h", " GROUP BY time(4s)", " GROUP BY time(4s), h fill(none)",
                     " GROUP BY time(10s) fill(previous)"):
            checks.append(q(db, f"SELECT {sel} FROM m WHERE {span}{tail}"))
    checks.append(q(db, f"SELECT mode(v), count(v) FROM m WHERE {span} AND h = 'b'"))
    checks.append(q(db, f"SELECT mode(i) FROM m WHERE {span} GROUP BY time(3s) ORDER BY time DESC"))
    checks.append(q(db, f"SELECT mode(v), mode(i) FROM m WHERE time >= 30s AND time < 40s"))
    return case("aggregates--mode-ties", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def lcg(seed):
    """Pseudo-random draws that stay the same on every Python (the recorded data of a
    case must not change): a linear congruential generator, high bits of its state."""
    state = seed
    while True:
        state = (state * 1103515245 + 12345) % 2147483648
        yield state >> 16


def mode_many_case():
    """mode() over groups above twelve values (the smallest of the most frequent: -0 and 0
    one value, strings by their bytes, booleans true unless more are false) beside groups
    of few values, decided ones and ones where equally frequent values tie, in one answer;
    with other aggregates, GROUP BY tags and time, fill."""
    db = "agg_mode_many"
    a_v = [7, 3, 9, 7, 3, 1, 7, 3, 12, 7, 3, 4, 7, 3, 8, 6, 5, 2, 11, 10]
    b_v = ["-0", 2, 0, "-0", 2, 0, 5, "-0", 2, 0, 6, 7, 2, 8, 9]
    c_v = [float(n) + 0.5 for n in range(30)]
    c_v[3] = c_v[17] = c_v[25] = 2.25
    lines = []
    for n, v in enumerate(a_v):
        s = "x" if v == 7 else ("w" if v == 3 else f"s{v}")
        lines.append(f'm,h=a v={v},i={v}i,s="{s}",b={"true" if n % 2 else "false"} {(n + 1) * 1000000000}')
    for n, v in enumerate(b_v):
        s = "" if str(v) in ("-0", "0") else f"t{v}"
        lines.append(f'm,h=b v={v},i={0 if str(v) == "-0" else v}i,s="{s}",b={"true" if n % 3 == 0 else "false"} {(n + 1) * 1000000000}')
    for n, v in enumerate(c_v):
        lines.append(f"m,h=c v={v},i={int(v * 4)}i {n * 1000000000 + 500000000}")
    body = "\n".join(lines) + "\n"
    span = "time >= 0s AND time < 40s"
    checks = []
    for sel in ("mode(v)", "mode(i)", "mode(s)", "mode(b)", "mode(v), mode(i), mode(s), mode(b)"):
        for tail in ("", " GROUP BY h", " GROUP BY time(20s)", " GROUP BY time(5s), h fill(none)",
                     " GROUP BY time(3s)"):
            checks.append(q(db, f"SELECT {sel} FROM m WHERE {span}{tail}"))
    checks.append(q(db, f"SELECT mode(v), max(v), count(v) FROM m WHERE {span} GROUP BY h"))
    checks.append(q(db, f"SELECT mode(v), mean(v) FROM m WHERE {span} AND h = 'c' GROUP BY time(10s) fill(none)"))
    checks.append(q(db, f"SELECT mode(v) FROM m WHERE time >= 0s AND time < 60s GROUP BY time(10s) fill(-1)"))
    checks.append(q(db, f"SELECT mode(v) FROM m WHERE time >= 0s AND time < 60s GROUP BY time(10s) fill(previous)"))
    checks.append(q(db, f"SELECT mode(i) FROM m WHERE {span} AND h != 'c' GROUP BY time(20s) ORDER BY time DESC"))
    checks.append(q(db, f"SELECT mode(v) FROM m WHERE {span} AND v > 2"))
    # 150 points of three series, two at each time, many equally frequent values: the
    # order InfluxDB's sort leaves them in (past fifty values it samples more pivots).
    big = "".join(f"big,h=s{n % 3} i={(n * 7919 + n * n * 31) % 23}i {(n // 2) * 1000000000}\n"
                  for n in range(150))
    for tail in ("", " GROUP BY h", " GROUP BY time(25s)", " GROUP BY time(40s), h"):
        checks.append(q(db, f"SELECT mode(i) FROM big WHERE time >= 0s AND time < 80s{tail}"))
    # One series each, sizes that take every path of the sort (insertion, pivots of three
    # and of nine, pattern breaking after unbalanced partitions), values from a fixed LCG.
    draws = lcg(12345)
    for size in (14, 20, 30, 49, 50, 65, 100, 150, 300):
        lines = []
        for n in range(size):
            lines.append(f"one{size} i={next(draws) % max(3, size // 6)}i {(n + 1) * 1000000000}")
        big += "\n".join(lines) + "\n"
        checks.append(q(db, f"SELECT mode(i) FROM one{size}"))
    return case("aggregates--mode-many", [q("", f'CREATE DATABASE "{db}"'), w(db, body), w(db, big)],
                checks)


def selector_ties_case():
    """Selectors among equal values and their bare columns: a lone percentile prints the
    time of the point InfluxDB's unstable sort leaves at the rank; a selector's tags and
    fields beside it come from the point it selects, in each GROUP BY time window too."""
    db = "sel_ties"
    draws = lcg(777)
    lines = []
    for n in range(90):
        v = next(draws) % 9
        lines.append(f"p,h=s{n % 3} i={v}i,f={v}.25 {(n // 2) * 1000000000}")
    body = "\n".join(lines) + "\n"
    span = "time >= 0s AND time < 60s"
    checks = [q(db, f"SELECT percentile(i, {p}) FROM p") for p in (10, 50, 90, 99)]
    checks += [q(db, "SELECT percentile(f, 90) FROM p"),
               q(db, "SELECT percentile(i, 50) FROM p GROUP BY h"),
               q(db, "SELECT percentile(i, 33), h FROM p"),
               q(db, f"SELECT percentile(i, 33), h, f FROM p WHERE {span} GROUP BY time(20s)"),
               q(db, f"SELECT min(i), h FROM p WHERE {span} GROUP BY time(20s)"),
               q(db, f"SELECT max(f), h, i FROM p WHERE {span} GROUP BY time(15s) fill(none)"),
               q(db, f"SELECT first(i), h FROM p WHERE {span} GROUP BY time(20s)"),
               q(db, f"SELECT last(i), h FROM p WHERE {span} GROUP BY time(20s) ORDER BY time DESC"),
               q(db, f"SELECT max(i), h FROM p WHERE {span} GROUP BY time(20s), h"),
               q(db, "SELECT min(i), h FROM p WHERE time >= 0s AND time < 200s GROUP BY time(50s) fill(0)"),
               q(db, "SELECT max(i), f FROM p WHERE time >= 0s AND time < 200s GROUP BY time(50s) fill(previous)")]
    # Under ORDER BY time DESC the reducers receive points newest first: ties go the
    # other way.
    checks += [q(db, f"SELECT percentile(i, 33), h FROM p WHERE {span} GROUP BY time(20s) ORDER BY time DESC"),
               q(db, "SELECT percentile(i, 50), h FROM p ORDER BY time DESC"),
               q(db, "SELECT mode(i) FROM p ORDER BY time DESC"),
               q(db, f"SELECT mode(i) FROM p WHERE {span} GROUP BY time(20s) ORDER BY time DESC"),
               q(db, "SELECT mode(i) FROM p GROUP BY h ORDER BY time DESC")]
    return case("selectors--ties-and-tags", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def transform_equal_times_case():
    """Transformations of raw points over several series: every point gives a row, also
    where series share a time, in the merge's order (newest first under ORDER BY time
    DESC); under GROUP BY time without an aggregate InfluxDB names the transformation.
    A selector's bare field that its point lacks is filled like an empty window."""
    db = "tr_equal_times"
    draws = lcg(4242)
    lines = []
    for n in range(40):
        v = next(draws) % 11 - 5
        s_field = f',s="s{abs(v) % 3}"' if n % 4 else ""
        lines.append(f"t,h=h{n % 2},r=r{n % 3} i={v}i,f={v / 4}{s_field} {(n // 3) * 1000000000}")
    body = "\n".join(lines) + "\n"
    span = "time >= 0s AND time < 20s"
    checks = []
    for sel in ("cumulative_sum(f)", "derivative(f)", "difference(i)", "moving_average(i, 3)",
                "elapsed(i, 1s)", "non_negative_difference(f)"):
        for tail in ("", " GROUP BY h", " GROUP BY r ORDER BY time DESC", " ORDER BY time DESC"):
            checks.append(q(db, f"SELECT {sel} FROM t WHERE {span}{tail}"))
    for sel in ("derivative(f)", "elapsed(i)", "moving_average(f, 2)", "holt_winters(f, 2, 1)",
                "f, difference(f)"):
        checks.append(q(db, f"SELECT {sel} FROM t WHERE {span} GROUP BY time(5s)"))
    checks.append(q(db, f"SELECT max(f), h, s FROM t WHERE {span} GROUP BY time(3s) fill(0)"))
    checks.append(q(db, f"SELECT max(f), s FROM t WHERE {span} GROUP BY time(3s) fill(previous)"))
    return case("transformations--equal-times", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def boolean_selectors_case():
    """Booleans in selectors: at one time first() takes false and last() true (numbers:
    the larger value); max(*) and min(*) include boolean fields, mean(*) does not; a raw
    query under GROUP BY time with fill(none) or fill(linear) is refused by its fill."""
    db = "sel_booleans"
    body = ("m,h=a b=true,x=1i,s=\"p\" 1000000000\nm,h=b b=false,x=2i,s=\"q\" 1000000000\n"
            "m,h=a b=false,x=3i,s=\"r\" 2000000000\nm,h=b b=true,x=4i,s=\"o\" 2000000000\n"
            "m,h=c b=true,x=4i 5000000000\nm,h=a b=false,x=0i 5000000000\n")
    span = "time >= 0s AND time < 10s"
    checks = [q(db, f"SELECT {sel} FROM m") for sel in
              ("first(b)", "last(b)", "max(b)", "min(b)", "first(b), x", "last(b), h", "first(s)", "last(s)",
               "max(*)", "min(*)", "first(*)", "last(*)", "mean(*)", "count(*)")]
    checks += [q(db, f"SELECT first(b), last(b) FROM m WHERE {span} GROUP BY time(2s)"),
               q(db, f"SELECT max(*) FROM m WHERE {span} GROUP BY time(4s), h"),
               q(db, f"SELECT first(b) FROM m WHERE {span} GROUP BY time(5s) ORDER BY time DESC")]
    for fill in ("none", "linear", "previous", "1", "null"):
        checks.append(q(db, f"SELECT x FROM m WHERE {span} GROUP BY time(2s) fill({fill})"))
    return case("selectors--booleans-and-wildcards", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def subquery_dimensions_case():
    """The outer query's GROUP BY tags reach the subquery (its aggregates are per tag, a
    raw subquery keeps each point's tags), and an aggregate subquery without a time
    grouping takes the outer one's."""
    db = "sub_dimensions"
    draws = lcg(99)
    lines = []
    for n in range(60):
        v = next(draws) % 17 - 8
        lines.append(f"m,h=h{n % 3},r=r{n % 2} i={v}i,f={v / 2} {n * 1000000000}")
    body = "\n".join(lines) + "\n"
    span = "time >= 0s AND time < 60s"
    subs = {"count": f"SELECT count(i) AS x FROM m WHERE {span} GROUP BY time(15s) fill(0)",
            "raw": f"SELECT i AS x FROM m WHERE {span}",
            "last": "SELECT last(f) AS x FROM m GROUP BY h, r",
            "mean": f"SELECT mean(f) AS x FROM m WHERE {span} GROUP BY time(10s)"}
    checks = []
    for sub in subs.values():
        for outer in ("max(x)", "sum(x)", "count(x)", "mean(x), min(x)"):
            for tail in (" GROUP BY h", " GROUP BY time(20s)", " GROUP BY time(30s), r fill(none)"):
                checks.append(q(db, f"SELECT {outer} FROM ({sub}) WHERE {span}{tail}"))
    return case("subquery--pushed-dimensions", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def abs_integers_case():
    """abs() of an integer in InfluxDB 1.6.7 returns it unchanged (a float gets its
    absolute value), also over expressions and aggregates of integers."""
    db = "math_abs_integers"
    body = "m x=-5i,y=-2.5 1000000000\nm x=4i,y=3.5 2000000000\n"
    checks = [q(db, f"SELECT {sel} FROM m") for sel in
              ("abs(x), abs(y)", "abs(x) * 1, abs(-x), abs(x * 2)", "abs(mean(x)), abs(sum(x))", "abs(min(x))",
               "abs(x) + abs(y)")]
    return case("math--abs-integers", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def bind_param_edges_case():
    """params= decoded as InfluxDB 1.6 decodes it (Go's encoding/json with UseNumber into a
    map): the error for a body that is no object names its JSON kind, null binds nothing,
    a number without a '.' must be an int64, an object of an unknown kind is named."""
    db = "bind_edges"
    query = "SELECT * FROM m WHERE host = $h"
    checks = [q(db, query, params=p) for p in (
        "[]", '"x"', "5", "true", "null", '{"h":1e3}', '{"h":-1e3}', '{"h":1.5e3}',
        '{"h":12345678901234567890}', '{"h":{"a":1}}', '{"h":"a"}', '{"h":[1]}', '{"h":null}')]
    return case("http-errors--bind-param-edges",
                [q("", f'CREATE DATABASE "{db}"'), w(db, "m,host=a v=1 1\n")], checks)


def show_conditions_case():
    """The tag conditions of SHOW statements are checked as InfluxDB checks them (operator,
    tag key on the left, string or regex on the right), and SHOW MEASUREMENTS and the
    series, measurement and tag key cardinalities refuse time in WHERE."""
    db = "show_conditions"
    body = "cpu,host=a v=1 1\ncpu,host=b v=1 1\nmem,host=a u=1 1\n"
    checks = [q(db, s) for s in (
        "SHOW MEASUREMENTS WHERE time > now()", "SHOW MEASUREMENTS WHERE host =~ /a/ AND time > 0",
        "SHOW MEASUREMENTS WHERE host > 'a'", "SHOW TAG VALUES WITH KEY = host WHERE host > 'a'",
        "SHOW TAG KEYS WHERE host > 'a'", "SHOW SERIES WHERE host > 'a'", "SHOW MEASUREMENTS WHERE 'a' = host",
        "SHOW MEASUREMENTS WHERE host = 1", "SHOW MEASUREMENTS WHERE host = v", "SHOW MEASUREMENTS WHERE host =~ 'a'",
        "SHOW SERIES WHERE host =~ 'a'", "SHOW TAG KEYS FROM cpu WHERE a", "SHOW MEASUREMENTS WHERE v > 1",
        "SHOW TAG VALUES WITH KEY = host WHERE host = 'a' OR v > 2",
        "SHOW SERIES EXACT CARDINALITY WHERE time > 0", "SHOW SERIES CARDINALITY WHERE time > 0",
        "SHOW MEASUREMENT EXACT CARDINALITY WHERE time > 0", "SHOW TAG KEY EXACT CARDINALITY WHERE time > 0",
        "SHOW TAG VALUES WITH KEY = host WHERE time > 0", "SHOW TAG KEYS WHERE time > 0",
        "SHOW SERIES WHERE (host = 'a')", "SHOW SERIES WHERE time > 0 AND host = 'a'",
        "SHOW MEASUREMENTS WHERE host = 'a'")]
    return case("show-meta--condition-checks", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def chunked_meta_case():
    """chunked=true splits what InfluxDB's iterators stream (SELECT, SHOW SERIES, SHOW FIELD
    KEYS) by chunk_size with `partial`; SHOW TAG KEYS/VALUES go a series per chunk and the
    other metadata statements whole, never `partial`."""
    db = "chunked_meta"
    body = ("cpu,host=a v=1 1\ncpu,host=b v=1 1\ncpu,host=c v=2 2\nmem,host=a u=1 1\n"
            "disk,host=a,path=x free=3i 1\n")
    checks = []
    for size in ("1", "2"):
        for s in ("SHOW TAG KEYS", "SHOW DATABASES", "SHOW MEASUREMENTS", "SHOW TAG VALUES WITH KEY = host",
                  "SHOW SERIES", "SHOW FIELD KEYS", "SHOW RETENTION POLICIES", "SHOW CONTINUOUS QUERIES",
                  "SHOW TAG KEYS; SHOW MEASUREMENTS; SELECT v FROM cpu", "SHOW USERS"):
            checks.append(q(db, s, chunked="true", chunk_size=size))
    checks.append(q(db, "SHOW TAG VALUES WITH KEY IN (host, path)", chunked="true"))
    setup = [q("", f'CREATE DATABASE "{db}"'), w(db, body),
             q(db, f'CREATE CONTINUOUS QUERY c1 ON "{db}" BEGIN SELECT mean(v) INTO m2 FROM cpu GROUP BY time(1m) END'),
             q(db, f'CREATE CONTINUOUS QUERY c2 ON "{db}" BEGIN SELECT max(v) INTO m3 FROM cpu GROUP BY time(1m) END')]
    return case("chunked--meta-statements", setup, checks)


def into_and_sparse_windows_case():
    """fill(none) over a range without an upper bound prints the windows holding points
    (no grid up to now() is built, so no bucket limit); SELECT INTO writes no row for an
    empty window under the default fill (a count() writes no 0), the asked-for fills
    write theirs; GROUP BY * across measurements writes no empty tag."""
    db = "into_sparse"
    body = "".join(f"m,h=a v={v} {t * 10**9}\n" for t, v in ((0, 1), (10, 4), (40, 2), (50, 9), (90, 3)))
    body += ("cpu,host=a,region=east value=1 1577836800000000000\n"
             "mem,host=a,dc=dc1 used=10i 1577836800000000000\nmem,host=b used=11i 1577836810000000000\n")
    checks = [q(db, s) for s in (
        "SELECT mean(v) FROM m WHERE time >= 20s GROUP BY time(10s) fill(none)",
        "SELECT count(v), max(v) FROM m WHERE time >= 0s GROUP BY time(1s) fill(none)",
        "SELECT derivative(mean(v)) FROM m WHERE time >= 20s GROUP BY time(10s) fill(none)",
        "SELECT mean(v) FROM m WHERE time >= 20s GROUP BY time(10s) fill(none) ORDER BY time DESC LIMIT 2",
        "SELECT count(v) INTO c1 FROM m WHERE time >= 0s AND time < 100s GROUP BY time(10s)",
        "SELECT * FROM c1",
        "SELECT count(v) INTO c2 FROM m WHERE time >= 0s AND time < 100s GROUP BY time(10s) fill(0)",
        "SELECT mean(v) INTO c3 FROM m WHERE time >= 0s AND time < 100s GROUP BY time(10s) fill(previous)",
        "SELECT mean(v) INTO c4 FROM m WHERE time >= 20s GROUP BY time(10s)",
        "SELECT * FROM c4",
        "SELECT * INTO c5 FROM cpu, mem GROUP BY *",
        "SHOW SERIES FROM c5",
        "SELECT * FROM c5",
    )]
    return case("into--sparse-windows", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def delete_field_conditions_case():
    """A DELETE or DROP SERIES whose condition names a field is refused (InfluxDB's shards
    refuse it; the error names a shard number, so only its presence is compared), and
    nothing is deleted; a name no measurement has as a field is a tag that matches
    nothing."""
    db = "dd_field_conditions"
    body = ("cpu,host=a value=1 1577836800000000000\ncpu,host=b value=2 1577836800000000000\n"
            "mem,host=a used=1 1577836800000000000\n")
    checks = [q(db, s) for s in (
        "DELETE FROM cpu WHERE value = 1", "DROP SERIES FROM cpu WHERE value = 1", "DELETE WHERE value = 1",
        "DELETE FROM mem WHERE value = 1", "DELETE FROM cpu WHERE host = 'a' AND value = 1",
        "DELETE FROM cpu WHERE value = 1 AND time < now()", "DELETE FROM nosuchm WHERE value = 1",
        "DELETE FROM cpu WHERE nosuch = 'x'", "SELECT * FROM cpu", "SELECT * FROM mem",
        "DELETE FROM cpu WHERE host = 'a'", "SELECT * FROM cpu", "SHOW SERIES")]
    return case("delete-drop--field-conditions", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def http_edges_cases():
    """CORS and preflights, 405s naming the allowed methods, `q=;`, precision units
    InfluxDB 1.x does not know (read as nanoseconds), Content-Encoding compared exactly,
    the first of several type conflicts; names InfluxDB refuses, statements that remove
    data without a database, SHARD DURATION 0s, parse errors after trailing whitespace,
    SHOW TAG KEYS ignoring SLIMIT, and continuous queries qualified with the request's
    database."""
    db = "http_edges"
    origin = {"Origin": "http://grafana.example"}
    cors = ["Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"]
    http = [
        {"method": "OPTIONS", "path": "/query", "params": {"q": "SHOW DATABASES"}, "headers": origin,
         "check_headers": cors},
        {"method": "OPTIONS", "path": "/write", "params": {"db": db}},
        {"method": "GET", "path": "/ping", "headers": origin, "check_headers": cors},
        {"method": "GET", "path": "/query", "params": {"q": "SHOW DATABASES"}, "headers": origin,
         "check_headers": cors},
        {"method": "PUT", "path": "/write", "params": {"db": db}, "check_headers": ["Allow"]},
        {"method": "DELETE", "path": "/query", "check_headers": ["Allow"]},
        {"method": "OPTIONS", "path": "/ping", "check_headers": ["Allow"]},
        q(db, ";"),
        q(db, "; ;"),
        w(db, "m v=1,w=1 1577836801000000000\n"),
        w(db, 'm v="s" 1577836802000000000\nm w="s" 1577836803000000000\n'),
        w(db, "m v=2 1577836801\n", precision="us"),
        w(db, "m v=3 1577836804\n", precision="µ"),
        {"method": "POST", "path": "/write", "params": {"db": db}, "headers": {"Content-Encoding": "GZIP"},
         "body": "m v=4 1577836805000000000\n"},
        q(db, "SELECT v FROM m", epoch="us"),
        q(db, "SELECT v FROM m", epoch="µ"),
    ]
    meta = [
        q("", "DELETE FROM cpu"), q("", "DROP SERIES FROM cpu"), q("", "DROP MEASUREMENT cpu"),
        q("", "DELETE WHERE host = 'a'"),
        q("", "DROP RETENTION POLICY r1 ON nosuch"),
        q("", 'CREATE DATABASE "a/b"'), q("", 'CREATE DATABASE ""'), q("", 'CREATE DATABASE "a\\b"'),
        q("", 'CREATE DATABASE ".."'), q("", f'CREATE DATABASE "{db}x" WITH NAME "r/1"'),
        q("", 'CREATE RETENTION POLICY "a/b" ON nosuch DURATION 1d REPLICATION 1'),
        q("", f'CREATE RETENTION POLICY r1 ON "{db}" DURATION INF REPLICATION 1 SHARD DURATION 2w'),
        q("", f'ALTER RETENTION POLICY r1 ON "{db}" SHARD DURATION 0s'),
        q("", f'SHOW RETENTION POLICIES ON "{db}"'),
        q("", f'ALTER RETENTION POLICY r1 ON "{db}" SHARD DURATION 2w'),
        q("", f'ALTER RETENTION POLICY r1 ON "{db}" DURATION 3d SHARD DURATION 0s'),
        q("", f'SHOW RETENTION POLICIES ON "{db}"'),
        q(db, "SELECT "), q(db, "SELECT  "), q(db, "DELETE FROM "), q(db, "SELECT * FROM m WHERE x =~ "),
        q(db, "SHOW TAG VALUES WITH KEY = "), q(db, "SELECT * FROM m GROUP BY "), q(db, "CREATE DATABASE "),
        w(db, "a,x=1 v=1 1577836801000000000\nb,y=1 v=1 1577836801000000000\nc,z=1 v=1 1577836801000000000\n"),
        q(db, "SHOW TAG KEYS SLIMIT 1"), q(db, "SHOW TAG KEYS SLIMIT 1 SOFFSET 1"), q(db, "SHOW TAG KEYS SOFFSET 5"),
        q("", f'CREATE DATABASE "{db}_cq"'),
        q(db, f'CREATE CONTINUOUS QUERY c1 ON "{db}_cq" BEGIN SELECT mean(v) INTO m3 FROM cpu '
              "GROUP BY time(1m) TZ('Europe/Paris') END"),
        q("", f'CREATE CONTINUOUS QUERY c2 ON "{db}_cq" BEGIN SELECT mean(v) INTO m3 FROM cpu GROUP BY time(1m) END'),
        q(db, f'CREATE CONTINUOUS QUERY c3 ON "{db}_cq" BEGIN SELECT mean(v) INTO nosuch.autogen.m3 FROM cpu '
              "GROUP BY time(1m) END"),
        q("", "SHOW CONTINUOUS QUERIES"),
        q("", f'DROP DATABASE "{db}_cq"'),
    ]
    return [case("http--cors-and-methods", [q("", f'CREATE DATABASE "{db}"')], http),
            case("ddl--names-and-edges", [q("", f'CREATE DATABASE "{db}"')], meta)]


def types_after_dropped_series_case():
    """Dropping every series of a measurement (DROP SERIES, DELETE without time) hides
    it, but its shard groups keep their field types: a write of another type into one
    of them is a conflict; into another shard group it is accepted and both types are
    listed. (HyperbyteDB used to acknowledge such a write and then fail to store it.)"""
    db = "we_dropped_types"
    t2020, t2000 = 1577836800 * 10**9, 946684800 * 10**9
    checks = [
        q(db, "DROP SERIES FROM cpu"),
        q(db, "SHOW MEASUREMENTS"), q(db, "SHOW FIELD KEYS"), q(db, "SHOW SERIES"), q(db, "SHOW TAG KEYS"),
        w(db, f'cpu,host=new value="s" {t2020}\n'),
        w(db, f'cpu,host=new value="s" {t2000}\n'),
        q(db, "SHOW FIELD KEYS"), q(db, "SHOW TAG KEYS"), q(db, "SHOW MEASUREMENTS"), q(db, "SELECT * FROM cpu"),
        w(db, f"cpu,host=b value=2 {t2020 + 10**9}\n"),
        q(db, "SELECT * FROM cpu"), q(db, "SHOW SERIES"),
        q(db, "DELETE FROM cpu"),
        q(db, "SHOW MEASUREMENTS"), q(db, "SHOW FIELD KEYS"),
        w(db, f"cpu,host=c value=true {t2020 + 2 * 10**9}\n"),
        w(db, f"cpu value=3 {t2020 + 3 * 10**9}\n"),
        q(db, "SELECT * FROM cpu"), q(db, "SHOW TAG KEYS"),
    ]
    return case("write-errors--types-after-dropped-series",
                [q("", f'CREATE DATABASE "{db}"'), w(db, f"cpu,host=a value=1 {t2020}\n")], checks)


def transform_window_before_case():
    """A transformation of an aggregate under GROUP BY time (derivative, difference,
    moving_average, elapsed, the technical indicators; not cumulative_sum) reads one
    window more: before the range, after it under ORDER BY time DESC, with the points
    stored there (a range without a lower bound then answers nothing). fill(linear)
    interpolates over window numbers from the window met first in output order."""
    db = "tr_window_before"
    body = "".join(f"m,h=a v={v} {t * 10**9}\n" for t, v in ((0, 1), (10, 4), (40, 2), (50, 9), (90, 3)))
    checks = []
    for sel in ("derivative(mean(v))", "moving_average(mean(v), 3)", "mean(v), difference(mean(v))",
                "cumulative_sum(mean(v)), elapsed(max(v), 1s)", "exponential_moving_average(mean(v), 2)"):
        for where in ("time >= 20s AND time < 60s GROUP BY time(10s)",
                      "time >= 15s AND time < 85s GROUP BY time(10s) fill(0)",
                      "time >= 0s AND time < 85s GROUP BY time(10s) fill(0) ORDER BY time DESC",
                      "time >= 0s AND time < 100s GROUP BY time(10s) fill(linear)",
                      "time >= 20s AND time <= 50s GROUP BY time(10s) fill(linear) ORDER BY time DESC"):
            checks.append(q(db, f"SELECT {sel} FROM m WHERE {where}"))
    checks += [
        q(db, "SELECT mean(v), derivative(mean(v)) FROM m WHERE time < 100s GROUP BY time(10s)"),
        q(db, "SELECT derivative(mean(v)) FROM m WHERE time < 100s GROUP BY time(10s) ORDER BY time DESC"),
        q(db, "SELECT derivative(mean(v)) FROM m WHERE time >= 20s AND time < 60s GROUP BY time(10s, 5s)"),
        q(db, "SELECT derivative(mean(v)) FROM m WHERE time >= 20s AND time < 60s GROUP BY time(10s) LIMIT 1"),
        q(db, "SELECT mean(v) FROM m WHERE time >= 0s AND time < 100s GROUP BY time(10s) fill(linear) ORDER BY time DESC"),
    ]
    return case("transformations--window-before", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def duration_overflow_case():
    """InfluxQL durations go through InfluxDB's ParseDuration: Go's wrapping int64
    arithmetic, refused only when the total wraps below zero (naming the last
    <digits><unit> pair), used as wrapped otherwise; a number beyond int64 is invalid."""
    db = "qs_durations"
    window = "SELECT mean(v) FROM m WHERE time > 0 AND time < 10s GROUP BY time({})"
    checks = [q(db, window.format(d)) for d in
              ("1000000d", "106752d", "106751d", "300000d", "15250w", "7000000w", "213503d1ns",
               "1000000d1s", "1h30m", "10us", "9223372036854775807ns", "9223372036854775808ns",
               "99999999999999999999s", "1s, 1000000d", "1s, 300000d")]
    checks += [
        q(db, "SELECT mean(v) FROM m WHERE time > now() - 1000000d"),
        q(db, f'CREATE RETENTION POLICY r2 ON "{db}" DURATION 1000000d REPLICATION 1'),
        q(db, f'CREATE RETENTION POLICY r ON "{db}" DURATION 300000d REPLICATION 1'),
        q(db, f'SHOW RETENTION POLICIES ON "{db}"'),
        q(db, f'ALTER RETENTION POLICY r ON "{db}" SHARD DURATION 1000000d'),
        q(db, f'CREATE CONTINUOUS QUERY c ON "{db}" RESAMPLE EVERY 1000000d BEGIN '
              "SELECT mean(v) INTO x FROM m GROUP BY time(1h) END"),
    ]
    return case("query-semantics--duration-overflow",
                [q("", f'CREATE DATABASE "{db}"'), w(db, "m v=1 1000000000\n")], checks)


def transform_fill_cells_case():
    """A transformation's cell left empty in a row another column prints (a
    non_negative_derivative dropping a negative step) takes the query's fill(<number>),
    or with fill(previous) the column's value in the row before."""
    db = "tr_fill_cells"
    draws = lcg(2024)
    lines = []
    for n in range(50):
        v = next(draws) % 21 - 10
        lines.append(f"m,h=h{n % 2} i={v}i,f={v / 4} {n * 2000000000}")
    body = "\n".join(lines) + "\n"
    span = "time >= 0s AND time < 100s"
    checks = []
    for sel in ("derivative(mean(f), 5s), non_negative_derivative(sum(i), 1m)",
                "mean(f), non_negative_difference(max(i))"):
        for fill in ("previous", "7", "0", "null", "none"):
            checks.append(q(db, f"SELECT {sel} FROM m WHERE {span} GROUP BY time(10s), h fill({fill})"))
        checks.append(q(db, f"SELECT {sel} FROM m WHERE {span} GROUP BY time(10s), h fill(previous) ORDER BY time DESC"))
    return case("transformations--fill-cells", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def count_distinct_case():
    """count(distinct()) and distinct(): -0 and 0 are one value (the first seen); an empty
    window of count(distinct()) is filled as count() fills it (0, or the fill's value, or
    dropped by fill(none))."""
    db = "agg_count_distinct"
    body = ('m,h=a v=1,i=1i,s="x",b=true 1000000000\nm,h=b v=1,i=2i,s="y",b=true 1000000000\n'
            'm,h=a v=-0,i=1i,s="x",b=false 2000000000\nm,h=b v=0,i=3i,s="x",b=true 3000000000\n'
            'm,h=a v=2,i=3i,s="z",b=false 25000000000\nm,h=b v=0,i=3i,s="",b=false 26000000000\n')
    span = "time >= 0s AND time < 40s"
    checks = [q(db, "SELECT count(distinct(v)), count(distinct(i)), count(distinct(s)), count(distinct(b)) FROM m"),
              q(db, "SELECT distinct(v) FROM m"),
              q(db, f"SELECT distinct(v) FROM m WHERE {span} GROUP BY time(10s)"),
              q(db, "SELECT count(distinct(v)) FROM m WHERE time >= 100s"),
              q(db, "SELECT count(distinct(v)), count(v) FROM m GROUP BY h")]
    for fill in ("", " fill(none)", " fill(7)", " fill(previous)", " fill(null)"):
        checks.append(q(db, f"SELECT count(distinct(v)) FROM m WHERE {span} GROUP BY time(10s){fill}"))
    checks.append(q(db, f"SELECT count(distinct(s)) FROM m WHERE {span} GROUP BY time(10s), h fill(none)"))
    checks.append(q(db, f"SELECT count(distinct(i)) FROM m WHERE {span} GROUP BY time(10s) ORDER BY time DESC"))
    return case("aggregates--count-distinct", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def types_across_shard_groups_case():
    """A field may take another type in another shard group (InfluxDB checks types per
    shard group). A query reads it by the highest-ranked type among the shard groups its
    range touches (float, integer, string, boolean), integers read as floats, values of
    other types left out. (HyperbyteDB read the field's first type alone: the integers
    written in 2020 were missing from every answer.)"""
    db = "qs_types_across_groups"
    t2000, t2020, t2030 = T2000, 1577836800 * 10**9, 1893456000 * 10**9
    s = 10**9
    setup = [
        q("", f'CREATE DATABASE "{db}"'),
        w(db, f'm,h=a f=1.5 {t2000}\nm,h=a f=2.5 {t2000 + 10 * s}\nm,h=b s="x" {t2000 + 20 * s}\n'),
        w(db, f"m,h=a f=7i {t2020}\nm,h=a f=8i {t2020 + 10 * s}\nm,h=b s=5 {t2020 + 20 * s}\n"),
        w(db, f"m,h=b f=true {t2030}\n"),
        w(db, f"n,h=a i=3i {t2000}\n"),
        w(db, f"n,h=a i=4.5 {t2020}\n"),
        w(db, f"n,h=a i=true {t2030}\n"),
    ]
    checks = [q(db, text) for text in [
        "SELECT f FROM m",
        "SELECT * FROM m",
        "SELECT f FROM m WHERE time > '2019-01-01'",
        "SELECT f FROM m WHERE time > '2029-01-01'",
        "SELECT * FROM m WHERE time > '2029-01-01'",
        "SELECT sum(f), count(f), max(f), min(f), mean(f), spread(f) FROM m",
        "SELECT sum(f) FROM m WHERE time > '2019-01-01' AND time < '2021-01-01'",
        "SELECT sum(f) FROM m WHERE time < '2019-01-01'",
        "SELECT s FROM m",
        "SELECT sum(s), count(s) FROM m",
        "SELECT f FROM m WHERE f > 2",
        "SELECT f FROM m WHERE f = 7",
        "SELECT f, s FROM m WHERE s = 5",
        "SELECT f FROM m WHERE h = 'a' AND time > '2019-01-01'",
        "SELECT last(f), first(f) FROM m",
        "SELECT f::integer FROM m",
        "SELECT f::float FROM m WHERE time > '2019-01-01'",
        "SELECT f FROM m GROUP BY h",
        "SELECT max(f) FROM m WHERE time >= '1999-01-01' AND time < '2031-01-01' GROUP BY time(3650d)",
        "SELECT mean(f) FROM m WHERE time >= '1999-01-01' AND time < '2031-01-01' GROUP BY time(3650d) fill(none)",
        "SELECT top(f, 2), bottom(f, 1) FROM m",
        "SELECT count(*) FROM m",
        "SELECT max(*) FROM /./",
        "SELECT derivative(f) FROM m",
        "SELECT cumulative_sum(f) FROM m WHERE time > '2019-01-01'",
        "SELECT max(x) FROM (SELECT f AS x FROM m)",
        "SELECT i FROM n",
        "SELECT * FROM n",
        "SELECT sum(i), max(i), min(i) FROM n",
        "SELECT i FROM n WHERE time < '2019-01-01'",
        "SELECT i::integer FROM n",
        "SELECT last(*) FROM n",
        "SHOW FIELD KEYS",
    ]]
    return case("query-semantics--types-across-shard-groups", setup, checks)


def ties_across_shard_groups_case():
    """Rows of one time from several series come in the order of InfluxDB's heap, and
    InfluxDB merges each shard group's series through a heap of its own: over a range
    spanning shard groups the order at a time depends on the group's own points only.
    (HyperbyteDB carried one heap across the groups: `SELECT *` of several hosts over
    hourly shard groups listed tied rows in another order.)"""
    db = "sr_ties_across_groups"
    hour = 3600 * 10**9
    lines = []
    for t, at in enumerate([0, hour // 2, hour, 2 * hour, 2 * hour + hour // 2, 3 * hour, 7 * 24 * hour]):
        for h in range(4):
            if (t * 7 + h * 3) % 5 == 0:
                continue
            fields = [f"v={(t + h) % 3}"]
            if (t + h) % 2 == 0:
                fields.append(f"w={(t * 13 + h * 7) % 10 / 10}")
            if (t * h) % 3 == 1:
                fields.append(f's="x{h}"')
            lines.append(f"m,host=h{h},dc=d{h % 2} {','.join(fields)} {T2000 + at}")
    body = "\n".join(lines) + "\n"
    setup = [
        q("", f'CREATE DATABASE "{db}"'),
        q("", f'CREATE RETENTION POLICY hourly ON "{db}" DURATION INF REPLICATION 1 SHARD DURATION 1h'),
        w(db, body, rp="hourly"),
        w(db, body),
    ]
    checks = []
    for rp in ["hourly", "autogen"]:
        checks += [q(db, text, rp=rp) for text in [
            "SELECT * FROM m",
            "SELECT * FROM m ORDER BY time DESC",
            "SELECT v, w FROM m",
            "SELECT * FROM m GROUP BY dc",
            "SELECT w, v, s FROM m LIMIT 9",
            "SELECT difference(v) FROM m",
            "SELECT difference(v) FROM m ORDER BY time DESC",
            "SELECT mode(v) FROM m",
            "SELECT mode(v) FROM m ORDER BY time DESC",
        ]]
    return case("select-raw--ties-across-shard-groups", setup, checks)


def show_measurements_by_tag_values_case():
    """SHOW MEASUREMENTS decides a tag condition by the measurement's tag values, not by
    its series: only measurements having the key match, `!=` and `!~` when none of its
    values matches (a measurement with hosts x and y is not listed for `host != 'x'`),
    `!= ''` lists those with the key and `= ''` none. The non-EXACT measurement
    cardinality with FROM or WHERE counts as the exact one. (HyperbyteDB listed every
    measurement with a series matching, and estimated.)"""
    db = "sm_tag_values"
    texts = [
        "SHOW MEASUREMENTS WHERE host != 'x'",
        "SHOW MEASUREMENTS WHERE host !~ /x/",
        "SHOW MEASUREMENTS WHERE host = ''",
        "SHOW MEASUREMENTS WHERE host != ''",
        "SHOW MEASUREMENTS WHERE host =~ /^$/",
        "SHOW MEASUREMENTS WHERE host !~ /^$/",
        "SHOW MEASUREMENTS WHERE host = 'x' OR dc = 'z'",
        "SHOW MEASUREMENTS WHERE host != 'y' AND dc != 'z'",
        "SHOW MEASUREMENTS WHERE (host = 'x' AND dc = 'q') OR host != 'x'",
        "SHOW MEASUREMENTS WHERE host =~ /.*/",
        "SHOW MEASUREMENTS WHERE nosuch != 'x'",
        "SHOW MEASUREMENTS WHERE nosuch = ''",
        "SHOW MEASUREMENTS WITH MEASUREMENT =~ /[a-d]/ WHERE host != 'x'",
        "SHOW MEASUREMENTS WHERE host != 'x' LIMIT 1",
        "SHOW SERIES WHERE host != 'x'",
        "SHOW SERIES WHERE host = ''",
        "SHOW TAG VALUES WITH KEY = host WHERE host != 'x'",
        "SHOW TAG KEYS WHERE host = ''",
        "SHOW SERIES CARDINALITY WHERE host != 'x'",
        "SHOW MEASUREMENT CARDINALITY WHERE host != 'x'",
        "SHOW MEASUREMENT EXACT CARDINALITY WHERE host != 'x'",
        "SHOW MEASUREMENT CARDINALITY FROM /a|b/",
        "SHOW MEASUREMENT CARDINALITY FROM a",
        "SHOW SERIES CARDINALITY FROM /a|b/",
        "SHOW TAG KEY CARDINALITY WHERE host != 'x'",
        "SHOW TAG VALUES CARDINALITY WITH KEY = host WHERE host != 'x'",
    ]
    return queries_case("show-meta--measurements-by-tag-values", db, "a,host=x v=1 1\na,host=y v=1 1\nb,host=x v=1 1\nc,dc=z v=1 1\nd v=1 1\ne,host=y v=1 1\ng,host=x,dc=q v=1 1\n", texts)


def dropped_default_policy_case():
    """After the default retention policy is dropped, the database keeps its name as the
    default: a write naming no policy fails naming it, and a policy created again under
    that name is the default again. (HyperbyteDB's error named no policy.)"""
    db = "we_dropped_default"
    checks = [
        q("", f'DROP RETENTION POLICY r3 ON "{db}"'),
        w(db, "m v=1 1\n"),
        w(db, "m v=1 1\n", rp=""),
        q(db, "SHOW RETENTION POLICIES"),
        q(db, "SELECT * FROM m"),
        q("", f'CREATE RETENTION POLICY r4 ON "{db}" DURATION INF REPLICATION 1'),
        w(db, "m v=1 1\n"),
        w(db, "m v=2 2\n", rp="r4"),
        q("", f'CREATE RETENTION POLICY r3 ON "{db}" DURATION INF REPLICATION 1'),
        w(db, "m v=3 3\n"),
        q(db, "SHOW RETENTION POLICIES"),
        q(db, "SELECT * FROM m"),
        q(db, "SELECT * FROM r4.m"),
    ]
    return case("write-errors--dropped-default-policy",
                [q("", f'CREATE DATABASE "{db}" WITH NAME r3')], checks)


def into_selector_tags_case():
    """`top()`/`bottom()` with tag arguments give their points those tags, so SELECT INTO
    writes them as tags; a tag selected as a plain column is written as a field.
    (HyperbyteDB wrote the tag arguments as string fields.)"""
    db = "into_selector_tags"
    checks = []
    for target, text in [
        ("t1", "SELECT top(v, host, 2) INTO t1 FROM m"),
        ("t2", "SELECT top(v, host, dc, 3) INTO t2 FROM m"),
        ("t3", "SELECT bottom(v, dc, 2), host INTO t3 FROM m"),
        ("t4", "SELECT top(v, 2), host INTO t4 FROM m"),
        ("t5", "SELECT top(v, host, 1) INTO t5 FROM m GROUP BY dc"),
        ("t6", "SELECT top(v, host, 1) INTO t6 FROM m WHERE time >= 0 AND time < 5s GROUP BY time(2s)"),
        ("t7", "SELECT top(v, dc, 1) INTO t7 FROM m GROUP BY dc"),
    ]:
        checks += [
            q(db, text),
            q(db, f"SELECT * FROM {target}"),
            q(db, f"SHOW TAG KEYS FROM {target}"),
            q(db, f"SHOW FIELD KEYS FROM {target}"),
            q(db, f"SHOW SERIES FROM {target}"),
        ]
    setup = [
        q("", f'CREATE DATABASE "{db}"'),
        w(db, "m,host=a,dc=x v=1 1000000000\nm,host=b,dc=y v=5 2000000000\n"
              "m,host=c,dc=x v=3 3000000000\nm,host=a,dc=x v=9 4000000000\n"),
    ]
    return case("into--selector-tag-arguments", setup, checks)


def delete_range_forgets_empty_series_case():
    """A DELETE with a time range leaves in the index only the series that still have
    points: SHOW SERIES, SHOW TAG VALUES, SHOW TAG KEYS, SELECT *'s tag columns and
    SHOW MEASUREMENTS forget the others (field keys stay). The same holds for the tag
    keys of series DROP SERIES removed. (HyperbyteDB kept every series of a timed delete.)"""
    db = "dd_range_forgets"
    texts = [
        "DELETE FROM m WHERE time <= 1s",
        "SHOW SERIES",
        "SHOW TAG VALUES WITH KEY = host",
        "SHOW TAG KEYS",
        "SHOW FIELD KEYS",
        "SHOW MEASUREMENTS",
        "SELECT * FROM m",
        "SELECT * FROM m GROUP BY *",
        "DELETE WHERE time <= 1s",
        "SHOW SERIES",
        "SHOW MEASUREMENTS",
        "SHOW TAG KEYS",
        "DELETE FROM m WHERE host = 'd' AND time < '2001-01-01'",
        "SHOW SERIES",
        "SELECT * FROM m",
        "SHOW TAG VALUES CARDINALITY WITH KEY = host",
        "DELETE FROM m WHERE time > 1s AND time < 1500ms",
        "SHOW SERIES",
        "DROP SERIES FROM o WHERE rack = 'r1'",
        "SHOW TAG KEYS FROM o",
        "SELECT * FROM o",
        "SELECT count(v) FROM o GROUP BY *",
    ]
    return queries_case("delete-drop--range-forgets-empty-series", db, "m,host=a v=1 1000000000\nm,host=a v=2 2000000000\nm,host=b,dc=x v=3 1000000000\n"
              f"n,host=c v=1 1000000000\nm,host=d v=1 {T2000}\nm,host=e w=1 1000000000\n"
              "o,host=f,rack=r1 v=1 5000000000\no,host=g v=2 5000000000\n", texts)


def show_with_time_case():
    """Time in the WHERE of metadata statements, as InfluxDB 1.6 takes it. SHOW SERIES
    lists the series with points in the shard groups the range touches (whole groups,
    of the FROM's policy or the default one; every time term counts, under OR too, and
    the rest filters tags). SHOW TAG KEYS and SHOW TAG VALUES drop the time terms. SHOW
    FIELD KEY CARDINALITY refuses them. (HyperbyteDB ignored time in SHOW SERIES, kept
    `time > X OR host = 'a'` true for every tag value, and counted field keys.)"""
    db = "sm_time_conditions"
    setup = [
        q("", f'CREATE DATABASE "{db}"'),
        w(db, f"m,host=a v=1 {T2000}\nm,host=b v=1 1577836800000000000\n"
              "n,host=c v=1 1577836800000000000\nm,host=c v=1 1577836800000000000\n"),
        q("", f'CREATE RETENTION POLICY other ON "{db}" DURATION INF REPLICATION 1'),
        w(db, f"m,host=x v=1 1577836800000000000\nq,host=y v=1 {T2000}\n", rp="other"),
    ]
    checks = [q(db, text) for text in [
        "SHOW SERIES WHERE time > '2019-01-01'",
        "SHOW SERIES WHERE time < '2019-01-01'",
        "SHOW SERIES FROM m WHERE time > '2019-01-01' AND host = 'c'",
        "SHOW SERIES WHERE time > '2000-01-01T00:00:01Z' AND time < '2000-01-02'",
        "SHOW SERIES WHERE time > '2019-12-31T23:00:00Z' AND time < '2019-12-31T23:30:00Z'",
        "SHOW SERIES WHERE time >= '2020-01-01' AND time <= '2020-01-01'",
        "SHOW SERIES WHERE time > now()",
        "SHOW SERIES",
        f'SHOW SERIES ON "{db}" FROM other.m WHERE time > \'2019-01-01\'',
        "SHOW SERIES FROM other./.*/ WHERE time < '2019-01-01'",
        "SHOW SERIES WHERE time > '2019-01-01' LIMIT 1 OFFSET 1",
        "SHOW SERIES WHERE time > '2019-01-01' AND host != 'c'",
        "SHOW SERIES WHERE time > '2019-01-01' OR host = 'a'",
        "SHOW SERIES WHERE (time > '2019-01-01' AND host = 'b') OR host = 'a'",
        "SHOW TAG VALUES WITH KEY = host WHERE time > '2019-01-01'",
        "SHOW TAG VALUES WITH KEY = host WHERE time > '2019-01-01' OR host = 'a'",
        "SHOW TAG VALUES WITH KEY = host WHERE time > '2019-01-01' AND host = 'a'",
        "SHOW TAG KEYS WHERE time < '2019-01-01'",
        "SHOW TAG KEYS WHERE time > '2019-01-01' OR host = 'a'",
        "SHOW TAG KEYS WHERE time > '2019-01-01' AND host = 'q'",
        "SHOW FIELD KEY CARDINALITY WHERE time > 0",
        "SHOW FIELD KEY EXACT CARDINALITY WHERE time > 0",
        "SHOW FIELD KEY CARDINALITY WHERE host = 'a'",
        "SHOW SERIES CARDINALITY WHERE time > 0",
    ]]
    return case("show-meta--time-conditions", setup, checks)


def limit_per_column_case():
    """Under GROUP BY time, LIMIT and OFFSET apply to each column's own points, as
    InfluxDB limits each call's iterator before the columns are joined:
    `mean(v), derivative(mean(v)) ... LIMIT 2` prints two means and two derivatives
    (three rows), and so do aggregates of fields filling different windows under
    fill(none). (HyperbyteDB cut the joined rows.)"""
    db = "ol_limit_per_column"
    texts = [
        "SELECT mean(v), derivative(mean(v)) FROM m WHERE time >= 0 AND time < 60s GROUP BY time(10s) LIMIT 2",
        "SELECT mean(v), derivative(mean(v)) FROM m WHERE time >= 0 AND time < 60s GROUP BY time(10s) LIMIT 2 OFFSET 1",
        "SELECT mean(v), difference(mean(v)), cumulative_sum(mean(v)) FROM m WHERE time >= 0 AND time < 60s GROUP BY time(10s) LIMIT 3",
        "SELECT mean(v), moving_average(mean(v), 3) FROM m WHERE time >= 0 AND time < 60s GROUP BY time(10s) LIMIT 2",
        "SELECT mean(v), derivative(mean(v)) FROM m WHERE time >= 0 AND time < 60s GROUP BY time(10s) ORDER BY time DESC LIMIT 2",
        "SELECT mean(v), derivative(mean(v)) FROM m WHERE time >= 0 AND time < 60s GROUP BY time(10s) ORDER BY time DESC LIMIT 2 OFFSET 1",
        "SELECT mean(v), derivative(mean(v)) FROM m WHERE time >= 0 AND time < 60s GROUP BY time(10s) OFFSET 4",
        "SELECT mean(v), derivative(mean(v)) FROM m WHERE time >= 0 AND time < 60s GROUP BY time(10s) fill(0) LIMIT 2",
        "SELECT derivative(mean(v)) FROM m WHERE time >= 0 AND time < 60s GROUP BY time(10s) LIMIT 2",
        "SELECT mean(v), max(w) FROM n WHERE time >= 0 AND time < 70s GROUP BY time(10s) fill(none) LIMIT 2",
        "SELECT mean(v), max(w) FROM n WHERE time >= 0 AND time < 70s GROUP BY time(10s) fill(none) LIMIT 2 OFFSET 1",
        "SELECT mean(v), max(w) FROM n WHERE time >= 0 AND time < 70s GROUP BY time(10s) fill(none) ORDER BY time DESC LIMIT 2",
        "SELECT mean(v), max(w) FROM n WHERE time >= 0 AND time < 70s GROUP BY time(10s) LIMIT 2 OFFSET 2",
        "SELECT count(v), count(w) FROM n WHERE time >= 0 AND time < 70s GROUP BY time(10s) fill(none) LIMIT 1 OFFSET 1",
        "SELECT count(v), count(w) FROM n WHERE time >= 0 AND time < 70s GROUP BY time(10s), host fill(none) LIMIT 1",
        "SELECT max(v), derivative(max(w)) FROM n WHERE time >= 0 AND time < 70s GROUP BY time(10s) fill(none) LIMIT 2",
        "SELECT mode(v), spread(w) FROM n WHERE time >= 0 AND time < 70s GROUP BY time(10s) fill(none) LIMIT 2",
        "SELECT max(v), host FROM n WHERE time >= 0 AND time < 70s GROUP BY time(10s) fill(none) LIMIT 2",
        "SELECT mean(v), non_negative_derivative(mean(v)) FROM n WHERE time >= 0 AND time < 70s GROUP BY time(10s) fill(none) LIMIT 3",
        "SELECT max(v), min(w) FROM n LIMIT 1",
    ]
    return queries_case("order-limit--per-column", db, "m v=1 0\nm v=3 10\nm v=6 20\nm v=10 30\nm v=15 40\nm v=21 50\n"
              "n v=1 0\nn v=3 10\nn v=6 20\nn w=10 30\nn w=15 40\nn w=21 50\nn v=7,w=1 60\n"
              "n,host=a v=2 5\nn,host=a w=4 15\n", texts, precision="s")


def group_by_time_ends_now_case():
    """Under GROUP BY time a range without an upper bound ends at now() whatever the
    fill: fill(none) leaves out points written ahead of now, and a range starting after
    now answers nothing. Raw queries and aggregates without GROUP BY time read them.
    (HyperbyteDB's fill(none) read the future points, and a range after now printed an
    empty window.)"""
    db = "gbt_ends_now"
    y2200 = 7258118400 * 10**9
    texts = [
        "SELECT last(v) FROM m WHERE time > '1999-12-31' GROUP BY time(36500d) fill(none)",
        "SELECT count(v) FROM m WHERE time > '1999-12-31' GROUP BY time(36500d) fill(none)",
        "SELECT count(v) FROM m WHERE time > '1999-12-31' GROUP BY time(36500d), h fill(none)",
        "SELECT max(v) FROM m WHERE time > '1999-12-31' GROUP BY time(36500d) fill(none) ORDER BY time DESC",
        "SELECT count(v) FROM m WHERE time > '2150-01-01' GROUP BY time(3650d)",
        "SELECT count(v) FROM m WHERE time > '2150-01-01' GROUP BY time(3650d) fill(none)",
        "SELECT count(v) FROM m WHERE time > '1999-12-31'",
        "SELECT v FROM m WHERE time > '1999-12-31'",
        "SELECT count(v) FROM m WHERE time > '2150-01-01'",
    ]
    return queries_case("groupby-time--open-end-is-now", db, f"m,h=a v=1 {T2000}\nm,h=a v=2 {T2000 + 600 * 10**9}\n"
              f"m,h=a v=3 {y2200}\nm,h=b v=4 {y2200 + 3600 * 10**9}\n", texts)


def one_type_across_measurements_case():
    """A field named by several measurements of one statement takes one type, the
    highest-ranked (float, integer, string, boolean); a measurement whose values cannot
    be read as it gives none, integers are read where floats are, and a field every
    reference casts to ::string or ::boolean takes that type. (HyperbyteDB read each
    measurement's own type: `SELECT value FROM f1, f2` listed strings beside floats and
    `mean(value) FROM /f/` was refused.)"""
    db = "qs_one_type_across"
    texts = [
        "SELECT value FROM f1,f2", "SELECT value FROM f2,f3", "SELECT value FROM f2,f4",
        "SELECT value FROM f3,f4", "SELECT value FROM /f/", "SELECT * FROM /f/",
        "SELECT mean(value) FROM f1,f2", "SELECT mean(value) FROM /f/",
        "SELECT max(value) FROM /f/", "SELECT count(value) FROM /f/",
        "SELECT value::string FROM f1,f2", "SELECT value::integer FROM /f/",
        "SELECT value, x FROM f1, f2", "SELECT max(*) FROM /f/", "SELECT value FROM f2",
        "SELECT first(value) FROM f2, f4", "SELECT value FROM f1,f2 WHERE value = 'str'",
        "SELECT sum(value) FROM f1, f3",
    ]
    return queries_case("query-semantics--one-type-across-measurements", db, 'f1 value=1.5,x=1 10\nf2 value="str",x=2 20\nf3 value=2i,x=3 30\n'
              'f4 value=true,x=4 40\nf5 other=1 50\n', texts)


def compile_checks_case():
    """The checks InfluxDB's compiler makes before reading: function arity ("invalid
    number of arguments for mean, expected 1, got 0"), columns without a variable
    ("field must contain at least one variable"), wildcards in distinct()/top()/bottom(),
    dimensions other than time and tags ("only time and tag dimensions allowed"), and
    the time dimension's arguments (`time(0s)` groups nothing, a negative duration still
    asks for an aggregate). (HyperbyteDB answered most of these, often with nothing.)"""
    db = "qe_compile_checks"
    texts = [
        "SELECT mean() FROM t", "SELECT count() FROM t", "SELECT first() FROM t",
        "SELECT spread() FROM t", "SELECT stddev() FROM t", "SELECT median() FROM t",
        "SELECT mode() FROM t", "SELECT abs() FROM t", "SELECT pow(v) FROM t",
        "SELECT percentile(v) FROM t", "SELECT top(v) FROM t", "SELECT sample(v) FROM t",
        "SELECT derivative() FROM t", "SELECT derivative(v, 1s, 1s) FROM t",
        "SELECT moving_average(v) FROM t", "SELECT mean(v, v) FROM t",
        "SELECT holt_winters(mean(v), 1) FROM t GROUP BY time(1s)",
        "SELECT 1 FROM t", "SELECT abs(-3) FROM t", "SELECT 1 + v FROM t",
        "SELECT distinct(*) FROM t", "SELECT distinct(/v/) FROM t",
        "SELECT top(*, 2) FROM t", "SELECT top(/v/, 2) FROM t", "SELECT bottom(*, 2) FROM t",
        "SELECT v FROM t GROUP BY 1", "SELECT v FROM t GROUP BY 'x'",
        "SELECT v FROM t GROUP BY v + 1", "SELECT mean(v) FROM t GROUP BY 1 fill(none)",
        "SELECT v FROM t GROUP BY time(0s)", "SELECT v FROM t GROUP BY time(-1m)",
        "SELECT mean(v) FROM t WHERE time > 0 AND time < 100 GROUP BY time(0s)",
        "SELECT mean(v) FROM t GROUP BY time(0s), h", "SELECT max(v) FROM t GROUP BY time(-5m)",
        "SELECT mean(v) FROM t GROUP BY time(v)", "SELECT mean(v) FROM t GROUP BY time('1m')",
        "SELECT mean(v) FROM t GROUP BY time(1m, 1m, 1m)", "SELECT mean(v) FROM t GROUP BY time()",
    ]
    return queries_case("query-errors--compile-checks", db, 't,h=a v=5,s="x",b=true,i=3i 10\nt,h=b v=2,s="y",b=false,i=4i 20\n', texts)


def condition_terms_case():
    """A WHERE whose terms (through parentheses, AND and OR) include a bare name or a
    number or string literal is refused: "invalid condition expression: b".
    (HyperbyteDB read every row.)"""
    db = "qe_condition_terms"
    texts = [
        "SELECT v FROM t WHERE b", "SELECT v FROM t WHERE b AND v > 1",
        "SELECT v FROM t WHERE h", "SELECT v FROM t WHERE 1", "SELECT v FROM t WHERE 'x'",
        "SELECT v FROM t WHERE (b) OR v > 1", "SELECT v FROM t WHERE true",
        "SELECT mean(v) FROM t WHERE b", "SELECT v FROM t WHERE time",
        "SELECT v FROM t WHERE v > 1 AND s", "SELECT v FROM t WHERE b = true",
        "SELECT v FROM t WHERE nosuch", "SELECT v FROM t WHERE 1.5 OR h = 'a'",
    ]
    return queries_case("query-errors--condition-terms", db, 't,h=a v=5,s="x",b=true,i=3i 10\nt,h=b v=2,s="y",b=false,i=4i 20\n', texts)


def math_around_transforms_case():
    """Math around a transformation of raw points is computed over the transformation's
    values (`derivative(v) * 8`, `abs(difference(v))`); a raw value beside one is
    refused as mixing. In a subquery without its own GROUP BY time, derivative() without
    a unit takes the outer interval as its unit. (HyperbyteDB answered nothing for the
    first, and per second for the last.)"""
    db = "tr_math_around"
    texts = [
        "SELECT derivative(v) * 2 FROM d WHERE h='a'",
        "SELECT derivative(v) + 1, derivative(v) FROM d WHERE h='a'",
        "SELECT abs(derivative(v)) FROM d WHERE h='a'",
        "SELECT derivative(v) * 2 FROM d GROUP BY h",
        "SELECT 8 * non_negative_derivative(v, 1s) FROM d GROUP BY h",
        "SELECT pow(difference(v), 2) FROM d GROUP BY h",
        "SELECT (derivative(v) + 1) / 2 FROM d GROUP BY h",
        "SELECT derivative(v) * 2 FROM d GROUP BY h ORDER BY time DESC",
        "SELECT cumulative_sum(v) - v FROM d GROUP BY h",
        "SELECT mean(x) FROM (SELECT derivative(v) AS x FROM d) WHERE time>=0s AND time<10m GROUP BY time(10m)",
        "SELECT mean(x) FROM (SELECT non_negative_derivative(v) AS x FROM d GROUP BY h) WHERE time>=0s AND time<10m GROUP BY time(10m), h",
        "SELECT mean(x) FROM (SELECT derivative(v, 1m) AS x FROM d) WHERE time>=0s AND time<10m GROUP BY time(10m)",
        "SELECT mean(x) FROM (SELECT derivative(v) AS x FROM d)",
        "SELECT mean(x) FROM (SELECT derivative(v) AS x FROM d) WHERE time>=0s AND time<10m GROUP BY time(1m)",
        "SELECT max(x) FROM (SELECT derivative(mean(v)) AS x FROM d WHERE time>=0s AND time<10m GROUP BY time(1m)) WHERE time>=0s AND time<10m GROUP BY time(5m)",
    ]
    return queries_case("transformations--math-around", db, "d,h=a v=0 0\nd,h=a v=60 60000000000\nd,h=a v=180 120000000000\n"
              "d,h=b v=10 0\nd,h=b v=5 60000000000\n", texts)


def arithmetic_types_case():
    """Arithmetic between types InfluxDB's compiler refuses: numbers only for + - * / %,
    integers or booleans only for & | ^, the refused expression printed with each
    field's type and numbers with three decimals ("type error: v::float + s::string:
    incompatible types: float and string"), before an aggregate's unsupported type.
    (HyperbyteDB answered null rows.)"""
    db = "qe_arithmetic_types"
    texts = [
        "SELECT v + s FROM t", "SELECT s + 'x' FROM t", "SELECT b + 1 FROM t",
        "SELECT abs(s) + 1 FROM t", "SELECT v ^ 2 FROM t", "SELECT i ^ v FROM t",
        "SELECT i | 2.5 FROM t", "SELECT max(s) + 1 FROM t", "SELECT first(b) * 2 FROM t",
        "SELECT (v + 1.25) * s FROM t", "SELECT v + 'x' FROM t", "SELECT h + 1 FROM t",
        "SELECT v * 2, i / 2, i % 2, i & 1, b & true, v - i FROM t", "SELECT b | false FROM t",
        "SELECT mean(v) + 1 FROM t", "SELECT abs(v) + i FROM t", "SELECT v + nosuch FROM t",
        "SELECT count(s) + 1 FROM t", "SELECT mean(s) + 1 FROM t",
    ]
    body = 't,h=a v=5,s="x",b=true,i=3i 10\nt,h=b v=2,s="y",b=false,i=4i 20\n'
    return queries_case("query-errors--arithmetic-types", db, body, texts)


def tag_in_function_case():
    """A tag as the argument of an aggregate or selector: InfluxDB's functions see no value
    in it (null beside another column, nothing alone)."""
    db = "agg_tag_argument"
    body = "m,h=a v=1 1000000000\nm,h=b v=2 2000000000\nm,h=a v=3 3000000000\n"
    checks = []
    for sel in ("count(distinct(h))", "mean(h)", "count(h)", "first(h)", "max(h)", "mode(h)",
                "distinct(h)", "spread(h)"):
        checks.append(q(db, f"SELECT {sel} FROM m"))
        checks.append(q(db, f"SELECT count(v), {sel} FROM m"))
    checks.append(q(db, "SELECT count(distinct(v)), count(distinct(h)) FROM m GROUP BY h"))
    checks.append(q(db, "SELECT count(v), count(h) FROM m WHERE time >= 0s AND time < 4s GROUP BY time(2s)"))
    return case("aggregates--tag-argument", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)

def names_compared_case():
    """`=` and `!=` between two names (tags, a string field, a name that is neither):
    InfluxDB does not compare an absent tag as the empty string there. Two tags are equal
    when the first is present and both agree (an absent tag equals nothing, not even
    itself), `!=` being the negation; a field and a tag match neither way on a series
    without the tag. (HyperbyteDB compared an absent tag as '' both from storage and
    from the recent-data tier.)"""
    db = "qs_names_compared"
    body = ('m,host=a s="x",v=1 1000000000\n'
            'm,host=b,region=eu s="y",v=2 2000000000\n'
            'm,host=c v=3 3000000000\n'
            'm,host=d,region=eu s="",v=4 4000000000\n'
            'm,host=eu,region=eu s="eu",v=5 5000000000\n'
            'm,host=f,region=f,zone=f s="f",v=6 6000000000\n'
            'k,host=a b=true,v=1 1000000000\n'
            'k,host=b b=false,v=2 2000000000\n')
    names = ["host", "region", "zone", "missing", "s"]
    texts = [f"SELECT v FROM m WHERE {a} {op} {b}" for a in names for b in names for op in ("=", "!=")]
    texts += [
        "SELECT v FROM m WHERE region != zone AND v > 2",
        "SELECT count(v) FROM m WHERE region = region",
        "SELECT v FROM m WHERE host = 'a' OR region != region",
        "SELECT mean(v) FROM m WHERE s != region GROUP BY host",
        "SELECT v FROM m WHERE (region) = (zone)",
        "SELECT v FROM m WHERE v > 1 AND (missing != zone OR s = host)",
        "SELECT v FROM m WHERE region = zone OR s != region",
        "SELECT max(v) FROM m WHERE region != region GROUP BY region",
        # Arithmetic without a value (a string or boolean in it) is no empty string.
        "SELECT s FROM m WHERE s != 'a' | 1",
        "SELECT v FROM m WHERE region != true * 2",
        "SELECT v FROM m WHERE host = 'a' | 1 OR v = 6",
        # An aggregate's type error shows when some series may match: constants InfluxDB
        # folds decide that, others (mixed types) leave every series in.
        "SELECT mean(s) FROM m WHERE host = 'a' AND 1 = 2",
        "SELECT mean(s) FROM m WHERE host = 'zz' OR 2 > 1",
        "SELECT mean(s) FROM m WHERE 41.5 >= 'a'",
        "SELECT mean(s) FROM m WHERE region = region",
        "SELECT mean(s) FROM m WHERE missing = missing",
        "SELECT mean(s) FROM m WHERE region < 0",
        "SELECT mean(s) FROM m WHERE host < region",
        # Beside a boolean, arithmetic without a value is false (a missing name is not).
        "SELECT v FROM k WHERE b != 'a' % 'a'",
        "SELECT v FROM k WHERE b = 1 / 'x'",
        "SELECT v FROM k WHERE b = missing",
        "SELECT v FROM k WHERE b != missing",
    ]
    return queries_case("query-semantics--names-compared", db, body, texts)


NAMES_BODY = ('m,host=a s="x",v=1 1000000000\n'
              'm,host=b,region=eu s="y",v=2 2000000000\n'
              'm,host=c v=3 3000000000\n'
              'm,host=d,region=eu s="",v=4 4000000000\n'
              'm,host=eu,region=eu s="eu",v=5 5000000000\n'
              'm,host=f,region=f,zone=f s="f",v=6 6000000000\n')


def delete_by_names_case():
    """DELETE and DROP SERIES decide two tags by their keys (`region != zone`: the series
    with a region and no zone), fold constants (`host = 'a' OR 1 = 2` is `host = 'a'`,
    `1 = 2` deletes nothing), refuse a name compared with a number, a boolean or
    arithmetic, and bound the time by every time comparison, under OR too.
    (HyperbyteDB deleted every series for each of these.) Every delete is followed by a
    read and by the points written again."""
    db = "dd_names"
    checks = [q(db, "SELECT v FROM m")]
    for stmt in (
        "DELETE FROM m WHERE region != zone",
        "DROP SERIES FROM m WHERE region != zone",
        "DELETE FROM m WHERE region = zone",
        "DELETE FROM m WHERE host = missing",
        "DELETE FROM m WHERE missing != host",
        "DROP SERIES FROM m WHERE region = region",
        "DELETE FROM m WHERE host = 'eu' OR region = zone",
        "DELETE FROM m WHERE host = 5",
        "DELETE FROM m WHERE host = true",
        "DELETE FROM m WHERE host = 'a' | 1",
        "DELETE FROM m WHERE host != 'a' OR host = 5",
        "DROP SERIES FROM m WHERE host = 5",
        "DELETE WHERE missing = 5",
        "DELETE FROM m WHERE host = 'a' OR 1 = 2",
        "DELETE FROM m WHERE 1 = 2",
        "DELETE FROM m WHERE host = 'a' OR 1 + 1 = 3",
        "DELETE FROM m WHERE host = 'b' AND 1 = 1",
        # Constants InfluxDB does not fold are refused too.
        "DELETE FROM m WHERE host = 'a' OR 41.5 >= 'a'",
        "DELETE FROM m WHERE 'a' < 'b'",
        # Every time comparison bounds the delete, under OR too (a union had made the
        # first delete everything).
        "DELETE FROM m WHERE time > 3s OR time < 2s",
        "DELETE FROM m WHERE region = 'eu' OR time > 3s",
        "DELETE FROM m WHERE (time > 1s AND region = 'eu') OR time < 5s",
        "DELETE WHERE time >= 2s AND time <= 4s",
    ):
        checks += [q(db, stmt), q(db, "SELECT v FROM m"), q(db, "SHOW SERIES"), w(db, NAMES_BODY)]
    return case("delete-drop--names-and-constants",
                [q("", f'CREATE DATABASE "{db}"'), w(db, NAMES_BODY)], checks)


def show_names_compared_case():
    """SHOW statements decide two tags by their keys, as InfluxDB's index does: `a = b`
    for series carrying both, `a != b` for those carrying `a` and not `b` (reads compare
    their values instead). (HyperbyteDB listed every series.)"""
    db = "sm_names"
    texts = []
    for a, b in (("region", "zone"), ("host", "region"), ("region", "region"), ("host", "missing"),
                 ("missing", "missing"), ("zone", "region")):
        for op in ("=", "!="):
            texts.append(f"SHOW SERIES FROM m WHERE {a} {op} {b}")
    texts += [
        "SHOW TAG VALUES FROM m WITH KEY = host WHERE region = region",
        "SHOW TAG VALUES FROM m WITH KEY = host WHERE region != zone",
        "SHOW TAG VALUES FROM m WITH KEY = region WHERE host != zone",
        "SHOW SERIES WHERE host = 'a' OR region != zone",
        "SHOW SERIES FROM m WHERE region = zone AND host = 'f'",
    ]
    return queries_case("show-meta--names-compared", db, NAMES_BODY, texts)


def show_index_conditions_case():
    """How InfluxDB reads the WHERE of SHOW SERIES, TAG KEYS and TAG VALUES: constants
    folded first (`1 = 2` lists nothing, `host = 'a' OR 1 = 1` everything, `'a' + 'b'` is
    `'ab'`, a condition folded to false is an error for TAG KEYS and TAG VALUES), an
    ordering operator refused, a name compared with a number, a boolean or a field letting
    every series through, `_name` the measurement, `'a' = host` read as `host = 'a'` by
    SHOW SERIES only; with time, and in the cardinalities, a name compared with a number
    matches nothing. SHOW MEASUREMENTS folds nothing and names a literal as Go prints it.
    DELETE and DROP SERIES read `_name` as the measurement too. (HyperbyteDB refused most
    of these with SHOW MEASUREMENTS' checks, and `_name` deleted nothing.)"""
    db = "sm_index_conditions"
    body = ('m,host=a s="x",v=1 1000000000\n'
            'm,host=b,region=eu s="y",v=2 2000000000\n'
            'm,host=c v=3 3000000000\n'
            'n,host=5 v=1 1000000000\n'
            'n,host=true v=2 1000000000\n')
    texts = [
        'SHOW SERIES WHERE host = 5',
        "SHOW SERIES WHERE host = 'a' OR 1 = 1",
        'SHOW SERIES WHERE 1 = 1',
        'SHOW SERIES WHERE 1 = 2',
        "SHOW SERIES WHERE host = 'a' AND 1 = 2",
        'SHOW SERIES WHERE host = true',
        'SHOW SERIES WHERE host != 5',
        'SHOW SERIES WHERE 5 = host',
        "SHOW SERIES WHERE 'a' = host",
        'SHOW SERIES WHERE host = 5.5',
        'SHOW SERIES WHERE host = v',
        "SHOW SERIES WHERE host > 'a'",
        'SHOW SERIES WHERE host = 1 + 1',
        'SHOW SERIES WHERE true',
        'SHOW SERIES WHERE host',
        "SHOW SERIES WHERE 'a' = 'a'",
        "SHOW SERIES WHERE 'a' = 'b'",
        'SHOW SERIES WHERE host =~ 5',
        'SHOW SERIES WHERE host =~ /a/ OR 2 > 1',
        'SHOW MEASUREMENTS WHERE host = 5',
        'SHOW MEASUREMENTS WHERE 1 = 1',
        "SHOW MEASUREMENTS WHERE host = 'a' OR 1 = 2",
        'SHOW MEASUREMENTS WHERE 5 = host',
        'SHOW MEASUREMENTS WHERE host = region',
        'SHOW TAG KEYS WHERE host = 5',
        'SHOW TAG KEYS WHERE 1 = 1',
        'SHOW TAG KEYS WHERE 1 = 2',
        'SHOW TAG VALUES WITH KEY = host WHERE host = 5',
        'SHOW TAG VALUES WITH KEY = host WHERE 1 = 1',
        'SHOW TAG VALUES WITH KEY = host WHERE 1 = 2',
        "SHOW TAG VALUES WITH KEY = host WHERE host = 'a' OR 1 = 1",
        'SHOW TAG VALUES WITH KEY = host WHERE region = host',
        'SHOW SERIES CARDINALITY WHERE host = 5',
        'SHOW SERIES CARDINALITY WHERE 1 = 1',
        'SHOW TAG VALUES CARDINALITY WITH KEY = host WHERE 1 = 2',
        'SHOW MEASUREMENT CARDINALITY WHERE host = 5',
        'SHOW TAG KEY CARDINALITY WHERE 1 = 1',
        'SHOW SERIES WHERE host > 5',
        "SHOW SERIES WHERE s = 'x'",
        "SHOW SERIES WHERE s > 'x'",
        'SHOW SERIES WHERE v > 1',
        'SHOW SERIES WHERE false',
        "SHOW SERIES WHERE host = 'a' OR false",
        "SHOW SERIES WHERE 'a' = 5",
        'SHOW SERIES WHERE host = 5s',
        "SHOW SERIES WHERE _name = 'm'",
        "SHOW SERIES WHERE host = 5 AND region = 'eu'",
        "SHOW SERIES WHERE 'eu' = region AND host =~ /b/",
        "SHOW SERIES WHERE 'eu' != region",
        "SHOW SERIES WHERE 1 > 'a'",
        "SHOW SERIES WHERE host = 'a' AND (1 = 1 OR 2 = 3)",
        'SHOW SERIES WHERE 1 = 1.0',
        'SHOW SERIES WHERE true = true',
        'SHOW SERIES WHERE true = false',
        'SHOW SERIES WHERE true != false',
        "SHOW SERIES WHERE 'a' < 'b'",
        "SHOW SERIES WHERE 'a' + 'b' = 'ab'",
        "SHOW SERIES WHERE host = 'a' + 'b'",
        'SHOW SERIES WHERE nosuch = 5',
        "SHOW SERIES WHERE nosuch = 'x'",
        "SHOW SERIES WHERE nosuch != 'x'",
        'SHOW SERIES WHERE now() > 0',
        'SHOW SERIES WHERE host = now()',
        "SHOW SERIES FROM m WHERE s = 'x'",
        "SHOW SERIES FROM m WHERE host = 5 OR host = 'zz'",
        "SHOW TAG VALUES WITH KEY = host WHERE host = 'a' AND 1 = 2",
        'SHOW TAG VALUES WITH KEY = host WHERE false',
        'SHOW TAG VALUES WITH KEY = host WHERE true',
        "SHOW TAG VALUES WITH KEY = host WHERE host = 'a' OR false",
        "SHOW TAG VALUES WITH KEY = host WHERE host = 5 OR host = 'a'",
        "SHOW TAG VALUES WITH KEY = host WHERE s = 'x'",
        'SHOW TAG VALUES WITH KEY = host WHERE v > 1',
        "SHOW TAG VALUES WITH KEY = host WHERE host > 'a'",
        'SHOW TAG VALUES WITH KEY = host WHERE host > 5',
        "SHOW TAG VALUES WITH KEY = host WHERE 'b' = host",
        "SHOW TAG VALUES WITH KEY = host WHERE 'a' = 'b'",
        'SHOW TAG VALUES WITH KEY = host WHERE host',
        'SHOW TAG VALUES WITH KEY = host WHERE 1 + 1 = host',
        "SHOW TAG KEYS WHERE host = 'a' AND 1 = 2",
        'SHOW TAG KEYS WHERE false',
        "SHOW TAG KEYS WHERE host = 'a' OR false",
        "SHOW TAG KEYS WHERE s = 'x'",
        "SHOW TAG KEYS WHERE 'b' = host",
        "SHOW TAG KEYS WHERE host > 'a'",
        'SHOW TAG KEYS WHERE host',
        "SHOW TAG KEYS FROM m WHERE 'a' = 'b'",
        "SHOW MEASUREMENTS WHERE s = 'x'",
        'SHOW MEASUREMENTS WHERE true',
        "SHOW MEASUREMENTS WHERE host = 'a' AND 1 = 2",
        'SHOW SERIES CARDINALITY WHERE 1 = 2',
        "SHOW SERIES CARDINALITY WHERE host = 'a' OR 1 = 1",
        "SHOW SERIES CARDINALITY WHERE 'a' = host",
        "SHOW SERIES CARDINALITY WHERE s = 'x'",
        'SHOW SERIES CARDINALITY WHERE host = v',
        "SHOW SERIES CARDINALITY WHERE host > 'a'",
        'SHOW SERIES CARDINALITY WHERE true',
        'SHOW TAG VALUES CARDINALITY WITH KEY = host WHERE host = 5',
        'SHOW TAG VALUES CARDINALITY WITH KEY = host WHERE 1 = 1',
        "SHOW TAG VALUES CARDINALITY WITH KEY = host WHERE 'a' = host",
        'SHOW TAG KEY CARDINALITY WHERE host = 5',
        'SHOW TAG KEY CARDINALITY WHERE 1 = 2',
        'SHOW MEASUREMENT CARDINALITY WHERE 1 = 1',
        "SHOW MEASUREMENT CARDINALITY WHERE 'a' = host",
        "SHOW MEASUREMENT CARDINALITY WHERE host > 'a'",
        'SHOW MEASUREMENTS WHERE false',
        "SHOW MEASUREMENTS WHERE host = 'a' OR true",
        'SHOW MEASUREMENTS WHERE (true)',
        'SHOW MEASUREMENTS WHERE 1',
        'SHOW SERIES WHERE 1',
        'SHOW SERIES WHERE (1 = 2)',
        "SHOW SERIES WHERE 'a' =~ /a/",
        "SHOW SERIES WHERE host =~ /a/ AND 'x' = 'y'",
        'SHOW SERIES CARDINALITY WHERE host != 5',
        "SHOW SERIES CARDINALITY WHERE host = 'a' OR host = 5",
        'SHOW SERIES CARDINALITY WHERE host = true',
        'SHOW SERIES CARDINALITY WHERE 5 = host',
        'SHOW SERIES CARDINALITY WHERE host = 1 + 1',
        'SHOW SERIES CARDINALITY WHERE nosuch = 5',
        'SHOW SERIES CARDINALITY WHERE nosuch != 5',
        'SELECT v FROM m WHERE host != 5',
        "SHOW TAG VALUES WITH KEY = host WHERE 'a' =~ /a/",
        "SHOW TAG VALUES WITH KEY = host WHERE host =~ 'a'",
        "SHOW TAG VALUES WITH KEY = host WHERE _name = 'n'",
        "SHOW TAG KEYS WHERE _name = 'n'",
        'SHOW TAG KEYS WHERE host = v',
        'SHOW TAG VALUES WITH KEY = host WHERE host = v',
        "SHOW TAG KEYS WHERE 1 > 'a'",
        "SHOW TAG KEYS WHERE 'a' = 5",
        "SHOW TAG VALUES WITH KEY = host WHERE 'a' = 5",
        "SHOW TAG VALUES WITH KEY = host WHERE host = 'a' + 'b'",
        "SHOW TAG KEYS WHERE host = 'a' + 'b'",
        "SHOW TAG KEYS WHERE 'a' + 'b' = 'ab'",
        "SHOW TAG VALUES WITH KEY = host WHERE 1 = 1 AND 'b' = host",
        'SHOW SERIES WHERE time > 0 AND host = 5',
        "SHOW SERIES WHERE time > 0 AND s = 'x'",
        'SHOW SERIES WHERE time > 0 AND 1 = 2',
        'SHOW MEASUREMENTS WHERE 1.5',
        "SHOW MEASUREMENTS WHERE 'x'",
        'SHOW MEASUREMENTS WHERE 5s',
        'SHOW MEASUREMENTS WHERE host',
        "SHOW MEASUREMENTS WHERE host = 'a' AND false",
        'SHOW TAG KEYS WHERE time > 0 AND 1 = 2',
        'SHOW TAG VALUES WITH KEY = host WHERE time > 0 AND 1 = 2',
        'SHOW TAG KEYS WHERE time > 0 AND host = 5',
        "SHOW TAG VALUES WITH KEY = host WHERE time > 0 AND s = 'x'",
        'SHOW SERIES WHERE time > 0 AND 1 = 1',
        "SHOW SERIES WHERE time > 0 AND 'a' = host",
        'SHOW SERIES WHERE time > 0 AND host = v',
        "SHOW SERIES WHERE time > 0 AND _name = 'm'",
        'SHOW SERIES FROM m WHERE s =~ /x/',
        'SHOW SERIES FROM m WHERE s !~ /x/',
        "SHOW TAG VALUES WITH KEY = region WHERE s = 'zz'",
        'SHOW TAG VALUES WITH KEY = host WHERE host = region',
        "SHOW TAG KEYS WHERE 1 = 1 OR host > 'a'",
        "SHOW TAG KEYS WHERE (host = 'a' OR 1 = 1) AND region = 'eu'",
        "SHOW SERIES WHERE host = 'a' OR _name = 'n'",
        'SHOW SERIES WHERE _name =~ /n/',
        "SHOW SERIES WHERE _name != 'm'",
        "SHOW SERIES CARDINALITY WHERE _name = 'm'",
        "SHOW TAG VALUES CARDINALITY WITH KEY = host WHERE s = 'x'",
        'SHOW SERIES WHERE v = 1',
        "SHOW SERIES WHERE v = 'x'",
        'SHOW TAG VALUES WITH KEY = host WHERE v = 1',
        'SHOW TAG KEYS WHERE v = true',
        "SHOW SERIES WHERE 1 = 'a'",
        "SHOW SERIES WHERE true = 'a'",
        "SHOW SERIES WHERE 1 != 'a'",
        "SHOW TAG VALUES WITH KEY = host WHERE 1 != 'a'",
        "SHOW TAG KEYS WHERE 1 != 'a'",
        'SHOW MEASUREMENTS WHERE host::tag',
        'SHOW MEASUREMENTS WHERE host::field',
        'SHOW MEASUREMENTS WHERE host::unsigned',
        'SHOW MEASUREMENTS WHERE host::float',
        'SHOW MEASUREMENTS WHERE 2.0',
        'SHOW MEASUREMENTS WHERE \'a"b\\\\c\'',
        'SHOW MEASUREMENTS WHERE now()',
        'SHOW MEASUREMENTS WHERE 1 + 1',
        'SHOW MEASUREMENTS WHERE /x/',
        'SHOW MEASUREMENTS WHERE 18446744073709551615',
        'SHOW MEASUREMENTS WHERE -1',
        'SHOW MEASUREMENTS WHERE 1e21',
        'SHOW MEASUREMENTS WHERE "a b"',
        "DELETE WHERE _name = 'n'",
        'SHOW SERIES',
        "DROP SERIES WHERE _name = 'm' AND host = 'a'",
        'SHOW SERIES',
        'SELECT * FROM m',
        'SELECT * FROM n',
    ]
    return queries_case("show-meta--index-conditions", db, body, texts)


def valueless_windows_under_limit_case():
    """A window whose points give no value (`stddev` of one value, printed as null) is a
    point `LIMIT` and `OFFSET` count under `fill(none)`, each column its own, as
    InfluxDB's iterators emit it. (HyperbyteDB took it for a window without points: the
    query that found it, `stddev(i) … fill(none) ORDER BY time DESC LIMIT 1`, printed
    nothing.)"""
    db = "qs_valueless"
    body = ("m,h=a i=3i,f=1.5 1000000000\n"
            "m,h=a i=-7i 2000000000\n"
            "m,h=b f=2.5 2000000000\n"
            "m,h=a i=0i,f=3 3000000000\n"
            "m,h=a i=4i 3500000000\n"
            "m,h=b i=9i 5000000000\n")
    texts = [
        'SELECT stddev(i) FROM m WHERE time < 6s GROUP BY time(1s) fill(none) LIMIT 2',
        'SELECT stddev(i) FROM m WHERE time < 6s GROUP BY time(1s) fill(none) LIMIT 2 OFFSET 1',
        'SELECT stddev(i) FROM m WHERE time < 6s GROUP BY time(1s) fill(none) ORDER BY time DESC LIMIT 2',
        'SELECT stddev(i), count(i) FROM m WHERE time < 6s GROUP BY time(1s) fill(none) LIMIT 2',
        'SELECT stddev(i), mean(f) FROM m WHERE time < 6s GROUP BY time(1s) fill(none) LIMIT 1',
        'SELECT stddev(i), mean(f) FROM m WHERE time < 6s GROUP BY time(1s) fill(none) LIMIT 2',
        'SELECT stddev(i), mean(f) FROM m WHERE time < 6s GROUP BY time(1s) fill(none) ORDER BY time DESC LIMIT 1',
        'SELECT stddev(f) FROM m WHERE time < 6s GROUP BY time(1s), h fill(none) LIMIT 1',
        'SELECT stddev(i) FROM m WHERE time < 6s GROUP BY time(1s), h fill(none) SLIMIT 1 LIMIT 1',
        'SELECT percentile(i, 10) FROM m WHERE time < 6s GROUP BY time(1s) fill(none) LIMIT 2',
        'SELECT percentile(i, 1), max(i) FROM m WHERE time < 6s GROUP BY time(1s) fill(none) LIMIT 2',
        'SELECT stddev(i) FROM m WHERE time < 6s AND f > 1 GROUP BY time(1s) fill(none) LIMIT 2',
        'SELECT stddev(*) FROM m WHERE time < 6s GROUP BY time(1s) fill(none) LIMIT 2',
        'SELECT stddev(i) FROM m WHERE time < 6s GROUP BY time(2s) fill(none) LIMIT 3',
        'SELECT stddev(i) FROM m WHERE time < 6s GROUP BY time(1s) fill(null) LIMIT 2',
        'SELECT stddev(i) FROM m WHERE time < 6s GROUP BY time(1s) LIMIT 2 OFFSET 2',
        'SELECT median(i) FROM m WHERE time < 6s GROUP BY time(1s) fill(none) LIMIT 2',
        'SELECT spread(i), stddev(i) FROM m WHERE time < 6s GROUP BY time(1s) fill(none) LIMIT 2',
        'SELECT stddev(i), max(f) FROM m WHERE time < 6s GROUP BY time(1s), h fill(none) LIMIT 1',
        'SELECT stddev(i), max(f) FROM m WHERE time < 6s GROUP BY time(1s), h fill(none) ORDER BY time DESC LIMIT 1 OFFSET 1',
        'SELECT stddev(i), first(f) FROM m WHERE time < 6s GROUP BY time(1s) fill(none) LIMIT 1',
        'SELECT stddev(i), mean(f) FROM m WHERE time < 6s GROUP BY time(1s) fill(none) OFFSET 1',
        'SELECT stddev(i), mean(f) FROM m WHERE time < 6s GROUP BY time(1s) fill(previous) LIMIT 3',
        'SELECT stddev(i), mean(f) FROM m WHERE time < 6s GROUP BY time(1s) fill(0) LIMIT 3',
        'SELECT stddev(i) + 1, mean(f) FROM m WHERE time < 6s GROUP BY time(1s) fill(none) LIMIT 2',
        'SELECT stddev(i), derivative(mean(f)) FROM m WHERE time < 6s GROUP BY time(1s) fill(none) LIMIT 2',
        'SELECT stddev(f), stddev(i) FROM m WHERE time < 6s GROUP BY time(1s) fill(none) ORDER BY time DESC LIMIT 1',
        'SELECT stddev(i) FROM m WHERE time < 6s',
        "SELECT stddev(i) FROM m WHERE time < 6s AND h = 'b'",
        "SELECT stddev(i), count(f) FROM m WHERE time < 6s AND h = 'b'",
        'SELECT stddev(i) FROM m WHERE time < 6s GROUP BY h',
    ]
    return queries_case("query-semantics--valueless-windows-under-limit", db, body, texts)


def integral_beside_other_fields_case():
    """`integral()` beside a call on another field: InfluxDB builds an iterator per field,
    so the integral's points of equal times (several hosts) come in the order of a merge
    of the points holding its field alone. (HyperbyteDB merged every point the query
    read, and `integral(i, 1s), count(v)` differed from `integral(i, 1s)`; found by
    differential_shapes.py seed 9401, whose data this is.)"""
    db = "agg_integral_fields"
    body = "".join(line + "\n" for line in [
        'cpu,host=a,region=eu v=16.0,b=true 0000000000',
        'cpu,host=b,region=eu v=-1.0,i=14i,s="zz" 0000000000',
        'cpu,host=d v=35.0,i=-18i 0000000000',
        'cpu,host=a,region=eu v=24.5,i=21i 3000000000',
        'cpu,host=b,region=eu v=30.75,i=-17i,b=false 3000000000',
        'cpu,host=c,region=us v=30.5,i=-7i 3000000000',
        'cpu,host=d v=0.0,i=11i 3000000000',
        'mem,host=b free=377i,v=5i 3000000000',
        'cpu,host=b,region=eu v=1.75 6000000000',
        'cpu,host=c,region=us i=-19i 6000000000',
        'cpu,host=b,region=eu v=27.75,b=false 9000000000',
        'cpu,host=c,region=us v=35.75,i=-11i,b=true 9000000000',
        'cpu,host=d v=18.0,i=-15i,s="zz" 9000000000',
        'mem,host=a free=159i,v=8i 9000000000',
        'cpu,host=b,region=eu v=13.75,i=36i 12000000000',
        'cpu,host=c,region=us v=-6.25,i=-6i 12000000000',
        'cpu,host=d v=18.0,i=3i 12000000000',
        'mem,host=a free=661i,v=7i 12000000000',
        'cpu,host=b,region=eu i=18i 15000000000',
        'cpu,host=c,region=us v=20.5,i=-12i,s="y" 15000000000',
        'cpu,host=d v=-5.5,i=25i,s="y" 15000000000',
        'mem,host=b free=73i,v=1i 15000000000',
        'cpu,host=b,region=eu v=0.0,i=9i 18000000000',
        'cpu,host=a,region=eu v=22.25,i=-16i 21000000000',
        'cpu,host=b,region=eu v=29.75 21000000000',
        'cpu,host=d v=-11.0,i=-16i,s="y" 21000000000',
        'cpu,host=a,region=eu s="y" 24000000000',
        'cpu,host=b,region=eu v=-6.0,i=19i 24000000000',
        'cpu,host=c,region=us v=11.5,s="x" 24000000000',
        'cpu,host=d v=6.5,i=3i 24000000000',
        'mem,host=b free=29i,v=1i 24000000000',
        'cpu,host=a,region=eu v=3.5,s="x" 27000000000',
        'cpu,host=b,region=eu v=37.0,i=34i 27000000000',
        'cpu,host=c,region=us v=27.25,i=33i,s="x" 27000000000',
        'cpu,host=b,region=eu v=0 30000000000',
        'cpu,host=c,region=us v=-1.75,i=32i 30000000000',
        'cpu,host=d v=14.75,i=3i 30000000000',
        'cpu,host=a,region=eu v=25.0 33000000000',
        'cpu,host=c,region=us v=6.5 33000000000',
        'cpu,host=d v=25.0,i=36i,s="zz" 33000000000',
        'mem,host=b free=345i,v=8i 33000000000',
        'cpu,host=a,region=eu v=25.5,i=0i,s="zz" 36000000000',
        'cpu,host=b,region=eu v=31.5,i=18i 36000000000',
        'cpu,host=c,region=us v=22.5,i=1i 36000000000',
        'cpu,host=d v=-1.5,i=25i 36000000000',
        'cpu,host=a,region=eu v=23.75 39000000000',
        'cpu,host=b,region=eu v=4.5,i=-13i,s="zz" 39000000000',
        'cpu,host=c,region=us v=10.0,i=14i 39000000000',
        'cpu,host=d b=false 39000000000',
        'mem,host=a free=493i,v=7i 39000000000',
        'cpu,host=a,region=eu v=14.0 60000000000',
        'cpu,host=b,region=eu i=15i,b=true 60000000000',
        'cpu,host=c,region=us v=-11.5,i=39i 60000000000',
        'mem,host=b free=543i,v=0i 60000000000',
        'cpu,host=b,region=eu v=12.0 63000000000',
        'cpu,host=c,region=us s="y",b=false 63000000000',
        'cpu,host=d i=3i,s="zz" 63000000000',
        'mem,host=a free=860i,v=7i 63000000000',
        'cpu,host=b,region=eu v=24.0,b=false 66000000000',
        'cpu,host=c,region=us v=14.5,i=-1i 66000000000',
        'mem,host=a free=890i,v=2i 66000000000',
        'cpu,host=a,region=eu v=3.25,i=-13i 69000000000',
        'cpu,host=b,region=eu i=22i 69000000000',
        'cpu,host=c,region=us v=0 69000000000',
        'cpu,host=d v=10.75,i=1i 69000000000',
        'cpu,host=a,region=eu v=-8.0 72000000000',
        'cpu,host=c,region=us i=-5i 72000000000',
        'cpu,host=a,region=eu v=27.75,i=-20i 75000000000',
        'cpu,host=b,region=eu v=-2.75,i=18i,s="x",b=false 75000000000',
        'mem,host=b free=617i,v=5i 75000000000',
        'cpu,host=a,region=eu v=1.0 78000000000',
        'cpu,host=b,region=eu v=36.25 78000000000',
        'cpu,host=c,region=us v=9.75 78000000000',
        'cpu,host=b,region=eu v=30.75,i=5i,b=false 81000000000',
        'cpu,host=c,region=us v=-2.0,s="zz" 81000000000',
        'mem,host=a free=877i,v=6i 81000000000',
        'cpu,host=a,region=eu v=10.75,b=false 84000000000',
        'mem,host=a free=177i,v=2i 84000000000',
        'cpu,host=c,region=us v=22.75,i=36i 87000000000',
        'cpu,host=d v=29.25 87000000000',
        'cpu,host=a,region=eu v=-7.25,s="y" 90000000000',
        'cpu,host=d v=21.5,i=-18i,s="y",b=false 90000000000',
        'cpu,host=b,region=eu v=12.75,s="zz" 93000000000',
        'cpu,host=c,region=us v=0.5,i=29i 93000000000',
        'cpu,host=d v=0 93000000000',
        'mem,host=b free=635i,v=0i 93000000000',
        'cpu,host=a,region=eu i=34i,s="x" 96000000000',
        'cpu,host=b,region=eu s="zz",b=false 96000000000',
        'cpu,host=c,region=us v=-9.25,i=-14i 96000000000',
        'cpu,host=d v=25.25,s="y" 96000000000',
        'cpu,host=b,region=eu v=13.5,i=29i,s="x" 99000000000',
        'cpu,host=c,region=us v=4.5 99000000000',
        'cpu,host=d v=34.75,i=-18i 99000000000',
    ])
    texts = [
        'SELECT integral(i, 1s) FROM cpu WHERE time >= 0s AND time <= 20s',
        'SELECT integral(i, 1s), count(i) FROM cpu WHERE time >= 0s AND time <= 20s',
        'SELECT integral(i, 1s), count(v) FROM cpu WHERE time >= 0s AND time <= 20s',
        'SELECT integral(i, 1s), max(v) FROM cpu WHERE time >= 0s AND time <= 20s',
        'SELECT integral(i, 1s), integral(v, 1s) FROM cpu WHERE time >= 0s AND time <= 20s',
        'SELECT integral(v, 1s), count(i) FROM cpu WHERE time >= 0s AND time <= 20s',
        'SELECT integral(v, 1s) FROM cpu WHERE time >= 0s AND time <= 20s',
        'SELECT stddev(i), integral(i, 1s), min(v) FROM cpu WHERE time >= 0s AND time <= 100s AND v > 10 GROUP BY time(5s, -3s) fill(0)',
        'SELECT integral(i, 1s), min(v) FROM cpu WHERE time >= 0s AND time <= 100s AND v > 10 GROUP BY time(5s, -3s) fill(0)',
        'SELECT integral(i, 1s), min(v) FROM cpu WHERE time >= 0s AND time <= 100s AND v > 10 GROUP BY time(5s)',
        'SELECT integral(i, 1s), min(v) FROM cpu WHERE time >= 0s AND time <= 100s GROUP BY time(5s)',
        'SELECT integral(i, 1s), min(i) FROM cpu WHERE time >= 0s AND time <= 100s GROUP BY time(5s)',
        'SELECT integral(i, 1s), count(v) FROM cpu WHERE time >= 0s AND time <= 20s GROUP BY time(5s)',
    ]
    return queries_case("aggregates--integral-beside-other-fields", db, body, texts)


def exact_cardinality_by_policy_case():
    """The exact cardinalities read each source's own retention policy (InfluxDB answers
    them with a SELECT over the sources): `FROM other.m` counts that policy's series,
    `FROM other.m, m` the union of both, a policy that does not exist is an error; and
    they follow deletes. (HyperbyteDB counted the default policy whatever the source
    named.)"""
    db = "sm_card_policies"
    setup = [
        q("", f'CREATE DATABASE "{db}"'),
        q("", f'CREATE RETENTION POLICY other ON "{db}" DURATION INF REPLICATION 1'),
        w(db, 'm,host=a v=1 1000000000\nm,host=b v=2 2000000000\nm,host=c,zone=z v=3 3000000000\nn v=1 1000000000\n'),
        w(db, 'm,host=d,zone=q w=1 1000000000\nm,host=a,zone=q v=1 1000000000\no v=1 1\n', rp="other"),
    ]
    texts = [
        "SHOW SERIES EXACT CARDINALITY",
        "SHOW MEASUREMENT EXACT CARDINALITY",
        "SHOW SERIES EXACT CARDINALITY FROM m",
        "SHOW SERIES EXACT CARDINALITY FROM other.m",
        "SHOW SERIES EXACT CARDINALITY FROM other./.*/",
        "SHOW SERIES EXACT CARDINALITY FROM other.m WHERE host = 'd'",
        "SHOW SERIES EXACT CARDINALITY FROM other.m, m",
        "SHOW SERIES EXACT CARDINALITY FROM m, other.m",
        "SHOW MEASUREMENT EXACT CARDINALITY FROM other./.*/",
        "SHOW TAG VALUES EXACT CARDINALITY FROM other.m WITH KEY = zone",
        "SHOW TAG KEY EXACT CARDINALITY FROM other.m",
        "SHOW FIELD KEY EXACT CARDINALITY FROM other.m",
        "SHOW FIELD KEY EXACT CARDINALITY FROM other.m, m",
        "SHOW SERIES EXACT CARDINALITY FROM autogen.o",
        "SHOW SERIES EXACT CARDINALITY FROM nope.m",
        "SHOW SERIES CARDINALITY FROM other.m",
        "DELETE FROM m WHERE host = 'b' AND time < 5s",
        "SHOW SERIES EXACT CARDINALITY",
        "DROP SERIES FROM m WHERE host = 'c'",
        "SHOW SERIES EXACT CARDINALITY",
        "SHOW MEASUREMENT EXACT CARDINALITY",
        "DELETE FROM n",
        "SHOW SERIES EXACT CARDINALITY",
        "SHOW MEASUREMENT EXACT CARDINALITY",
        "SHOW SERIES EXACT CARDINALITY FROM other.m",
        "SHOW SERIES EXACT CARDINALITY FROM /./",
    ]
    return case("show-meta--exact-cardinality-by-policy", setup, [q(db, t) for t in texts])


def column_names_case():
    """Column names as InfluxDB's `ColumnNames` gives them: given names (`AS`, the
    expansions of `agg(*)`) are kept, duplicates included, and taken first; a derived
    name that is taken gets the next free `_N`. The same call written twice is one call
    (a lone selector prints its point's time), though fields beside it are refused as
    beside two selectors. A subquery's outer reference reads the first of two equally
    named columns; `INTO` writes the last one's value."""
    db = "names_dupes"
    texts = [
        "SELECT max(v) AS m, min(v) AS m FROM x",
        "SELECT v AS a, w AS a FROM x",
        "SELECT v, v FROM x",
        "SELECT max(v), max(v) AS max FROM x",
        "SELECT max(v), max(v) FROM x",
        "SELECT max(*), max(*) FROM x",
        "SELECT max(*), max(v) AS max_v FROM x",
        "SELECT max(w) AS max_v, max(*) FROM x",
        "SELECT v, v, v_1 FROM x",
        "SELECT v, v, v_1, v_1 FROM x",
        "SELECT v AS v_1, v, v FROM x",
        "SELECT h AS v, v FROM x",
        "SELECT top(v, h, 1) AS h, h FROM x",
        "SELECT top(v, h, 1), h FROM x",
        "SELECT max(v) AS m, min(v) AS m FROM x WHERE time >= 0 AND time < 2m GROUP BY time(1m)",
        "SELECT max(v), max(v) FROM x WHERE time >= 0 AND time < 3m GROUP BY time(1m) fill(linear)",
        "SELECT max(v) AS max, max(v) FROM x WHERE time >= 0 AND time < 2m GROUP BY time(1m)",
        "SELECT count(v) AS c, count(w) AS c FROM x WHERE time >= 0 AND time < 2m GROUP BY time(1m) fill(0)",
        "SELECT mean(v) AS m, sum(v) AS m FROM x GROUP BY h",
        "SELECT last(v), last(v) AS l FROM x GROUP BY h",
        "SELECT first(v) AS f, first(v) AS f FROM x WHERE time < 1m",
        "SELECT mean(v), mean(v) FROM x",
        "SELECT m FROM (SELECT max(v) AS m, min(v) AS m FROM x)",
        "SELECT a FROM (SELECT v AS a, w AS a FROM x)",
        "SELECT max(a) FROM (SELECT v AS a, w AS a FROM x)",
        "SELECT max(v) AS m, min(v) AS m INTO y FROM x",
        "SELECT * FROM y",
        "SELECT v AS a, w AS a INTO z FROM x",
        "SELECT * FROM z",
        # The same call twice is one call for the time it prints, with field types
        # resolved (`max(v::integer)` of a float field is another call), but two calls
        # for the rule on fields beside selectors.
        "SELECT max(v), max(v::float) FROM x",
        "SELECT max(v::integer), max(v) FROM x",
        "SELECT first(v), first(v::float) FROM x",
        "SELECT max(v), max(v::field) FROM x",
        "SELECT last(v), last(v) FROM x WHERE time >= 0 AND time < 3m GROUP BY time(1m)",
        "SELECT max(v), h FROM x",
        "SELECT max(v), max(v), w FROM x",
        "SELECT max(v)*2, max(v), w FROM x",
        "SELECT max(v), max(v::float), w FROM x",
        "SELECT max(v), min(v), h FROM x",
        "SELECT max(v), mean(v), h FROM x",
    ]
    body = "x,h=a v=1,w=2 1000000000\nx,h=b v=5,w=3 2000000000\nx,h=a v=7,w=1 61000000000\n"
    return queries_case("select-raw--column-names", db, body, texts)



def function_arguments_case():
    """Function arguments as InfluxDB's compiler takes them: parentheses around anything
    but an operation are dropped first (`max((v))` is `max(v)`, `(*)` is `*`, `(h)` is the
    tag), then aggregates and selectors take a field, a wildcard or a regex ("expected
    field argument in max()" for a literal, an operation or a call, column by column,
    before later columns are checked), `top`/`bottom` a field, and transformations also
    a call (under `GROUP BY time` they need one)."""
    return queries_case("select-functions--arguments", "fn_args", "m,h=a v=1,w=2i 10\nm,h=b v=3,w=5i 20\nm,h=a v=4,w=1i 30\n", [
        "SELECT max((v)) FROM m",
        "SELECT max(((v))) FROM m",
        "SELECT max((v)), min((w)) FROM m GROUP BY h",
        "SELECT mean((v)) FROM m",
        "SELECT count((v)) FROM m",
        "SELECT top((v), 1) FROM m",
        "SELECT max((v::integer)) FROM m",
        "SELECT distinct((v)) FROM m",
        "SELECT percentile((v), 50) FROM m",
        "SELECT (v) FROM m",
        "SELECT max((v) + 1) FROM m",
        "SELECT count(distinct((v))) FROM m",
        "SELECT max((h)) FROM m",
        "SELECT first((v)), last((v)) FROM m",
        "SELECT sum((v)) AS s FROM m",
        "SELECT max((*)) FROM m",
        "SELECT percentile((v), (50)) FROM m",
        "SELECT top((v), h, 1) FROM m",
        "SELECT top(v, (h), 1) FROM m",
        "SELECT bottom((v), 1) FROM m",
        "SELECT sample((v), 1) FROM m WHERE v = 4",
        "SELECT integral((v)) FROM m",
        "SELECT holt_winters(max((v)), 1, 1) FROM m WHERE time > 0 AND time < 100 GROUP BY time(10ns)",
        "SELECT max((v)) FROM m WHERE time > 0 AND time < 100 GROUP BY time(10ns)",
        "SELECT derivative(max((v))) FROM m WHERE time > 0 AND time < 100 GROUP BY time(10ns)",
        "SELECT max((w)) FROM m",
        "SELECT max((w)) * 2 FROM m",
        "SELECT (*) FROM m",
        "SELECT sum((v::integer)) FROM m",
        "SELECT max(v + 1) FROM m",
        "SELECT max(1) FROM m",
        "SELECT max(now()) FROM m",
        "SELECT max('a') FROM m",
        "SELECT count(1) FROM m",
        "SELECT mean(v * 2) FROM m",
        "SELECT derivative(v + 1) FROM m",
        "SELECT top(v + 1, 1) FROM m",
        "SELECT max(distinct(v)) FROM m",
        "SELECT count(max(v)) FROM m",
        "SELECT mean(max(v)) FROM m GROUP BY time(10ns)",
        "SELECT sum(count(v)) FROM m",
        "SELECT percentile(max(v), 5) FROM m",
        "SELECT top(max(v), 1) FROM m",
        "SELECT integral(max(v)) FROM m",
        "SELECT median(abs(v)) FROM m",
        "SELECT max(abs(v)) FROM m",
        "SELECT difference(v + 1) FROM m",
        "SELECT cumulative_sum(v * 2) FROM m",
        "SELECT moving_average(v + 1, 2) FROM m",
        "SELECT elapsed(v + 1) FROM m",
        "SELECT non_negative_difference(v + 1) FROM m",
        "SELECT derivative(1) FROM m",
        "SELECT difference(1) FROM m",
        "SELECT max(v) + max((w)) FROM m",
        "SELECT first((v)), h FROM m",
        "SELECT percentile((v), 50), (h) FROM m",
        "SELECT max(v + 1), mean() FROM m",
        "SELECT max(v+1), 1 FROM m",
        "SELECT top(v, 1), max(v + 1) FROM m",
        "SELECT max(v + 1) FROM m GROUP BY time(10ns)",
        "SELECT derivative(v + 1) FROM m GROUP BY time(10ns)",
        "SELECT derivative(max(v)) FROM m",
        "SELECT derivative(v) FROM m WHERE time > 0 AND time < 100 GROUP BY time(10ns)",
        "SELECT difference(max(v)) FROM m",
        "SELECT count(v::tag) FROM m",
        "SELECT abs(-3) FROM m",
        "SELECT mean(v) FROM (SELECT max((v)) AS v FROM m GROUP BY h)",
        "SELECT ((v)) + (w) FROM m",
        "SELECT spread((v)), median((v)), mode((v)) FROM m",
    ])


def option_arguments_case():
    """A function's option argument is checked before the argument it reads, with
    InfluxDB's texts: `top`'s count ("expected integer as last argument in top(), found
    1.500", "limit (0) in top function must be at least 1"), then its field and tags;
    `sample`'s size, `percentile`'s rank, `moving_average`'s window ("second argument for
    moving_average must be an integer, got *influxql.NumberLiteral"), the duration of
    `derivative`, `elapsed` and `integral` ("duration argument must be positive, got 0s")."""
    return queries_case("select-functions--option-arguments", "fn_opts", "m,h=a v=1,w=2i 10\nm,h=b v=3,w=5i 20\nm,h=a v=4,w=1i 30\n", [
        "SELECT top(v + 1, 1.5) FROM m",
        "SELECT top(v, h, 0) FROM m",
        "SELECT sample(v + 1, 0) FROM m",
        "SELECT integral(v + 1, 0s) FROM m",
        "SELECT integral(v + 1, 1) FROM m",
        "SELECT derivative(v + 1, 1) FROM m",
        "SELECT moving_average(v + 1, 1) FROM m",
        "SELECT moving_average(v, 2.5) FROM m",
        "SELECT moving_average(v, h) FROM m",
        "SELECT moving_average(v, true) FROM m",
        "SELECT derivative(v, h) FROM m",
        "SELECT derivative(v, 1.5) FROM m",
        "SELECT derivative(v, true) FROM m",
        "SELECT derivative(v, /a/) FROM m",
        "SELECT derivative(v, max(v)) FROM m",
        "SELECT non_negative_derivative(v, 1) FROM m",
        "SELECT elapsed(v, 1.5) FROM m",
        "SELECT sample(v, h) FROM m",
        "SELECT sample(v, -2) FROM m",
        "SELECT sample(v, 1) FROM m",
        "SELECT top(v, true) FROM m",
        "SELECT top(v, 1s) FROM m",
        "SELECT top(v + 1, 'x', 1) FROM m",
        "SELECT top(v, 'x', 1) FROM m",
        "SELECT top(v, 2.5, 1) FROM m",
        "SELECT percentile(v + 1, 'a') FROM m",
        "SELECT sample(v + 1, 'a') FROM m",
        "SELECT top(v, 1u) FROM m",
        "SELECT percentile(v, h) FROM m",
        "SELECT percentile(v, 1s) FROM m",
        "SELECT holt_winters(mean(v), h, 1) FROM m WHERE time > 0 AND time < 100 GROUP BY time(10ns)",
        "SELECT derivative(mean(v), 1) FROM m WHERE time > 0 AND time < 100 GROUP BY time(10ns)",
        "SELECT integral(v, 1.5) FROM m",
        "SELECT integral(v, h) FROM m",
        "SELECT derivative(v, 0s) FROM m",
        "SELECT derivative(v, -1s) FROM m",
        "SELECT elapsed(v, 0s) FROM m",
        "SELECT elapsed(v, 1) FROM m",
        "SELECT integral(v, 0s) FROM m",
        "SELECT integral(v, -1s) FROM m",
        "SELECT integral(v, 1) FROM m",
        "SELECT top(v, 1.5) FROM m",
        "SELECT top(v, 0) FROM m",
        "SELECT top(v, -1) FROM m",
        "SELECT top(v, 'a') FROM m",
        "SELECT top(v, h) FROM m",
        "SELECT bottom(v, h, w, 1) FROM m",
        "SELECT sample(v, 0) FROM m",
        "SELECT sample(v, 1.5) FROM m",
        "SELECT moving_average(v, 0) FROM m",
        "SELECT moving_average(v, 1) FROM m",
        "SELECT moving_average(v, 1.5) FROM m",
        "SELECT moving_average(v, -1) FROM m",
        "SELECT moving_average(v, 2) FROM m",
        "SELECT derivative(v, 1s) FROM m",
        "SELECT integral(v, 1ns) FROM m",
        "SELECT elapsed(v, 1ns) FROM m",
        "SELECT top(v, h, 2) FROM m",
        "SELECT percentile(v, 50.5) FROM m",
    ])


def top_under_limit_case():
    """InfluxDB 1.6 feeds a lone `top(f, n)`/`bottom(f, n)` under `LIMIT` only the first
    LIMIT + OFFSET + 1 points of each group (in the statement's time order)."""
    body = (
        'cpu,host=a,region=us v=1,i=10i,s="x" 0\n'
        'cpu,host=b,region=eu v=4,i=40i,s="x" 5000000000\n'
        'cpu,host=a,region=us v=2,i=20i,s="y" 10000000000\n'
        'cpu,host=b,region=eu v=5.25,i=50i,s="w" 15000000000\n'
        'cpu,host=a,region=us v=-3.5,i=-5i,s="z" 20000000000\n'
        'cpu,host=b,region=eu v=0,i=0i,s="" 25000000000\n'
        'cpu,host=c v=100,i=7i 30000000000\n'
        'mem,host=a used=2.5 0\n'
        'mem,host=b used=3.5 10000000000\n'
        'mem,host=a used=1.5 60000000000\n'
    )
    return queries_case("selectors--top-under-limit", "top_limit", body, [
        'SELECT top(v, 1) FROM cpu LIMIT 1',
        'SELECT top(v, 1) FROM cpu LIMIT 2',
        'SELECT top(v, 1) FROM cpu LIMIT 3',
        'SELECT top(v, 1) FROM cpu LIMIT 5',
        'SELECT top(v, 1) FROM cpu LIMIT 6',
        'SELECT top(v, 1) FROM cpu',
        "SELECT top(v, 1) FROM cpu WHERE host = 'a' LIMIT 1",
        "SELECT top(v, 1) FROM cpu WHERE host != 'c' LIMIT 1",
        'SELECT top(i, 1) FROM cpu LIMIT 1',
        'SELECT bottom(v, 1) FROM cpu LIMIT 1',
        'SELECT top(v, 1) FROM cpu LIMIT 1 OFFSET 1',
        'SELECT top(v,1) FROM cpu GROUP BY host LIMIT 1',
        'SELECT top(v, 1) FROM cpu WHERE time >= 5s LIMIT 1',
        'SELECT top(v, 1), host FROM cpu LIMIT 1',
        'SELECT top(v, host, 1) FROM cpu LIMIT 1',
        'SELECT top(v, 1) FROM cpu WHERE time >= 0 AND time < 40s GROUP BY time(20s) LIMIT 1',
        'SELECT top(v, 1) FROM cpu WHERE time >= 0 AND time < 40s GROUP BY time(20s) LIMIT 2',
        'SELECT top(v, 1) FROM cpu WHERE time >= 0 AND time < 40s GROUP BY time(10s) LIMIT 1 OFFSET 1',
        'SELECT top(v, 1) FROM cpu WHERE time >= 0 AND time < 40s GROUP BY time(10s) LIMIT 3',
        'SELECT top(v, 1) FROM cpu ORDER BY time DESC LIMIT 1',
        'SELECT top(v, 1) FROM cpu ORDER BY time DESC LIMIT 3',
        'SELECT top(used, 1) FROM mem LIMIT 1',
        'SELECT top(v, 1) FROM cpu LIMIT 0',
        'SELECT top(v, 1) FROM cpu,mem LIMIT 1',
        'SELECT top(v, 1) FROM cpu WHERE v > 1 LIMIT 1',
        'SELECT top(v, 2) FROM cpu LIMIT 1',
        'SELECT bottom(v, 1) FROM cpu GROUP BY host LIMIT 1',
        'SELECT top(v, 1) FROM cpu GROUP BY * LIMIT 2',
        'SELECT top(v, 1) FROM cpu LIMIT 1 SLIMIT 1',
        'SELECT bottom(i, 1), s FROM cpu ORDER BY time DESC LIMIT 2',
        'SELECT top(v, 2) FROM cpu LIMIT 2',
        'SELECT top(v, 2) FROM cpu LIMIT 6',
        'SELECT top(v, 2) FROM cpu LIMIT 2 OFFSET 1',
        'SELECT top(v, 2) FROM cpu GROUP BY host LIMIT 2',
        'SELECT bottom(v, 2) FROM cpu GROUP BY host LIMIT 3',
        'SELECT top(v, 2) FROM cpu WHERE time >= 0 AND time < 40s GROUP BY time(20s) LIMIT 2',
        'SELECT top(v, 2) FROM cpu WHERE time >= 0 AND time < 40s GROUP BY time(20s) LIMIT 3',
        'SELECT top(v, 2), host FROM cpu LIMIT 2',
        'SELECT top(v, 2) FROM cpu ORDER BY time DESC LIMIT 2',
        'SELECT top(v, host, 2) FROM cpu LIMIT 2',
        'SELECT bottom(i, 3) FROM cpu LIMIT 4',
        'SELECT top(v, 3) FROM cpu LIMIT 3',
        'SELECT bottom(v, 2) FROM cpu LIMIT 2',
        'SELECT top(v, 3) FROM cpu LIMIT 3 OFFSET 1',
    ])


def time_terms_case():
    """The `time` comparisons InfluxDB 1.6 refuses or reads its own way: `!=`, values
    that are no time, malformed or out-of-range time strings, Go's wrapping arithmetic,
    and zone-less strings read in `tz()`."""
    body = (
        'cpu,host=a,region=us v=1,i=10i 0\n'
        'cpu,host=b,region=eu v=4,i=40i 5000000000\n'
        'cpu,host=a,region=us v=2,i=20i 10000000000\n'
        'cpu,host=b,region=eu v=5.25,i=50i 15000000000\n'
        'cpu,host=a,region=us v=-3.5,i=-5i 20000000000\n'
        'cpu,host=c v=100,i=7i 30000000000\n'
    )
    return queries_case("where--time-terms", "time_terms", body, [
        "SELECT v FROM cpu WHERE time != 10s",
        "SELECT v FROM cpu WHERE time <> 10s",
        "SELECT v FROM cpu WHERE host = 'a' AND time != 10s",
        "SELECT v FROM cpu WHERE host = 'a' OR 10s != time",
        "SELECT v FROM cpu WHERE time != now()",
        "SELECT v FROM cpu WHERE time != 'abc'",
        "SELECT v FROM cpu WHERE time =~ /x/",
        "SELECT v FROM cpu WHERE time !~ /x/",
        "SELECT v FROM cpu WHERE time > v",
        "SELECT v FROM cpu WHERE v != time",
        "SELECT v FROM cpu WHERE time > true",
        "SELECT v FROM cpu WHERE time > mean(v)",
        "SELECT v FROM cpu WHERE time < 10s + 'abc'",
        "SELECT v FROM cpu WHERE time > 5s + 1",
        "SELECT v FROM cpu WHERE time > '1970-01-01T00:00:10Z' + 1",
        "SELECT v FROM cpu WHERE time > 5s + 5s",
        "SELECT v FROM cpu WHERE time > 2 * 5s",
        "SELECT v FROM cpu WHERE time > 5s * 2",
        "SELECT v FROM cpu WHERE time > 10s / 2",
        "SELECT v FROM cpu WHERE time > 1 + 5s",
        "SELECT v FROM cpu WHERE time > 5000000000 * 2",
        "SELECT v FROM cpu WHERE time > 5000000000 + 5000000000",
        "SELECT v FROM cpu WHERE time > 5s + now() - now()",
        "SELECT v FROM cpu WHERE time > 5s - 5s + '1970-01-01T00:00:10Z'",
        "SELECT v FROM cpu WHERE time > '1970-01-01T00:00:10Z' - 1",
        "SELECT v FROM cpu WHERE time > 5000000000 / 0",
        "SELECT v FROM cpu WHERE time > 10s / 0",
        "SELECT v FROM cpu WHERE time > 5000000000.0 / 0",
        "SELECT v FROM cpu WHERE time > 20000000000 / 2",
        "SELECT count(v) FROM cpu WHERE time != 10s GROUP BY time(10s)",
        "SELECT v FROM cpu WHERE time < '1970-13-01'",
        "SELECT v FROM cpu WHERE time < '1970-02-30'",
        "SELECT v FROM cpu WHERE time < '1970-01-01x'",
        "SELECT v FROM cpu WHERE time < '1970-1-1'",
        "SELECT v FROM cpu WHERE time < '197-01-01'",
        "SELECT v FROM cpu WHERE time < ''",
        "SELECT v FROM cpu WHERE time < '1970-01-01 00:00:10'",
        "SELECT v FROM cpu WHERE time < '1970-01-01 0:00:10.5'",
        "SELECT v FROM cpu WHERE time < '1970-01-01 00:00:10.123456789'",
        "SELECT v FROM cpu WHERE time < '1970-01-01 00:00:10.1234567891'",
        "SELECT v FROM cpu WHERE time < '1970-01-01 00:00:10.'",
        "SELECT v FROM cpu WHERE time < '1970-01-01 00:00'",
        "SELECT v FROM cpu WHERE time < '1970-01-01 00:00:10Z'",
        "SELECT v FROM cpu WHERE time < '1970-01-01T00:00:10'",
        "SELECT v FROM cpu WHERE time < '1970-01-01T00:00:10,1Z'",
        "SELECT v FROM cpu WHERE time < '1970-01-01T00:00:10z'",
        "SELECT v FROM cpu WHERE time < '1970-01-01t00:00:10Z'",
        "SELECT v FROM cpu WHERE time < '1970-01-01T00:00:10-00:30'",
        "SELECT v FROM cpu WHERE time < '1970-01-01T24:00:00Z'",
        "SELECT v FROM cpu WHERE time < '1970-01-01T00:00:60Z'",
        "SELECT v FROM cpu WHERE time < '1970-01-01T00:00:10.123456789123Z'",
        "SELECT v FROM cpu WHERE time < '2262-04-11T23:47:16.854775806Z'",
        "SELECT v FROM cpu WHERE time < '2262-04-11T23:47:16.854775807Z'",
        "SELECT v FROM cpu WHERE time > '1677-09-21T00:12:43.145224195Z'",
        "SELECT v FROM cpu WHERE time > '1677-09-21T00:12:43.145224194Z'",
        "SELECT v FROM cpu WHERE time < '3000-01-01T00:00:00.5Z'",
        "SELECT v FROM cpu WHERE time < '3000-01-01'",
        "SELECT v FROM cpu WHERE time > '1000-01-01'",
        "SELECT v FROM cpu WHERE host = 'x' OR time < '3000-01-01'",
        "SELECT v FROM cpu WHERE time < '2262-04-11T23:47:16.854775807Z' AND time > 0",
        "SELECT v FROM cpu WHERE time < '2200-01-01T00:00:00Z' + 30000d",
        "SELECT v FROM cpu WHERE time > '1970-01-01T00:00:00Z' - 300000d",
        "SELECT v FROM cpu WHERE time > 9223372036854775807",
        "SELECT v FROM cpu WHERE time < -9223372036854775808",
        "SELECT v FROM cpu WHERE time < 9223372036854775807 + 1",
        "SELECT v FROM cpu WHERE time > '1970-01-01 00:00:10' tz('Asia/Kolkata')",
        "SELECT v FROM cpu WHERE time > '1970-01-01 05:30:10' tz('Asia/Kolkata')",
        "SELECT v FROM cpu WHERE time > '1970-01-01' tz('Asia/Kolkata')",
        "SELECT v FROM cpu WHERE time > '1970-01-01T00:00:10Z' tz('Asia/Kolkata')",
        "SELECT mean(v) FROM cpu WHERE time >= '1970-01-01 01:00:00' AND time < '1970-01-01 01:01:00' GROUP BY time(20s) tz('Europe/Paris')",
        "SELECT v FROM (SELECT v FROM cpu WHERE time > '1970-01-01 05:30:10' tz('Asia/Kolkata'))",
    ])


def pretty_errors_case():
    """`pretty=true` in the URL indents error bodies too (query and write); in a form
    body it changes nothing; Go's wording of malformed `params=`."""
    db = "pretty_errors"
    body = 'cpu,host=a v=1 0\ncpu,host=b v=4 5000000000\n'
    query = lambda params: {"method": "POST", "path": "/query", "params": params}
    return case("http-errors--pretty-errors", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], [
        query({"db": db, "q": "SELECT", "pretty": "true"}),
        query({"pretty": "true"}),
        query({"db": db, "q": "SELECT * FROM nosuchdb..cpu", "pretty": "true"}),
        query({"db": db, "q": "SELECT v FROM cpu", "pretty": "true"}),
        {"method": "POST", "path": "/write", "params": {"db": db, "pretty": "true"}, "body": "bad line"},
        {"method": "POST", "path": "/write", "params": {"db": "nosuch", "pretty": "true"}, "body": "m v=1"},
        q(db, "SELECT v FROM cpu WHERE v > $a", params="{bad"),
        q(db, "SELECT v FROM cpu WHERE v > $a", params='{"a":}'),
        q(db, "SELECT v FROM cpu WHERE v > $a", params="{"),
        q(db, "SELECT v FROM cpu WHERE v > $a", params="abc"),
        q(db, "SELECT v FROM cpu WHERE v > $a", params='{"a" 1}'),
        q(db, "SELECT v FROM cpu WHERE v > $a", params='{"a":1,}'),
        q(db, "SELECT v FROM cpu WHERE v > $a", params='{"a":1 "b":2}'),
        q(db, "SELECT v FROM cpu WHERE v > $a", params=" "),
        q(db, "SELECT v FROM cpu WHERE v > $a", params='{"a":1}x'),
        q(db, "SELECT v FROM cpu WHERE v > $a", params='{"a":1}', pretty="true"),
        q(db, "SELECT v FROM cpu WHERE v > $a", params='{bad', pretty="true"),
    ])


def show_time_terms_case():
    """SHOW statements ignore valid `time` terms where InfluxDB 1.6 does, but invalid
    ones fail them with its texts."""
    body = 'cpu,host=a v=1 0\ncpu,host=b v=2 10000000000\n'
    return queries_case("show-meta--time-terms", "show_time_terms", body, [
        "SHOW TAG KEYS WHERE time != 5s",
        "SHOW TAG KEYS WHERE time < '1970-13-01'",
        "SHOW TAG KEYS WHERE time < '3000-01-01'",
        "SHOW TAG KEYS WHERE time > 5s AND host = 'a'",
        "SHOW TAG VALUES WITH KEY = host WHERE time != 5s",
        "SHOW TAG VALUES WITH KEY = host WHERE time =~ /x/",
        "SHOW TAG VALUES WITH KEY = host WHERE time < '3000-01-01'",
        "SHOW TAG VALUES WITH KEY = host WHERE time > 5s",
        "SHOW TAG VALUES WITH KEY = host WHERE time < 'abc'",
        "SHOW TAG VALUES CARDINALITY WITH KEY = host WHERE time > v",
        "SHOW TAG VALUES EXACT CARDINALITY WITH KEY = host WHERE time < '1970-13-01'",
        "SHOW SERIES WHERE time != 5s",
        "SHOW SERIES WHERE time < '1970-13-01'",
        "SHOW SERIES WHERE time > v",
        "SHOW MEASUREMENTS WHERE time > v",
        "SHOW FIELD KEYS WHERE time > v",
        "DELETE FROM cpu WHERE time != 5s",
        "DELETE FROM cpu WHERE time < '1970-13-01'",
        "DELETE FROM cpu WHERE time < 'abc'",
        "DELETE FROM cpu WHERE time < '3000-01-01'",
        "DELETE WHERE time > v",
        "SELECT count(v) FROM cpu",
    ])


def selector_companions_case():
    """Beside a selector, a wildcard or regex prints the selected point's tags too (not
    only its fields), and sample() prints its points' other columns."""
    body = PROBE_CPU + 'mem,host=a free=10i,used=2.5 0\nmem,host=b free=20i,used=3.5 10000000000\n'
    return queries_case("selectors--companion-columns", "sel_companions", body, [
        "SELECT max(v), * FROM cpu",
        "SELECT max(v), * FROM cpu GROUP BY host",
        "SELECT max(v), *::tag FROM cpu",
        "SELECT max(v), *::field FROM cpu",
        "SELECT max(v), *::field, *::tag FROM cpu",
        "SELECT top(v, 2), * FROM cpu",
        "SELECT last(i), * FROM cpu WHERE host = 'a'",
        "SELECT min(v), * FROM cpu WHERE time >= 0 AND time < 40s GROUP BY time(20s)",
        "SELECT max(v), host, * FROM cpu",
        "SELECT max(v), i, * FROM cpu",
        "SELECT max(v) AS host, * FROM cpu",
        "SELECT *, max(v) FROM cpu",
        "SELECT max(v), /h.*/ FROM cpu",
        "SELECT max(v), /h.*/ FROM cpu GROUP BY host",
        "SELECT first(v), * FROM cpu GROUP BY region",
        "SELECT max(used), * FROM mem",
        "SELECT max(v), * FROM cpu, mem",
        "SELECT bottom(v, 1), *::tag FROM cpu",
        "SELECT percentile(v, 50), * FROM cpu",
        "SELECT max(v), * FROM (SELECT v, host FROM cpu)",
        "SELECT mean(v), * FROM cpu",
        "SELECT sample(v, 1), * FROM cpu WHERE host = 'c'",
        "SELECT sample(v, 1), i FROM cpu WHERE host = 'c'",
        "SELECT sample(v, 10), i, host FROM cpu WHERE host = 'a'",
        "SELECT sample(v, 10), * FROM cpu WHERE host = 'a'",
        "SELECT sample(i, 10), v FROM cpu GROUP BY host",
        "SELECT sample(v, 10), i FROM cpu WHERE time >= 0 AND time < 40s GROUP BY time(20s), host",
        "SELECT sample(s, 10), b FROM cpu WHERE host = 'b'",
    ])


def slimit_tag_sets_case():
    """SLIMIT/SOFFSET keep the tag sets InfluxDB 1.6 orders first: by the names of the
    tags a series has, then their values (a series lacking a GROUP BY tag comes first)."""
    body = (
        'cpu,host=a,region=us v=1 0\n'
        'cpu,host=b,region=eu v=4 5000000000\n'
        'cpu,host=a,region=us v=2 10000000000\n'
        'cpu,host=c v=100 30000000000\n'
        'cpu,host=d,region=ap,rack=r1 v=7 40000000000\n'
    )
    texts = []
    for group in ["*", "host, region", "region, host", "host", "region", "rack, host"]:
        for lim in ["SLIMIT 1", "SLIMIT 2", "SLIMIT 2 SOFFSET 1", "SLIMIT 3 SOFFSET 1", "SLIMIT 9"]:
            texts.append(f"SELECT v FROM cpu GROUP BY {group} {lim}")
    texts += [
        "SELECT count(v) FROM cpu GROUP BY * SLIMIT 2",
        "SELECT max(v) FROM cpu WHERE time >= 0 AND time < 60s GROUP BY time(20s), * SLIMIT 2",
        "SELECT v FROM cpu GROUP BY * ORDER BY time DESC SLIMIT 2",
        "SELECT v FROM cpu GROUP BY * SLIMIT 2 LIMIT 1",
    ]
    return queries_case("order-limit--slimit-tag-sets", "slimit_sets", body, texts)


def cq_policies_case():
    """CREATE CONTINUOUS QUERY checks every retention policy the qualified statement
    names, a dropped default one included, as InfluxDB 1.6 does."""
    db = "cq_policies"
    body = 'cpu,host=a v=1 0\n'
    create = lambda name, select: q(db, f"CREATE CONTINUOUS QUERY {name} ON {db} BEGIN {select} END")
    return case("continuous-query--retention-policies", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], [
        create("a", "SELECT mean(v) INTO m1 FROM nosuch.cpu GROUP BY time(1m)"),
        create("b", f"SELECT mean(v) INTO {db}.nosuch.m1 FROM cpu GROUP BY time(1m)"),
        create("c", "SELECT mean(v) INTO m1 FROM nosuchdb.autogen.cpu GROUP BY time(1m)"),
        create("d", "SELECT mean(v) INTO m1 FROM cpu GROUP BY time(1m)"),
        q(db, f"CREATE RETENTION POLICY rp4 ON {db} DURATION INF REPLICATION 1 DEFAULT"),
        create("e", "SELECT mean(v) INTO m1 FROM autogen.cpu GROUP BY time(1m)"),
        q(db, f"DROP RETENTION POLICY rp4 ON {db}"),
        create("f", "SELECT mean(v) INTO m2 FROM cpu GROUP BY time(1m)"),
        create("g", "SELECT mean(v) INTO m2 FROM autogen.cpu GROUP BY time(1m)"),
        create("h", "SELECT mean(v) INTO autogen.m2 FROM cpu GROUP BY time(1m)"),
        create("i", "SELECT mean(v) INTO autogen.m2 FROM autogen.cpu GROUP BY time(1m)"),
        create("j", "SELECT mean(v) INTO autogen.m2 FROM autogen./c.*/ GROUP BY time(1m)"),
        q(db, "SHOW CONTINUOUS QUERIES"),
    ])


def raw_fill_case():
    """fill(none) and fill(linear) need a function that fills anything (an aggregate,
    selector or transformation), with or without GROUP BY time."""
    body = 'cpu,host=a v=1 0\ncpu,host=b v=4 5000000000\ncpu,host=a v=2 10000000000\n'
    return queries_case("fill--raw-fill-options", "raw_fill", body, [
        "SELECT v FROM cpu fill(none)",
        "SELECT v FROM cpu fill(linear)",
        "SELECT v FROM cpu fill(null)",
        "SELECT v FROM cpu fill(0)",
        "SELECT v FROM cpu fill(previous)",
        "SELECT v FROM cpu GROUP BY host fill(none)",
        "SELECT v FROM cpu WHERE time > 0 fill(none)",
        "SELECT v FROM (SELECT v FROM cpu) fill(none)",
        "SELECT abs(v) FROM cpu fill(none)",
        "SELECT v + 1 FROM cpu fill(linear)",
        "SELECT *, abs(v) FROM cpu fill(none)",
        "SELECT derivative(v) FROM cpu fill(none)",
        "SELECT difference(v) FROM cpu fill(linear)",
        "SELECT max(v) FROM cpu fill(none)",
        "SELECT max(v), v FROM cpu fill(linear)",
        "SELECT v FROM cpu WHERE time >= 0 AND time < 20s GROUP BY time(5s) fill(none)",
        "SELECT v FROM cpu WHERE time >= 0 AND time < 20s GROUP BY time(5s) fill(0)",
    ])


def transform_call_arguments_case():
    """What a transformation may read, as InfluxDB 1.6 compiles it: any call needs GROUP
    BY time, and under it a call is required; the call is then checked as a column (a
    nested transformation, how the calls combine); a math function there compiles but
    fails as an unsupported call. Compile errors come for a measurement that does not
    exist too; a missing database comes first."""
    body = PROBE_CPU
    w40 = "WHERE time >= 0s AND time < 40s"
    texts = []
    for t in ["derivative", "non_negative_difference", "cumulative_sum", "elapsed"]:
        for arg in ["abs(v)", "difference(v)", "abs(mean(v))", "mean(v) * 2"]:
            texts.append(f"SELECT {t}({arg}) FROM cpu {w40}")
            texts.append(f"SELECT {t}({arg}) FROM cpu {w40} GROUP BY time(10s)")
    texts += [
        f"SELECT moving_average(abs(v), 2) FROM cpu {w40}",
        f"SELECT moving_average(abs(v), 2) FROM cpu {w40} GROUP BY time(10s)",
        f"SELECT moving_average(difference(mean(v)), 2) FROM cpu {w40}",
        f"SELECT derivative(difference(mean(v))) FROM cpu {w40} GROUP BY time(10s)",
        f"SELECT derivative((mean(v))) FROM cpu {w40} GROUP BY time(10s)",
        f"SELECT derivative(pow(mean(v), 2)) FROM cpu {w40} GROUP BY time(10s)",
        f"SELECT mean(v), derivative(abs(mean(v))) FROM cpu {w40} GROUP BY time(10s)",
        f"SELECT abs(derivative(mean(v))) FROM cpu {w40} GROUP BY time(10s)",
        f"SELECT holt_winters(abs(v), 2, 0) FROM cpu {w40} GROUP BY time(10s)",
        f"SELECT holt_winters(abs(mean(v)), 2, 0) FROM cpu {w40} GROUP BY time(10s)",
        f"SELECT holt_winters(abs(v), 2, 0) FROM cpu {w40}",
        f"SELECT derivative(abs(v)), max(v) FROM cpu {w40}",
        f"SELECT derivative(abs(v)) FROM cpu {w40} GROUP BY host",
        f"SELECT exponential_moving_average(abs(v), 2) FROM cpu {w40}",
        f"SELECT exponential_moving_average(v, 2) FROM cpu {w40} GROUP BY time(10s)",
        f"SELECT exponential_moving_average(mean(v) * 2, 2) FROM cpu {w40} GROUP BY time(10s)",
        f"SELECT exponential_moving_average(abs(mean(v)), 2) FROM cpu {w40} GROUP BY time(10s)",
        "SELECT derivative(mean(v)) FROM nosuch",
        "SELECT derivative(abs(v)) FROM nosuch",
        f"SELECT derivative(abs(mean(v))) FROM nosuch {w40} GROUP BY time(10s)",
        f"SELECT derivative(abs(mean(v))) FROM cpu WHERE time >= 1000s AND time < 1040s GROUP BY time(10s)",
        "SELECT holt_winters(v, 0, 0) FROM nosuch",
        "SELECT holt_winters(mean(v), 0, 0) FROM nosuch",
        "SELECT holt_winters(mean(v), 2, -1) FROM nosuch",
        "SELECT holt_winters(mean(v), 2, 'x') FROM nosuch",
        "SELECT holt_winters(mean(v), 2.5, 1) FROM nosuch",
        "SELECT v FROM nodb..cpu GROUP BY time(1s)",
        "SELECT derivative(v) FROM nodb..cpu GROUP BY time(1s)",
    ]
    for f in ["exponential_moving_average", "triple_exponential_derivative",
              "chande_momentum_oscillator", "kaufmans_efficiency_ratio"]:
        for a in ["v", "v, 'x'", "v, 0", "v, 2.5", "v, 2, -1", "v, 2, -2", "v, 2, 0",
                  "v, 2, 'x'", "v, 2, 1, 'none'", "v, 2, 1, 'bad'", "v, 2, 1, 3",
                  "v, 2, 1, 'simple', 5"]:
            texts.append(f"SELECT {f}({a}) FROM nosuch")
    return queries_case("transformations--call-arguments", "tr_call_args", body, texts)


def column_kinds_case():
    """How columns combine (InfluxDB's last compile check), for any source: a field or
    tag read outside a call sits only beside one selector, which then evaluates the
    column over the point it selected (max(v) * 10 + v, abs(v))."""
    body = PROBE_CPU
    return queries_case("selectors--expressions-beside", "sel_beside", body, [
        "SELECT mean(v), v FROM nosuch",
        "SELECT max(v), min(v), v FROM nosuch",
        "SELECT mean(v), v FROM nodb..cpu",
        "SELECT mean(v), v FROM sel_beside.nrp.cpu",
        "SELECT max(*), host FROM cpu",
        "SELECT max(*), v FROM cpu",
        "SELECT max(/v/), v FROM cpu",
        "SELECT percentile(v, 50), host FROM cpu",
        "SELECT percentile(v, 50), max(v), host FROM cpu",
        "SELECT top(v, host, 2), v FROM cpu",
        "SELECT top(v, host, 2), max(v) FROM cpu",
        "SELECT count(v), host FROM cpu",
        "SELECT mean(v) + v FROM cpu",
        "SELECT max(v) + v FROM cpu",
        "SELECT max(v) * 10 + v FROM cpu",
        "SELECT max(v) * 10 + 1, v FROM cpu",
        "SELECT abs(v), max(v) FROM cpu",
        "SELECT abs(v), mean(v) FROM cpu",
        "SELECT abs(max(v)), v FROM cpu",
        "SELECT min(v), v * 2, abs(v) + i FROM cpu GROUP BY host",
        "SELECT max(v), v - i FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(20s)",
        "SELECT first(v), last(v), v FROM cpu",
        "SELECT *, mean(v) FROM cpu",
        "SELECT count(distinct(v)), host FROM cpu",
        "SELECT integral(v), v FROM cpu",
        "SELECT elapsed(v), v FROM cpu",
        "SELECT derivative(v), abs(v) FROM cpu",
        "SELECT mean(v), v FROM cpu WHERE time > now()",
        "SELECT max(m), host FROM (SELECT mean(v) AS m FROM cpu GROUP BY host)",
    ])


def infinite_results_case():
    """An infinite number cannot be JSON: InfluxDB 1.6 answers 200 with the text of Go's
    encoder error instead of the document (instead of that chunk, chunked); NaN is null."""
    body = PROBE_CPU
    db = "math_inf"
    checks = [q(db, text) for text in [
        "SELECT ln(v) FROM cpu WHERE host = 'b'",
        "SELECT log2(v) FROM cpu",
        "SELECT log(v, 10) FROM cpu WHERE host = 'b'",
        "SELECT pow(v, -1) FROM cpu WHERE host = 'b'",
        "SELECT pow(v, 200) FROM cpu WHERE host = 'c'",
        "SELECT ln(v) FROM cpu WHERE host = 'b' AND time < 20s",
        "SELECT ln(v) * 0 FROM cpu WHERE host = 'b'",
        "SELECT sqrt(v), acos(v) FROM cpu WHERE host = 'a'",
        "SELECT ln(sum(v)) FROM cpu WHERE host = 'b' AND time > 20s",
        "SELECT max(v) FROM cpu; SELECT ln(v) FROM cpu WHERE host = 'b'",
    ]]
    checks.append(q(db, "SELECT v FROM cpu WHERE host = 'a'; SELECT ln(v) FROM cpu WHERE host = 'b'; SELECT v FROM cpu WHERE host = 'c'", chunked="true"))
    checks.append(q(db, "SELECT ln(v) FROM cpu WHERE host = 'b'", chunked="true", chunk_size="1"))
    checks.append(q(db, "SELECT ln(v) FROM cpu WHERE host = 'b'", pretty="true"))
    return case("math--infinite-results", [q("", f'CREATE DATABASE "{db}"'), w(db, body)], checks)


def distinct_order_case():
    """distinct() lists a window's values by their earliest point, then by value, with
    ORDER BY time DESC too (only the windows come backwards)."""
    body = ('dd,host=a s="z",v=5 0\ndd,host=b s="a",v=9 0\ndd,host=a s="m",v=1 10\n'
            'dd,host=b s="z",v=5 20\ndd,host=b s="q",v=2 20\n')
    return queries_case("aggregates--distinct-order", "agg_distinct_order", body, [
        "SELECT distinct(s) FROM dd",
        "SELECT distinct(s) FROM dd ORDER BY time DESC",
        "SELECT distinct(v) FROM dd",
        "SELECT distinct(v) FROM dd ORDER BY time DESC",
        "SELECT distinct(s) FROM dd GROUP BY host ORDER BY time DESC",
        "SELECT distinct(v) FROM dd WHERE time >= 0 AND time < 30 GROUP BY time(15ns)",
        "SELECT distinct(v) FROM dd WHERE time >= 0 AND time < 30 GROUP BY time(15ns) ORDER BY time DESC",
        "SELECT distinct(v) FROM dd ORDER BY time DESC LIMIT 2 OFFSET 1",
        "SELECT distinct(v) FROM dd ORDER BY time DESC LIMIT 1",
        "SELECT count(distinct(s)) FROM dd ORDER BY time DESC",
    ])


def percentile_first_window_case():
    """A lone percentile() whose first reduced window selects nothing (one point at
    level 40) answers no series; later such windows print as windows without points,
    and a series none of whose windows selects anything prints nothing. SLIMIT/SOFFSET
    cut the tag sets first; another call beside it changes all that."""
    body = (
        'cpu,host=a,region=us v=1 0\ncpu,host=b,region=eu v=4 5000000000\n'
        'cpu,host=a,region=us v=2 10000000000\ncpu,host=b,region=eu v=5.25 15000000000\n'
        'cpu,host=a,region=us v=-3.5 20000000000\ncpu,host=b,region=eu v=0 25000000000\n'
        'cpu,host=c v=100 30000000000\n'
        'm1,g=x v=1 0\nm1,g=x v=2 1000000000\nm1,g=x v=3 10000000000\nm1,g=y v=4 0\n'
        'm1,g=y v=5 1000000000\nm1,g=y v=6 10000000000\nm1,g=y v=7 11000000000\n'
        'm2,g=x v=1 0\nm2,g=x v=2 1000000000\nm2,g=x v=3 10000000000\n'
        'm2,g=x v=4 11000000000\nm2,g=y v=5 0\nm2,g=y v=6 10000000000\n'
        'm2,g=y v=7 11000000000\nm3,g=x v=1 10000000000\nm3,g=y v=2 0\n'
        'm3,g=y v=3 1000000000\nm4,g=x v=1 0\nm4,g=x v=2 1000000000\nm4,g=y v=3 0\n'
        'm4,g=z v=4 0\nm4,g=z v=5 1000000000\n'
    )
    w20 = "WHERE time >= 0s AND time < 20s"
    w60 = "WHERE time >= 0s AND time < 60s"
    return queries_case("aggregates--percentile-first-window", "agg_pct_first", body, [
        "SELECT percentile(v, 40) FROM cpu GROUP BY region",
        "SELECT percentile(v, 40) FROM cpu GROUP BY region ORDER BY time DESC",
        "SELECT percentile(v, 40), host FROM cpu GROUP BY region",
        "SELECT percentile(v, 40), max(v) FROM cpu GROUP BY region",
        "SELECT percentile(v, 60) FROM cpu GROUP BY region",
        "SELECT percentile(v, 40) FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(5s)",
        "SELECT percentile(v, 40) FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s)",
        f"SELECT percentile(v, 40) FROM cpu {w60} GROUP BY time(10s) fill(3)",
        f"SELECT percentile(v, 40) FROM cpu {w60} GROUP BY time(20s), host",
        f"SELECT percentile(v, 40) FROM cpu {w60} GROUP BY time(20s), host fill(none)",
        f"SELECT percentile(v, 40) FROM cpu {w60} GROUP BY time(20s), host ORDER BY time DESC",
        f"SELECT percentile(v, 40) FROM cpu {w60} GROUP BY time(20s), region",
        f"SELECT percentile(v, 40) FROM cpu {w60} AND host != 'c' GROUP BY time(20s), region",
        f"SELECT percentile(v, 30) FROM cpu {w60} GROUP BY time(15s), region",
        "SELECT percentile(v, 40) FROM m4 GROUP BY g",
        "SELECT percentile(v, 40) FROM m4 GROUP BY g ORDER BY time DESC",
        f"SELECT percentile(v, 40) FROM m1 {w20} GROUP BY time(10s), g",
        f"SELECT percentile(v, 40) FROM m1 {w20} GROUP BY time(10s), g fill(none)",
        f"SELECT percentile(v, 40) FROM m1 {w20} GROUP BY time(10s), g fill(7)",
        f"SELECT percentile(v, 40) FROM m2 {w20} GROUP BY time(10s), g fill(previous)",
        f"SELECT percentile(v, 40) FROM m2 {w20} GROUP BY time(10s), g ORDER BY time DESC",
        f"SELECT percentile(v, 40), g FROM m2 {w20} GROUP BY time(10s)",
        f"SELECT percentile(v, 40) FROM m3 {w20} GROUP BY time(10s), g",
        f"SELECT percentile(v, 40) FROM m3 {w20} GROUP BY time(10s), g ORDER BY time DESC",
        f"SELECT percentile(v, 40) FROM m3 {w20} GROUP BY time(10s), g fill(none)",
        "SELECT percentile(v, 40) FROM m3, m4 GROUP BY g",
        f"SELECT percentile(v, 40) FROM m4, m3 {w20} GROUP BY time(10s), g",
        f"SELECT percentile(v, 40) FROM m3, m4 {w20} GROUP BY time(10s), g ORDER BY time DESC",
        "SELECT percentile(v, 40) FROM cpu GROUP BY region SLIMIT 2",
        "SELECT percentile(v, 40) FROM cpu GROUP BY region SOFFSET 1",
        "SELECT percentile(v, 40) FROM m4 GROUP BY g SLIMIT 1 SOFFSET 1",
        f"SELECT percentile(v, 40) FROM m2 {w20} GROUP BY time(10s), g SLIMIT 1 SOFFSET 1",
        "SELECT percentile(v, 10) FROM cpu GROUP BY host",
        "SELECT percentile(v, 101) FROM cpu GROUP BY host",
        "SELECT percentile(v, 0) FROM cpu",
    ])


def slimit_before_conditions_case():
    """SLIMIT/SOFFSET cut the tag sets the index lists for the condition's tag terms
    before anything is read: a field or time term does not bring the next tag set in
    (GROUP BY host SLIMIT 1 WHERE v > 3 answers nothing when host a has no such v)."""
    body = (
        'cpu,host=a,region=us v=1,s="x" 0\ncpu,host=b,region=eu v=4,s="x" 5000000000\n'
        'cpu,host=a,region=us v=2,s="y" 10000000000\ncpu,host=b,region=eu v=5.25,s="w" 15000000000\n'
        'cpu,host=a,region=us v=-3.5,s="z" 20000000000\ncpu,host=b,region=eu v=0,s="" 25000000000\n'
        'cpu,host=c v=100 30000000000\nmem,host=a free=10i 0\nmem,host=b free=20i 10000000000\n'
    )
    return queries_case("order-limit--slimit-before-conditions", "ol_slimit_cond", body, [
        "SELECT v FROM cpu WHERE v > 3 GROUP BY host SLIMIT 1",
        "SELECT v FROM cpu WHERE v > 3 GROUP BY host SOFFSET 1",
        "SELECT v FROM cpu WHERE time > 22s GROUP BY host SLIMIT 1",
        "SELECT max(v) FROM cpu WHERE v > 3 GROUP BY host SLIMIT 1",
        "SELECT max(v) FROM cpu WHERE time > 22s GROUP BY host SLIMIT 1",
        "SELECT v FROM cpu WHERE host != 'a' GROUP BY host SLIMIT 1",
        "SELECT v FROM cpu WHERE s = 'w' GROUP BY host SLIMIT 1",
        "SELECT v FROM cpu WHERE s = 'w' GROUP BY host SLIMIT 2 SOFFSET 1",
        "SELECT v FROM cpu WHERE v > 3 GROUP BY region SLIMIT 2",
        "SELECT v FROM cpu WHERE v > 3 GROUP BY * SLIMIT 2",
        "SELECT count(v) FROM cpu WHERE v > 0 GROUP BY host SLIMIT 2",
        "SELECT v FROM cpu SLIMIT 1",
        "SELECT v FROM cpu SOFFSET 1",
        "SELECT v FROM cpu WHERE v > 3 SLIMIT 1",
        "SELECT mean(v) FROM cpu WHERE time >= 0s AND time < 40s AND v > 3 GROUP BY time(20s), host SLIMIT 1",
        "SELECT v FROM cpu, mem WHERE v > 3 GROUP BY host SLIMIT 1",
        "SELECT free FROM mem WHERE free > 15 GROUP BY host SLIMIT 1",
        "SELECT v FROM cpu WHERE host =~ /b|c/ GROUP BY host SLIMIT 1 SOFFSET 1",
        "SELECT v FROM cpu WHERE v > 3 GROUP BY host ORDER BY time DESC SLIMIT 1",
        "SELECT v FROM cpu WHERE v > 3 GROUP BY host SLIMIT 1 LIMIT 1",
    ])


def type_errors_without_series_case():
    """An aggregate of a type it does not take fails only when InfluxDB builds its
    iterator: for series of the shard groups in range whose tags may match (a field term
    does not narrow them); otherwise the statement answers nothing."""
    texts = [
        "SELECT mean(s) FROM cpu WHERE time > now()",
        "SELECT mean(s) FROM cpu WHERE host = 'zz'",
        "SELECT mean(s) FROM cpu WHERE host = 'c'",
        "SELECT mean(s) FROM cpu WHERE v > 1000",
        "SELECT mean(s) FROM cpu WHERE time > 1000s AND time < 2000s",
        "SELECT mean(s) FROM cpu WHERE host = 'a' AND time > 25s",
        "SELECT mean(s), mean(v) FROM cpu WHERE host = 'zz'",
        "SELECT sum(b) FROM cpu WHERE region = 'x'",
        "SELECT mean(s) FROM cpu WHERE s = 'nope'",
        "SELECT mean(s) FROM cpu GROUP BY host",
        "SELECT stddev(s) FROM cpu WHERE region =~ /a|b/ ORDER BY time DESC",
        "SELECT spread(s) FROM cpu WHERE region = 'b' GROUP BY host fill(previous)",
        "SELECT mean(s) FROM cpu, mem WHERE host = 'zz'",
    ]
    return queries_case("aggregates--type-errors-without-series", "agg_type_no_series",
                        PROBE_CPU + 'mem,host=a free=10i 0\n', texts)


SUBQUERY_BODY = (
    'cpu,host=a v=1 0\ncpu,host=a v=2 5000000000\ncpu,host=a i=3i 12000000000\n'
    'cpu,host=a v=4,i=5i 20000000000\ncpu,host=b v=10 0\ncpu,host=b v=20,i=1i 12000000000\n'
    'cpu,host=b v=30 25000000000\ncpu,host=c v=7 40000000000\n'
)


def subquery_outer_options_case():
    """What a subquery takes from the query around it, as InfluxDB 1.6 runs it: the outer
    time range narrows it (a window the outer start cuts keeps its start time, and a raw
    outer query prints it), an aggregate subquery gives no empty windows (fill(null)
    runs as fill(none)), the outer direction reaches it (LIMIT keeps the last rows under
    ORDER BY time DESC) and an explicit opposite ORDER BY fails; a raw outer query prints
    every row, also one without a value in its columns; an outer aggregate without GROUP
    BY time stops at a row before its range; a tag the subquery selected is a field
    (listed by *, not by count(*), kept beside GROUP BY); a tag only the outer GROUP BY
    gave it prints nothing."""
    return queries_case("subquery--outer-options", "sq_outer", SUBQUERY_BODY, [
        "SELECT x FROM (SELECT v AS x, i FROM cpu) WHERE host = 'a'",
        'SELECT x FROM (SELECT v AS x, i FROM cpu)',
        'SELECT x FROM (SELECT v AS x, i, host FROM cpu)',
        'SELECT x, host FROM (SELECT v AS x, i FROM cpu)',
        'SELECT * FROM (SELECT v AS x, i, host FROM cpu)',
        'SELECT * FROM (SELECT v AS x, i FROM cpu)',
        'SELECT * FROM (SELECT v AS x, i, host FROM cpu) GROUP BY host',
        'SELECT * FROM (SELECT v AS x FROM cpu) GROUP BY host',
        'SELECT x FROM (SELECT v AS x FROM cpu) WHERE time > 5s',
        'SELECT * FROM (SELECT count(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(5s))',
        'SELECT * FROM (SELECT count(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(5s) fill(0))',
        'SELECT * FROM (SELECT count(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(5s) fill(null))',
        'SELECT * FROM (SELECT count(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(5s) fill(none))',
        'SELECT * FROM (SELECT mean(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(5s))',
        'SELECT * FROM (SELECT mean(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(5s) fill(null))',
        'SELECT * FROM (SELECT mean(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(5s) fill(1))',
        'SELECT * FROM (SELECT count(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(5s), host)',
        'SELECT * FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s)) WHERE time > 10s AND time < 80s',
        'SELECT * FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s)) WHERE time > 11s AND time < 80s',
        'SELECT * FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s)) WHERE time >= 10s AND time < 80s',
        'SELECT * FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s)) WHERE time > 1s AND time < 80s',
        'SELECT * FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s)) WHERE time < 21s',
        'SELECT * FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s)) WHERE time < 20s',
        'SELECT * FROM (SELECT v AS x FROM cpu WHERE time >= 0s AND time < 40s) WHERE time > 5s AND time < 80s',
        'SELECT count(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s)) WHERE time > 10s AND time < 80s',
        'SELECT count(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s)) WHERE time > 10s AND time < 80s GROUP BY time(20s)',
        'SELECT x FROM (SELECT max(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s), host) ORDER BY time DESC',
        'SELECT x FROM (SELECT max(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s), host)',
        'SELECT x FROM (SELECT v AS x FROM cpu) ORDER BY time DESC',
        'SELECT x, host FROM (SELECT v AS x FROM cpu) ORDER BY time DESC',
        'SELECT v FROM cpu ORDER BY time DESC',
        'SELECT v, host FROM cpu ORDER BY time DESC',
        'SELECT sum(v) * 2 FROM cpu',
        'SELECT sum(*) FROM cpu',
        'SELECT sum(*) + mean(*) FROM cpu',
        'SELECT max(*) * 2 FROM cpu',
        'SELECT top(*, 2) FROM cpu',
        'SELECT count(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s)) WHERE time >= 10s AND time < 80s',
        'SELECT count(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s)) WHERE time > 5s AND time < 80s',
        'SELECT count(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s)) WHERE time > 15s AND time < 80s',
        'SELECT count(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s)) WHERE time >= 0s AND time < 80s',
        'SELECT count(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s))',
        'SELECT count(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s)) WHERE time < 15s',
        'SELECT count(x), sum(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s)) WHERE time > 10s AND time < 30s',
        'SELECT count(x) FROM (SELECT v AS x FROM cpu WHERE time >= 0s AND time < 40s) WHERE time > 5s AND time < 80s',
        'SELECT count(x) FROM (SELECT v AS x FROM cpu) WHERE time > 5s AND time < 80s',
        'SELECT max(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s)) WHERE time > 10s AND time < 80s',
        'SELECT max(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s)) WHERE time > 1s AND time < 80s',
        'SELECT max(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s)) WHERE time > 1s',
        'SELECT * FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s)) WHERE time > 1s',
        'SELECT * FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 5s GROUP BY time(10s)) WHERE time < 30s',
        'SELECT * FROM (SELECT sum(v) AS x FROM cpu GROUP BY time(10s)) WHERE time > 1s AND time < 30s',
        'SELECT * FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s)) WHERE time > 1s AND time < 30s AND x > 0',
        'SELECT x FROM (SELECT v AS x, i FROM cpu) WHERE time > 1s',
        'SELECT x FROM (SELECT v AS x, i FROM cpu) WHERE x > 1 OR i > 0',
        'SELECT x FROM (SELECT v AS x, i FROM cpu) WHERE i > 0',
        'SELECT x, i FROM (SELECT v AS x, i FROM cpu)',
        'SELECT x FROM (SELECT v AS x, i FROM cpu) GROUP BY host',
        'SELECT x FROM (SELECT mean(v) AS x, count(i) FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s))',
        'SELECT x + 1 FROM (SELECT v AS x, i FROM cpu)',
        'SELECT x, x + 1 FROM (SELECT v AS x, i FROM cpu)',
        'SELECT * FROM (SELECT * FROM cpu)',
        'SELECT v FROM (SELECT * FROM cpu)',
        'SELECT max(v) FROM (SELECT * FROM cpu)',
        'SELECT count(x) FROM (SELECT mean(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s), host)',
        'SELECT sum(x) FROM (SELECT v AS x FROM cpu GROUP BY host) WHERE time >= 0s AND time < 40s GROUP BY time(20s)',
        'SELECT count(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s), host) WHERE time > 1s',
        'SELECT count(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s), host) WHERE time > 1s GROUP BY host',
        'SELECT count(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s), host) WHERE time > 1s GROUP BY host ORDER BY time DESC',
        'SELECT count(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s), host) WHERE time > 11s GROUP BY host',
        'SELECT count(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s), host) WHERE time > 11s GROUP BY host ORDER BY time DESC',
        'SELECT count(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s), host) WHERE time > 21s GROUP BY host',
        'SELECT count(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s), host) WHERE time > 21s GROUP BY host ORDER BY time DESC',
        'SELECT x FROM (SELECT v AS x FROM cpu LIMIT 2) ORDER BY time DESC',
        'SELECT x FROM (SELECT v AS x FROM cpu ORDER BY time DESC LIMIT 2)',
        'SELECT x FROM (SELECT v AS x FROM cpu LIMIT 2 OFFSET 1) ORDER BY time DESC',
        'SELECT x FROM (SELECT v AS x FROM cpu GROUP BY host) GROUP BY host SLIMIT 1 SOFFSET 1',
        'SELECT nosuch FROM (SELECT v AS x FROM cpu)',
        'SELECT nosuch, x FROM (SELECT v AS x, i FROM cpu)',
        'SELECT x, host FROM (SELECT v AS x, i FROM cpu) WHERE time > 5s',
        'SELECT x FROM (SELECT mean(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s) fill(previous))',
        'SELECT x FROM (SELECT mean(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s) fill(linear))',
        'SELECT x FROM (SELECT count(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s) fill(none))',
        'SELECT x FROM (SELECT derivative(mean(v)) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(5s))',
        'SELECT x FROM (SELECT difference(count(v)) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(5s))',
        'SELECT x FROM (SELECT cumulative_sum(count(v)) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(5s))',
        'SELECT x FROM (SELECT moving_average(count(v), 2) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(5s))',
        'SELECT x FROM (SELECT count(v) AS x, mean(v) FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(5s))',
        'SELECT x FROM (SELECT v AS x FROM cpu ORDER BY time ASC LIMIT 2) ORDER BY time DESC',
        'SELECT x FROM (SELECT v AS x FROM cpu ORDER BY time DESC LIMIT 2) ORDER BY time DESC',
        'SELECT x FROM (SELECT v AS x FROM cpu ORDER BY time DESC LIMIT 2) ORDER BY time ASC',
        'SELECT x FROM (SELECT v AS x FROM cpu ORDER BY time ASC LIMIT 2) ORDER BY time ASC',
        'SELECT max(x) FROM (SELECT v AS x FROM cpu ORDER BY time DESC)',
        'SELECT x FROM (SELECT x FROM (SELECT v AS x FROM cpu ORDER BY time DESC) ORDER BY time DESC)',
        'SELECT x FROM (SELECT x FROM (SELECT v AS x FROM cpu ORDER BY time DESC) ORDER BY time DESC) ORDER BY time DESC',
        'SELECT host FROM (SELECT v AS x, i FROM cpu)',
        'SELECT host, x FROM (SELECT v AS x, i FROM cpu)',
        'SELECT x FROM (SELECT max(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s), host) ORDER BY time DESC LIMIT 3',
        'SELECT * FROM (SELECT v AS x, host FROM cpu) GROUP BY *',
        'SELECT *, host FROM (SELECT v AS x, host FROM cpu) GROUP BY host',
        'SELECT * FROM (SELECT v AS x, host FROM cpu GROUP BY host)',
        'SELECT * FROM (SELECT max(v) AS x, host FROM cpu GROUP BY host)',
        'SELECT * FROM (SELECT max(v) AS x, host FROM cpu) GROUP BY host',
        'SELECT * FROM (SELECT max(v) AS x FROM cpu GROUP BY *)',
        'SELECT * FROM (SELECT max(v) AS x FROM cpu GROUP BY host)',
        'SELECT * FROM (SELECT v AS x, host FROM cpu) GROUP BY host',
        'SELECT * FROM (SELECT max(v) AS x FROM cpu GROUP BY /h/)',
        'SELECT * FROM (SELECT v, host FROM cpu GROUP BY host) GROUP BY host',
        'SELECT x, host FROM (SELECT v AS x, host FROM cpu) GROUP BY host',
        'SELECT * FROM (SELECT max(v) AS x FROM cpu GROUP BY *) GROUP BY host',
        'SELECT * FROM (SELECT max(v) AS x FROM cpu GROUP BY *) GROUP BY *',
        'SELECT x, host FROM (SELECT v AS x FROM cpu) GROUP BY host',
        'SELECT last(x), host FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s)) GROUP BY host',
        'SELECT last(x), host FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s), host) GROUP BY host',
        'SELECT last(x), host FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s), *)',
        'SELECT last(x), host FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s), /h/)',
        'SELECT x, host FROM (SELECT v AS x FROM cpu GROUP BY *)',
        'SELECT x, host FROM (SELECT v AS x FROM cpu) GROUP BY *',
        "SELECT x FROM (SELECT v AS x FROM cpu) WHERE host = 'a'",
        "SELECT x FROM (SELECT v AS x FROM cpu) WHERE host = 'a' GROUP BY host",
        'SELECT max(x), host FROM (SELECT v AS x FROM cpu) GROUP BY host',
        'SELECT x FROM (SELECT abs(v) AS x FROM cpu)',
        'SELECT x FROM (SELECT pow(v, 2) AS x FROM cpu) WHERE time > 1s',
        'SELECT derivative(max(x)) FROM (SELECT v AS x FROM cpu WHERE time >= 0s AND time < 40s) WHERE time >= 20s AND time < 40s GROUP BY time(10s)',
        'SELECT derivative(max(x)) FROM (SELECT v AS x FROM cpu WHERE time >= 0s AND time < 40s) WHERE time >= 20s AND time < 40s GROUP BY time(10s) ORDER BY time DESC',
        'SELECT difference(mean(x)) FROM (SELECT v AS x FROM cpu) WHERE time >= 10s AND time < 40s GROUP BY time(10s)',
        'SELECT derivative(max(x)) FROM (SELECT max(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(5s)) WHERE time >= 20s AND time < 40s GROUP BY time(10s)',
        'SELECT count(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s), host) WHERE time > 1s AND x > 5',
        'SELECT count(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s), host) WHERE time > 1s AND x > 5 GROUP BY host',
        'SELECT count(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s), host) WHERE time > 1s AND x < 3 GROUP BY host',
        'SELECT max(x) FROM (SELECT sum(v) AS x FROM cpu WHERE time >= 0s AND time < 40s GROUP BY time(10s)) WHERE time > 1s AND x > 2',
    ])


def selector_without_its_field_case():
    """A selector beside other columns (last(i), v) prints nothing for a series without a
    value of its field, also under GROUP BY time (no windows of nulls); sample() lists
    each window's points forwards under ORDER BY time DESC."""
    return queries_case("selectors--series-without-the-selected-field", "sel_no_field",
                        SUBQUERY_BODY, [
        "SELECT last(i), v FROM cpu WHERE time >= 0s AND time < 60s AND host = 'c' GROUP BY time(20s)",
        'SELECT max(i), v FROM cpu WHERE time >= 0s AND time < 60s GROUP BY time(20s), host',
        'SELECT max(i), v FROM cpu WHERE time >= 0s AND time < 60s GROUP BY time(20s), host ORDER BY time DESC',
        'SELECT first(i), host FROM cpu WHERE time >= 0s AND time < 60s GROUP BY time(20s), host fill(0)',
        "SELECT last(i), v FROM cpu WHERE time >= 0s AND time < 60s AND host = 'c'",
        'SELECT min(i), v FROM cpu WHERE time >= 0s AND time < 60s GROUP BY time(20s)',
        "SELECT sample(v, 10) FROM cpu WHERE host = 'a' AND time >= 0s AND time < 40s GROUP BY time(20s) ORDER BY time DESC",
        "SELECT sample(v, 10), host FROM cpu WHERE host = 'b' ORDER BY time DESC",
        "SELECT sample(v, 10), host FROM cpu WHERE host = 'b' AND time >= 0s AND time < 60s GROUP BY time(20s) ORDER BY time DESC",
        'SELECT sample(v, 10) FROM cpu WHERE time >= 0s AND time < 60s GROUP BY time(20s), host ORDER BY time DESC',
    ])


def fill_without_values_case():
    """A function over a tag or a field the measurement lacks has no values: null in
    every window, filled by fill(<number>) when InfluxDB builds an iterator for it
    (always over a tag; over a missing field for count, mean, median and stddev, whose
    results have a type of their own), not by count's own 0 under fill(null); over
    several measurements, a field of another one is missing here, but typed: every
    function over it is filled by a number."""
    body = (
        'cpu,host=a,region=eu v=1.5,i=3i 5000000000\ncpu,host=b v=2,i=-4i 12000000000\n'
        'cpu,host=a,region=eu v=7.25,i=8i 33000000000\n'
        'mem,host=a free=10i,v=1i 5000000000\nmem,host=b free=20i,v=5i 15000000000\n'
        'mem,host=a free=30i,v=0i 25000000000\nmem,host=b free=40i,v=9i 35000000000\n'
    )
    return queries_case("fill--columns-without-values", "fill_no_values", body, [
        'SELECT count(nosuch), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(7)',
        'SELECT count(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s fill(7)',
        'SELECT sum(nosuch), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(7)',
        'SELECT sum(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s fill(7)',
        'SELECT mean(nosuch), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(7)',
        'SELECT mean(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s fill(7)',
        'SELECT median(nosuch), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(7)',
        'SELECT median(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s fill(7)',
        'SELECT mode(nosuch), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(7)',
        'SELECT mode(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s fill(7)',
        'SELECT spread(nosuch), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(7)',
        'SELECT spread(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s fill(7)',
        'SELECT stddev(nosuch), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(7)',
        'SELECT stddev(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s fill(7)',
        'SELECT min(nosuch), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(7)',
        'SELECT min(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s fill(7)',
        'SELECT max(nosuch), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(7)',
        'SELECT max(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s fill(7)',
        'SELECT first(nosuch), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(7)',
        'SELECT first(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s fill(7)',
        'SELECT last(nosuch), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(7)',
        'SELECT last(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s fill(7)',
        'SELECT count(i) FROM mem WHERE time >= 5s AND time < 40s GROUP BY time(10s)',
        'SELECT count(i) FROM mem WHERE time >= 5s AND time < 40s GROUP BY time(10s) fill(0)',
        'SELECT count(i), sum(v) FROM mem WHERE time >= 5s AND time < 40s GROUP BY time(10s)',
        'SELECT count(i), sum(v) FROM mem WHERE time >= 5s AND time < 40s GROUP BY time(10s) fill(0)',
        'SELECT count(i), sum(v) FROM mem WHERE time >= 5s AND time < 40s GROUP BY time(10s) fill(5)',
        'SELECT count(i), sum(v) FROM mem WHERE time >= 5s AND time < 40s GROUP BY time(10s) fill(none)',
        'SELECT count(i), sum(v) FROM mem WHERE time >= 5s AND time < 40s GROUP BY time(10s) fill(previous)',
        'SELECT count(i), sum(v) FROM mem WHERE time >= 5s AND time < 40s GROUP BY time(10s) fill(linear)',
        'SELECT count(i), sum(v) FROM mem WHERE time >= 5s AND time < 40s',
        'SELECT count(i), sum(v) FROM mem WHERE time >= 5s AND time < 40s fill(0)',
        'SELECT count(i), count(v) FROM mem WHERE time >= 5s AND time < 40s GROUP BY time(10s)',
        'SELECT mean(i), count(v) FROM mem WHERE time >= 5s AND time < 40s GROUP BY time(10s) fill(0)',
        'SELECT count(nosuch), count(v) FROM mem WHERE time >= 5s AND time < 40s GROUP BY time(10s)',
        'SELECT count(nosuch), count(v) FROM mem WHERE time >= 5s AND time < 40s GROUP BY time(10s) fill(0)',
        'SELECT count(i), sum(v) FROM cpu, mem WHERE time >= 5s AND time < 40s GROUP BY time(10s)',
        'SELECT count(i), sum(v) FROM cpu, mem WHERE time >= 5s AND time < 40s GROUP BY time(10s) fill(0)',
        'SELECT count(i), sum(v) FROM cpu, mem WHERE time >= 5s AND time < 40s',
        'SELECT count(host), sum(v) FROM mem WHERE time >= 5s AND time < 40s GROUP BY time(10s) fill(0)',
        'SELECT count(host), sum(v) FROM mem WHERE time >= 5s AND time < 40s GROUP BY time(10s)',
        'SELECT count(host), sum(v) FROM mem WHERE time >= 5s AND time < 40s fill(0)',
        'SELECT mean(host), sum(v) FROM mem WHERE time >= 5s AND time < 40s GROUP BY time(10s) fill(0)',
        'SELECT count(nosuch), sum(v) FROM mem WHERE time >= 5s AND time < 40s GROUP BY time(10s) fill(previous)',
        'SELECT count(nosuch), sum(v) FROM mem WHERE time >= 5s AND time < 40s GROUP BY time(10s) fill(linear)',
        'SELECT count(nosuch), sum(v) FROM mem WHERE time >= 5s AND time < 40s GROUP BY time(10s) fill(none)',
        'SELECT count(nosuch), sum(v) FROM mem WHERE time >= 5s AND time < 60s GROUP BY time(10s) fill(0)',
        'SELECT count(nosuch) FROM mem WHERE time >= 5s AND time < 40s GROUP BY time(10s) fill(0)',
        'SELECT max(nosuch), sum(v) FROM mem WHERE time >= 5s AND time < 40s GROUP BY time(10s) fill(0)',
        'SELECT derivative(mean(nosuch)), sum(v) FROM mem WHERE time >= 5s AND time < 40s GROUP BY time(10s) fill(0)',
        'SELECT count(s), mean(i) FROM cpu, mem WHERE time >= 5s AND time < 40s GROUP BY time(10s)',
        'SELECT count(free), mean(i) FROM cpu, mem WHERE time >= 5s AND time < 40s GROUP BY time(10s)',
        'SELECT count(free), mean(i) FROM cpu, mem WHERE time >= 5s AND time < 40s GROUP BY time(10s) fill(1)',
        'SELECT count(free), mean(i) FROM cpu, mem WHERE time >= 5s AND time < 40s',
        'SELECT count(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(7)',
        'SELECT count(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(previous)',
        'SELECT sum(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(7)',
        'SELECT sum(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(previous)',
        'SELECT mean(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(7)',
        'SELECT mean(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(previous)',
        'SELECT median(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(7)',
        'SELECT median(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(previous)',
        'SELECT mode(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(7)',
        'SELECT mode(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(previous)',
        'SELECT spread(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(7)',
        'SELECT spread(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(previous)',
        'SELECT stddev(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(7)',
        'SELECT stddev(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(previous)',
        'SELECT min(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(7)',
        'SELECT min(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(previous)',
        'SELECT max(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(7)',
        'SELECT max(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(previous)',
        'SELECT first(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(7)',
        'SELECT first(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(previous)',
        'SELECT last(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(7)',
        'SELECT last(host), sum(v) FROM mem WHERE time >= 5s AND time < 20s GROUP BY time(10s) fill(previous)',
        'SELECT last(v), first(i) / 4, count(v) FROM cpu, mem WHERE time >= 0s AND time < 60s GROUP BY time(7s, 2s) fill(0)',
        'SELECT first(i), count(v) FROM cpu, mem WHERE time >= 0s AND time < 40s GROUP BY time(10s) fill(3)',
        'SELECT max(free), sum(free), count(v) FROM cpu, mem WHERE time >= 0s AND time < 40s GROUP BY time(10s) fill(3)',
        'SELECT max(free), sum(free), count(v) FROM cpu, mem WHERE time >= 0s AND time < 40s fill(3)',
        'SELECT max(free), count(free), mean(free) FROM cpu, mem WHERE time >= 0s AND time < 40s GROUP BY time(10s)',
    ])


def call_types_in_operations_case():
    """InfluxDB types a call it does not type itself (sum, spread, distinct, difference,
    cumulative_sum, the selectors, mode) as its argument: sum(b) / 4 over booleans is a
    type error before any iterator is built. A boolean on the left of &, |, ^ takes
    anything on the right, and is false unless both are booleans."""
    body = 'cpu,host=a v=1,i=3i,b=true,s="x" 0\ncpu,host=a v=2,i=4i,b=false,s="y" 10000000000\n'
    return queries_case("query-errors--call-types-in-operations", "qe_call_types", body, [
        'SELECT sum(b) / 4 FROM cpu',
        'SELECT sum(s) + 1 FROM cpu',
        'SELECT max(b) * 2 FROM cpu',
        'SELECT first(s) + 1 FROM cpu',
        'SELECT last(b) - 1 FROM cpu',
        'SELECT mode(s) * 2 FROM cpu',
        'SELECT mean(b) + 1 FROM cpu',
        'SELECT count(b) + 1 FROM cpu',
        'SELECT spread(b) + 1 FROM cpu',
        'SELECT median(s) + 1 FROM cpu',
        'SELECT sum(b) / 4 FROM cpu GROUP BY time(10s)',
        'SELECT min(s) + max(v) FROM cpu',
        'SELECT sum(b) + sum(v) FROM cpu',
        'SELECT b + 1 FROM cpu',
        'SELECT percentile(b, 50) + 1 FROM cpu',
        'SELECT distinct(b) + 1 FROM cpu',
        'SELECT sum(b) FROM cpu',
        'SELECT difference(b) + 1 FROM cpu',
        'SELECT cumulative_sum(s) + 1 FROM cpu',
        'SELECT sum(v) + 1 FROM cpu',
        'SELECT sum(v) + sum(v) FROM cpu',
        'SELECT spread(v) * 2 FROM cpu',
        'SELECT difference(v) * 2 FROM cpu',
        'SELECT cumulative_sum(v) * 2 FROM cpu',
        'SELECT difference(sum(b)) + 1 FROM cpu WHERE time >= 0s AND time < 20s GROUP BY time(10s)',
        'SELECT sum(b) & 1 FROM cpu',
        'SELECT sum(b) & true FROM cpu',
        'SELECT f & f FROM cpu',
        'SELECT f | f FROM cpu',
        'SELECT f ^ f FROM cpu',
        'SELECT f & i FROM cpu',
        'SELECT f | i FROM cpu',
        'SELECT f ^ i FROM cpu',
        'SELECT f & b FROM cpu',
        'SELECT f | b FROM cpu',
        'SELECT f ^ b FROM cpu',
        'SELECT f & s FROM cpu',
        'SELECT f | s FROM cpu',
        'SELECT f ^ s FROM cpu',
        'SELECT f & 1 FROM cpu',
        'SELECT f | 1 FROM cpu',
        'SELECT f ^ 1 FROM cpu',
        'SELECT f & 1.5 FROM cpu',
        'SELECT f | 1.5 FROM cpu',
        'SELECT f ^ 1.5 FROM cpu',
        'SELECT f & true FROM cpu',
        'SELECT f | true FROM cpu',
        'SELECT f ^ true FROM cpu',
        'SELECT i & f FROM cpu',
        'SELECT i | f FROM cpu',
        'SELECT i ^ f FROM cpu',
        'SELECT i & i FROM cpu',
        'SELECT i | i FROM cpu',
        'SELECT i ^ i FROM cpu',
        'SELECT i & b FROM cpu',
        'SELECT i | b FROM cpu',
        'SELECT i ^ b FROM cpu',
        'SELECT i & s FROM cpu',
        'SELECT i | s FROM cpu',
        'SELECT i ^ s FROM cpu',
        'SELECT i & 1 FROM cpu',
        'SELECT i | 1 FROM cpu',
        'SELECT i ^ 1 FROM cpu',
        'SELECT i & 1.5 FROM cpu',
        'SELECT i | 1.5 FROM cpu',
        'SELECT i ^ 1.5 FROM cpu',
        'SELECT i & true FROM cpu',
        'SELECT i | true FROM cpu',
        'SELECT i ^ true FROM cpu',
        'SELECT b & f FROM cpu',
        'SELECT b | f FROM cpu',
        'SELECT b ^ f FROM cpu',
        'SELECT b & i FROM cpu',
        'SELECT b | i FROM cpu',
        'SELECT b ^ i FROM cpu',
        'SELECT b & b FROM cpu',
        'SELECT b | b FROM cpu',
        'SELECT b ^ b FROM cpu',
        'SELECT b & s FROM cpu',
        'SELECT b | s FROM cpu',
        'SELECT b ^ s FROM cpu',
        'SELECT b & 1 FROM cpu',
        'SELECT b | 1 FROM cpu',
        'SELECT b ^ 1 FROM cpu',
        'SELECT b & 1.5 FROM cpu',
        'SELECT b | 1.5 FROM cpu',
        'SELECT b ^ 1.5 FROM cpu',
        'SELECT b & true FROM cpu',
        'SELECT b | true FROM cpu',
        'SELECT b ^ true FROM cpu',
        'SELECT s & f FROM cpu',
        'SELECT s | f FROM cpu',
        'SELECT s ^ f FROM cpu',
        'SELECT s & i FROM cpu',
        'SELECT s | i FROM cpu',
        'SELECT s ^ i FROM cpu',
        'SELECT s & b FROM cpu',
        'SELECT s | b FROM cpu',
        'SELECT s ^ b FROM cpu',
        'SELECT s & s FROM cpu',
        'SELECT s | s FROM cpu',
        'SELECT s ^ s FROM cpu',
        'SELECT s & 1 FROM cpu',
        'SELECT s | 1 FROM cpu',
        'SELECT s ^ 1 FROM cpu',
        'SELECT s & 1.5 FROM cpu',
        'SELECT s | 1.5 FROM cpu',
        'SELECT s ^ 1.5 FROM cpu',
        'SELECT s & true FROM cpu',
        'SELECT s | true FROM cpu',
        'SELECT s ^ true FROM cpu',
        'SELECT 1 & f FROM cpu',
        'SELECT 1 | f FROM cpu',
        'SELECT 1 ^ f FROM cpu',
        'SELECT 1 & i FROM cpu',
        'SELECT 1 | i FROM cpu',
        'SELECT 1 ^ i FROM cpu',
        'SELECT 1 & b FROM cpu',
        'SELECT 1 | b FROM cpu',
        'SELECT 1 ^ b FROM cpu',
        'SELECT 1 & s FROM cpu',
        'SELECT 1 | s FROM cpu',
        'SELECT 1 ^ s FROM cpu',
        'SELECT 1.5 & f FROM cpu',
        'SELECT 1.5 | f FROM cpu',
        'SELECT 1.5 ^ f FROM cpu',
        'SELECT 1.5 & i FROM cpu',
        'SELECT 1.5 | i FROM cpu',
        'SELECT 1.5 ^ i FROM cpu',
        'SELECT 1.5 & b FROM cpu',
        'SELECT 1.5 | b FROM cpu',
        'SELECT 1.5 ^ b FROM cpu',
        'SELECT 1.5 & s FROM cpu',
        'SELECT 1.5 | s FROM cpu',
        'SELECT 1.5 ^ s FROM cpu',
        'SELECT true & f FROM cpu',
        'SELECT true | f FROM cpu',
        'SELECT true ^ f FROM cpu',
        'SELECT true & i FROM cpu',
        'SELECT true | i FROM cpu',
        'SELECT true ^ i FROM cpu',
        'SELECT true & b FROM cpu',
        'SELECT true | b FROM cpu',
        'SELECT true ^ b FROM cpu',
        'SELECT true & s FROM cpu',
        'SELECT true | s FROM cpu',
        'SELECT true ^ s FROM cpu',
    ])


def literal_operations_case():
    """InfluxDB folds an operation of two literals before it compiles a column (numbers,
    integers bitwise, booleans bitwise, strings added, durations with integers and each
    other) and refuses the rest with 'cannot perform a binary expression on two
    literals', where they meet in the column (a call on their left reports first)."""
    body = 'm f=1.5,i=3i,b=true,s="x" 0\n'
    return queries_case("query-errors--literal-operations", "qe_literal_ops", body, [
        'SELECT (1 + true) * 2 FROM m',
        'SELECT abs(1 + true) FROM m',
        'SELECT abs(1 + 1) FROM m',
        'SELECT (1 + 1) + true FROM m',
        'SELECT 1 + (2 * 3) FROM m',
        'SELECT f + (1 + true) FROM m',
        'SELECT abs(f) + (1 + true) FROM m',
        'SELECT 1 + true, f FROM m',
        'SELECT 1 = 1 FROM m',
        'SELECT true + 1 AS x FROM m',
        'SELECT mean(f) + (1 + true) FROM m',
        'SELECT max(1 + true) FROM m',
        'SELECT 1 + 1 FROM m',
        'SELECT 1 - 1 FROM m',
        'SELECT 1 * 1 FROM m',
        'SELECT 1 / 1 FROM m',
        'SELECT 1 % 1 FROM m',
        'SELECT 1 & 1 FROM m',
        'SELECT 1 | 1 FROM m',
        'SELECT 1 ^ 1 FROM m',
        'SELECT 1 + 1.5 FROM m',
        'SELECT 1 - 1.5 FROM m',
        'SELECT 1 * 1.5 FROM m',
        'SELECT 1 / 1.5 FROM m',
        'SELECT 1 % 1.5 FROM m',
        'SELECT 1 & 1.5 FROM m',
        'SELECT 1 | 1.5 FROM m',
        'SELECT 1 ^ 1.5 FROM m',
        'SELECT 1 + true FROM m',
        'SELECT 1 - true FROM m',
        'SELECT 1 * true FROM m',
        'SELECT 1 / true FROM m',
        'SELECT 1 % true FROM m',
        'SELECT 1 & true FROM m',
        'SELECT 1 | true FROM m',
        'SELECT 1 ^ true FROM m',
        "SELECT 1 + 'a' FROM m",
        "SELECT 1 - 'a' FROM m",
        "SELECT 1 * 'a' FROM m",
        "SELECT 1 / 'a' FROM m",
        "SELECT 1 % 'a' FROM m",
        "SELECT 1 & 'a' FROM m",
        "SELECT 1 | 'a' FROM m",
        "SELECT 1 ^ 'a' FROM m",
        'SELECT 1 + 2s FROM m',
        'SELECT 1 - 2s FROM m',
        'SELECT 1 * 2s FROM m',
        'SELECT 1 / 2s FROM m',
        'SELECT 1 % 2s FROM m',
        'SELECT 1 & 2s FROM m',
        'SELECT 1 | 2s FROM m',
        'SELECT 1 ^ 2s FROM m',
        'SELECT 1.5 + 1 FROM m',
        'SELECT 1.5 - 1 FROM m',
        'SELECT 1.5 * 1 FROM m',
        'SELECT 1.5 / 1 FROM m',
        'SELECT 1.5 % 1 FROM m',
        'SELECT 1.5 & 1 FROM m',
        'SELECT 1.5 | 1 FROM m',
        'SELECT 1.5 ^ 1 FROM m',
        'SELECT 1.5 + 1.5 FROM m',
        'SELECT 1.5 - 1.5 FROM m',
        'SELECT 1.5 * 1.5 FROM m',
        'SELECT 1.5 / 1.5 FROM m',
        'SELECT 1.5 % 1.5 FROM m',
        'SELECT 1.5 & 1.5 FROM m',
        'SELECT 1.5 | 1.5 FROM m',
        'SELECT 1.5 ^ 1.5 FROM m',
        'SELECT 1.5 + true FROM m',
        'SELECT 1.5 - true FROM m',
        'SELECT 1.5 * true FROM m',
        'SELECT 1.5 / true FROM m',
        'SELECT 1.5 % true FROM m',
        'SELECT 1.5 & true FROM m',
        'SELECT 1.5 | true FROM m',
        'SELECT 1.5 ^ true FROM m',
        "SELECT 1.5 + 'a' FROM m",
        "SELECT 1.5 - 'a' FROM m",
        "SELECT 1.5 * 'a' FROM m",
        "SELECT 1.5 / 'a' FROM m",
        "SELECT 1.5 % 'a' FROM m",
        "SELECT 1.5 & 'a' FROM m",
        "SELECT 1.5 | 'a' FROM m",
        "SELECT 1.5 ^ 'a' FROM m",
        'SELECT 1.5 + 2s FROM m',
        'SELECT 1.5 - 2s FROM m',
        'SELECT 1.5 * 2s FROM m',
        'SELECT 1.5 / 2s FROM m',
        'SELECT 1.5 % 2s FROM m',
        'SELECT 1.5 & 2s FROM m',
        'SELECT 1.5 | 2s FROM m',
        'SELECT 1.5 ^ 2s FROM m',
        'SELECT true + 1 FROM m',
        'SELECT true - 1 FROM m',
        'SELECT true * 1 FROM m',
        'SELECT true / 1 FROM m',
        'SELECT true % 1 FROM m',
        'SELECT true & 1 FROM m',
        'SELECT true | 1 FROM m',
        'SELECT true ^ 1 FROM m',
        'SELECT true + 1.5 FROM m',
        'SELECT true - 1.5 FROM m',
        'SELECT true * 1.5 FROM m',
        'SELECT true / 1.5 FROM m',
        'SELECT true % 1.5 FROM m',
        'SELECT true & 1.5 FROM m',
        'SELECT true | 1.5 FROM m',
        'SELECT true ^ 1.5 FROM m',
        'SELECT true + true FROM m',
        'SELECT true - true FROM m',
        'SELECT true * true FROM m',
        'SELECT true / true FROM m',
        'SELECT true % true FROM m',
        'SELECT true & true FROM m',
        'SELECT true | true FROM m',
        'SELECT true ^ true FROM m',
        "SELECT true + 'a' FROM m",
        "SELECT true - 'a' FROM m",
        "SELECT true * 'a' FROM m",
        "SELECT true / 'a' FROM m",
        "SELECT true % 'a' FROM m",
        "SELECT true & 'a' FROM m",
        "SELECT true | 'a' FROM m",
        "SELECT true ^ 'a' FROM m",
        'SELECT true + 2s FROM m',
        'SELECT true - 2s FROM m',
        'SELECT true * 2s FROM m',
        'SELECT true / 2s FROM m',
        'SELECT true % 2s FROM m',
        'SELECT true & 2s FROM m',
        'SELECT true | 2s FROM m',
        'SELECT true ^ 2s FROM m',
        "SELECT 'a' + 1 FROM m",
        "SELECT 'a' - 1 FROM m",
        "SELECT 'a' * 1 FROM m",
        "SELECT 'a' / 1 FROM m",
        "SELECT 'a' % 1 FROM m",
        "SELECT 'a' & 1 FROM m",
        "SELECT 'a' | 1 FROM m",
        "SELECT 'a' ^ 1 FROM m",
        "SELECT 'a' + 1.5 FROM m",
        "SELECT 'a' - 1.5 FROM m",
        "SELECT 'a' * 1.5 FROM m",
        "SELECT 'a' / 1.5 FROM m",
        "SELECT 'a' % 1.5 FROM m",
        "SELECT 'a' & 1.5 FROM m",
        "SELECT 'a' | 1.5 FROM m",
        "SELECT 'a' ^ 1.5 FROM m",
        "SELECT 'a' + true FROM m",
        "SELECT 'a' - true FROM m",
        "SELECT 'a' * true FROM m",
        "SELECT 'a' / true FROM m",
        "SELECT 'a' % true FROM m",
        "SELECT 'a' & true FROM m",
        "SELECT 'a' | true FROM m",
        "SELECT 'a' ^ true FROM m",
        "SELECT 'a' + 'a' FROM m",
        "SELECT 'a' - 'a' FROM m",
        "SELECT 'a' * 'a' FROM m",
        "SELECT 'a' / 'a' FROM m",
        "SELECT 'a' % 'a' FROM m",
        "SELECT 'a' & 'a' FROM m",
        "SELECT 'a' | 'a' FROM m",
        "SELECT 'a' ^ 'a' FROM m",
        "SELECT 'a' + 2s FROM m",
        "SELECT 'a' - 2s FROM m",
        "SELECT 'a' * 2s FROM m",
        "SELECT 'a' / 2s FROM m",
        "SELECT 'a' % 2s FROM m",
        "SELECT 'a' & 2s FROM m",
        "SELECT 'a' | 2s FROM m",
        "SELECT 'a' ^ 2s FROM m",
        'SELECT 2s + 1 FROM m',
        'SELECT 2s - 1 FROM m',
        'SELECT 2s * 1 FROM m',
        'SELECT 2s / 1 FROM m',
        'SELECT 2s % 1 FROM m',
        'SELECT 2s & 1 FROM m',
        'SELECT 2s | 1 FROM m',
        'SELECT 2s ^ 1 FROM m',
        'SELECT 2s + 1.5 FROM m',
        'SELECT 2s - 1.5 FROM m',
        'SELECT 2s * 1.5 FROM m',
        'SELECT 2s / 1.5 FROM m',
        'SELECT 2s % 1.5 FROM m',
        'SELECT 2s & 1.5 FROM m',
        'SELECT 2s | 1.5 FROM m',
        'SELECT 2s ^ 1.5 FROM m',
        'SELECT 2s + true FROM m',
        'SELECT 2s - true FROM m',
        'SELECT 2s * true FROM m',
        'SELECT 2s / true FROM m',
        'SELECT 2s % true FROM m',
        'SELECT 2s & true FROM m',
        'SELECT 2s | true FROM m',
        'SELECT 2s ^ true FROM m',
        "SELECT 2s + 'a' FROM m",
        "SELECT 2s - 'a' FROM m",
        "SELECT 2s * 'a' FROM m",
        "SELECT 2s / 'a' FROM m",
        "SELECT 2s % 'a' FROM m",
        "SELECT 2s & 'a' FROM m",
        "SELECT 2s | 'a' FROM m",
        "SELECT 2s ^ 'a' FROM m",
        'SELECT 2s + 2s FROM m',
        'SELECT 2s - 2s FROM m',
        'SELECT 2s * 2s FROM m',
        'SELECT 2s / 2s FROM m',
        'SELECT 2s % 2s FROM m',
        'SELECT 2s & 2s FROM m',
        'SELECT 2s | 2s FROM m',
        'SELECT 2s ^ 2s FROM m',
        'SELECT mean() + (1 + true) FROM m',
    ])


def wildcard_operations_case():
    """A wildcard or regex inside an operation (sum(*) * 2, -max(*), abs(*) + 1) fails
    as InfluxDB compiles the columns, before anything is read and for any source."""
    return queries_case("query-errors--wildcards-in-operations", "qe_wild_ops", SUBQUERY_BODY, [
        'SELECT sum(*) * 2 FROM cpu',
        'SELECT abs(*) FROM cpu',
        'SELECT abs(*) * 2 FROM cpu',
        'SELECT sum(*) * 2 FROM cpu',
        'SELECT 2 * sum(*) FROM cpu',
        'SELECT sum(*) + mean(v) FROM cpu',
        'SELECT mean(v) + sum(*) FROM cpu',
        'SELECT abs(*) * 2 FROM cpu',
        'SELECT 2 * abs(*) FROM cpu',
        'SELECT sum(/v/) * 2 FROM cpu',
        'SELECT abs(/v/) * 2 FROM cpu',
        'SELECT abs(*) FROM cpu',
        'SELECT abs(/v/) FROM cpu',
        'SELECT -sum(*) FROM cpu',
        'SELECT (sum(*)) FROM cpu',
        'SELECT derivative(sum(*)) FROM cpu WHERE time < 10s GROUP BY time(5s)',
        'SELECT derivative(sum(*)) * 2 FROM cpu WHERE time < 10s GROUP BY time(5s)',
        'SELECT count(*) * 2, v FROM cpu',
        'SELECT sum(*) * 2 FROM nosuch',
        'SELECT max(v) * 2, sum(*) * 2 FROM cpu',
        'SELECT sum(*) * 2 FROM cpu GROUP BY time(5s)',
        'SELECT abs(v) * sum(*) FROM cpu',
        'SELECT sum(v * 2) FROM cpu',
        'SELECT sum(*) * 2 FROM (SELECT v FROM cpu)',
        'SELECT floor(*) FROM cpu',
        'SELECT pow(*, 2) FROM cpu',
        'SELECT pow(*, 2) * 2 FROM cpu',
    ])


def shard_groups_case():
    """Shard groups as InfluxDB 1.6 makes them. A write creates the groups of its points'
    times, weekly ones starting on Mondays (Go's `Time.Truncate` counts from year 1, not
    from 1970); a field's type is fixed per group, so a float on Saturday 1970-01-03 and
    an integer on Tuesday 1970-01-06 are both kept (HyperbyteDB put both days in one
    group starting 1970-01-01 and refused the integer). SHOW SHARDS and SHOW SHARD GROUPS
    list the groups per database and policy by end time, with the expiry (end plus the
    policy's duration); a dropped policy or database takes its groups along; DROP SHARD
    of an unknown id is no error. Ids count across the server's whole history, so they
    are not compared."""
    a, b, c = "sh_a", "sh_b", "sh_c"
    rows = range(12)

    def ids(columns):
        return [f"$.results[0].series[{i}].values[{j}][{k}]"
                for i in range(3) for j in rows for k in columns]
    shards = lambda db: dict(q(db, "SHOW SHARDS"), ignore=ids([0, 3]))
    groups = lambda db: dict(q(db, "SHOW SHARD GROUPS"), ignore=ids([0]))
    t2014, t2015, t2017 = 1400000000 * 10**9, 1450000000 * 10**9, 1500000000 * 10**9
    t2020 = 1577836800 * 10**9
    return case("show-meta--shard-groups", [
        q("", f'CREATE DATABASE "{a}"'),
        q("", f'CREATE DATABASE "{b}"'),
        q("", f'CREATE DATABASE "{c}"'),
        q("", f'CREATE RETENTION POLICY "long" ON "{a}" DURATION 1000w REPLICATION 1 SHARD DURATION 1d'),
        q("", f'CREATE RETENTION POLICY "three" ON "{a}" DURATION INF REPLICATION 1 SHARD DURATION 3d'),
    ], [
        w(a, f"m v=1 {2 * DAY}\n"),
        w(a, f"m v=2i {5 * DAY}\n"),
        q(a, "SELECT * FROM m"),
        w(a, f"m v=3i {4 * DAY - 1}\n"),
        w(a, f"m v=4 {4 * DAY}\n"),
        q(a, "SELECT * FROM m"),
        w(a, f"m v=5 {t2017}\nm v=6 {t2014}\n"),
        w(a, f"m v=7 {t2015}\n"),
        w(a, f"m v=8 {t2020 + 2 * DAY}\nm v=9 {t2020}\n", rp="long"),
        w(a, f"m v=10 {t2020 + DAY + 5}\n", rp="long"),
        w(a, f"m v=11 0\nm v=12 {DAY}\nm v=13 {3 * DAY}\n", rp="three"),
        shards(a),
        groups(a),
        q(a, "SELECT count(v) FROM m"),
        q(a, "SELECT count(v) FROM long.m"),
        w(b, f"m f=1 {4 * DAY - 1}\nm f=2 {4 * DAY}\n"),
        shards(b),
        groups(""),
        w(c, f"x f=1 {4 * DAY - 1}\nx f=2i {4 * DAY}\n"),
        q(c, "SELECT * FROM x"),
        w(c, f"y f=1 {4 * DAY}\ny f=2i {4 * DAY + 1}\n"),
        q(c, "SELECT * FROM y"),
        q(a, 'DROP RETENTION POLICY "long" ON "sh_a"'),
        groups(a),
        q("", f'DROP DATABASE "{b}"'),
        shards(""),
        q(a, "DROP SHARD 999999"),
        groups(""),
    ])


def names_typed_per_statement_case():
    """A condition's names are typed once for the whole statement, over every source of
    its FROM: a name some source has as a field is a field in every source, so where a
    measurement lacks that field its comparisons hold nowhere, also where it carries a tag
    of that name. `::tag` reads the tag (the empty string where there is only a field),
    `::string` and the other types a field, `::field` a field when some source has the
    name as a field or a tag. (HyperbyteDB typed each name by each measurement's own
    schema: `FROM cpu, mem WHERE s !~ /z/` kept every point of `mem`; found by
    differential_shapes.py's `raw` family, seed 9701.)"""
    body = "".join(line + "\n" for line in [
        'cpu,host=a,region=eu v=1.5,s="x" 1000000000',
        'cpu,host=b,region=eu v=2.5,s="z" 2000000000',
        'cpu,host=c v=3.5 3000000000',
        'mem,host=a free=10i,v=4i 1000000000',
        'mem,host=b free=20i 2000000000',
        't1,k=a f=1 1000000000',
        't2 k="a",f=2 2000000000',
        't3,k=a f=3,g=1 3000000000',
        't4 g=4 4000000000',
    ])
    return queries_case("query-semantics--names-typed-per-statement", "qs_names_typed", body, [
        "SELECT v, s FROM cpu, mem WHERE s !~ /z/",
        "SELECT v, s FROM mem WHERE s !~ /z/",
        "SELECT v FROM cpu, mem WHERE s = ''",
        "SELECT free FROM mem, cpu WHERE s != 'x'",
        "SELECT count(v) FROM cpu, mem WHERE s !~ /z/",
        "SELECT max(v) FROM cpu, mem WHERE s =~ /x/ GROUP BY host",
        "SELECT v FROM cpu, mem WHERE s !~ /z/ OR free > 15",
        "SELECT v FROM /./ WHERE s !~ /z/",
        "SELECT f FROM t1, t2 WHERE k = 'a'",
        "SELECT f FROM t2, t1 WHERE k = 'a'",
        "SELECT f FROM t1 WHERE k = 'a'",
        "SELECT * FROM t1, t2 WHERE k != 'z'",
        "SELECT * FROM t1, t2 WHERE k =~ /a/",
        "SELECT count(f) FROM t1, t2 WHERE k = 'a'",
        "SELECT mean(f) FROM t1, t2 WHERE k = 'a' GROUP BY k",
        "SELECT f FROM t1, t2 WHERE k = 'a' OR f = 1",
        "SELECT * FROM t1, t2 WHERE k::tag = 'a'",
        "SELECT f FROM t1, t2 WHERE k::tag != 'z'",
        "SELECT * FROM t1, t2 WHERE k::field = 'a'",
        "SELECT f FROM t1 WHERE k::field = 'a'",
        "SELECT f FROM t1 WHERE k::field != 'zz'",
        "SELECT f FROM t1 WHERE k::string = 'a'",
        "SELECT f FROM t1 WHERE nosuch::field = ''",
        "SELECT f FROM t1 WHERE nosuch::string = ''",
        "SELECT f FROM t1 WHERE nosuch::tag = ''",
        "SELECT f FROM t1, t2 WHERE k::string = 'a'",
        "SELECT f FROM t1, t3 WHERE g::tag = ''",
        "SELECT f FROM t1, t4 WHERE g = ''",
        "SELECT f FROM t1, t4 WHERE g::tag = ''",
        "SELECT f FROM t1, t4 WHERE g = 4 OR f = 1",
        "SELECT f, g FROM t1, t4 WHERE g != 9",
        "SELECT f FROM (SELECT f, k FROM t2), t1 WHERE k = 'a'",
        "SELECT * FROM (SELECT f FROM t1), t2 WHERE k = 'a'",
        "SELECT f FROM t1, t2 WHERE time > 0s AND k = 'a'",
        "SELECT sum(f) FROM t1, t2, t3 WHERE k = 'a' GROUP BY time(1s) fill(none)",
    ])


def casts_in_conditions_case():
    """`::integer` on a float field in a condition truncates the value towards zero, as
    InfluxDB's cursor casts it (`v::integer > 3` leaves 3.25 out, `v::integer = -3` keeps
    -3.75); `::float` on an integer changes nothing compared. (HyperbyteDB compared the
    float itself; found by differential_shapes.py's `raw` family, seed 9703.)"""
    body = "".join(line + "\n" for line in [
        'cpu,host=a v=1.5,i=1i 1000000000',
        'cpu,host=b v=2.5,i=2i 2000000000',
        'cpu,host=c v=3.25,i=3i 3000000000',
        'cpu,host=d v=-3.75,i=-4i 4000000000',
        'cpu,host=a v=4.0,i=5i 5000000000',
        'mem,host=a v=4i 1000000000',
        'mem,host=b v=3i 2000000000',
    ])
    return queries_case("query-semantics--casts-in-conditions", "qs_casts_cond", body, [
        "SELECT v FROM cpu WHERE v::integer > 3",
        "SELECT v FROM cpu WHERE v > 3",
        "SELECT v FROM cpu WHERE v::integer = 2",
        "SELECT v FROM cpu WHERE v::integer = -3",
        "SELECT v FROM cpu WHERE v::integer >= 3 OR v::integer < -2",
        "SELECT v FROM cpu WHERE v::integer + 1 > 3",
        "SELECT v FROM cpu WHERE v::integer * 2 = 6",
        "SELECT count(v) FROM cpu WHERE v::integer > 1",
        "SELECT mean(v) FROM cpu WHERE v::integer > 1 GROUP BY host",
        "SELECT max(v) FROM cpu WHERE time >= 0s AND time < 10s AND v::integer < 3 GROUP BY time(2s) fill(none)",
        "SELECT v FROM cpu, mem WHERE v::integer > 3",
        "SELECT v FROM cpu, mem WHERE v::integer = 3",
        "SELECT v FROM cpu WHERE i::float > 2",
        "SELECT v FROM cpu WHERE i::integer > 2",
        "SELECT v FROM cpu WHERE v::float > 3",
        "SELECT v, i FROM cpu WHERE v::integer = i",
    ])


def time_alias_case():
    """`time AS t` names the time column of every series the statement prints (raw,
    aggregated, grouped, transformed). (HyperbyteDB printed `time`; found by
    differential_shapes.py's `raw` family, seed 9706.)"""
    body = "".join(line + "\n" for line in [
        'cpu,host=a v=1.5,i=1i 1000000000',
        'cpu,host=b v=2.5,i=2i 2000000000',
        'cpu,host=a v=3.25,i=3i 12000000000',
        'cpu,host=b v=-3.75,i=-4i 14000000000',
    ])
    return queries_case("query-semantics--time-alias", "qs_time_alias", body, [
        "SELECT i, time AS t FROM cpu",
        "SELECT time AS t, i FROM cpu",
        'SELECT time AS "my time", v FROM cpu WHERE time < 5s',
        "SELECT mean(v), time AS t FROM cpu WHERE time < 20s GROUP BY time(10s)",
        "SELECT max(v), time AS t FROM cpu",
        "SELECT v, time AS t FROM cpu GROUP BY host",
        "SELECT time AS t, derivative(v) FROM cpu",
        "SELECT v, time AS t FROM cpu WHERE time < 0s",
        "SELECT time AS t, v FROM cpu ORDER BY time DESC LIMIT 2",
    ])


def time_listed_twice_case():
    """InfluxDB takes `time` out of the field list in one pass that steps past the entry
    after each one it removes: `SELECT i, time, time` prints a second `time` column with
    no value, `SELECT time, i, time` does not, and the time column takes the alias of the
    last `time` removed. In the field list only lower-case `time` is the time column
    (`TIME` reads a field of that name). (HyperbyteDB dropped every `time`.)"""
    body = "".join(line + "\n" for line in [
        'm,k=a i=1i,v=-1.5 1000000000',
        'm,k=b i=2i,v=2.5 2000000000',
        'n,k=a i=3i,TIME=7i 1000000000',
    ])
    return queries_case("fields--time-listed-twice", "f_time_twice", body, [
        "SELECT i, time, time FROM m",
        "SELECT time, i, time FROM m",
        "SELECT time, time, i FROM m",
        "SELECT time, time, time, i FROM m",
        "SELECT time AS a, time AS b, i FROM m",
        "SELECT i, time AS a, time AS b FROM m",
        "SELECT i, time AS a, i, time AS b, time AS c FROM m",
        "SELECT time AS a, i, time FROM m",
        "SELECT i, time, time, v FROM m WHERE time > 0s ORDER BY time DESC",
        "SELECT i, time, time FROM m LIMIT 1",
        "SELECT max(i), time, time FROM m",
        "SELECT mean(i), time, time FROM m",
        "SELECT count(i), time, time FROM m WHERE time >= 0s AND time < 3s GROUP BY time(1s)",
        "SELECT time, time FROM m",
        "SELECT i, TIME FROM m",
        "SELECT TIME FROM m",
        "SELECT mean(i), TIME FROM m",
        "SELECT i, TIME FROM n",
        "SELECT TIME, i FROM m WHERE TIME > 1s",
        "SELECT derivative(v), time, time FROM m",
        "SELECT (time), i FROM m",
        'SELECT v AS "" FROM m',
        'SELECT v, time AS "" FROM m',
        'SELECT v AS "" INTO m3 FROM m',
        "SELECT * FROM m3",
    ])


def float_casts_out_of_range_case():
    """A float read `::integer` or `::unsigned` converts as InfluxDB's Go code does on
    amd64: truncated towards zero; out of the integers' range the most negative integer;
    to unsigned, below 2^63 the bits of that integer (-1.5 is 18446744073709551615), from
    2^63 the excess's with the top bit set. In conditions and in columns. (HyperbyteDB
    saturated: 0 for negative floats, the largest integer past the range.)"""
    body = "".join(f"f v={v} {t}\n" for t, v in enumerate(
        ["-1.5", "-0.5", "2.5", "1e19", "1e20", "-1e19", "-2.7", "9.3e18"], start=1))
    body += "g i=5i,v=-1.5 1\ng i=-3i,v=2.5 2\n"
    return queries_case("query-semantics--float-casts-out-of-range", "qs_float_casts", body, [
        "SELECT v::unsigned FROM f",
        "SELECT v::integer FROM f",
        "SELECT v::integer + 1 FROM f",
        "SELECT v FROM f WHERE v::unsigned > 2",
        "SELECT v FROM f WHERE v::unsigned = 18446744073709551615",
        "SELECT v FROM f WHERE v::unsigned > 2.5",
        "SELECT v FROM f WHERE v::unsigned > -1",
        "SELECT v FROM f WHERE v::integer < -1",
        "SELECT v FROM f WHERE v::integer = -9223372036854775808",
        "SELECT count(v) FROM f WHERE v::unsigned > 9223372036854775807",
        "SELECT i::unsigned FROM g",
        "SELECT v FROM g WHERE i::unsigned > 5",
        "SELECT v FROM g WHERE v::unsigned = 2",
        "SELECT max(v::unsigned) FROM f",
        "SELECT min(v::unsigned), sum(v::unsigned), mean(v::unsigned), max(v::integer) FROM f",
        "SELECT spread(v::unsigned), median(v::unsigned), last(v::unsigned) FROM f",
    ], precision="s")


def unsigned_arithmetic_case():
    """Unsigned values (floats or integers read `::unsigned`) in arithmetic: wrapping,
    whole division, 0 for a division or remainder by zero, an integer literal taken as
    unsigned (also bitwise), a float making a float; an integer field beside an unsigned
    is refused ("cannot use + between an integer and unsigned, an explicit cast is
    required"). (HyperbyteDB computed in floats and refused `v::unsigned & 1`.)"""
    body = "g i=5i,v=-1.5 1\ng i=-3i,v=2.5 2\ng i=0i,v=0 3\n"
    return queries_case("query-semantics--unsigned-arithmetic", "qs_uint_arith", body, [
        "SELECT v::unsigned + 1, v::unsigned - 3, v::unsigned * 2, v::unsigned / 2, v::unsigned % 3 FROM g",
        "SELECT v::unsigned + 1.5, v::unsigned + v::unsigned, -1 + v::unsigned, 5 - v::unsigned FROM g",
        "SELECT v::unsigned & 1, i::unsigned | 2, v::unsigned ^ v::unsigned FROM g",
        "SELECT v::unsigned - -1, v::unsigned % 0, v::unsigned / 0, v::unsigned * -1 FROM g",
        "SELECT i::unsigned - 1, v::unsigned + i::unsigned FROM g",
        "SELECT v FROM g WHERE v::unsigned + 1 = 0",
        "SELECT i + v::unsigned FROM g",
        "SELECT v::unsigned & i FROM g",
        "SELECT i::unsigned, i::unsigned + i FROM g",
        "SELECT v::unsigned | true FROM g",
        "SELECT v::unsigned & 1.5 FROM g",
        "SELECT v::unsigned + (1 + 2), v::unsigned * (2 - 3) FROM g",
        "SELECT v FROM g WHERE v::unsigned - 3 > 5",
        "SELECT v FROM g WHERE 5 - v::unsigned > 5",
        "SELECT v FROM g WHERE v::unsigned * -1 = 18446744073709551614",
        "SELECT v FROM g WHERE v::unsigned / 0 = 0 AND v::unsigned % 0 = 0",
        "SELECT v FROM g WHERE i::unsigned - 1 > 100",
        "SELECT max(v::unsigned) FROM g WHERE time >= 0s AND time < 5s GROUP BY time(1s) fill(-1.5)",
        "SELECT max(i) FROM g WHERE time >= 0s AND time < 5s GROUP BY time(1s) fill(1e19)",
        "SELECT max(v::unsigned) FROM g WHERE time >= 0s AND time < 5s GROUP BY time(1s) fill(linear)",
    ], precision="s")


def query_string_pairs_case():
    """Query strings and form bodies are read as Go's `url.ParseQuery` reads them: a pair
    holding a `;` or an invalid `%` escape is left out, the others stay (`q=SHOW%ZZ` is no
    `q`: "missing required parameter"; `db=d%zz` is no database). HyperbyteDB kept such
    pairs, `;` inside a value and `%` as written."""
    db = "http_pairs"
    raw = lambda method, target, **extra: dict({"method": method, "path": target}, **extra)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    return case("http-errors--query-string-pairs", [
        q("", f'CREATE DATABASE "{db}"'), w(db, "m v=1 1\n"),
    ], [
        raw("GET", f"/query?db={db}&q=SHOW%ZZMEASUREMENTS"),
        raw("GET", f"/query?db={db}&q=SHOW%20MEASUREMENTS%"),
        raw("GET", f"/query?db={db}&q=SHOW%20MEASUREMENTS%4"),
        raw("GET", f"/query?q=SHOW%20MEASUREMENTS&db={db}%zz"),
        raw("GET", f"/query?db={db}&q=SHOW%20MEASUREMENTS;"),
        raw("GET", f"/query?db={db};q=SHOW%20MEASUREMENTS"),
        raw("GET", f"/query?db={db}&q=SHOW%20MEASUREMENTS&x=1;y=2"),
        raw("GET", f"/query?db={db}&q=SHOW%20MEASUREMENTS%3B"),
        raw("GET", f"/query?db={db}&q=SELECT+v+FROM+m&epoch=s;"),
        raw("GET", f"/query?db%zz={db}&q=SHOW%20MEASUREMENTS"),
        raw("POST", "/query", body=f"q=SHOW%20MEASUREMENTS&db={db};x=1", headers=form),
        raw("POST", "/query", body=f"q=SHOW%20MEASUREMENTS&db={db}&x=%G1", headers=form),
        raw("POST", "/query", body=f"q=SHOW%ZZ&db={db}", headers=form),
        raw("POST", f"/write?db={db};precision=s", body="m v=2 2\n"),
        raw("POST", f"/write?db={db}&precision=s&x=%", body="m v=3 3\n"),
        q(db, "SELECT v FROM m"),
    ])


def unknown_paths_case():
    """An unknown path is Go's `http.NotFound`: `404 page not found`, plain text, with
    `X-Content-Type-Options: nosniff` (HyperbyteDB left that header out)."""
    headers = ["Content-Type", "X-Content-Type-Options"]
    get = lambda method, path: {"method": method, "path": path, "check_headers": headers}
    return case("http--unknown-paths", [], [
        get("GET", "/nosuch"), get("GET", "/ping2"), get("POST", "/write/x"),
        get("GET", "/query/"), get("DELETE", "/api/v2/nosuch"),
    ])


def type_errors_under_series_cuts_case():
    """An aggregate's unsupported type is found when its iterator is built, which InfluxDB
    does only for the series `SLIMIT`/`SOFFSET` keep: `sum(s) ... SOFFSET 1` (no SLIMIT
    keeps no series) and an offset past every tag set answer nothing. (HyperbyteDB
    answered the type error; found by differential_shapes.py, seed 9732.)"""
    body = "".join(line + "\n" for line in [
        'cpu,host=a s="x",v=1 1000000000',
        'cpu,host=b s="y",v=2 2000000000',
        'cpu,host=c s="z",v=3 3000000000',
    ])
    return queries_case("aggregates--type-errors-under-series-cuts", "agg_type_cuts", body, [
        "SELECT sum(s) FROM cpu",
        "SELECT sum(s) FROM cpu SOFFSET 1",
        "SELECT sum(s) FROM cpu SLIMIT 1 SOFFSET 1",
        "SELECT sum(s) FROM cpu SLIMIT 1",
        "SELECT sum(s) FROM cpu GROUP BY host SOFFSET 1",
        "SELECT sum(s) FROM cpu GROUP BY host SLIMIT 1 SOFFSET 2",
        "SELECT sum(s) FROM cpu GROUP BY host SLIMIT 1 SOFFSET 3",
        "SELECT mean(s) FROM cpu GROUP BY * SLIMIT 2 SOFFSET 5",
        "SELECT sum(s), count(v) FROM cpu GROUP BY host SLIMIT 5 SOFFSET 0",
        "SELECT sum(s) FROM cpu WHERE host = 'c' GROUP BY host SLIMIT 1 SOFFSET 1",
    ])


def wildcard_tags_under_outer_group_by_case():
    """A subquery's own wildcard lists a tag that only the outer `GROUP BY` groups by:
    InfluxDB expands the inner `*`, `*::tag` or regex before the outer dimensions reach
    the subquery, so `SELECT max(v), host FROM (SELECT * FROM cpu) GROUP BY host` prints
    each row's host and the outer `*` lists `host` (HyperbyteDB grouped the subquery by
    host first and left the column out or empty). A subquery grouping by the tag itself,
    a field-only wildcard, or a measurement without the tag lists none."""
    db = "sq_wildcard_tags"
    body = (
        "cpu,host=a v=1 0\ncpu,host=a v=2 5000000000\ncpu,host=a i=3i 12000000000\n"
        "cpu,host=a v=4,i=5i 20000000000\ncpu,host=b v=10 0\ncpu,host=b v=20,i=1i 12000000000\n"
        "cpu,host=b v=30 25000000000\ncpu,host=c v=7 40000000000\n"
        "mem,host=a,dc=x free=1 0\nmem,host=b,dc=y free=2 10000000000\n"
        "mem,host=a,dc=x free=3 20000000000\ndisk used=5 0\n"
    )
    return queries_case("subquery--wildcard-tags-under-outer-group-by", db, body, [
        "SELECT * FROM (SELECT * FROM cpu) GROUP BY host",
        "SELECT mean(v) FROM (SELECT * FROM cpu) GROUP BY host",
        "SELECT v, host FROM (SELECT * FROM cpu) GROUP BY host",
        "SELECT max(v), host FROM (SELECT * FROM cpu) GROUP BY host",
        "SELECT * FROM (SELECT * FROM cpu WHERE host = 'a') GROUP BY host",
        "SELECT * FROM (SELECT v, i FROM cpu) GROUP BY host",
        "SELECT * FROM (SELECT * FROM cpu GROUP BY host) GROUP BY host",
        "SELECT count(*) FROM (SELECT * FROM cpu) GROUP BY host",
        "SELECT * FROM (SELECT *::field FROM cpu) GROUP BY host",
        "SELECT * FROM (SELECT *::tag, v FROM cpu) GROUP BY host",
        "SELECT host FROM (SELECT * FROM cpu) GROUP BY host",
        "SELECT * FROM (SELECT * FROM cpu) GROUP BY *",
        "SELECT * FROM (SELECT * FROM mem) GROUP BY host",
        "SELECT * FROM (SELECT * FROM mem) GROUP BY host, dc",
        "SELECT * FROM (SELECT * FROM mem GROUP BY dc) GROUP BY host",
        "SELECT * FROM (SELECT /h/ , free FROM mem) GROUP BY host, dc",
        "SELECT * FROM (SELECT * FROM mem, cpu) GROUP BY host",
        "SELECT * FROM (SELECT * FROM disk) GROUP BY host",
        "SELECT * FROM (SELECT * FROM /m/) GROUP BY dc",
        "SELECT max(free), host, dc FROM (SELECT * FROM mem) GROUP BY dc",
        "SELECT * FROM (SELECT * FROM (SELECT * FROM mem)) GROUP BY host",
        "SELECT host FROM (SELECT * FROM (SELECT * FROM mem) GROUP BY dc) GROUP BY host",
        "SELECT * FROM (SELECT * FROM mem) WHERE host = 'a' GROUP BY host",
        "SELECT * FROM (SELECT * FROM mem) WHERE dc = 'x' GROUP BY host",
        "SELECT count(host) FROM (SELECT * FROM mem) GROUP BY host",
        "SELECT * FROM (SELECT * FROM mem) GROUP BY nope",
        "SELECT * FROM (SELECT * FROM mem) GROUP BY host ORDER BY time DESC LIMIT 1",
        "SELECT * FROM (SELECT free, host FROM mem) GROUP BY host",
        "SELECT * FROM (SELECT free::field, *::tag FROM mem) GROUP BY dc",
        "SELECT mean(free) FROM (SELECT * FROM mem) WHERE time >= 0 AND time < 30s GROUP BY time(10s), host",
        "SELECT last(free), dc FROM (SELECT * FROM mem WHERE time >= 0 AND time < 30s) GROUP BY time(10s), host fill(none)",
    ])


def main():
    target = os.path.join(HERE, "cases")
    os.makedirs(target, exist_ok=True)
    for c in cases():
        with open(os.path.join(target, c["name"] + ".json"), "w") as f:
            json.dump(c, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()

