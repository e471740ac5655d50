//! A developer's SQL console on a (stopped) server's chDB directory, with timings.
//!
//! `cargo run --release -p hyperbyte-adapter-chdb --example sql -- DATA_DIR/chdb [RUNS]`
//! reads one statement per line from stdin and prints the median time over RUNS (3)
//! and the first rows (`SQL_ROWS`, 4) of each result. Useful to see what a translated query costs.
//! `SQL_SLEEP_MS` pauses before each run, as a server idles between requests: back-to-back
//! runs keep the caches warm and measure low (one host over one hour on 1,000 hosts × 24 h:
//! 3.8–3.9 ms back to back, 5.3–5.6 ms with 5 ms pauses, which is what the server's engine
//! time shows under a request loop).

use hyperbyte_adapter_chdb::{ChdbEngine, Role};
use std::io::BufRead;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: sql DATA_DIR/chdb [RUNS]")?;
    let runs: usize = args
        .next()
        .map(|r| r.parse())
        .transpose()?
        .unwrap_or(3)
        .max(1);
    let show: usize = std::env::var("SQL_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let engine = ChdbEngine::open(std::path::Path::new(&dir), 2)?;
    for line in std::io::stdin().lock().lines() {
        let sql = line?;
        if sql.trim().is_empty() || sql.starts_with("--") {
            continue;
        }
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..runs {
            if let Some(ms) = std::env::var("SQL_SLEEP_MS")
                .ok()
                .and_then(|v| v.parse().ok())
            {
                std::thread::sleep(std::time::Duration::from_millis(ms));
            }
            let t = Instant::now();
            let r = engine.query_blocking(Role::Read, &sql);
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            last = Some(r);
        }
        times.sort_by(f64::total_cmp);
        println!("{:9.2} ms  {}", times[times.len() / 2], sql);
        match last {
            Some(Ok(rows)) => {
                for row in rows.rows.iter().take(show) {
                    println!("           {row:?}");
                }
                println!("           ({} rows)", rows.rows.len());
            }
            Some(Err(e)) => println!("           error: {e}"),
            None => {}
        }
    }
    engine.shutdown()?;
    Ok(())
}
