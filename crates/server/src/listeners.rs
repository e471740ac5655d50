//! The `[[graphite]]`, `[[opentsdb]]`, `[[collectd]]` and `[[udp]]` sections: InfluxDB
//! 1.x's listener settings (its key names are accepted, `bind-address` as well as
//! `bind_address`), checked at start-up with messages naming the key
//! (`graphite[0].templates`), and turned into the listeners adapter's configuration.
//!
//! Each section is off unless `enabled = true`, as in InfluxDB.

use crate::config::ConfigError;
use hyperbyte_adapter_listeners::{
    BatchConfig, CollectdConfig, Common, GraphiteConfig, Listener, OpenTsdbConfig, Target,
    UdpConfig,
};
use hyperbyte_domain::Precision;
use hyperbyte_protocols::collectd::TypesDb;
use hyperbyte_protocols::graphite;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// What every listener section has.
#[derive(Debug, Clone, Copy)]
struct Shared<'a> {
    bind_address: &'a str,
    database: &'a str,
    retention_policy: &'a str,
    batch_size: usize,
    batch_pending: usize,
    batch_timeout: &'a str,
    read_buffer: usize,
}

/// `[[graphite]]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct GraphiteSection {
    pub(crate) enabled: bool,
    #[serde(alias = "bind-address")]
    pub(crate) bind_address: String,
    pub(crate) database: String,
    #[serde(alias = "retention-policy")]
    pub(crate) retention_policy: String,
    /// `tcp` or `udp`.
    pub(crate) protocol: String,
    #[serde(alias = "batch-size")]
    pub(crate) batch_size: usize,
    #[serde(alias = "batch-pending")]
    pub(crate) batch_pending: usize,
    #[serde(alias = "batch-timeout")]
    pub(crate) batch_timeout: String,
    /// Accepted for compatibility; writes are local.
    #[serde(alias = "consistency-level")]
    pub(crate) consistency_level: String,
    pub(crate) separator: String,
    pub(crate) templates: Vec<String>,
    pub(crate) tags: Vec<String>,
    #[serde(alias = "udp-read-buffer")]
    pub(crate) udp_read_buffer: usize,
}

/// `[[opentsdb]]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct OpenTsdbSection {
    pub(crate) enabled: bool,
    #[serde(alias = "bind-address")]
    pub(crate) bind_address: String,
    pub(crate) database: String,
    #[serde(alias = "retention-policy")]
    pub(crate) retention_policy: String,
    #[serde(alias = "consistency-level")]
    pub(crate) consistency_level: String,
    /// Must stay false: TLS on this listener is not available.
    #[serde(alias = "tls-enabled")]
    pub(crate) tls_enabled: bool,
    pub(crate) certificate: String,
    #[serde(alias = "batch-size")]
    pub(crate) batch_size: usize,
    #[serde(alias = "batch-pending")]
    pub(crate) batch_pending: usize,
    #[serde(alias = "batch-timeout")]
    pub(crate) batch_timeout: String,
    /// Accepted; dropped lines are logged at debug level and counted.
    #[serde(alias = "log-point-errors")]
    pub(crate) log_point_errors: bool,
}

/// `[[collectd]]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct CollectdSection {
    pub(crate) enabled: bool,
    #[serde(alias = "bind-address")]
    pub(crate) bind_address: String,
    pub(crate) database: String,
    #[serde(alias = "retention-policy")]
    pub(crate) retention_policy: String,
    #[serde(alias = "batch-size")]
    pub(crate) batch_size: usize,
    #[serde(alias = "batch-pending")]
    pub(crate) batch_pending: usize,
    #[serde(alias = "batch-timeout")]
    pub(crate) batch_timeout: String,
    #[serde(alias = "read-buffer")]
    pub(crate) read_buffer: usize,
    /// A `types.db` file or a directory of them.
    pub(crate) typesdb: PathBuf,
    /// Only `none`.
    #[serde(alias = "security-level")]
    pub(crate) security_level: String,
    #[serde(alias = "auth-file")]
    pub(crate) auth_file: String,
    /// Only `split`.
    #[serde(alias = "parse-multivalue-plugin")]
    pub(crate) parse_multivalue_plugin: String,
}

