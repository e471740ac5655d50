//! `cargo xtask check-layers`: the hexagonal dependency rule, proven from `cargo metadata`.
//!
//! Every dependency edge between workspace crates (normal, build and dev) must be listed in
//! [`ALLOWED`]. Business logic never names an adapter, adapters never name each other, and
//! only `hyperbyte-server` names adapters.

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// For each workspace crate, the workspace crates it may depend on. `*` allows any.
pub(crate) const ALLOWED: &[(&str, &[&str])] = &[
    ("hyperbyte-domain", &[]),
    ("hyperbyte-lineprotocol", &["hyperbyte-domain"]),
    ("hyperbyte-ports", &["hyperbyte-domain"]),
    ("hyperbyte-timeseriesql", &["hyperbyte-domain"]),
    // Graphite, OpenTSDB, collectd and UDP line protocol as pure parsers.
    (
        "hyperbyte-protocols",
        &["hyperbyte-domain", "hyperbyte-lineprotocol"],
    ),
    // InfluxDB's metadata rules as a pure state machine (serves the metadata port).
    (
        "hyperbyte-catalog",
        &["hyperbyte-domain", "hyperbyte-ports"],
    ),
    // Port fakes: pure, for unit tests of the business logic and for adapter authors.
    (
        "hyperbyte-testkit",
        &["hyperbyte-domain", "hyperbyte-ports", "hyperbyte-catalog"],
    ),
    (
        "hyperbyte-application",
        &[
            "hyperbyte-domain",
            "hyperbyte-ports",
            "hyperbyte-timeseriesql",
            "hyperbyte-lineprotocol",
            "hyperbyte-catalog",
            "hyperbyte-testkit",
        ],
    ),
    // Adapters may dev-depend on the (pure) testkit to run the port contract suites.
    (
        "hyperbyte-adapter-rocksdb",
        &[
            "hyperbyte-domain",
            "hyperbyte-ports",
            "hyperbyte-catalog",
            "hyperbyte-testkit",
        ],
    ),
    (
        "hyperbyte-adapter-chdb",
        &["hyperbyte-domain", "hyperbyte-ports", "hyperbyte-testkit"],
    ),
    // Inbound adapters drive application services.
    (
        "hyperbyte-adapter-http",
        &[
            "hyperbyte-domain",
            "hyperbyte-ports",
            "hyperbyte-application",
        ],
    ),
    (
        "hyperbyte-adapter-cluster",
        &[
            "hyperbyte-domain",
            "hyperbyte-ports",
            "hyperbyte-application",
            "hyperbyte-catalog",
            "hyperbyte-testkit",
        ],
    ),
    // The Graphite, OpenTSDB, collectd and UDP listeners (sockets over the pure parsers);
    // tests run them against the testkit's fakes.
    (
        "hyperbyte-adapter-listeners",
        &[
            "hyperbyte-domain",
            "hyperbyte-ports",
            "hyperbyte-application",
            "hyperbyte-protocols",
            "hyperbyte-testkit",
        ],
    ),
    ("hyperbyte-server", &["*"]),
    // The example out-of-tree adapter (examples/file-wal): a WAL needs only the port and
    // the domain types; its tests run the testkit's contract suites.
    (
        "hyperbyte-example-file-wal",
        &["hyperbyte-domain", "hyperbyte-ports", "hyperbyte-testkit"],
    ),
    // Its custom server (examples/file-wal-server): the stock server composed through
    // hyperbyte-server's public builder, with the example WAL swapped in. It names no
    // built-in adapter.
    (
        "hyperbyte-example-file-wal-server",
        &[
            "hyperbyte-ports",
            "hyperbyte-server",
            "hyperbyte-example-file-wal",
        ],
    ),
    // End-to-end tests treat the binary as a black box.
    ("hyperbyte-e2e", &[]),
    ("xtask", &[]),
];

/// Runs `cargo metadata` and checks the rule.
pub(crate) fn check(root: &Path) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .current_dir(root)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .output()
        .with_context(|| format!("running `{cargo} metadata` in {}", root.display()))?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: Value = serde_json::from_slice(&out.stdout).context("parsing cargo metadata")?;
    let violations = violations(&meta)?;
    if violations.is_empty() {
        println!("check-layers: every workspace dependency edge is allowed");
        Ok(())
    } else {
        for v in &violations {
            eprintln!("check-layers: forbidden dependency {v}");
        }
        bail!(
            "{} forbidden dependency edge(s); see docs/architecture.md (the dependency rule)",
            violations.len()
        )
    }
}

