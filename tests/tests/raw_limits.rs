//! Raw answers cut by `LIMIT`/`OFFSET` read only the rows they can show (storage hands
//! over the first rows by time with their ties; the tier takes the first rows of each
//! series; a range the tier holds only the end of is answered from that end when it has
//! enough rows). The oracle is the same query without the cut: its rows from `OFFSET` on,
//! `LIMIT` of them, whatever path answers. Ties are everywhere (every series writes at
//! every time), a field only some points carry is selected, and a condition reads a
//! field the columns do not show, so that storage's first rows may hold rows the answer
//! cannot show (the read then falls back to the whole range). Grouped by tags, the cut
//! applies to each group: each series' first rows are read.
#![allow(clippy::unwrap_used)]

use hyperbyte_e2e::Server;
use serde_json::{json, Value};

const BASE: i64 = 1_600_000_000_000_000_000;
const SEC: i64 = 1_000_000_000;

/// Points at times `from..to` (seconds after `BASE`) for seven series (three of them
/// irregular); `w` on every seventh time, `s` on every fifth, `n` in a second measurement
/// on every third, `k` and `p` in further measurements (see below).
fn body(from: i64, to: i64) -> String {
    // `z` alone first: the first rows of an answer are its own, and its third row ties
    // with every other series' first (so each series' first rows must all be read).
    let mut out = String::new();
    if from == 0 {
        for i in [-2, -1, 0] {
            out.push_str(&format!("m,host=z v={},w=1 {}\n", 1000 + i, BASE + i * SEC));
        }
    }
    for i in from..to {
        let t = BASE + i * SEC;
        for (h, tags) in [
            ("a", ",region=eu"),
            ("b", ""),
            ("c", ",region=us"),
            ("d", ""),
            ("e", ",region=eu"),
            ("f", ""),
            ("g", ",region=us"),
        ] {
            // `e` writes at odd times only, `f` from time 150 on (a head far later), `g`
            // before time 100 only (in storage alone once the tier holds the end).
            if (h == "e" && i % 2 == 0) || (h == "f" && i < 150) || (h == "g" && i >= 100) {
                continue;
            }
            let mut fields = format!("v={}", i * 4 + h.as_bytes()[0] as i64 % 4);
            if i % 7 == 0 {
                fields.push_str(&format!(",w={}", i % 5));
            }
            if i % 5 == 0 {
                fields.push_str(&format!(",s=\"{h}{i}\""));
            }
            out.push_str(&format!("m,host={h}{tags} {fields} {t}\n"));
            if h <= "c" {
                // Every series of `k` writes at every time (each has its latest rows in
                // a tier holding the end).
                let w = if i % 4 == 0 {
                    format!(",w={i}")
                } else {
                    String::new()
                };
                out.push_str(&format!("k,host={h}{tags} v={i}{w} {t}\n"));
            }
            if i % 3 == 0 {
                out.push_str(&format!("n,host={h} v={i} {t}\n"));
            }
        }
        // `p`: more series than a cut has rows, all tied at every time (storage picks
        // the answer's rows from an outline of the ties, then reads them alone); some
        // lack `region`, `w` and `s` come at some times only.
        for n in 0..30 {
            let region = ["", ",region=eu", ",region=us"][n % 3];
            let mut fields = format!("v={}", i * 100 + n as i64);
            if (i + n as i64) % 4 == 0 {
                fields.push_str(&format!(",w={}", (i * 7 + n as i64) % 9));
            }
            if (i + n as i64) % 3 == 0 {
                fields.push_str(&format!(",s=\"{}\"", (i * 13 + n as i64 * 7) % 11));
            }
            out.push_str(&format!("p,host=h{:02}{region} {fields} {t}\n", 29 - n));
        }
    }
    out
}

