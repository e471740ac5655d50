//! `hyperbyted export`: one database as line protocol in `influx_inspect export`'s layout,
//! which `influx -import` reads: a `# DDL` section (the database with its default
//! retention policy, then the other policies) and a `# DML` section with
//! `# CONTEXT-DATABASE:` / `# CONTEXT-RETENTION-POLICY:` lines before each policy's
//! points. Streamed table by table from the server (one page in memory at a time),
//! optionally gzip-compressed (`influx -import -compressed`).

use super::backup::{copy_lines, CopyError};
use super::client::{Client, Credentials};
use super::ToolError;
use hyperbyte_application::backup::Snapshot;
use hyperbyte_domain::RetentionPolicy;
use std::io::{BufReader, Write};
use std::path::PathBuf;

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Server base URL.
    pub url: String,
    /// The database.
    pub database: String,
    /// One retention policy (default: all).
    pub retention_policy: Option<String>,
    /// Earliest point time (nanoseconds, inclusive).
    pub since: Option<i64>,
    /// Latest point time (nanoseconds, exclusive).
    pub until: Option<i64>,
    /// Gzip the output.
    pub compress: bool,
    /// Output file (default: standard output).
    pub out: Option<PathBuf>,
    /// Admin credentials when the server requires authentication.
    pub credentials: Credentials,
}

/// Exports (see the module docs); returns the number of points written.
pub fn export(opts: &ExportOptions) -> Result<u64, ToolError> {
    let client = Client::new(&opts.url, &opts.credentials);
    let mut query = vec![("db", opts.database.as_str())];
    if let Some(rp) = &opts.retention_policy {
        query.push(("rp", rp.as_str()));
    }
    let text = client.text("POST", "/api/hyperbyte/backup/snapshot", &query, None)?;
    let snapshot: Snapshot = serde_json::from_str(&text)
        .map_err(|e| ToolError::Server(format!("unexpected snapshot answer: {e}")))?;
    let sink: Box<dyn Write> = match &opts.out {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .map_err(ToolError::io(format!("creating {}", path.display())))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let sink = std::io::BufWriter::with_capacity(1 << 20, sink);
    if opts.compress {
        let mut gz = flate2::write::GzEncoder::new(sink, flate2::Compression::default());
        let n = write_export(&client, &snapshot, opts, &mut gz)?;
        gz.finish()
            .and_then(|mut w| w.flush())
            .map_err(ToolError::io("writing the export"))?;
        Ok(n)
    } else {
        let mut w = sink;
        let n = write_export(&client, &snapshot, opts, &mut w)?;
        w.flush().map_err(ToolError::io("writing the export"))?;
        Ok(n)
    }
}

fn write_export(
    client: &Client,
    snapshot: &Snapshot,
    opts: &ExportOptions,
    out: &mut impl Write,
) -> Result<u64, ToolError> {
    let io = ToolError::io("writing the export");
    let Some(db) = snapshot.meta.databases.first() else {
        return Err(ToolError::Server(format!(
            "database not found: {}",
            opts.database
        )));
    };
    let mut head = String::from("# DDL\n");
    for line in ddl(&db.name, &db.retention_policies, db.default_rp.as_deref()) {
        head.push_str(&line);
        head.push('\n');
    }
    head.push_str("\n# DML\n");
    out.write_all(head.as_bytes()).map_err(io)?;
    let since = opts.since.map(|t| t.to_string());
    let until = opts.until.map(|t| t.to_string());
    let mut points = 0;
    let mut context: Option<&str> = None;
    for table in &snapshot.tables {
        if context != Some(table.retention_policy.as_str()) {
            let ctx = format!(
                "# CONTEXT-DATABASE:{}\n# CONTEXT-RETENTION-POLICY:{}\n",
                table.database, table.retention_policy
            );
            out.write_all(ctx.as_bytes())
                .map_err(ToolError::io("writing the export"))?;
            context = Some(table.retention_policy.as_str());
        }
        let mut query = vec![
            ("db", table.database.as_str()),
            ("rp", table.retention_policy.as_str()),
            ("measurement", table.measurement.as_str()),
        ];
        if let Some(s) = &since {
            query.push(("since", s));
        }
        if let Some(u) = &until {
            query.push(("until", u));
        }
        let response = client.send("GET", "/api/hyperbyte/backup/data", &query, None)?;
        points += copy_lines(
            BufReader::with_capacity(1 << 20, response.into_reader()),
            out,
        )
        .map_err(|e| match e {
            CopyError::Io(e) => ToolError::io("writing the export")(e),
            CopyError::Truncated => ToolError::Server(format!(
                "the server's answer for measurement {:?} ended early (see the server's log)",
                table.measurement
            )),
        })?;
    }
    Ok(points)
}

/// The statements that recreate `database` with `policies` (the default one through
/// `CREATE DATABASE ... WITH ... NAME`, as `influx_inspect export` does).
pub(crate) fn ddl(
    database: &str,
    policies: &[RetentionPolicy],
    default: Option<&str>,
) -> Vec<String> {
    let spec = |rp: &RetentionPolicy| {
        format!(
            "DURATION {} REPLICATION {} SHARD DURATION {}",
            duration(rp.duration),
            rp.replication.max(1),
            duration(rp.shard_group_duration)
        )
    };
    let mut out = Vec::new();
    match default.and_then(|d| policies.iter().find(|p| p.name == d)) {
        Some(rp) => out.push(format!(
            "CREATE DATABASE {} WITH {} NAME {}",
            ident(database),
            spec(rp),
            ident(&rp.name)
        )),
        None => out.push(format!("CREATE DATABASE {}", ident(database))),
    }
    for rp in policies {
        if Some(rp.name.as_str()) != default {
            out.push(format!(
                "CREATE RETENTION POLICY {} ON {} {}",
                ident(&rp.name),
                ident(database),
                spec(rp)
            ));
        }
    }
    out
}

/// An InfluxQL duration literal in the largest unit that divides it (`INF` for 0).
fn duration(nanos: i64) -> String {
    if nanos <= 0 {
        return "INF".into();
    }
    const UNITS: [(i64, &str); 7] = [
        (604_800_000_000_000, "w"),
        (86_400_000_000_000, "d"),
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "u"),
    ];
    for (unit, name) in UNITS {
        if nanos % unit == 0 {
            return format!("{}{name}", nanos / unit);
        }
    }
    format!("{nanos}ns")
}

/// A double-quoted InfluxQL identifier.
fn ident(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddl_lines() {
        let policies = vec![
            RetentionPolicy::new("autogen", 0, 604_800_000_000_000),
            RetentionPolicy::new("two \"h\"", 7_200_000_000_000, 3_600_000_000_000),
        ];
        assert_eq!(
            ddl("db", &policies, Some("autogen")),
            vec![
                "CREATE DATABASE \"db\" WITH DURATION INF REPLICATION 1 SHARD DURATION 1w NAME \"autogen\"",
                "CREATE RETENTION POLICY \"two \\\"h\\\"\" ON \"db\" DURATION 2h REPLICATION 1 SHARD DURATION 1h",
            ]
        );
        assert_eq!(ddl("db", &[], None), vec!["CREATE DATABASE \"db\""]);
        assert_eq!(duration(90_000_000_000), "90s");
        assert_eq!(duration(1_500), "1500ns");
    }
}
