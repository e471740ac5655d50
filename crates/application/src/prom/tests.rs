//! Remote write mapping (InfluxDB 1.8's), matchers (Prometheus' semantics) and the read
//! service against port fakes and a scripted query executor.

use super::read::{compile, series_of, statement};
use super::*;
use crate::auth::Principal;
use crate::query::{QueryRequest, QueryRequestError};
use hyperbyte_domain::query::{Series, StatementResult, Value};
use hyperbyte_domain::{FieldValue, MetaCommand, Privilege};
use hyperbyte_testkit::{ManualClock, MemoryMetadata, MemoryWal};
use std::sync::Mutex;

const NOW: i64 = 1_700_000_000_000_000_000;
const NOW_MS: i64 = NOW / 1_000_000;

fn series(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> PromSeries {
    PromSeries {
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        samples: samples
            .iter()
            .map(|(t, v)| PromSample {
                timestamp_ms: *t,
                value: *v,
            })
            .collect(),
    }
}

fn matcher(kind: MatchKind, name: &str, value: &str) -> LabelMatcher {
    LabelMatcher {
        kind,
        name: name.into(),
        value: value.into(),
    }
}

#[test]
fn samples_map_to_points_as_influxdb_1_8_does() {
    let s = [
        series(
            &[
                ("job", "api"),
                ("__name__", "up"),
                ("empty", ""),
                ("a", "1"),
            ],
            &[(1_000, 1.0), (2_000, f64::NAN), (3_000, f64::INFINITY)],
        ),
        series(&[("job", "x")], &[(4_000, f64::NEG_INFINITY), (5_000, 2.5)]),
    ];
    let (points, dropped) = write::to_points(&s).unwrap();
    assert_eq!(
        dropped,
        DroppedSamples {
            nan: 1,
            inf: 1,
            ninf: 1
        }
    );
    assert_eq!(points.len(), 2);
    let p = points[0].to_point();
    assert_eq!(p.measurement, "up");
    // Every non-empty label is a tag, `__name__` included, sorted by key.
    let tags: Vec<(&str, &str)> = p
        .tags
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(tags, [("__name__", "up"), ("a", "1"), ("job", "api")]);
    assert_eq!(p.fields, [("value".to_string(), FieldValue::Float(1.0))]);
    assert_eq!(p.timestamp, 1_000_000_000);
    let q = points[1].to_point();
    assert_eq!(q.measurement, UNNAMED_MEASUREMENT);
    assert_eq!(q.timestamp, 5_000_000_000);
    // The hash the WAL and the flush reuse is the series' own.
    assert_eq!(
        points[0].series_hash,
        Some(hyperbyte_domain::series_hash(&p.measurement, &p.tags))
    );
}

#[test]
fn hostile_write_requests_are_bad_requests() {
    let overflow = [series(&[("__name__", "m")], &[(i64::MAX, 1.0)])];
    assert!(matches!(
        write::to_points(&overflow),
        Err(PromError::BadRequest(_))
    ));
    let empty_name = [series(&[("__name__", "")], &[(1, 1.0)])];
    assert!(matches!(
        write::to_points(&empty_name),
        Err(PromError::BadRequest(_))
    ));
    let many = PromSeries {
        labels: (0..9).map(|i| (format!("l{i}"), "v".to_string())).collect(),
        samples: vec![
            PromSample {
                timestamp_ms: 0,
                value: 0.0
            };
            MAX_SAMPLE_CELLS / 10 + 1
        ],
    };
    let e = write::to_points(std::slice::from_ref(&many)).unwrap_err();
    assert_eq!(e.status(), 400);
    assert!(e.to_string().contains("too large"), "{e}");
}

#[test]
fn matchers_follow_prometheus() {
    let ms = [
        matcher(MatchKind::Equal, "a", "x"),
        matcher(MatchKind::NotEqual, "a", "x"),
        matcher(MatchKind::Regex, "a", "x|y"),
        matcher(MatchKind::NotRegex, "a", "x.*"),
        matcher(MatchKind::Regex, "a", ".*"),
    ];
    let c = compile(&ms).unwrap();
    assert!(c[0].matches("x") && !c[0].matches("xx") && !c[0].matches(""));
    assert!(!c[1].matches("x") && c[1].matches(""));
    // Anchored: the whole value must match.
    assert!(c[2].matches("y") && !c[2].matches("xy") && !c[2].matches("ax"));
    assert!(!c[3].matches("xz") && c[3].matches("zx"));
    assert!(c[4].matches(""));
    let bad = [matcher(MatchKind::Regex, "a", "(")];
    assert_eq!(compile(&bad).unwrap_err().status(), 400);
    assert_eq!(compile(&[]).unwrap_err().status(), 400);
}

#[test]
fn statements_push_equality_down_and_skip_impossible_measurements() {
    let ms = [
        matcher(MatchKind::Equal, "__name__", "up"),
        matcher(MatchKind::Equal, "job", "it's"),
        matcher(MatchKind::NotEqual, "zone", "b"),
    ];
    let c = compile(&ms).unwrap();
    let keys = vec!["job".to_string()];
    let s = statement("up", &keys, &c, 1, 2).unwrap();
    assert_eq!(
        s,
        "SELECT value FROM up WHERE time >= 1000000 AND time <= 2000000 \
         AND job::tag = 'it\\'s' GROUP BY *"
    );
    // `job` must be non-empty: a measurement without that tag key cannot match.
    assert!(statement("up", &[], &c, 1, 2).is_none());
    // "All time" is clamped to InfluxDB's range.
    let s = statement("up", &keys, &c, i64::MIN, i64::MAX).unwrap();
    assert!(s.contains("time >= -9223372036854775806"), "{s}");
}

fn result(id: usize, series: Vec<Series>) -> StatementResult {
    StatementResult {
        statement_id: id,
        series,
        ..Default::default()
    }
}

fn influx_series(tags: &[(&str, &str)], rows: &[(i64, Value)]) -> Series {
    Series {
        name: Some("up".into()),
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        columns: vec!["time".into(), "value".into()],
        values: rows
            .iter()
            .map(|(t, v)| vec![Value::Time(*t), v.clone()])
            .collect(),
        partial: false,
    }
}

#[test]
fn results_become_labelled_series() {
    let ms = [matcher(MatchKind::NotRegex, "job", "b.*")];
    let c = compile(&ms).unwrap();
    let r = result(
        0,
        vec![
            influx_series(
                &[("job", "a"), ("__name__", "up"), ("zone", "")],
                &[
                    (1_500_000, Value::Float(1.0)),
                    (2_000_000, Value::Null),
                    (3_000_000, Value::Integer(3)),
                ],
            ),
            influx_series(&[("job", "b1")], &[(1_000_000, Value::Float(1.0))]),
        ],
    );
    let out = series_of("up", r, &c).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0],
        series(&[("__name__", "up"), ("job", "a")], &[(1, 1.0), (3, 3.0)])
    );
    let failed = StatementResult::error(0, "boom");
    assert_eq!(series_of("up", failed, &c).unwrap_err().status(), 500);
}

