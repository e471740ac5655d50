//! Float columns whose values do not compress are switched to LZ4, on the real engine.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use hyperbyte_adapter_chdb::{CodecTuning, NOISY_FLOAT_CODEC};
use hyperbyte_domain::naming;
use hyperbyte_domain::query::Value;
use hyperbyte_domain::{FieldValue, Point};
use hyperbyte_ports::{PointsSinkPort, QueryPort};
use std::time::Duration;

const SEC: i64 = 1_000_000_000;

/// Fields whose values use their whole mantissa.
const NOISY: [&str; 4] = ["noisy_a", "noisy_b", "noisy_c", "noisy_d"];

/// `n` points from `t0` on: the [`NOISY`] fields use their whole mantissa, `cents` has
/// two decimals; and the sum of `noisy_a`. Points are wide enough (about 53 bytes) that
/// 250,000 make a wide part: the engine keeps no per-column sizes for a compact one.
fn points(t0: i64, n: usize, seed: &mut u64) -> (Vec<Point>, f64) {
    let mut noisy_sum = 0.0;
    let pts = (0..n)
        .map(|i| {
            let mut fields: Vec<(&str, FieldValue)> = NOISY
                .iter()
                .map(|f| {
                    // xorshift64: a fixed, full-mantissa sequence.
                    *seed ^= *seed << 13;
                    *seed ^= *seed >> 7;
                    *seed ^= *seed << 17;
                    let v = (*seed >> 11) as f64 / (1u64 << 53) as f64 * 100.0;
                    (*f, FieldValue::Float(v))
                })
                .collect();
            if let FieldValue::Float(v) = fields[0].1 {
                noisy_sum += v;
            }
            fields.push(("cents", FieldValue::Float((i % 10_000) as f64 / 100.0)));
            point(
                "m",
                &[("host", ["a", "b", "c"][i % 3])],
                fields,
                t0 + i as i64 * SEC,
            )
        })
        .collect();
    (pts, noisy_sum)
}

async fn codec_of(db: &str, field: &str) -> String {
    let sql = format!(
        "SELECT compression_codec FROM system.columns WHERE database = '{}' AND table = '{}' AND name = '{}'",
        naming::database_name(db),
        naming::table_name("autogen", "m"),
        naming::field_column(field)
    );
    let rs = engine().query(&sql).await.unwrap();
    match rs.rows.first().and_then(|r| r.first()) {
        Some(Value::String(s)) => s.clone(),
        other => panic!("no codec for {field}: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noisy_float_columns_move_to_lz4_and_keep_their_values() {
    let db = "codec_tuning";
    let s = storage().with_codec_tuning(CodecTuning {
        min_bytes: 1 << 20,
        first_check: Duration::ZERO,
    });
    let mut seed = 0x9E37_79B9_7F4A_7C15;
    let (first, sum1) = points(0, 250_000, &mut seed);
    let schema = schema_of(&first);
    s.write_points(db, &rp(), "m", &schema, &first)
        .await
        .unwrap();

    // Judged once due: only the column ZSTD cannot shrink changes.
    let switched = s.tune_one_codec().await.unwrap();
    let noisy: Vec<String> = NOISY.iter().map(|f| naming::field_column(f)).collect();
    assert_eq!(switched, noisy);
    for f in NOISY {
        assert_eq!(codec_of(db, f).await, NOISY_FLOAT_CODEC);
    }
    assert_eq!(codec_of(db, "cents").await, "CODEC(ZSTD(1))");
    // Rescheduled: not due again at once.
    assert!(s.tune_one_codec().await.unwrap().is_empty());

    // Parts written and merged after the switch read back the same values.
    let (second, sum2) = points(250_000 * SEC, 100_000, &mut seed);
    s.write_points(db, &rp(), "m", &schema, &second)
        .await
        .unwrap();
    let table = naming::qualified_table(db, "autogen", "m");
    engine()
        .execute(&format!("OPTIMIZE TABLE {table} FINAL"))
        .await
        .unwrap();
    let rs = engine()
        .query(&format!(
            "SELECT count(), sum({}), sum({}) FROM {table}",
            naming::quote_ident(&naming::field_column(NOISY[0])),
            naming::quote_ident(&naming::field_column("cents"))
        ))
        .await
        .unwrap();
    let row = &rs.rows[0];
    assert!(
        matches!(row[0], Value::Unsigned(350_000) | Value::Integer(350_000)),
        "{row:?}"
    );
    let Value::Float(noisy) = row[1] else {
        panic!("{row:?}")
    };
    let want = sum1 + sum2;
    assert!(((noisy - want) / want).abs() < 1e-9, "{noisy} vs {want}");
    let cents: f64 = (0..250_000)
        .chain(0..100_000)
        .map(|i| (i % 10_000) as f64 / 100.0)
        .sum();
    assert!(
        matches!(row[2], Value::Float(c) if ((c - cents) / cents).abs() < 1e-9),
        "{row:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_columns_are_not_judged() {
    let db = "codec_small";
    let s = storage().with_codec_tuning(CodecTuning {
        min_bytes: 64 << 20,
        first_check: Duration::ZERO,
    });
    let mut seed = 7;
    let (pts, _) = points(0, 10_000, &mut seed);
    s.write_points(db, &rp(), "m", &schema_of(&pts), &pts)
        .await
        .unwrap();
    assert!(s.tune_one_codec().await.unwrap().is_empty());
    assert_eq!(codec_of(db, NOISY[0]).await, "CODEC(ZSTD(1))");
}