/// `[[udp]]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct UdpSection {
    pub(crate) enabled: bool,
    #[serde(alias = "bind-address")]
    pub(crate) bind_address: String,
    pub(crate) database: String,
    #[serde(alias = "retention-policy")]
    pub(crate) retention_policy: String,
    #[serde(alias = "batch-size")]
    pub(crate) batch_size: usize,
    #[serde(alias = "batch-pending")]
    pub(crate) batch_pending: usize,
    #[serde(alias = "batch-timeout")]
    pub(crate) batch_timeout: String,
    #[serde(alias = "read-buffer")]
    pub(crate) read_buffer: usize,
    /// `""` (nanoseconds), `n`, `u`, `ms`, `s`, `m`, `h`.
    pub(crate) precision: String,
}

impl Default for GraphiteSection {
    fn default() -> Self {
        GraphiteSection {
            enabled: false,
            bind_address: ":2003".into(),
            database: "graphite".into(),
            retention_policy: String::new(),
            protocol: "tcp".into(),
            batch_size: 5000,
            batch_pending: 10,
            batch_timeout: "1s".into(),
            consistency_level: "one".into(),
            separator: ".".into(),
            templates: Vec::new(),
            tags: Vec::new(),
            udp_read_buffer: 0,
        }
    }
}

impl Default for OpenTsdbSection {
    fn default() -> Self {
        OpenTsdbSection {
            enabled: false,
            bind_address: ":4242".into(),
            database: "opentsdb".into(),
            retention_policy: String::new(),
            consistency_level: "one".into(),
            tls_enabled: false,
            certificate: String::new(),
            batch_size: 1000,
            batch_pending: 5,
            batch_timeout: "1s".into(),
            log_point_errors: true,
        }
    }
}

impl Default for CollectdSection {
    fn default() -> Self {
        CollectdSection {
            enabled: false,
            bind_address: ":25826".into(),
            database: "collectd".into(),
            retention_policy: String::new(),
            batch_size: 5000,
            batch_pending: 10,
            batch_timeout: "10s".into(),
            read_buffer: 0,
            typesdb: "/usr/share/collectd/types.db".into(),
            security_level: "none".into(),
            auth_file: String::new(),
            parse_multivalue_plugin: "split".into(),
        }
    }
}

impl Default for UdpSection {
    fn default() -> Self {
        UdpSection {
            enabled: false,
            bind_address: ":8089".into(),
            database: "udp".into(),
            retention_policy: String::new(),
            batch_size: 5000,
            batch_pending: 10,
            batch_timeout: "1s".into(),
            read_buffer: 0,
            precision: String::new(),
        }
    }
}

/// The listener sections of a configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sections<'a> {
    pub(crate) graphite: &'a [GraphiteSection],
    pub(crate) opentsdb: &'a [OpenTsdbSection],
    pub(crate) collectd: &'a [CollectdSection],
    pub(crate) udp: &'a [UdpSection],
}

fn invalid(section: &str, i: usize, key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::InvalidKey {
        key: format!("{section}[{i}].{key}"),
        reason: reason.into(),
    }
}

/// InfluxDB's `:port` means every interface.
fn bind_addr(s: &str) -> Option<SocketAddr> {
    match s.strip_prefix(':') {
        Some(port) => format!("0.0.0.0:{port}").parse().ok(),
        None => s.parse().ok(),
    }
}

fn common(section: &str, i: usize, s: &Shared<'_>) -> Result<Common, ConfigError> {
    let bind = bind_addr(s.bind_address).ok_or_else(|| {
        invalid(
            section,
            i,
            "bind_address",
            format!(
                "{:?} is not an address like :2003 or 127.0.0.1:2003",
                s.bind_address
            ),
        )
    })?;
    if s.database.is_empty() {
        return Err(invalid(section, i, "database", "must not be empty"));
    }
    if s.batch_size == 0 {
        return Err(invalid(section, i, "batch_size", "must be at least 1"));
    }
    if s.batch_pending == 0 {
        return Err(invalid(section, i, "batch_pending", "must be at least 1"));
    }
    let timeout = hyperbyte_domain::time::parse_duration(s.batch_timeout)
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            invalid(
                section,
                i,
                "batch_timeout",
                format!("{:?} is not a duration like 1s or 500ms", s.batch_timeout),
            )
        })?;
    Ok(Common {
        bind,
        target: Target {
            database: s.database.to_string(),
            retention_policy: (!s.retention_policy.is_empty())
                .then(|| s.retention_policy.to_string()),
        },
        batch: BatchConfig {
            size: s.batch_size,
            pending: s.batch_pending,
            timeout: Duration::from_nanos(u64::try_from(timeout).unwrap_or(u64::MAX)),
        },
        read_buffer: s.read_buffer,
    })
}

