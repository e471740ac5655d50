//! The [`PointsSinkPort`] + [`QueryPort`] + [`StorageAdminPort`] contract.
//!
//! Why together: what a sink stores is only observable through the query port of the
//! same engine, over the table layout the translator reads (`hyperbyte_domain::naming`:
//! one table per measurement and policy, `time`, `t_<tag>` and `f_<field>` columns). The
//! suite reads back with that SQL (ClickHouse's dialect, as the translator emits it).

use super::ok;
use hyperbyte_domain::naming::{field_column, qualified_table, tag_column};
use hyperbyte_domain::query::Value;
use hyperbyte_domain::{ColumnBatch, FieldValue, MeasurementSchema, Point, RetentionPolicy};
use hyperbyte_ports::{DeleteRows, PointsSinkPort, QueryPort, StorageAdminPort};

const SEC: i64 = 1_000_000_000;

fn point(host: &str, fields: Vec<(&str, FieldValue)>, t: i64) -> Point {
    Point {
        measurement: "cpu".into(),
        tags: vec![("host".into(), host.into())],
        fields: fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        timestamp: t,
    }
}

fn schema_of(points: &[Point]) -> MeasurementSchema {
    let mut s = MeasurementSchema::default();
    for p in points {
        for (k, v) in &p.fields {
            s.fields.entry(k.clone()).or_insert(v.field_type());
        }
        for (k, _) in &p.tags {
            s.tag_keys.insert(k.clone());
        }
    }
    s
}

/// The storage ports of one engine, as the suite drives them.
#[derive(Debug, Clone, Copy)]
pub struct Storage<'a> {
    /// Where points are written.
    pub sink: &'a dyn PointsSinkPort,
    /// How they are read back.
    pub query: &'a dyn QueryPort,
    /// Deletes and drops.
    pub admin: &'a dyn StorageAdminPort,
}

impl Storage<'_> {
    async fn write(&self, db: &str, points: &[Point]) {
        let rp = RetentionPolicy::autogen();
        ok(
            self.sink
                .write_points(db, &rp, "cpu", &schema_of(points), points)
                .await,
            "write_points",
        );
        ok(self.sink.sync().await, "sync");
    }

    /// Writes `points` through [`PointsSinkPort::write_columns`], in one batch.
    async fn write_columns(&self, db: &str, points: &[Point]) {
        let batch = ColumnBatch::from_points(points);
        assert!(batch.is_ok(), "contract: one type per field in a batch");
        let batch = batch.unwrap_or_default();
        let rp = RetentionPolicy::autogen();
        ok(
            self.sink.write_columns(db, &rp, "cpu", &batch).await,
            "write_columns",
        );
        ok(self.sink.sync().await, "sync");
    }

    /// `(time, host, columns...)` of every row of `cpu`, merged, in time and host order.
    async fn rows(&self, db: &str, fields: &[&str]) -> Vec<Vec<Value>> {
        let cols: Vec<String> = fields.iter().map(|f| field_column(f)).collect();
        let host = tag_column("host");
        let sql = format!(
            "SELECT time, {host}, {} FROM {} FINAL ORDER BY time, {host}",
            cols.join(", "),
            qualified_table(db, "autogen", "cpu")
        );
        ok(self.query.query(&sql).await, &sql).rows
    }
}

fn row(t: i64, host: &str, values: Vec<Value>) -> Vec<Value> {
    let mut r = vec![Value::Time(t), Value::String(host.into())];
    r.extend(values);
    r
}

