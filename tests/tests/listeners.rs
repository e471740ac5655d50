//! The Graphite, OpenTSDB, collectd and UDP line-protocol listeners against the real
//! binary: data sent over each lands with the measurement, tags and fields InfluxDB 1.x
//! would store (read back with InfluxQL), hostile input leaves every listener up, and a
//! real `collectd` (Debian's, located by `cargo xtask test` in `E2E_CLIENT_COLLECTD`)
//! reaches the collectd listener.
//!
//! The listeners acknowledge nothing (except OpenTSDB's `/api/put`), so every check polls
//! with a deadline instead of sleeping a fixed time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hyperbyte_e2e::Server;
use serde_json::{json, Value};
use std::io::Write;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(30);

/// A server with the listeners of `config` (a TOML fragment) on loopback port 0.
fn server(config: &str) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("listeners.toml");
    std::fs::write(&path, config).unwrap();
    let s = Server::start_with(&["--config", path.to_str().unwrap()]);
    (s, dir)
}

/// Polls `f` until it returns `Some`, failing with `what` after the deadline.
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The `values` of the first series of the first result, if any.
fn rows(s: &Server, db: &str, q: &str) -> Option<Vec<Value>> {
    let (status, body) = s.query(db, q);
    if status != 200 {
        return None;
    }
    body["results"][0]["series"][0]["values"]
        .as_array()
        .cloned()
}

/// The rows of `q` once there are `n` of them (a series is in the index a moment before
/// its point is in the WAL, so reads poll too).
fn rows_eventually(s: &Server, db: &str, q: &str, n: usize) -> Vec<Value> {
    eventually(&format!("{n} rows of {q}"), || {
        rows(s, db, q).filter(|r| r.len() == n)
    })
}

/// `SHOW SERIES` keys of `db`, once there are at least `n`.
fn series(s: &Server, db: &str, n: usize) -> Vec<String> {
    eventually(&format!("{n} series in {db}"), || {
        let keys: Vec<String> = rows(s, db, "SHOW SERIES")?
            .iter()
            .filter_map(|r| r[0].as_str().map(str::to_string))
            .collect();
        (keys.len() >= n).then_some(keys)
    })
}

fn tcp_send(addr: SocketAddr, data: &[u8]) {
    let mut c = TcpStream::connect(addr).unwrap();
    c.write_all(data).unwrap();
    c.flush().unwrap();
}

fn udp_send(addr: SocketAddr, data: &[u8]) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.send_to(data, addr).unwrap();
}

/// One listener module of `/debug/vars` (`graphite:127.0.0.1:port...`).
fn listener_vars(s: &Server, kind: &str, addr: SocketAddr) -> Value {
    let (status, body) = s.get("/debug/vars");
    assert_eq!(status, 200);
    let vars: Value = serde_json::from_str(&body).unwrap();
    let prefix = format!("{kind}:{addr}");
    vars.as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.starts_with(&prefix))
        .map(|(_, v)| v["values"].clone())
        .unwrap_or_else(|| panic!("no {prefix} in /debug/vars"))
}