fn graphite(i: usize, s: &GraphiteSection) -> Result<Listener, ConfigError> {
    let common = common(
        "graphite",
        i,
        &Shared {
            bind_address: &s.bind_address,
            database: &s.database,
            retention_policy: &s.retention_policy,
            batch_size: s.batch_size,
            batch_pending: s.batch_pending,
            batch_timeout: &s.batch_timeout,
            read_buffer: s.udp_read_buffer,
        },
    )?;
    let udp = match s.protocol.to_ascii_lowercase().as_str() {
        "tcp" => false,
        "udp" => true,
        _ => {
            return Err(invalid(
                "graphite",
                i,
                "protocol",
                "must be \"tcp\" or \"udp\"",
            ))
        }
    };
    let mut options = graphite::Options {
        separator: s.separator.clone(),
        templates: Vec::new(),
        tags: s.tags.clone(),
    };
    graphite::Parser::new(&options).map_err(|e| invalid("graphite", i, "tags", e.0))?;
    options.templates = s.templates.clone();
    let parser =
        graphite::Parser::new(&options).map_err(|e| invalid("graphite", i, "templates", e.0))?;
    Ok(Listener::Graphite(GraphiteConfig {
        common,
        udp,
        parser: Arc::new(parser),
    }))
}

fn opentsdb(i: usize, s: &OpenTsdbSection) -> Result<Listener, ConfigError> {
    let common = common(
        "opentsdb",
        i,
        &Shared {
            bind_address: &s.bind_address,
            database: &s.database,
            retention_policy: &s.retention_policy,
            batch_size: s.batch_size,
            batch_pending: s.batch_pending,
            batch_timeout: &s.batch_timeout,
            read_buffer: 0,
        },
    )?;
    if s.tls_enabled {
        return Err(invalid(
            "opentsdb",
            i,
            "tls_enabled",
            "TLS on the OpenTSDB listener is not available; set it to false",
        ));
    }
    Ok(Listener::OpenTsdb(OpenTsdbConfig { common }))
}