/// Answers each statement from a script and records the requests.
#[derive(Debug, Default)]
struct Scripted {
    answers: Mutex<Vec<Vec<StatementResult>>>,
    seen: Mutex<Vec<QueryRequest>>,
}

#[async_trait::async_trait]
impl QueryExecutor for Scripted {
    async fn execute(&self, req: QueryRequest) -> Result<Vec<StatementResult>, QueryRequestError> {
        self.seen.lock().unwrap().push(req);
        Ok(self.answers.lock().unwrap().pop().unwrap_or_default())
    }
}

fn service() -> (
    PromService,
    Arc<MemoryMetadata>,
    Arc<MemoryWal>,
    Arc<Scripted>,
) {
    let meta = Arc::new(MemoryMetadata::new());
    meta.apply_blocking(MetaCommand::CreateDatabase {
        name: "db".into(),
        default_rp: None,
    })
    .unwrap();
    let wal = Arc::new(MemoryWal::default());
    let ingest = Arc::new(IngestionService::new(
        meta.clone(),
        wal.clone(),
        Arc::new(ManualClock::at(NOW)),
        crate::Limits::default(),
    ));
    let query = Arc::new(Scripted::default());
    let svc = PromService::new(ingest, query.clone(), meta.clone());
    (svc, meta, wal, query)
}