#[test]
fn graphite_over_tcp_and_udp_maps_templates_as_influxdb() {
    let (s, _dir) = server(
        r#"
[[graphite]]
enabled = true
bind-address = "127.0.0.1:0"
separator = "_"
batch-timeout = "50ms"
tags = ["dc=ams"]
templates = [
  "servers.* .host.resource.measurement*",
  "stats.* .host.measurement.field*  region=eu",
  "measurement.measurement.field",
]
[[graphite]]
enabled = true
bind-address = "127.0.0.1:0"
protocol = "udp"
database = "graphite_udp"
batch-timeout = "50ms"
"#,
    );
    let tcp = s.listener_addr("graphite", 0);
    let udp = s.listener_addr("graphite", 1);
    tcp_send(
        tcp,
        b"servers.web01.cpu.load.shortterm 1.5 1700000000\r\n\
          stats.web02.requests.ok.count 7 1700000001\n\
          app.http.latency 12.5 1700000002.25\n\
          bad line with too many fields here\n\
          app.http.nan NaN 1700000000\n",
    );
    let keys = series(&s, "graphite", 3);
    assert_eq!(
        keys,
        [
            "app_http,dc=ams",
            "load_shortterm,dc=ams,host=web01,resource=cpu",
            "requests,dc=ams,host=web02,region=eu",
        ]
    );
    assert_eq!(
        rows_eventually(&s, "graphite", "SELECT * FROM load_shortterm", 1),
        vec![json!(["2023-11-14T22:13:20Z", "ams", "web01", "cpu", 1.5])]
    );
    assert_eq!(
        rows_eventually(&s, "graphite", "SELECT \"ok_count\" FROM requests", 1),
        vec![json!(["2023-11-14T22:13:21Z", 7])]
    );
    assert_eq!(
        rows_eventually(&s, "graphite", "SELECT latency FROM app_http", 1),
        vec![json!(["2023-11-14T22:13:22.25Z", 12.5])]
    );
    // The default layout over UDP: the whole path is the measurement, the field `value`.
    udp_send(udp, b"a.b.c 3 1700000000\nd.e 4 1700000000\n");
    assert_eq!(
        series(&s, "graphite_udp", 2),
        ["a.b.c", "d.e"],
        "graphite over udp"
    );
    let v = eventually("graphite counters", || {
        let v = listener_vars(&s, "graphite", tcp);
        (v["pointsTx"] == 3).then_some(v)
    });
    assert_eq!(v["pointsRx"], 3);
    assert_eq!(v["pointsParseFail"], 2);
}

