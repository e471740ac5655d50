//! Insert benchmark: 1 M TSBS-like `cpu` rows (10 tags, 10 float fields, 100 hosts,
//! 10 s interval) written through `ChdbStorage` in 100k-row batches; prints rows/s, then
//! bytes per value on disk after `OPTIMIZE TABLE ... FINAL`, and compares float codecs
//! (size and a wide 12-hour scan) on copies of the table.
//!
//! Run: `cargo bench --release -p hyperbyte-adapter-chdb --bench insert`
//! (`BENCH_ROWS=N` changes the row count; `BENCH_NO_FSYNC=1` turns the fsync settings off
//! to measure what they cost; `BENCH_COLUMNS=1` inserts batches by column, the flush's
//! path, instead of point views).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use hyperbyte_adapter_chdb::{ChdbEngine, ChdbStorage, Role};
use hyperbyte_domain::naming::{self, quote_ident, quote_string};
use hyperbyte_domain::query::Value;
use hyperbyte_domain::{
    ColumnBatch, FieldType, FieldValue, MeasurementSchema, Point, RetentionPolicy,
};
use hyperbyte_ports::PointsSinkPort;
use std::time::{Duration, Instant};

const TAGS: [&str; 10] = [
    "arch",
    "datacenter",
    "hostname",
    "os",
    "rack",
    "region",
    "service",
    "service_environment",
    "service_version",
    "team",
];
const FIELDS: [&str; 10] = [
    "usage_user",
    "usage_system",
    "usage_idle",
    "usage_nice",
    "usage_iowait",
    "usage_irq",
    "usage_softirq",
    "usage_steal",
    "usage_guest",
    "usage_guest_nice",
];
const HOSTS: usize = 100;
const BATCH: usize = 100_000;
const START: i64 = 1_451_606_400_000_000_000; // 2016-01-01
const INTERVAL: i64 = 10_000_000_000;

/// xorshift64*: deterministic values without a dependency.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn host_tags(h: usize) -> Vec<(String, String)> {
    let vals = [
        if h.is_multiple_of(2) { "x64" } else { "x86" }.to_string(),
        format!("us-east-1{}", (b'a' + (h % 6) as u8) as char),
        format!("host_{h}"),
        format!("Ubuntu{}", 15 + h % 3),
        format!("{}", h % 100),
        ["us-east-1", "us-west-1", "eu-central-1", "ap-south-1"][h % 4].to_string(),
        format!("{}", h % 20),
        ["production", "staging", "test"][h % 3].to_string(),
        format!("{}", h % 2),
        ["SF", "NYC", "LON", "CHI"][h % 4].to_string(),
    ];
    TAGS.iter().map(|k| k.to_string()).zip(vals).collect()
}