fn queries() -> Vec<String> {
    let after = BASE + 150 * SEC;
    [
        "SELECT v FROM m".to_string(),
        "SELECT v, host FROM m".to_string(),
        "SELECT v FROM m WHERE host = 'b'".to_string(),
        "SELECT * FROM m".to_string(),
        "SELECT w FROM m".to_string(),
        "SELECT s, host FROM m".to_string(),
        "SELECT v FROM m WHERE w > 1".to_string(),
        "SELECT v, region FROM m WHERE host = 'c' OR region = 'eu'".to_string(),
        "SELECT v FROM /m|n/".to_string(),
        "SELECT v FROM (SELECT v, host FROM m) WHERE host = 'c'".to_string(),
        format!("SELECT v FROM m WHERE time > {after}"),
        format!("SELECT w, s FROM m WHERE time <= {after}"),
        // A cut per group: each series, or several series merged into one group.
        "SELECT v FROM m GROUP BY host".to_string(),
        // Strings decide every tie; `g` is in storage alone once the tier holds the end.
        "SELECT v, host FROM m GROUP BY host".to_string(),
        "SELECT * FROM m GROUP BY *".to_string(),
        "SELECT v, w FROM m GROUP BY region".to_string(),
        "SELECT s, w FROM m WHERE v > 300 GROUP BY region".to_string(),
        "SELECT v FROM /m|n/ GROUP BY host".to_string(),
        format!("SELECT w FROM m WHERE time > {after} GROUP BY region, host"),
        "SELECT v FROM k GROUP BY host".to_string(),
        "SELECT v FROM k GROUP BY region".to_string(),
        // The latest rows hold `v` alone: `w`'s are further back.
        "SELECT w FROM k WHERE v >= 0 GROUP BY host".to_string(),
        // Many series tied at every time: picked from an outline where strings decide.
        "SELECT v FROM p".to_string(),
        "SELECT * FROM p".to_string(),
        "SELECT v, host FROM p".to_string(),
        "SELECT w, region, host FROM p".to_string(),
        "SELECT s FROM p".to_string(),
        "SELECT s, v FROM p WHERE region = 'eu'".to_string(),
        "SELECT host, w FROM p WHERE region != 'us' AND v > 1000".to_string(),
        // A condition on a field the outline reads as a flag: on the values.
        "SELECT v, host FROM p WHERE v > 1000".to_string(),
        "SELECT * FROM p WHERE w > 3".to_string(),
        "SELECT host, v FROM p WHERE v > 2000 OR host = 'h03'".to_string(),
        format!("SELECT w, host FROM p WHERE time >= {after}"),
    ]
    .into_iter()
    .flat_map(|q| [q.clone(), format!("{q} ORDER BY time DESC")])
    .collect()
}

const CUTS: &[(u64, u64)] = &[
    (1, 0),
    (3, 0),
    (3, 2),
    (5, 7),
    (2, 61),
    (1000, 0),
    (4, 5000),
    // Past the engine's bound on rows kept per group (16,777,215): the whole range.
    (20_000_000, 0),
    (10, 16_777_216),
];

