//! Hostile `/query` input end to end: bound parameters cannot smuggle a second statement,
//! and absurdly deep queries are a 400 parse error, never a crashed server.
#![allow(clippy::unwrap_used)]

use hyperbyte_e2e::Server;

/// POST /query with `params=` (JSON); returns (status, parsed JSON).
fn query_with_params(s: &Server, db: &str, q: &str, params: &str) -> (u16, serde_json::Value) {
    let r = ureq::post(&format!("{}/query", s.url)).send_form(&[
        ("db", db),
        ("q", q),
        ("params", params),
    ]);
    let (status, body) = match r {
        Ok(resp) => (resp.status(), resp.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(code, resp)) => (code, resp.into_string().unwrap_or_default()),
        Err(e) => (0, e.to_string()),
    };
    let v = serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body));
    (status, v)
}

fn databases(s: &Server) -> String {
    let (status, v) = s.query("", "SHOW DATABASES");
    assert_eq!(status, 200, "{v}");
    v["results"][0]["series"][0]["values"].to_string()
}

#[test]
fn bound_parameters_never_run_a_second_statement() {
    let s = Server::start();
    let (status, v) = s.query("", "CREATE DATABASE prod");
    assert_eq!(status, 200, "{v}");
    let (status, body) = s.write("prod", "m,t=a v=1 1000000000");
    assert_eq!(status, 204, "{body}");

    // A regex that would close the literal and start `DROP DATABASE` if re-lexed.
    let (status, v) = query_with_params(
        &s,
        "prod",
        "SELECT * FROM m WHERE t =~ $r",
        r#"{"r":{"regex":"\\/ ; DROP DATABASE prod -- "}}"#,
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["results"].as_array().unwrap().len(), 1, "{v}");
    assert!(databases(&s).contains("\"prod\""));

    // A duration is parsed as a duration (InfluxDB: `invalid duration`).
    let (status, v) = query_with_params(
        &s,
        "prod",
        "SELECT * FROM m WHERE time > now() - $d",
        r#"{"d":{"duration":"1h; DROP DATABASE prod"}}"#,
    );
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"], "error parsing query: invalid duration", "{v}");
    assert!(databases(&s).contains("\"prod\""));

    // A string with quotes, backslashes and a newline matches itself exactly.
    let tag = "x'; DROP DATABASE prod; --\\y";
    let line = format!("m,t={} v=2 2000000000", tag.replace(' ', "\\ "));
    let (status, body) = s.write("prod", &line);
    assert_eq!(status, 204, "{body}");
    let params = serde_json::json!({ "s": tag }).to_string();
    let (status, v) = query_with_params(&s, "prod", "SELECT v FROM m WHERE t = $s", &params);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["results"][0]["series"][0]["values"][0][1], 2.0, "{v}");
    assert!(databases(&s).contains("\"prod\""));
}

#[test]
fn deep_queries_are_parse_errors_and_the_server_stays_up() {
    let s = Server::start();
    let (status, v) = s.query("", "CREATE DATABASE d");
    assert_eq!(status, 200, "{v}");

    // 150 nested parentheses, each holding a 30-term chain: a tree 4,651 deep, within
    // the nesting and chain-length limits (a 9 kB query, below any body limit).
    let mut e = String::from("v");
    for _ in 0..150 {
        e = format!("({e}{})", "-1".repeat(30));
    }
    let (status, v) = s.query("d", &format!("SELECT {e} FROM m"));
    assert_eq!(status, 400, "{v}");
    let err = v["error"].as_str().unwrap_or_default();
    assert!(
        err.starts_with("error parsing query: expression too deep"),
        "{err}"
    );

    // Deep subqueries.
    let mut q = String::from("SELECT v FROM m");
    for _ in 0..100 {
        q = format!("SELECT * FROM ({q})");
    }
    let (status, v) = s.query("d", &q);
    assert_eq!(status, 400, "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap_or_default()
            .starts_with("error parsing query: subqueries nested too deep"),
        "{v}"
    );

    let r = ureq::get(&format!("{}/ping", s.url)).call().unwrap();
    assert_eq!(r.status(), 204);
    let (status, v) = s.query("d", "SHOW DATABASES");
    assert_eq!(status, 200, "{v}");
}

/// A condition listing thousands of hosts (what a dashboard's "all values" variable can
/// produce) is answered from storage, not refused by the engine's parser: the chain used
/// to reach the engine nested one level per term and failed past ~500 terms with
/// "Maximum parse depth (1000) exceeded". The tier is off, so storage answers.
#[test]
fn long_condition_chains_are_answered_from_storage() {
    let s = Server::start_with_env(&[("HYPERBYTE_HOT_TIER__MAX_BYTES", "0")]);
    let (status, v) = s.query("", "CREATE DATABASE d");
    assert_eq!(status, 200, "{v}");
    let body: Vec<String> = (0..3_000)
        .map(|i| format!("m,host=h{i} v={i} {}", 1_600_000_000_000_000_000i64 + i))
        .collect();
    let (status, body) = s.write("d", &body.join("\n"));
    assert_eq!(status, 204, "{body}");

    let count = |cond: String| {
        let (status, v) = s.query("d", &format!("SELECT count(v) FROM m WHERE {cond}"));
        assert_eq!(status, 200, "{v}");
        assert!(v["results"][0]["error"].is_null(), "{v}");
        v["results"][0]["series"][0]["values"][0][1].clone()
    };
    let hosts = |n: usize, op: &str, sep: &str| {
        (0..n)
            .map(|i| format!("host {op} 'h{i}'"))
            .collect::<Vec<_>>()
            .join(sep)
    };
    assert_eq!(count(hosts(1_000, "=", " OR ")), 1_000);
    assert_eq!(count(hosts(3_500, "=", " OR ")), 3_000);
    assert_eq!(count(hosts(3_500, "!=", " AND ")), serde_json::Value::Null);
    assert_eq!(
        count(format!(
            "v >= 0 AND ({}) AND v < 10",
            hosts(2_000, "=", " OR ")
        )),
        10
    );
}
