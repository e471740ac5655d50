"""Scenario for the Python `influxdb` client (5.3.2, PyPI), unmodified.

Usage: python3 python_influxdb.py BASE_URL

Drives the client's public API against the server at BASE_URL and prints one JSON
transcript of what the client returned (values with their Python types, exceptions with
their text and status code). `tests/tests/real_clients.rs` runs it against hyperbyted and
the reference InfluxDB and compares the transcripts; the only normalisation is the server
version that `ping()` returns (see docs/clients.md).

The client asks every query for `Accept: application/x-msgpack`, so floats that happen to be
whole (`2.0`) must reach the program as `float`, and `DataFrameClient` columns keep their
dtype; the transcript records the type of every value to catch that.
"""

import json
import sys
import urllib.parse
import warnings

warnings.simplefilter("ignore")

from influxdb import DataFrameClient, InfluxDBClient  # noqa: E402
from influxdb.exceptions import InfluxDBClientError, InfluxDBServerError  # noqa: E402

DB = "pyclient"
OUT = []


def typed(v):
    """A JSON-safe value that keeps the Python type visible (2 vs 2.0, str vs int)."""
    if isinstance(v, bool):
        return v
    if isinstance(v, float):
        return {"float": repr(v)}
    if isinstance(v, int):
        return {"int": v}
    if isinstance(v, dict):
        return {k: typed(x) for k, x in sorted(v.items())}
    if isinstance(v, (list, tuple)):
        return [typed(x) for x in v]
    if v is None or isinstance(v, str):
        return v
    return {type(v).__name__: str(v)}


def step(name, fn):
    try:
        got = fn()
        OUT.append({"step": name, "ok": typed(got)})
    except (InfluxDBClientError, InfluxDBServerError) as e:
        OUT.append({"step": name, "error": type(e).__name__, "code": getattr(e, "code", None),
                    "text": str(e)})
    except Exception as e:  # a client-side failure is part of the transcript too
        OUT.append({"step": name, "exception": type(e).__name__, "text": str(e)})


def raw(rs):
    """A ResultSet as the client hands it over: raw series plus get_points()."""
    if isinstance(rs, list):
        return [raw(r) for r in rs]
    return {"raw": rs.raw, "points": list(rs.get_points())}


def points():
    base = [
        {"measurement": "cpu", "tags": {"host": "a", "region": "eu"},
         "time": "2020-01-01T00:00:00Z", "fields": {"value": 1.0, "load": 3, "up": True}},
        {"measurement": "cpu", "tags": {"host": "b", "region": "eu"},
         "time": "2020-01-01T00:00:10Z", "fields": {"value": 2.5, "load": 4, "up": False}},
        {"measurement": "cpu", "tags": {"host": "a", "region": "us"},
         "time": "2020-01-01T00:00:20Z", "fields": {"value": 3.0, "msg": "hi, \"there\""}},
    ]
    for i in range(7):
        base.append({"measurement": "mem", "tags": {"host": "h%d" % (i % 3)},
                     "time": 1577836800 + i, "fields": {"used": float(i * 10), "free": i}})
    return base


def dataframes(host, port):
    import pandas as pd

    df_client = DataFrameClient(host=host, port=port, database=DB)
    index = pd.date_range("2020-02-01", periods=6, freq="1min", tz="UTC")
    df = pd.DataFrame({"f": [0.0, 1.0, 2.5, 3.0, 4.0, 5.0], "i": [1, 2, 3, 4, 5, 6],
                       "s": ["a", "b", "c", "d", "e", "f"]}, index=index)
    step("df write_points", lambda: df_client.write_points(df, "frame", tags={"src": "df"},
                                                            batch_size=4))
    step("df write_points tag_columns", lambda: df_client.write_points(
        pd.DataFrame({"v": [1.0, 2.0], "host": ["x", "y"]},
                     index=pd.date_range("2020-02-02", periods=2, freq="1s", tz="UTC")),
        "frame2", tag_columns=["host"], time_precision="s"))

    def frame(q, **kw):
        got = df_client.query(q, **kw)
        out = {}
        for key, d in sorted(got.items(), key=lambda kv: str(kv[0])):
            out[str(key)] = {
                "index": [t.isoformat() for t in d.index],
                "dtypes": {c: str(t) for c, t in d.dtypes.items()},
                "columns": {c: [x.item() if hasattr(x, "item") else x for x in d[c]]
                            for c in d.columns},
            }
        return out

    step("df query frame", lambda: frame('SELECT * FROM "frame"'))
    step("df query floats only", lambda: frame('SELECT "f" FROM "frame" WHERE "f" < 4'))
    step("df query group by tag", lambda: frame('SELECT mean("v") FROM "frame2" GROUP BY "host"'))
    step("df query epoch", lambda: frame('SELECT "f" FROM "frame"', epoch="s"))


