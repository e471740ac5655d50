//! `/debug/vars`: the statistics in InfluxDB 1.x's expvar JSON shape, which Telegraf's
//! `influxdb` input and InfluxDB dashboards read.
//!
//! One object: `system` (`currentTime`, `started`, `uptime` in seconds), `cmdline`,
//! `memstats` (what this process can tell: `Sys` is its resident memory; Go's allocator
//! fields have no counterpart), and one entry per statistics module,
//! `{"name": .., "tags": {..} or null, "values": {..}}`, keyed by the module name, joined
//! with `:` to its database or bind address (`database:mydb`, `httpd:127.0.0.1:8086`) as
//! InfluxDB keys them: `runtime`, `queryExecutor`, `database:<db>`, `write`, `httpd:<bind>`
//! and this server's own `flush` and `tier`.

use crate::metrics::HttpdStats;
use hyperbyte_application::stats::{stat_modules, ServiceStats};
use hyperbyte_domain::query::{Series, Value};
use serde_json::{json, Map, Value as Json};
use std::time::SystemTime;

fn to_json(v: &Value) -> Json {
    match v {
        Value::Integer(i) => json!(i),
        Value::Unsigned(u) => json!(u),
        Value::Float(f) => json!(f),
        Value::Boolean(b) => json!(b),
        Value::String(s) => json!(s),
        _ => Json::Null,
    }
}

/// One module entry: its key and `{"name","tags","values"}`.
fn entry(s: &Series) -> (String, Json) {
    let name = s.name.clone().unwrap_or_default();
    let mut key = name.clone();
    for tag in ["database", "bind"] {
        if let Some(v) = s.tags.get(tag) {
            key.push(':');
            key.push_str(v);
        }
    }
    let values: Map<String, Json> = s
        .columns
        .iter()
        .zip(s.values.first().into_iter().flatten())
        .map(|(c, v)| (c.clone(), to_json(v)))
        .collect();
    let tags = if s.tags.is_empty() {
        Json::Null
    } else {
        json!(s.tags)
    };
    (key, json!({"name": name, "tags": tags, "values": values}))
}

fn rfc3339(t: SystemTime) -> String {
    let nanos = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    hyperbyte_domain::time::format_rfc3339(nanos)
}

/// What `/debug/vars` needs besides the services' statistics.
pub(crate) struct VarsInput<'a> {
    pub(crate) stats: &'a ServiceStats,
    pub(crate) httpd: HttpdStats,
    pub(crate) bind: &'a str,
    pub(crate) started: SystemTime,
    pub(crate) resident_bytes: Option<u64>,
}

/// The `/debug/vars` body.
pub(crate) fn render(input: &VarsInput<'_>) -> String {
    let now = SystemTime::now();
    let uptime = now
        .duration_since(input.started)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut out = Map::new();
    out.insert(
        "system".into(),
        json!({"currentTime": rfc3339(now), "started": rfc3339(input.started), "uptime": uptime}),
    );
    out.insert(
        "cmdline".into(),
        Json::Array(std::env::args().map(Json::String).collect()),
    );
    let mut memstats = Map::new();
    let mut runtime = Map::new();
    if let Some(rss) = input.resident_bytes {
        memstats.insert("Sys".into(), json!(rss));
        runtime.insert("Sys".into(), json!(rss));
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    runtime.insert("NumCPU".into(), json!(cpus));
    out.insert("memstats".into(), Json::Object(memstats));
    out.insert(
        "runtime".into(),
        json!({"name": "runtime", "tags": {}, "values": runtime}),
    );
    for s in stat_modules(input.stats) {
        let (k, v) = entry(&s);
        out.insert(k, v);
    }
    let h = input.httpd;
    let httpd = json!({
        "name": "httpd",
        "tags": {"bind": input.bind},
        "values": {
            "authFail": h.auth_failures,
            "clientError": h.client_errors,
            "pingReq": h.ping,
            "pointsWrittenOK": input.stats.writes.points,
            "queryReq": h.query,
            "queryReqDurationNs": h.query_duration_ns,
            "req": h.requests,
            "reqActive": h.active,
            "reqDurationNs": h.duration_ns,
            "serverError": h.server_errors,
            "statusReq": h.status,
            "writeReq": h.write,
            "writeReqBytes": h.write_bytes,
            "writeReqDurationNs": h.write_duration_ns,
        }
    });
    out.insert(format!("httpd:{}", input.bind), httpd);
    Json::Object(out).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyperbyte_application::stats::DatabaseStats;

    #[test]
    fn influxdb_shape() {
        let mut stats = ServiceStats::default();
        stats.databases.push(DatabaseStats {
            name: "mydb".into(),
            measurements: 1,
            series: 2,
        });
        let body = render(&VarsInput {
            stats: &stats,
            httpd: HttpdStats::default(),
            bind: "127.0.0.1:8086",
            started: SystemTime::now(),
            resident_bytes: Some(1024),
        });
        let v: Json = serde_json::from_str(&body).unwrap();
        assert_eq!(v["database:mydb"]["name"], "database");
        assert_eq!(v["database:mydb"]["tags"]["database"], "mydb");
        assert_eq!(v["database:mydb"]["values"]["numSeries"], 2);
        assert_eq!(v["database:mydb"]["values"]["numMeasurements"], 1);
        assert_eq!(v["queryExecutor"]["tags"], Json::Null);
        assert!(v["queryExecutor"]["values"]["queriesExecuted"].is_i64());
        assert_eq!(v["httpd:127.0.0.1:8086"]["tags"]["bind"], "127.0.0.1:8086");
        assert_eq!(v["memstats"]["Sys"], 1024);
        assert!(v["cmdline"].is_array());
        assert!(v["write"]["values"]["writeOk"].is_i64());
        assert!(v["system"]["uptime"].is_u64());
    }
}