#[tokio::test]
async fn writes_reach_the_wal_through_ingestion() {
    let (svc, meta, wal, _) = service();
    let s = [
        series(
            &[("__name__", "up"), ("job", "a")],
            &[(NOW_MS, 1.0), (NOW_MS + 1, f64::NAN)],
        ),
        series(
            &[("__name__", "req_total"), ("code", "200")],
            &[(NOW_MS, 7.0)],
        ),
    ];
    let o = svc.write("db", None, &s).await.unwrap();
    assert_eq!(o.written, 2);
    assert_eq!(o.dropped.nan, 1);
    let entries = wal.entries();
    assert_eq!(entries.len(), 1, "one request, one WAL entry");
    assert_eq!(entries[0].1.points.len(), 2);
    assert_eq!(meta.tag_keys("db", "up"), ["__name__", "job"]);
    let c = svc.counters();
    assert_eq!(
        (c.write_requests, c.samples_written, c.samples_dropped),
        (1, 2, 1)
    );
    assert_eq!(svc.write("nope", None, &s).await.unwrap_err().status(), 404);
    assert_eq!(svc.write("", None, &s).await.unwrap_err().status(), 400);
    assert_eq!(svc.counters().write_errors, 2);
}

#[tokio::test]
async fn reads_select_measurements_by_name_and_sort_series() {
    let (svc, _, _, query) = service();
    let s = [
        series(&[("__name__", "up"), ("job", "b")], &[(NOW_MS, 1.0)]),
        series(&[("__name__", "up"), ("job", "a")], &[(NOW_MS, 0.0)]),
        series(&[("__name__", "down"), ("job", "a")], &[(NOW_MS, 0.0)]),
        series(&[("__name__", "other")], &[(NOW_MS, 0.0)]),
    ];
    svc.write("db", None, &s).await.unwrap();
    // Measurements are listed in name order: down, then up.
    query.answers.lock().unwrap().push(vec![
        result(
            0,
            vec![influx_series(
                &[("__name__", "down"), ("job", "a")],
                &[(NOW, Value::Float(0.0))],
            )],
        ),
        result(
            1,
            vec![
                influx_series(
                    &[("__name__", "up"), ("job", "b")],
                    &[(NOW, Value::Float(1.0))],
                ),
                influx_series(
                    &[("__name__", "up"), ("job", "a")],
                    &[(NOW, Value::Float(0.0))],
                ),
            ],
        ),
    ]);
    let q = PromQuery {
        start_ms: NOW_MS - 1,
        end_ms: NOW_MS,
        matchers: vec![
            matcher(MatchKind::Regex, "__name__", "up|down"),
            matcher(MatchKind::NotEqual, "job", "c"),
        ],
    };
    let out = svc
        .read(
            "db",
            Some("autogen"),
            &Access::Open,
            std::slice::from_ref(&q),
        )
        .await
        .unwrap();
    let seen = query.seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].retention_policy.as_deref(), Some("autogen"));
    assert!(seen[0].query.contains("FROM down"), "{}", seen[0].query);
    assert!(seen[0].query.contains("FROM up"), "{}", seen[0].query);
    assert!(!seen[0].query.contains("other"), "{}", seen[0].query);
    let labels: Vec<Vec<(String, String)>> = out[0].iter().map(|s| s.labels.clone()).collect();
    assert_eq!(
        labels,
        [
            vec![
                ("__name__".into(), "down".into()),
                ("job".into(), "a".into())
            ],
            vec![("__name__".into(), "up".into()), ("job".into(), "a".into())],
            vec![("__name__".into(), "up".into()), ("job".into(), "b".into())],
        ]
    );
    assert_eq!(svc.counters().read_series, 3);
}

#[tokio::test]
async fn reads_need_the_read_privilege() {
    let (svc, _, _, query) = service();
    let q = PromQuery {
        start_ms: 0,
        end_ms: 1,
        matchers: vec![matcher(MatchKind::Equal, "__name__", "up")],
    };
    let writer = Access::User(Some(Principal {
        name: "w".into(),
        admin: false,
        privileges: [("db".to_string(), Privilege::Write)].into_iter().collect(),
    }));
    let e = svc
        .read("db", None, &writer, std::slice::from_ref(&q))
        .await
        .unwrap_err();
    assert_eq!(e.status(), 403);
    let anonymous = Access::User(None);
    let e = svc
        .read("db", None, &anonymous, std::slice::from_ref(&q))
        .await
        .unwrap_err();
    assert_eq!(e.status(), 403);
    let e = svc
        .read("nope", None, &Access::Open, &[q])
        .await
        .unwrap_err();
    assert_eq!(e.status(), 404);
    assert!(query.seen.lock().unwrap().is_empty());
}
