//! `QueryPort::storage_stamp`: the same across work that only reorganises stored data,
//! different after anything stores, removes or rewrites points. Its own test binary
//! (process): the stamp covers every table of the engine, so no other test may write
//! meanwhile.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use hyperbyte_domain::naming::{self, qualified_table};
use hyperbyte_domain::FieldValue;
use hyperbyte_ports::{DeleteRows, PointsSinkPort, QueryPort, StorageAdminPort};

const SEC: i64 = 1_000_000_000;

async fn stamp() -> String {
    engine()
        .storage_stamp()
        .await
        .unwrap()
        .expect("chDB stamps storage")
}

async fn write(t: i64, v: f64) {
    let p = point("m", &[("host", "a")], vec![("v", FieldValue::Float(v))], t);
    let s = storage();
    s.write_points(
        "stamp",
        &rp(),
        "m",
        &schema_of(std::slice::from_ref(&p)),
        &[p],
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stamp_follows_stored_data_not_merges() {
    let empty = stamp().await;
    assert_eq!(stamp().await, empty, "stable while nothing happens");
    write(SEC, 1.0).await;
    let one = stamp().await;
    assert_ne!(one, empty, "an insert changes it");
    write(2 * SEC, 2.0).await;
    let two = stamp().await;
    assert_ne!(two, one, "every insert changes it");
    // Two parts merged into one: the same data.
    let table = qualified_table("stamp", "autogen", "m");
    engine()
        .query(&format!("OPTIMIZE TABLE {table} FINAL"))
        .await
        .unwrap();
    let parts = engine()
        .query(&format!(
            "SELECT count() FROM system.parts WHERE active AND database = '{}' AND table = '{}'",
            naming::database_name("stamp"),
            naming::table_name("autogen", "m")
        ))
        .await
        .unwrap();
    assert_eq!(format!("{:?}", parts.rows), "[[Unsigned(1)]]", "merged");
    assert_eq!(stamp().await, two, "a merge keeps it");
    let s = storage();
    s.delete_points("stamp", "autogen", "m", DeleteRows::All, SEC, SEC)
        .await
        .unwrap();
    let deleted = stamp().await;
    assert_ne!(deleted, two, "a delete changes it");
    engine()
        .query(&format!("OPTIMIZE TABLE {table} FINAL"))
        .await
        .unwrap();
    assert_eq!(stamp().await, deleted, "a merge after the delete keeps it");
    s.drop_measurement("stamp", &["autogen".to_string()], "m")
        .await
        .unwrap();
    assert_ne!(stamp().await, deleted, "a drop changes it");
}
