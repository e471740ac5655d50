//! Deletes of several series: the series a statement matched go to storage in one call,
//! carried out as one `DELETE` per table (the engine's delete is a mutation of every part
//! of the table, so a call per series cost a pass each).
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use hyperbyte_domain::naming::qualified_table;
use hyperbyte_domain::query::Value;
use hyperbyte_domain::FieldValue;
use hyperbyte_ports::{DeleteRows, PointsSinkPort, QueryPort, RowSet, StorageAdminPort};

const HOUR: i64 = 3_600_000_000_000;

async fn q(sql: &str) -> RowSet {
    engine()
        .query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Several series in one call, by complete tag sets: `host=a` alone is not `host=a,dc=x`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_several_series_at_once() {
    let db = "admin_series";
    let s = storage();
    let sets: [&[(&str, &str)]; 4] = [
        &[("host", "a")],
        &[("host", "a"), ("dc", "x")],
        &[("host", "b"), ("dc", "x")],
        &[("host", "c'"), ("dc", "y")],
    ];
    let mut pts = Vec::new();
    for tags in sets {
        for t in 0..4 {
            pts.push(point(
                "m",
                tags,
                vec![("v", FieldValue::Float(1.0))],
                t * HOUR,
            ));
        }
    }
    s.write_points(db, &rp_hourly(), "m", &schema_of(&pts), &pts)
        .await
        .unwrap();
    let tag_set = |dc: &str, host: &str| {
        vec![
            ("dc".to_string(), dc.to_string()),
            ("host".to_string(), host.to_string()),
        ]
    };
    let doomed = [tag_set("", "a"), tag_set("y", "c'"), tag_set("z", "a")];
    s.delete_points(
        db,
        "hourly",
        "m",
        DeleteRows::Series(&doomed),
        HOUR,
        2 * HOUR,
    )
    .await
    .unwrap();
    let t = qualified_table(db, "hourly", "m");
    let left = q(&format!(
        "SELECT t_host, t_dc, count() FROM {t} FINAL GROUP BY t_host, t_dc ORDER BY t_host, t_dc"
    ))
    .await;
    assert_eq!(
        format!("{:?}", left.rows),
        format!(
            "{:?}",
            vec![
                vec![
                    Value::String("a".into()),
                    Value::String("".into()),
                    Value::Unsigned(2)
                ],
                vec![
                    Value::String("a".into()),
                    Value::String("x".into()),
                    Value::Unsigned(4)
                ],
                vec![
                    Value::String("b".into()),
                    Value::String("x".into()),
                    Value::Unsigned(4)
                ],
                vec![
                    Value::String("c'".into()),
                    Value::String("y".into()),
                    Value::Unsigned(2)
                ],
            ]
        )
    );
    // No series: nothing is removed.
    s.delete_points(
        db,
        "hourly",
        "m",
        DeleteRows::Series(&[]),
        i64::MIN,
        i64::MAX,
    )
    .await
    .unwrap();
    assert_eq!(
        q(&format!("SELECT count() FROM {t} FINAL")).await.rows,
        vec![vec![Value::Unsigned(12)]]
    );
}