#[test]
fn opentsdb_telnet_and_http_put_share_one_port() {
    let (s, _dir) = server(
        "[[opentsdb]]\nenabled = true\nbind-address = \"127.0.0.1:0\"\nbatch-timeout = \"50ms\"\n",
    );
    let addr = s.listener_addr("opentsdb", 0);
    let mut c = TcpStream::connect(addr).unwrap();
    c.write_all(b"version\nput sys.cpu.user 1356998400 42.5 host=web01 cpu=0\nput sys.cpu.user 1356998401123 43 host=web01 cpu=0 bad=\nput nope\n")
        .unwrap();
    let mut reply = [0u8; 19];
    std::io::Read::read_exact(&mut c, &mut reply).unwrap();
    assert_eq!(&reply, b"InfluxDB TSDB proxy");
    drop(c);
    let put = |body: &str| {
        let r = ureq::post(&format!("http://{addr}/api/put")).send_string(body);
        match r {
            Ok(r) => (r.status(), String::new()),
            Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(
        put(
            r#"[{"metric":"sys.mem.free","timestamp":1356998400,"value":1024,"tags":{"host":"web01"}},{"metric":"sys.mem.free","timestamp":1356998400500,"value":2048,"tags":{"host":"web02"}}]"#
        ),
        (204, String::new())
    );
    assert_eq!(put("nope"), (400, "expected JSON array or hash\n".into()));
    assert_eq!(put("[{]"), (400, "json array decode error\n".into()));
    let r = ureq::get(&format!("http://{addr}/api/put")).call();
    assert!(matches!(r, Err(ureq::Error::Status(405, _))));
    // /api/put answers once the points are durable: readable at once.
    assert_eq!(
        rows(&s, "opentsdb", "SELECT value, host FROM \"sys.mem.free\"").unwrap(),
        vec![
            json!(["2013-01-01T00:00:00Z", 1024, "web01"]),
            // A 13-digit time keeps InfluxDB's rule: the milliseconds land as microseconds.
            json!(["2013-01-01T00:00:00.0005Z", 2048, "web02"]),
        ]
    );
    let keys = series(&s, "opentsdb", 3);
    assert!(
        keys.contains(&"sys.cpu.user,cpu=0,host=web01".to_string()),
        "{keys:?}"
    );
    let values = eventually("two telnet points", || {
        let r = rows(&s, "opentsdb", "SELECT value FROM \"sys.cpu.user\"")?;
        (r.len() == 2).then_some(r)
    });
    assert_eq!(
        values,
        vec![
            json!(["2013-01-01T00:00:00Z", 42.5]),
            json!(["2013-01-01T00:00:01.000123Z", 43]),
        ]
    );
}

#[test]
fn udp_line_protocol_batches_and_reports_a_rate() {
    let (s, _dir) = server(
        "[[udp]]\nenabled = true\nbind-address = \"127.0.0.1:0\"\nprecision = \"s\"\nbatch-timeout = \"50ms\"\nread-buffer = 8388608\n",
    );
    let addr = s.listener_addr("udp", 0);
    udp_send(
        addr,
        b"cpu,host=a usage=1.5,idle=98i 1700000000\nnot line protocol\nmem,host=a free=2i 1700000000\n",
    );
    assert_eq!(series(&s, "udp", 2), ["cpu,host=a", "mem,host=a"]);
    assert_eq!(
        rows_eventually(&s, "udp", "SELECT usage, idle FROM cpu", 1),
        vec![json!(["2023-11-14T22:13:20Z", 1.5, 98])]
    );
    // A burst: 200 datagrams of 100 lines. UDP may drop under load, so the test counts
    // what the listener wrote and requires storage to hold exactly that.
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let started = Instant::now();
    let mut sent = 0u64;
    for d in 0..200u64 {
        let mut body = String::new();
        for i in 0..100u64 {
            let n = d * 100 + i;
            body.push_str(&format!(
                "burst,host=h{} v={n}i {}\n",
                n % 10,
                1_600_000_000 + n
            ));
        }
        sock.send_to(body.as_bytes(), addr).unwrap();
        sent += 100;
    }
    // Settled: every received point written or dropped, and nothing new for 300 ms; the
    // rate is taken at the last change seen.
    let mut last = None;
    let mut changed_at = Instant::now();
    let written = eventually("the burst to be written", || {
        std::thread::sleep(Duration::from_millis(10));
        let v = listener_vars(&s, "udp", addr);
        let now = (
            v["pointsRx"].as_u64()?,
            v["pointsTx"].as_u64()?,
            v["bufferDropped"].as_u64()?,
        );
        if last != Some(now) {
            last = Some(now);
            changed_at = Instant::now();
            return None;
        }
        let settled = changed_at.elapsed() > Duration::from_millis(300)
            && now.1 + now.2 == now.0
            && now.1 > 2;
        settled.then_some(now.1 - 2)
    });
    let elapsed = changed_at - started;
    // Datagrams still in the socket's buffer (a reader starved for more than 300 ms)
    // are counted as they come: storage must hold what the listener wrote by then.
    let stored = eventually("the burst in storage", || {
        let r = rows(&s, "udp", "SELECT count(v) FROM burst")?;
        let n = r[0][1].as_u64()?;
        let v = listener_vars(&s, "udp", addr);
        let (rx, tx, dropped) = (
            v["pointsRx"].as_u64()?,
            v["pointsTx"].as_u64()?,
            v["bufferDropped"].as_u64()?,
        );
        (tx + dropped == rx && n == tx - 2 && n >= written).then_some(n)
    });
    println!(
        "udp burst: {sent} sent, {stored} written to the WAL in {:.2?} ({:.0} points/s)",
        elapsed,
        stored as f64 / elapsed.as_secs_f64()
    );
    assert!(stored > 0);
    let v = listener_vars(&s, "udp", addr);
    assert_eq!(v["pointsParseFail"], 1);
}

/// A collectd packet: host, time, plugin, type, one gauge.
fn collectd_packet(plugin: &str, kind: &str, value: f64) -> Vec<u8> {
    let mut p = Vec::new();
    let string = |p: &mut Vec<u8>, t: u16, s: &str| {
        p.extend(t.to_be_bytes());
        p.extend(((s.len() + 5) as u16).to_be_bytes());
        p.extend(s.as_bytes());
        p.push(0);
    };
    string(&mut p, 0, "h1");
    p.extend(1u16.to_be_bytes());
    p.extend(12u16.to_be_bytes());
    p.extend(1_700_000_000u64.to_be_bytes());
    string(&mut p, 2, plugin);
    string(&mut p, 4, kind);
    p.extend(6u16.to_be_bytes());
    p.extend(15u16.to_be_bytes());
    p.extend(1u16.to_be_bytes());
    p.push(1);
    p.extend(value.to_le_bytes());
    p
}

#[test]
fn hostile_input_leaves_every_listener_up() {
    let (s, _dir) = server(
        r#"
[[graphite]]
enabled = true
bind-address = "127.0.0.1:0"
batch-timeout = "50ms"
[[opentsdb]]
enabled = true
bind-address = "127.0.0.1:0"
batch-timeout = "50ms"
[[collectd]]
enabled = true
bind-address = "127.0.0.1:0"
batch-timeout = "50ms"
typesdb = "TYPESDB"
[[udp]]
enabled = true
bind-address = "127.0.0.1:0"
batch-timeout = "50ms"
"#
        .replace("TYPESDB", &types_db())
        .as_str(),
    );
    let graphite = s.listener_addr("graphite", 0);
    let opentsdb = s.listener_addr("opentsdb", 0);
    let collectd = s.listener_addr("collectd", 0);
    let udp = s.listener_addr("udp", 0);
    let garbage: Vec<u8> = (0..70_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let huge_line = vec![b'x'; 3 << 20];
    for addr in [graphite, opentsdb] {
        tcp_send(addr, &garbage);
        tcp_send(addr, &huge_line);
        tcp_send(addr, b"\xff\xfe\xfd 1 2\nput \xc3\x28 1356998400 1 a=b\n");
        // A client that connects and goes away without a byte.
        drop(TcpStream::connect(addr).unwrap());
    }
    // Bad /api/put bodies: bad gzip, a wrong value type, a truncated array.
    let url = format!("http://{opentsdb}/api/put");
    for (enc, body) in [
        ("gzip", &b"not gzip"[..]),
        ("", br#"{"metric":"m","timestamp":1,"value":"x"}"#),
        ("", b"[{\"metric\":"),
    ] {
        let mut r = ureq::post(&url);
        if !enc.is_empty() {
            r = r.set("Content-Encoding", enc);
        }
        assert!(matches!(
            r.send_bytes(body),
            Err(ureq::Error::Status(400, _))
        ));
    }
    let good = collectd_packet("load", "load_one", 1.0);
    for cut in [1, 3, 4, 7, good.len() - 1] {
        udp_send(collectd, &good[..cut]);
    }
    udp_send(collectd, &garbage[..1400]);
    for addr in [collectd, udp, graphite] {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let _ = sock.send_to(&garbage[..65_000], addr);
        let _ = sock.send_to(b"\xff\xfe bad utf8 =1\n", addr);
    }
    // Good data after all of it still lands.
    tcp_send(graphite, b"after.hostile 1 1700000000\n");
    tcp_send(opentsdb, b"put after.hostile 1700000000 1 k=v\n");
    udp_send(udp, b"after_hostile v=1 1700000000000000000\n");
    let mut p = collectd_packet("memory", "memory", 2.0);
    p.extend(collectd_packet("x", "nosuchtype", 3.0));
    udp_send(collectd, &p);
    assert_eq!(series(&s, "graphite", 1), ["after.hostile"]);
    assert!(series(&s, "opentsdb", 1).contains(&"after.hostile,k=v".to_string()));
    assert_eq!(series(&s, "udp", 1), ["after_hostile"]);
    assert_eq!(
        series(&s, "collectd", 1),
        ["memory_value,host=h1,type=memory"]
    );
    for (kind, addr) in [
        ("graphite", graphite),
        ("opentsdb", opentsdb),
        ("collectd", collectd),
        ("udp", udp),
    ] {
        let v = eventually(&format!("{kind} to count bad input"), || {
            let v = listener_vars(&s, kind, addr);
            (v["pointsParseFail"].as_u64()? > 0).then_some(v)
        });
        assert_eq!(v["batchesTxFail"], 0, "{kind}: {v}");
    }
    assert_eq!(s.get("/ping").0, 204);
}

/// The types database of the installed collectd, or a minimal one.
fn types_db() -> String {
    let debian = "/usr/share/collectd/types.db";
    if std::path::Path::new(debian).is_file() {
        return debian.to_string();
    }
    let path = std::env::temp_dir().join(format!("hb-types-{}.db", std::process::id()));
    std::fs::write(
        &path,
        "load shortterm:GAUGE:0:5000, midterm:GAUGE:0:5000, longterm:GAUGE:0:5000\nmemory value:GAUGE:0:281474976710656\n",
    )
    .unwrap();
    path.display().to_string()
}

/// A `collectd` process, killed on drop.
struct Collectd(std::process::Child);

impl Drop for Collectd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn real_collectd_reaches_the_collectd_listener() {
    let bin = match std::env::var("E2E_CLIENT_COLLECTD") {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "E2E_CLIENT_COLLECTD is not set: collectd is installed and located by `cargo xtask test` \
             (xtask/src/clients.rs); run `cargo xtask test`, or export what `cargo xtask clients` \
             prints to run this test by hand"
        ),
    };
    let (s, dir) = server(
        "[[collectd]]\nenabled = true\nbind-address = \"127.0.0.1:0\"\nbatch-timeout = \"100ms\"\ntypesdb = \"/usr/share/collectd/types.db\"\n",
    );
    let addr = s.listener_addr("collectd", 0);
    let base = dir.path().join("collectd");
    std::fs::create_dir_all(&base).unwrap();
    let conf = base.join("collectd.conf");
    std::fs::write(
        &conf,
        format!(
            "Hostname \"e2ehost\"\nFQDNLookup false\nInterval 1\nBaseDir \"{b}\"\nPIDFile \"{b}/collectd.pid\"\n\
             PluginDir \"/usr/lib/collectd\"\nTypesDB \"/usr/share/collectd/types.db\"\n\
             LoadPlugin load\nLoadPlugin memory\nLoadPlugin cpu\nLoadPlugin network\n\
             <Plugin network>\n  Server \"127.0.0.1\" \"{port}\"\n</Plugin>\n",
            b = base.display(),
            port = addr.port()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(base.join("log")).unwrap();
    let _collectd = Collectd(
        std::process::Command::new(&bin)
            .arg("-f")
            .arg("-C")
            .arg(&conf)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start collectd"),
    );
    // collectd's cpu plugin has nothing to report on its first read, so its series may
    // come a packet after the others.
    eventually("load, memory and cpu series from collectd", || {
        let (_, body) = s.query("collectd", "SHOW SERIES");
        let keys: Vec<String> = body["results"][0]["series"][0]["values"]
            .as_array()?
            .iter()
            .filter_map(|r| r[0].as_str().map(str::to_string))
            .collect();
        let has = |k: &str| keys.iter().any(|s| s == k);
        let cpu = keys
            .iter()
            .any(|k| k.starts_with("cpu_value,host=e2ehost,instance=0,type=cpu,type_instance="));
        (has("load_shortterm,host=e2ehost,type=load")
            && has("memory_value,host=e2ehost,type=memory,type_instance=used")
            && cpu)
            .then_some(())
    });
    let last = rows_eventually(&s, "collectd", "SELECT last(value) FROM load_shortterm", 1);
    assert!(last[0][1].as_f64().is_some_and(|v| v >= 0.0), "{last:?}");
    let (_, fields) = s.query("collectd", "SHOW FIELD KEYS FROM memory_value");
    assert_eq!(
        fields["results"][0]["series"][0]["values"],
        json!([["value", "float"]])
    );
}