/// Every series of an answer as (name, values); a grouped series' name carries its
/// tags.
fn series(v: &Value) -> Vec<(Value, Vec<Value>)> {
    v["results"][0]["series"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|s| {
                    let values = s["values"].as_array().cloned().unwrap_or_default();
                    let name = match s.get("tags") {
                        Some(tags) => json!([s["name"], tags]),
                        None => s["name"].clone(),
                    };
                    (name, values)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn assert_cuts_are_slices(s: &Server, db: &str, label: &str) {
    for q in queries() {
        let (status, whole) = s.query(db, &q);
        assert_eq!(status, 200, "{q}: {whole}");
        let whole = series(&whole);
        assert!(!whole.is_empty(), "{label}: {q} has rows");
        for &(limit, offset) in CUTS {
            let cut = format!("{q} LIMIT {limit} OFFSET {offset}");
            let (status, got) = s.query(db, &cut);
            assert_eq!(status, 200, "{cut}: {got}");
            let expected: Vec<(Value, Vec<Value>)> = whole
                .iter()
                .map(|(name, rows)| {
                    let from = (offset as usize).min(rows.len());
                    let to = from.saturating_add(limit as usize).min(rows.len());
                    (name.clone(), rows[from..to].to_vec())
                })
                .filter(|(_, rows)| !rows.is_empty())
                .collect();
            assert_eq!(series(&got), expected, "{label}: {cut}");
        }
    }
}

fn start(env: &[(&str, &str)]) -> Server {
    let s = Server::start_with_env(env);
    let (status, v) = s.query("", "CREATE DATABASE d");
    assert_eq!(status, 200, "{v}");
    s
}

#[test]
fn limited_raw_answers_are_slices_of_the_whole_answer() {
    // From the tier, and from storage alone.
    // A tier too small for the data evicts its oldest rows and keeps the latest values of
    // what it evicted: its end answers grouped latest rows where no series stored before
    // its coverage lacks them.
    for (label, env) in [
        ("tier", &[][..]),
        ("storage", &[("HYPERBYTE_HOT_TIER__MAX_BYTES", "0")][..]),
        (
            "evicting tier",
            &[("HYPERBYTE_HOT_TIER__MAX_BYTES", "40000")][..],
        ),
    ] {
        let s = start(env);
        assert_eq!(s.write("d", &body(0, 200)).0, 204);
        assert_cuts_are_slices(&s, "d", label);
        if label == "evicting tier" {
            // `k` lost its oldest rows (its first row is read from storage), yet each of
            // its series has its latest rows in the tier.
            let before = tier_hits(&s);
            s.query("d", "SELECT v FROM k LIMIT 1");
            assert_eq!(tier_hits(&s), before, "k's first rows were evicted");
            s.query(
                "d",
                "SELECT v FROM k GROUP BY host ORDER BY time DESC LIMIT 5",
            );
            assert!(
                tier_hits(&s) > before,
                "k's latest rows from the tier's end"
            );
        }
    }
}

fn tier_hits(s: &Server) -> f64 {
    let (_, text) = s.get("/metrics");
    text.lines()
        .find_map(|l| {
            l.strip_prefix("hyperbyte_tier_hits_total")?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0.0)
}

#[test]
fn the_latest_rows_come_from_the_end_the_tier_holds() {
    // Older rows in storage only: a hard restart without warm-up leaves the tier empty,
    // and the next flush covers only what is written after it.
    let env = [("HYPERBYTE_HOT_TIER__WARM_ON_START", "false")];
    let mut s = start(&env);
    assert_eq!(s.write("d", &body(0, 120)).0, 204);
    let (status, _) = s.query("d", "SELECT count(v) FROM m");
    assert_eq!(status, 200);
    s.restart_with_env(&env);
    assert_eq!(s.write("d", &body(120, 200)).0, 204);
    assert_cuts_are_slices(&s, "d", "tier holding the end");

    // The latest rows with no time bound: the tier's end has them, storage is not read
    // (rows of one time ordered by host; by the heap's structure when only `v` is shown,
    // which needs every series' rows, so storage is read then).
    let before = tier_hits(&s);
    let (_, v) = s.query("d", "SELECT v, host FROM m ORDER BY time DESC LIMIT 2");
    assert!(tier_hits(&s) > before, "answered from the tier: {v}");
    assert_eq!(
        series(&v),
        vec![(
            json!("m"),
            vec![
                json!(["2020-09-13T12:29:59Z", 798, "f"]),
                json!(["2020-09-13T12:29:59Z", 797, "e"])
            ]
        )],
        "{v}"
    );
    let before = tier_hits(&s);
    let (_, v) = s.query(
        "d",
        "SELECT v FROM m WHERE host = 'a' ORDER BY time DESC LIMIT 1",
    );
    assert!(tier_hits(&s) > before, "answered from the tier: {v}");
    assert_eq!(
        series(&v),
        vec![(json!("m"), vec![json!(["2020-09-13T12:29:59Z", 797])])],
        "{v}"
    );
    // Each series' latest rows, grouped (the tier does not know yet which series were
    // stored before its coverage: storage answers).
    let (_, v) = s.query(
        "d",
        "SELECT v FROM k GROUP BY host ORDER BY time DESC LIMIT 1",
    );
    let latest: Vec<_> = series(&v).into_iter().map(|(_, rows)| rows).collect();
    assert_eq!(
        latest,
        vec![vec![json!(["2020-09-13T12:29:59Z", 199])]; 3],
        "{v}"
    );
    let (_, v) = s.query(
        "d",
        "SELECT v FROM m GROUP BY host ORDER BY time DESC LIMIT 1",
    );
    assert_eq!(
        series(&v).len(),
        8,
        "every host, g's latest row from storage: {v}"
    );
    // More rows than the tier's end holds come from storage too.
    let (_, v) = s.query(
        "d",
        "SELECT v FROM m WHERE host = 'a' ORDER BY time DESC LIMIT 3 OFFSET 78",
    );
    assert_eq!(
        series(&v),
        vec![(
            json!("m"),
            vec![
                json!(["2020-09-13T12:28:41Z", 485]),
                json!(["2020-09-13T12:28:40Z", 481]),
                json!(["2020-09-13T12:28:39Z", 477])
            ]
        )],
        "{v}"
    );
}