/// Reads a `types.db` file, or every file of a directory (sorted by name).
fn read_types(path: &Path) -> Result<TypesDb, String> {
    let mut files = Vec::new();
    if path.is_dir() {
        let entries =
            std::fs::read_dir(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for e in entries.flatten() {
            if e.path().is_file() {
                files.push(e.path());
            }
        }
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    let mut db = TypesDb::default();
    for f in files {
        let text =
            std::fs::read_to_string(&f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        db.add(&text).map_err(|e| format!("{}: {e}", f.display()))?;
    }
    if db.is_empty() {
        return Err(format!("{} defines no type", path.display()));
    }
    Ok(db)
}

fn collectd(i: usize, s: &CollectdSection) -> Result<Listener, ConfigError> {
    let common = common(
        "collectd",
        i,
        &Shared {
            bind_address: &s.bind_address,
            database: &s.database,
            retention_policy: &s.retention_policy,
            batch_size: s.batch_size,
            batch_pending: s.batch_pending,
            batch_timeout: &s.batch_timeout,
            read_buffer: s.read_buffer,
        },
    )?;
    if s.security_level != "none" {
        return Err(invalid(
            "collectd",
            i,
            "security_level",
            "only \"none\" is available (signed and encrypted packets are not)",
        ));
    }
    if s.parse_multivalue_plugin != "split" {
        return Err(invalid(
            "collectd",
            i,
            "parse_multivalue_plugin",
            "only \"split\" is available",
        ));
    }
    let types = read_types(&s.typesdb).map_err(|e| invalid("collectd", i, "typesdb", e))?;
    Ok(Listener::Collectd(CollectdConfig {
        common,
        types: Arc::new(types),
    }))
}

fn udp(i: usize, s: &UdpSection) -> Result<Listener, ConfigError> {
    let common = common(
        "udp",
        i,
        &Shared {
            bind_address: &s.bind_address,
            database: &s.database,
            retention_policy: &s.retention_policy,
            batch_size: s.batch_size,
            batch_pending: s.batch_pending,
            batch_timeout: &s.batch_timeout,
            read_buffer: s.read_buffer,
        },
    )?;
    let precision = match s.precision.as_str() {
        "" => Precision::Nanoseconds,
        p => Precision::parse(p).ok_or_else(|| {
            invalid(
                "udp",
                i,
                "precision",
                "must be one of \"\", n, u, ms, s, m, h",
            )
        })?,
    };
    Ok(Listener::Udp(UdpConfig { common, precision }))
}

/// The enabled listeners, checked; the first problem names its key.
pub(crate) fn build(s: Sections<'_>) -> Result<Vec<Listener>, ConfigError> {
    let mut out = Vec::new();
    for (i, g) in s.graphite.iter().enumerate().filter(|(_, g)| g.enabled) {
        out.push(graphite(i, g)?);
    }
    for (i, o) in s.opentsdb.iter().enumerate().filter(|(_, o)| o.enabled) {
        out.push(opentsdb(i, o)?);
    }
    for (i, c) in s.collectd.iter().enumerate().filter(|(_, c)| c.enabled) {
        out.push(collectd(i, c)?);
    }
    for (i, u) in s.udp.iter().enumerate().filter(|(_, u)| u.enabled) {
        out.push(udp(i, u)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::config::{Config, Overrides};

    fn load(text: &str) -> Result<Config, String> {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, text).unwrap();
        Config::load(Some(&f), &Overrides::default()).map_err(|e| e.to_string())
    }

    #[test]
    fn influxdb_sections_load_with_its_key_names() {
        let c = load(
            "[[graphite]]\nenabled = true\nbind-address = \"127.0.0.1:0\"\nprotocol = \"udp\"\ntemplates = [\"*.app env.service.measurement\", \"measurement*\"]\ntags = [\"dc=a\"]\n\
             [[opentsdb]]\nenabled = true\nbind_address = \"127.0.0.1:0\"\n\
             [[udp]]\nenabled = true\nbind-address = \"127.0.0.1:0\"\nprecision = \"s\"\nbatch-timeout = \"50ms\"\n\
             [[udp]]\nenabled = false\n",
        )
        .unwrap();
        let l = super::build(c.listener_sections()).unwrap();
        let kinds: Vec<_> = l.iter().map(|l| l.kind()).collect();
        assert_eq!(kinds, ["graphite", "opentsdb", "udp"]);
        // Nothing is enabled by default, and the printed defaults leave room for sections
        // appended to them.
        let d = Config::default();
        assert!(super::build(d.listener_sections()).unwrap().is_empty());
        let printed = Config::default_toml();
        assert!(
            !printed.contains("graphite") && !printed.contains("udp"),
            "{printed}"
        );
        load(&format!(
            "{printed}\n[[udp]]\nenabled = true\nbind-address = \"127.0.0.1:0\"\n"
        ))
        .unwrap();
    }

    #[test]
    fn bad_values_name_their_key() {
        let e = load("[[graphite]]\nenabled = true\ntemplates = [\"host.cpu\"]\n").unwrap_err();
        assert!(
            e.contains("graphite[0].templates") && e.contains("no measurement"),
            "{e}"
        );
        let e = load("[[graphite]]\nenabled = true\ntags = [\"x\"]\n").unwrap_err();
        assert!(e.contains("graphite[0].tags"), "{e}");
        let e = load("[[graphite]]\nenabled = true\nprotocol = \"sctp\"\n").unwrap_err();
        assert!(e.contains("graphite[0].protocol"), "{e}");
        let e = load("[[udp]]\nenabled = true\n[[udp]]\nenabled = true\nbind-address = \"nope\"\n")
            .unwrap_err();
        assert!(e.contains("udp[1].bind_address"), "{e}");
        let e = load("[[udp]]\nenabled = true\nbatch-timeout = \"soon\"\n").unwrap_err();
        assert!(e.contains("udp[0].batch_timeout"), "{e}");
        let e = load("[[udp]]\nenabled = true\nprecision = \"fortnight\"\n").unwrap_err();
        assert!(e.contains("udp[0].precision"), "{e}");
        let e = load("[[collectd]]\nenabled = true\ntypesdb = \"/nonexistent/types.db\"\n")
            .unwrap_err();
        assert!(e.contains("collectd[0].typesdb"), "{e}");
        let e = load("[[opentsdb]]\nenabled = true\ntls-enabled = true\n").unwrap_err();
        assert!(e.contains("opentsdb[0].tls_enabled"), "{e}");
        let e = load("[[udp]]\nenabled = true\nbogus = 1\n").unwrap_err();
        assert!(e.contains("bogus"), "{e}");
        // A disabled section is not checked (as InfluxDB ignores it).
        load("[[graphite]]\ntemplates = [\"host.cpu\"]\n").unwrap();
    }
}