/// Lists forbidden edges as `from -> to (kind)`.
pub(crate) fn violations(meta: &Value) -> Result<Vec<String>> {
    let packages = meta["packages"]
        .as_array()
        .context("cargo metadata has no packages")?;
    let members: Vec<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();
    let mut bad = Vec::new();
    for p in packages {
        let name = p["name"].as_str().unwrap_or_default();
        let allowed = match ALLOWED.iter().find(|(n, _)| *n == name) {
            Some((_, a)) => *a,
            None => {
                bad.push(format!(
                    "{name}: crate is not listed in xtask's layer table (add it with its allowed edges)"
                ));
                continue;
            }
        };
        for d in p["dependencies"].as_array().into_iter().flatten() {
            let dep = d["name"].as_str().unwrap_or_default();
            if !members.contains(&dep) {
                continue; // external crate
            }
            if allowed.contains(&"*") || allowed.contains(&dep) {
                continue;
            }
            let kind = d["kind"].as_str().unwrap_or("normal");
            bad.push(format!("{name} -> {dep} ({kind})"));
        }
    }
    Ok(bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pkg(name: &str, deps: &[(&str, Option<&str>)]) -> Value {
        json!({
            "name": name,
            "dependencies": deps.iter().map(|(d, k)| json!({"name": d, "kind": k})).collect::<Vec<_>>()
        })
    }

    #[test]
    fn allowed_graph_passes() {
        let meta = json!({"packages": [
            pkg("hyperbyte-domain", &[("serde", None)]),
            pkg("hyperbyte-ports", &[("hyperbyte-domain", None)]),
            pkg("hyperbyte-application", &[("hyperbyte-ports", None), ("hyperbyte-domain", None)]),
            pkg("hyperbyte-adapter-chdb", &[("hyperbyte-ports", None)]),
            pkg("hyperbyte-server", &[("hyperbyte-adapter-chdb", None)]),
        ]});
        assert!(violations(&meta).expect("valid metadata").is_empty());
    }

    #[test]
    fn application_naming_an_adapter_fails() {
        let meta = json!({"packages": [
            pkg("hyperbyte-ports", &[]),
            pkg("hyperbyte-adapter-rocksdb", &[("hyperbyte-ports", None)]),
            pkg("hyperbyte-application", &[("hyperbyte-adapter-rocksdb", Some("dev"))]),
        ]});
        let v = violations(&meta).expect("valid metadata");
        assert_eq!(
            v,
            vec!["hyperbyte-application -> hyperbyte-adapter-rocksdb (dev)".to_string()]
        );
    }

    #[test]
    fn adapter_naming_another_adapter_fails() {
        let meta = json!({"packages": [
            pkg("hyperbyte-adapter-rocksdb", &[]),
            pkg("hyperbyte-adapter-http", &[("hyperbyte-adapter-rocksdb", None)]),
        ]});
        assert_eq!(violations(&meta).expect("valid metadata").len(), 1);
    }

    #[test]
    fn catalog_names_only_domain_and_ports() {
        let meta = json!({"packages": [
            pkg("hyperbyte-domain", &[]),
            pkg("hyperbyte-ports", &[("hyperbyte-domain", None)]),
            pkg("hyperbyte-application", &[]),
            pkg("hyperbyte-catalog", &[
                ("hyperbyte-domain", None),
                ("hyperbyte-ports", None),
                ("hyperbyte-application", None),
            ]),
            pkg("hyperbyte-adapter-rocksdb", &[("hyperbyte-catalog", None)]),
        ]});
        assert_eq!(
            violations(&meta).expect("valid metadata"),
            vec!["hyperbyte-catalog -> hyperbyte-application (normal)".to_string()]
        );
    }

    #[test]
    fn the_real_workspace_obeys_the_rule() {
        let root = crate::root().expect("root");
        check(&root).expect("workspace graph obeys the layer rule");
    }
}