def main():
    url = urllib.parse.urlparse(sys.argv[1])
    host, port = url.hostname, url.port
    c = InfluxDBClient(host=host, port=port, database=DB)

    step("ping", lambda: "version" if c.ping() else None)
    step("create_database", lambda: c.create_database(DB))
    step("create_database again", lambda: c.create_database(DB))
    step("create_database other", lambda: c.create_database("pyother"))
    step("get_list_database", lambda: c.get_list_database())
    step("drop_database other", lambda: c.drop_database("pyother"))
    step("get_list_database after drop", lambda: c.get_list_database())

    step("create_retention_policy", lambda: c.create_retention_policy(
        "week", "7d", 1, database=DB, shard_duration="1d"))
    step("create_retention_policy default", lambda: c.create_retention_policy(
        "forever", "INF", 1, database=DB, default=True))
    step("alter_retention_policy", lambda: c.alter_retention_policy(
        "week", database=DB, duration="14d", default=False))
    step("get_list_retention_policies", lambda: c.get_list_retention_policies(DB))
    step("drop_retention_policy", lambda: c.drop_retention_policy("week", database=DB))
    step("get_list_retention_policies after drop", lambda: c.get_list_retention_policies(DB))

    step("write_points json batch 3", lambda: c.write_points(points(), batch_size=3))
    step("write_points precision ms tags", lambda: c.write_points(
        [{"measurement": "disk", "time": 1577836800123, "fields": {"free": 1.5}}],
        time_precision="ms", tags={"host": "a", "dc": "x"}))
    step("write_points precision s rp", lambda: c.write_points(
        [{"measurement": "disk", "time": 1577836801, "fields": {"free": 2.0},
          "tags": {"host": "b"}}], time_precision="s", retention_policy="forever"))
    step("write_points line protocol", lambda: c.write_points(
        ["net,host=a rx=10i,tx=2.0 1577836800000000000",
         "net,host=b rx=11i,tx=3.5 1577836801000000000"], protocol="line"))
    step("write_points line protocol precision u", lambda: c.write_points(
        "net,host=c rx=12i,tx=4.0 1577836802000000", protocol="line", time_precision="u"))
    step("write line protocol raw", lambda: c.write(
        "net,host=d rx=13i 1577836803", params={"db": DB, "precision": "s"}, protocol="line"))
    step("write_points bad field type", lambda: c.write_points(
        [{"measurement": "cpu", "tags": {"host": "z"}, "time": "2020-01-01T00:01:00Z",
          "fields": {"value": "text"}}]))
    step("write_points unknown database", lambda: c.write_points(
        [{"measurement": "x", "fields": {"v": 1}}], database="nope"))

    step("query select", lambda: raw(c.query('SELECT * FROM "cpu"')))
    step("query epoch s", lambda: raw(c.query('SELECT "value", "load" FROM "cpu"', epoch="s")))
    step("query epoch ms", lambda: raw(c.query('SELECT * FROM "disk"', epoch="ms")))
    step("query epoch ns", lambda: raw(c.query('SELECT "used" FROM "mem"', epoch="ns")))
    step("query epoch u", lambda: raw(c.query('SELECT "tx" FROM "net"', epoch="u")))
    step("query bind params", lambda: raw(c.query(
        'SELECT "value" FROM "cpu" WHERE "host" = $host AND "value" > $min',
        bind_params={"host": "a", "min": 0.5})))
    step("query group by time fill", lambda: raw(c.query(
        'SELECT mean("used"), max("free") FROM "mem" WHERE time >= \'2020-01-01T00:00:00Z\' '
        'AND time < \'2020-01-01T00:00:10Z\' GROUP BY time(2s), "host" fill(null)')))
    step("query whole floats", lambda: raw(c.query('SELECT sum("used") FROM "mem"')))
    step("query count distinct", lambda: raw(c.query(
        'SELECT count("value"), distinct("host") FROM "cpu"')))
    step("query multiple statements", lambda: raw(c.query(
        'SELECT "rx" FROM "net"; SELECT count("free") FROM "mem"')))
    step("query failing statement first", lambda: raw(c.query(
        'SELECT * FROM "nope"."autogen"."cpu"; SELECT "rx" FROM "net"')))
    step("query failing statement last", lambda: raw(c.query(
        'SELECT "rx" FROM "net"; SELECT * FROM "nope"."autogen"."cpu"')))
    # The client cannot read a chunked MessagePack answer (it unpacks one document and
    # fails on the next, against InfluxDB too): the step records that it fails alike.
    step("query chunked", lambda: raw(c.query('SELECT * FROM "mem"', chunked=True, chunk_size=2)))
    step("query POST", lambda: raw(c.query('SELECT * FROM "net" LIMIT 1', method="POST")))
    step("query get_points filter", lambda: list(c.query('SELECT * FROM "cpu" GROUP BY "host"')
                                                 .get_points(tags={"host": "a"})))
    step("query parse error", lambda: raw(c.query('SELEC * FROM cpu')))
    step("query unknown database", lambda: raw(c.query('SELECT * FROM cpu', database="nope")))
    step("query unknown measurement", lambda: raw(c.query('SELECT * FROM "nothing"')))
    step("query show tag values", lambda: raw(c.query('SHOW TAG VALUES FROM "cpu" WITH KEY = "host"')))
    step("query show field keys", lambda: raw(c.query('SHOW FIELD KEYS')))

    step("get_list_measurements", lambda: c.get_list_measurements())
    step("get_list_series", lambda: c.get_list_series())
    step("get_list_series measurement", lambda: c.get_list_series(measurement="cpu"))
    step("get_list_series tags", lambda: c.get_list_series(measurement="cpu", tags={"host": "a"}))
    step("create_user", lambda: c.create_user("bob", "secret"))
    step("create_user admin", lambda: c.create_user("alice", "secret", admin=True))
    step("get_list_users", lambda: c.get_list_users())
    step("grant_privilege", lambda: c.grant_privilege("read", DB, "bob"))
    step("get_list_privileges", lambda: c.get_list_privileges("bob"))
    step("set_user_password", lambda: c.set_user_password("bob", "other"))
    step("drop_user", lambda: c.drop_user("bob"))
    step("drop_user missing", lambda: c.drop_user("nobody"))
    step("get_list_users after drop", lambda: c.get_list_users())
    # query() sends a GET unless told otherwise: InfluxDB warns about statements that
    # change something, except DELETE, KILL QUERY and failed ones.
    step("query GET drop user", lambda: raw(c.query('DROP USER "alice"')))
    step("query GET delete", lambda: raw(c.query('DELETE FROM "net" WHERE time < 0')))
    step("query GET kill query", lambda: raw(c.query('KILL QUERY 12345')))
    step("query GET create user", lambda: raw(c.query("CREATE USER carol WITH PASSWORD 'pw'")))
    step("query GET drop missing user", lambda: raw(c.query("DROP USER carol; DROP USER carol")))
    step("drop_measurement", lambda: c.drop_measurement("disk"))
    step("get_list_measurements after drop", lambda: c.get_list_measurements())
    step("delete_series", lambda: c.delete_series(measurement="mem", tags={"host": "h0"}))
    step("get_list_series after delete", lambda: c.get_list_series(measurement="mem"))

    dataframes(host, port)

    step("drop_database", lambda: c.drop_database(DB))
    step("get_list_database end", lambda: c.get_list_database())
    json.dump(OUT, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