fn generate(rows: usize) -> Vec<Point> {
    let tags: Vec<Vec<(String, String)>> = (0..HOSTS).map(host_tags).collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut state = vec![[50.0f64; 10]; HOSTS];
    (0..rows)
        .map(|i| {
            let h = i % HOSTS;
            let fields = FIELDS
                .iter()
                .enumerate()
                .map(|(j, f)| {
                    let v = (state[h][j] + (rng.next_f64() - 0.5) * 2.0).clamp(0.0, 100.0);
                    state[h][j] = v;
                    (f.to_string(), FieldValue::Float(v))
                })
                .collect();
            Point {
                measurement: "cpu".into(),
                tags: tags[h].clone(),
                fields,
                timestamp: START + (i / HOSTS) as i64 * INTERVAL,
            }
        })
        .collect()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Bytes per value of the table's field columns, and of the whole table.
fn sizes(engine: &ChdbEngine, db: &str, table: &str, rows: f64) -> (f64, f64, f64, f64) {
    let cols = engine
        .query_blocking(
            Role::Read,
            &format!(
                "SELECT name, sum(data_compressed_bytes) FROM system.columns WHERE database = {} AND table = {} GROUP BY name",
                quote_string(db),
                quote_string(table)
            ),
        )
        .unwrap();
    let (mut fields, mut tags, mut time) = (0.0, 0.0, 0.0);
    for r in &cols.rows {
        let name = match &r[0] {
            Value::String(s) => s.as_str(),
            _ => "",
        };
        let bytes = num(&r[1]);
        if name.starts_with("f_") {
            fields += bytes;
        } else if name.starts_with("t_") {
            tags += bytes;
        } else {
            time += bytes;
        }
    }
    let disk = engine
        .query_blocking(
            Role::Read,
            &format!(
                "SELECT sum(bytes_on_disk) FROM system.parts WHERE database = {} AND table = {} AND active",
                quote_string(db),
                quote_string(table)
            ),
        )
        .unwrap();
    let total = num(&disk.rows[0][0]);
    (
        fields / (rows * 10.0),
        tags / rows,
        time / rows,
        total / (rows * 10.0),
    )
}

fn wide_scan(engine: &ChdbEngine, qualified: &str) -> Duration {
    let avgs: Vec<String> = FIELDS
        .iter()
        .map(|f| format!("avg({})", quote_ident(&naming::field_column(f))))
        .collect();
    let sql = format!(
        "SELECT {}, toStartOfHour(time) AS h, {} FROM {qualified} FINAL \
         WHERE time >= fromUnixTimestamp64Nano(toInt64({START})) AND time < fromUnixTimestamp64Nano(toInt64({})) \
         GROUP BY 1, h ORDER BY 1, h",
        quote_ident(&naming::tag_column("hostname")),
        avgs.join(", "),
        START + 12 * 3_600_000_000_000
    );
    let runs: Vec<Duration> = (0..7)
        .map(|_| {
            let t = Instant::now();
            engine.query_blocking(Role::Read, &sql).unwrap();
            t.elapsed()
        })
        .collect();
    median(runs)
}

fn main() {
    let rows: usize = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = ChdbEngine::open(dir.path(), 2).expect("engine");
    let storage = ChdbStorage::new(engine.clone());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    let t = Instant::now();
    let points = generate(rows);
    println!("generated {rows} points in {:?}", t.elapsed());
    let schema = MeasurementSchema {
        tag_keys: TAGS.iter().map(|s| s.to_string()).collect(),
        fields: FIELDS
            .iter()
            .map(|f| (f.to_string(), FieldType::Float))
            .collect(),
        ..MeasurementSchema::default()
    };
    let rp = RetentionPolicy::autogen();

    // Create the table outside the measurement.
    rt.block_on(storage.write_points("bench", &rp, "cpu", &schema, &points[..1]))
        .expect("create");
    if std::env::var_os("BENCH_NO_FSYNC").is_some() {
        let q = format!(
            "{}.{}",
            quote_ident(&naming::database_name("bench")),
            quote_ident(&naming::table_name("autogen", "cpu"))
        );
        engine
            .execute_blocking(&format!(
                "ALTER TABLE {q} MODIFY SETTING fsync_after_insert = 0, fsync_part_directory = 0"
            ))
            .expect("settings");
        println!("fsync off");
    }
    let by_column = std::env::var_os("BENCH_COLUMNS").is_some();
    let t = Instant::now();
    if by_column {
        // The flush's path: batches by column (built before the clock starts).
        let batches: Vec<ColumnBatch> = points
            .chunks(BATCH)
            .map(|c| ColumnBatch::from_points(c).expect("floats"))
            .collect();
        let t = Instant::now();
        for batch in &batches {
            rt.block_on(storage.write_columns("bench", &rp, "cpu", batch))
                .expect("insert");
        }
        let dt = t.elapsed();
        println!(
            "insert by column: {rows} rows in {BATCH}-row batches: {:?}, {:.0} rows/s",
            dt,
            rows as f64 / dt.as_secs_f64(),
        );
    } else {
        for chunk in points.chunks(BATCH) {
            rt.block_on(storage.write_points("bench", &rp, "cpu", &schema, chunk))
                .expect("insert");
        }
    }
    let dt = t.elapsed();
    println!(
        "insert: {rows} rows in {BATCH}-row batches: {:?}, {:.0} rows/s ({:.0} values/s)",
        dt,
        rows as f64 / dt.as_secs_f64(),
        rows as f64 * 10.0 / dt.as_secs_f64()
    );

    let db = naming::database_name("bench");
    let table = naming::table_name("autogen", "cpu");
    let qualified = format!("{}.{}", quote_ident(&db), quote_ident(&table));
    let t = Instant::now();
    engine
        .execute_blocking(&format!("OPTIMIZE TABLE {qualified} FINAL"))
        .expect("optimize");
    println!("OPTIMIZE FINAL: {:?}", t.elapsed());
    let stored = rows as f64 + 1.0;
    let report = |name: &str, table: &str, qualified: &str| {
        let (f, tg, tm, total) = sizes(&engine, &db, table, stored);
        let scan = wide_scan(&engine, qualified);
        println!(
            "{name:<28} fields {f:.2} B/value, tags {tg:.3} B/row, time {tm:.3} B/row, table {total:.2} B/value on disk; \
             12 h x {HOSTS} hosts x 10 fields by hour (FINAL): {scan:?}"
        );
    };
    report("layout (floats ZSTD(1))", &table, &qualified);

    for (name, codec) in [
        ("LZ4", "LZ4"),
        ("Gorilla, ZSTD(1)", "Gorilla, ZSTD(1)"),
        ("FPC, ZSTD(1)", "FPC, ZSTD(1)"),
    ] {
        let copy = format!(
            "{table}_{}",
            name.split(',').next().unwrap_or(name).to_lowercase()
        );
        let q = format!("{}.{}", quote_ident(&db), quote_ident(&copy));
        engine
            .execute_blocking(&format!("CREATE TABLE {q} AS {qualified}"))
            .expect("copy table");
        for f in FIELDS {
            engine
                .execute_blocking(&format!(
                    "ALTER TABLE {q} MODIFY COLUMN {} {} CODEC({codec})",
                    quote_ident(&naming::field_column(f)),
                    hyperbyte_adapter_chdb::layout::field_column_type(FieldType::Float)
                ))
                .expect("codec");
        }
        engine
            .execute_blocking(&format!("INSERT INTO {q} SELECT * FROM {qualified}"))
            .expect("copy rows");
        engine
            .execute_blocking(&format!("OPTIMIZE TABLE {q} FINAL"))
            .expect("optimize");
        report(&format!("floats {name}"), &copy, &q);
    }
    drop(storage);
    // Stop the engine's background threads before the process exits.
    if let Err(e) = engine.shutdown() {
        eprintln!("shutdown: {e}");
    }
}