/// Runs the storage cases in database `db` (which must not exist yet; the suite drops it
/// at the end):
///
/// - written points read back, every field type, with `table_columns` naming the columns
///   and `leading_key_columns` the tags before `time` in the sort key (or nothing);
/// - writing the same points again reads back as once (idempotence), by column too;
/// - a point with the series and time of a stored one merges field by field, and of two
///   such points in one batch by column (rows out of series order) the later wins;
/// - a new field and a new tag extend the table; older rows read them as null;
/// - `latest_time` finds the latest time, bounded by `max`;
/// - `delete_points` removes the rows of matching tags in a time range, no others;
/// - `drop_measurement` and `drop_database` remove the tables (`table_columns` is empty,
///   `latest_time` none).
pub async fn storage_contract(storage: Storage<'_>, db: &str) {
    use FieldValue as F;
    let s = storage;
    let first = vec![
        point(
            "a",
            vec![
                ("usage", F::Float(1.5)),
                ("n", F::Integer(-3)),
                ("ok", F::Boolean(true)),
            ],
            SEC,
        ),
        point(
            "b",
            vec![
                ("usage", F::Float(2.5)),
                ("n", F::Integer(4)),
                ("ok", F::Boolean(false)),
            ],
            2 * SEC,
        ),
    ];
    s.write(db, &first).await;
    let mut cols = ok(
        s.query.table_columns(db, "autogen", "cpu").await,
        "table_columns",
    );
    cols.sort();
    // The one tag leads the sort key (or the engine cannot tell).
    let leading = ok(
        s.query.leading_key_columns(db, "autogen", "cpu").await,
        "leading_key_columns",
    );
    assert!(
        leading.is_empty() || leading == ["t_host"],
        "contract: leading key columns {leading:?}"
    );
    for c in ["time", "t_host", "f_usage", "f_n", "f_ok"] {
        assert!(
            cols.iter().any(|x| x == c),
            "contract: column {c} in {cols:?}"
        );
    }
    let want = vec![
        row(
            SEC,
            "a",
            vec![Value::Float(1.5), Value::Integer(-3), Value::Boolean(true)],
        ),
        row(
            2 * SEC,
            "b",
            vec![Value::Float(2.5), Value::Integer(4), Value::Boolean(false)],
        ),
    ];
    assert_eq!(
        s.rows(db, &["usage", "n", "ok"]).await,
        want,
        "contract: points read back as written"
    );
    s.write(db, &first).await;
    assert_eq!(
        s.rows(db, &["usage", "n", "ok"]).await,
        want,
        "contract: a repeated write reads back as once"
    );
    s.write_columns(db, &first).await;
    assert_eq!(
        s.rows(db, &["usage", "n", "ok"]).await,
        want,
        "contract: the same points by column read back as once"
    );

    // By column, out of series order, one series and time twice: the later one wins.
    s.write_columns(
        db,
        &[
            first[1].clone(),
            point("a", vec![("ok", F::Boolean(true))], SEC),
            point("a", vec![("ok", F::Boolean(false))], SEC),
        ],
    )
    .await;
    let got = s.rows(db, &["usage", "n", "ok"]).await;
    assert_eq!(
        got[0],
        row(
            SEC,
            "a",
            vec![Value::Float(1.5), Value::Integer(-3), Value::Boolean(false)]
        ),
        "contract: an overwrite replaces the fields it carries and keeps the others"
    );
    assert_eq!(got.len(), 2, "contract: an overwrite adds no row");

    let mut evolved = point("c", vec![("temp", F::String("warm".into()))], 3 * SEC);
    evolved.tags.push(("region".into(), "eu".into()));
    s.write(db, &[evolved]).await;
    let cols = ok(
        s.query.table_columns(db, "autogen", "cpu").await,
        "table_columns",
    );
    for c in ["f_temp", "t_region"] {
        assert!(
            cols.iter().any(|x| x == c),
            "contract: a new field or tag adds column {c}: {cols:?}"
        );
    }
    // A tag added later sorts after the rows' time: it cannot lead the key.
    let leading = ok(
        s.query.leading_key_columns(db, "autogen", "cpu").await,
        "leading_key_columns",
    );
    assert!(
        leading.is_empty() || leading == ["t_host"],
        "contract: leading key columns after a new tag {leading:?}"
    );
    let got = s.rows(db, &["usage", "temp"]).await;
    assert_eq!(
        got,
        vec![
            row(SEC, "a", vec![Value::Float(1.5), Value::Null]),
            row(2 * SEC, "b", vec![Value::Float(2.5), Value::Null]),
            row(
                3 * SEC,
                "c",
                vec![Value::Null, Value::String("warm".into())]
            ),
        ],
        "contract: older rows read a new field as null"
    );
    let latest = ok(
        s.query.latest_time(db, "autogen", "cpu", None).await,
        "latest_time",
    );
    assert_eq!(latest, Some(3 * SEC), "contract: latest_time");
    let bounded = ok(
        s.query
            .latest_time(db, "autogen", "cpu", Some(2 * SEC - 1))
            .await,
        "latest_time",
    );
    assert_eq!(bounded, Some(SEC), "contract: latest_time at or before max");

    let host_b = [vec![("host".to_string(), "b".to_string())]];
    ok(
        s.admin
            .delete_points(
                db,
                "autogen",
                "cpu",
                DeleteRows::Series(&host_b),
                0,
                10 * SEC,
            )
            .await,
        "delete_points",
    );
    let hosts: Vec<Value> = s
        .rows(db, &["usage"])
        .await
        .into_iter()
        .map(|r| r[1].clone())
        .collect();
    assert_eq!(
        hosts,
        vec![Value::String("a".into()), Value::String("c".into())],
        "contract: delete_points removes exactly the matching rows"
    );

    ok(
        s.admin
            .drop_measurement(db, &["autogen".to_string()], "cpu")
            .await,
        "drop_measurement",
    );
    let cols = ok(
        s.query.table_columns(db, "autogen", "cpu").await,
        "table_columns",
    );
    assert!(
        cols.is_empty(),
        "contract: a dropped measurement has no table: {cols:?}"
    );
    let latest = ok(
        s.query.latest_time(db, "autogen", "cpu", None).await,
        "latest_time",
    );
    assert_eq!(
        latest, None,
        "contract: a dropped measurement has no latest time"
    );
    s.write(db, &first[..1]).await;
    ok(s.admin.drop_database(db).await, "drop_database");
    let cols = ok(
        s.query.table_columns(db, "autogen", "cpu").await,
        "table_columns",
    );
    assert!(
        cols.is_empty(),
        "contract: a dropped database has no table: {cols:?}"
    );
}
