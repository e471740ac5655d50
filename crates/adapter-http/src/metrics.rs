//! `/metrics` in the Prometheus text format (the `prometheus` crate's registry and
//! encoder), and the HTTP counters InfluxDB's `/debug/vars` shows as `httpd`.
//!
//! Two sources: what this adapter sees (requests by endpoint and status, their latency,
//! bytes written) lives in the registry here; what the services count (flush rounds and
//! durations, the WAL backlog, the recent-data tier, queries, engine errors, series per
//! database) is read from [`ServiceStats`] at scrape time and turned into families, so
//! the application never depends on a metrics library.

use hyperbyte_application::prom::PromCounters;
use hyperbyte_application::stats::{HistogramSnapshot, ServiceStats};
use prometheus::core::Collector;
use prometheus::proto::{self, MetricFamily, MetricType};
use prometheus::{
    HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
};
use std::time::Duration;

/// Endpoints requests are counted under (bounded: any other path is `other`).
pub(crate) fn endpoint_of(path: &str) -> &'static str {
    match path {
        "/write" => "write",
        "/api/v2/write" => "write_v2",
        "/query" => "query",
        "/ping" => "ping",
        "/status" => "status",
        "/health" => "health",
        "/metrics" => "metrics",
        "/debug/vars" => "debug_vars",
        "/api/v1/prom/write" => "prom_write",
        "/api/v1/prom/read" => "prom_read",
        _ => "other",
    }
}

/// The adapter's own metrics and its registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    active: IntGauge,
    write_bytes: IntCounter,
    auth_failures: IntCounter,
    started: std::time::SystemTime,
}

/// The metrics could not be registered (a name or label set the registry refuses).
#[derive(Debug, thiserror::Error)]
#[error("registering the metrics: {0}")]
pub struct MetricsError(#[from] prometheus::Error);

/// Registers a collector and hands it back.
fn register<C: Collector + Clone + 'static>(
    registry: &Registry,
    c: C,
) -> Result<C, prometheus::Error> {
    registry.register(Box::new(c.clone()))?;
    Ok(c)
}

impl Metrics {
    /// A fresh registry with every family of this adapter.
    pub fn new() -> Result<Self, MetricsError> {
        let registry = Registry::new();
        let buckets = hyperbyte_application::stats::DURATION_BUCKETS.to_vec();
        let requests = IntCounterVec::new(
            Opts::new(
                "hyperbyte_http_requests_total",
                "HTTP requests by endpoint and status code",
            ),
            &["endpoint", "status"],
        );
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "hyperbyte_http_request_duration_seconds",
                "Time to answer an HTTP request (until the response head), by endpoint",
            )
            .buckets(buckets),
            &["endpoint"],
        );
        let active = IntGauge::new(
            "hyperbyte_http_requests_active",
            "HTTP requests being answered",
        );
        let write_bytes = IntCounter::new(
            "hyperbyte_http_write_bytes_total",
            "Bytes of /write bodies received (as sent, before decompression)",
        );
        let auth_failures = IntCounter::new(
            "hyperbyte_http_auth_failures_total",
            "Requests refused for missing or wrong credentials",
        );
        let build = IntGauge::with_opts(
            Opts::new(
                "hyperbyte_build_info",
                "Build of this server (always 1; the labels carry the versions)",
            )
            .const_label("version", env!("CARGO_PKG_VERSION"))
            .const_label("influxdb_api", crate::router::INFLUX_VERSION),
        );
        let build = build?;
        build.set(1);
        registry.register(Box::new(build))?;
        Ok(Metrics {
            requests: register(&registry, requests?)?,
            latency: register(&registry, latency?)?,
            active: register(&registry, active?)?,
            write_bytes: register(&registry, write_bytes?)?,
            auth_failures: register(&registry, auth_failures?)?,
            started: std::time::SystemTime::now(),
            registry,
        })
    }

    /// When the server started (this registry was made).
    pub(crate) fn started_at(&self) -> std::time::SystemTime {
        self.started
    }

    /// A request started.
    pub(crate) fn started(&self) {
        self.active.inc();
    }

    /// A request was answered or abandoned.
    pub(crate) fn finished(&self) {
        self.active.dec();
    }

    /// A request was answered.
    pub(crate) fn answered(&self, endpoint: &str, status: u16, took: Duration) {
        let status = status.to_string();
        self.requests
            .with_label_values(&[endpoint, status.as_str()])
            .inc();
        self.latency
            .with_label_values(&[endpoint])
            .observe(took.as_secs_f64());
        if status == "401" {
            self.auth_failures.inc();
        }
    }

    /// Bytes of a write body.
    pub(crate) fn write_bytes(&self, n: usize) {
        self.write_bytes.inc_by(n as u64);
    }

    /// The text exposition of every family, the services' included.
    pub fn render(&self, stats: &ServiceStats) -> String {
        self.render_with(stats, &PromCounters::default())
    }

    /// [`Self::render`] with the Prometheus remote endpoints' counters.
    pub fn render_with(&self, stats: &ServiceStats, prom: &PromCounters) -> String {
        let mut families = self.registry.gather();
        families.extend(service_families(stats));
        families.extend(prom_families(prom));
        families.sort_by(|a, b| a.name().cmp(b.name()));
        prometheus::TextEncoder::new()
            .encode_to_string(&families)
            .unwrap_or_else(|e| format!("# encoding the metrics failed: {e}\n"))
    }

    /// InfluxDB's `httpd` statistics, derived from the request counters.
    pub(crate) fn httpd(&self) -> HttpdStats {
        let mut s = HttpdStats {
            active: u64::try_from(self.active.get()).unwrap_or(0),
            write_bytes: self.write_bytes.get(),
            auth_failures: self.auth_failures.get(),
            ..HttpdStats::default()
        };
        for family in self.requests.collect() {
            for m in family.get_metric() {
                let label = |n: &str| {
                    m.get_label()
                        .iter()
                        .find(|l| l.name() == n)
                        .map(|l| l.value().to_string())
                        .unwrap_or_default()
                };
                let n = m.get_counter().get_value() as u64;
                let (endpoint, status) = (label("endpoint"), label("status"));
                s.requests += n;
                match endpoint.as_str() {
                    "query" => s.query += n,
                    "write" | "write_v2" => s.write += n,
                    "ping" => s.ping += n,
                    "status" => s.status += n,
                    _ => {}
                }
                match status.as_bytes().first() {
                    Some(b'4') => s.client_errors += n,
                    Some(b'5') => s.server_errors += n,
                    _ => {}
                }
            }
        }
        for family in self.latency.collect() {
            for m in family.get_metric() {
                let endpoint = m
                    .get_label()
                    .iter()
                    .find(|l| l.name() == "endpoint")
                    .map(|l| l.value().to_string())
                    .unwrap_or_default();
                let ns = (m.get_histogram().get_sample_sum() * 1e9) as u64;
                s.duration_ns += ns;
                match endpoint.as_str() {
                    "query" => s.query_duration_ns += ns,
                    "write" | "write_v2" => s.write_duration_ns += ns,
                    _ => {}
                }
            }
        }
        s
    }
}

/// The HTTP counters `/debug/vars` shows under `httpd`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct HttpdStats {
    pub(crate) requests: u64,
    pub(crate) active: u64,
    pub(crate) query: u64,
    pub(crate) write: u64,
    pub(crate) ping: u64,
    pub(crate) status: u64,
    pub(crate) client_errors: u64,
    pub(crate) server_errors: u64,
    pub(crate) auth_failures: u64,
    pub(crate) write_bytes: u64,
    pub(crate) duration_ns: u64,
    pub(crate) query_duration_ns: u64,
    pub(crate) write_duration_ns: u64,
}

fn family(name: &str, help: &str, kind: MetricType, metrics: Vec<proto::Metric>) -> MetricFamily {
    let mut f = MetricFamily::default();
    f.set_name(name.to_string());
    f.set_help(help.to_string());
    f.set_field_type(kind);
    f.set_metric(metrics);
    f
}

fn labelled(labels: &[(&str, &str)]) -> proto::Metric {
    proto::Metric::from_label(
        labels
            .iter()
            .map(|(k, v)| {
                let mut l = proto::LabelPair::default();
                l.set_name(k.to_string());
                l.set_value(v.to_string());
                l
            })
            .collect(),
    )
}

fn gauge(name: &str, help: &str, v: f64) -> MetricFamily {
    let mut g = proto::Gauge::default();
    g.set_value(v);
    family(
        name,
        help,
        MetricType::GAUGE,
        vec![proto::Metric::from_gauge(g)],
    )
}

fn counter_metric(labels: &[(&str, &str)], v: u64) -> proto::Metric {
    let mut c = proto::Counter::default();
    c.set_value(v as f64);
    let mut m = labelled(labels);
    m.set_counter(c);
    m
}

fn counter(name: &str, help: &str, v: u64) -> MetricFamily {
    family(
        name,
        help,
        MetricType::COUNTER,
        vec![counter_metric(&[], v)],
    )
}

fn histogram(name: &str, help: &str, h: &HistogramSnapshot) -> MetricFamily {
    let mut p = proto::Histogram::default();
    p.set_sample_count(h.count);
    p.set_sample_sum(h.sum_nanos as f64 / 1e9);
    p.set_bucket(
        h.bounds
            .iter()
            .zip(&h.cumulative)
            .map(|(b, c)| {
                let mut bucket = proto::Bucket::default();
                bucket.set_upper_bound(*b);
                bucket.set_cumulative_count(*c);
                bucket
            })
            .collect(),
    );
    let mut m = proto::Metric::default();
    m.set_histogram(p);
    family(name, help, MetricType::HISTOGRAM, vec![m])
}

/// The Prometheus remote write and read counters as families.
fn prom_families(p: &PromCounters) -> Vec<MetricFamily> {
    vec![
        family(
            "hyperbyte_prom_write_requests_total",
            "Prometheus remote write requests by result",
            MetricType::COUNTER,
            vec![
                counter_metric(
                    &[("result", "ok")],
                    p.write_requests.saturating_sub(p.write_errors),
                ),
                counter_metric(&[("result", "error")], p.write_errors),
            ],
        ),
        counter(
            "hyperbyte_prom_samples_written_total",
            "Prometheus remote write samples accepted into the WAL",
            p.samples_written,
        ),
        counter(
            "hyperbyte_prom_samples_dropped_total",
            "Prometheus remote write samples dropped (NaN, +Inf, -Inf: InfluxDB cannot store them)",
            p.samples_dropped,
        ),
        family(
            "hyperbyte_prom_read_requests_total",
            "Prometheus remote read requests by result",
            MetricType::COUNTER,
            vec![
                counter_metric(
                    &[("result", "ok")],
                    p.read_requests.saturating_sub(p.read_errors),
                ),
                counter_metric(&[("result", "error")], p.read_errors),
            ],
        ),
        counter(
            "hyperbyte_prom_read_queries_total",
            "Queries of Prometheus remote read requests",
            p.read_queries,
        ),
        counter(
            "hyperbyte_prom_read_series_total",
            "Series answered to Prometheus remote read",
            p.read_series,
        ),
        counter(
            "hyperbyte_prom_read_samples_total",
            "Samples answered to Prometheus remote read",
            p.read_samples,
        ),
    ]
}

/// The services' numbers as families.
fn service_families(st: &ServiceStats) -> Vec<MetricFamily> {
    let f = &st.flush;
    let q = &st.queries;
    let mut out = vec![
        counter(
            "hyperbyte_points_written_total",
            "Points accepted into the WAL (writes, SELECT INTO, continuous queries)",
            st.writes.points,
        ),
        family(
            "hyperbyte_writes_total",
            "Write requests by result",
            MetricType::COUNTER,
            vec![
                counter_metric(&[("result", "ok")], st.writes.ok),
                counter_metric(&[("result", "error")], st.writes.errors),
            ],
        ),
        gauge(
            "hyperbyte_wal_backlog_points",
            "Acknowledged points waiting in the WAL for the flush",
            st.backlog.points as f64,
        ),
        gauge(
            "hyperbyte_wal_backlog_limit_points",
            "Backlog past which writes are refused (0: no limit)",
            st.backlog.limit as f64,
        ),
        gauge(
            "hyperbyte_wal_backlog_entries",
            "WAL entries not flushed into storage yet",
            f.backlog_entries as f64,
        ),
        gauge(
            "hyperbyte_flush_lag_seconds",
            "Seconds since the flush last caught up with the WAL, while entries wait (0: caught up)",
            f.lag_seconds,
        ),
        histogram(
            "hyperbyte_flush_duration_seconds",
            "Duration of flushes that moved WAL entries into storage",
            &f.duration,
        ),
        counter(
            "hyperbyte_flush_points_total",
            "Points flushed into storage",
            f.points,
        ),
        counter(
            "hyperbyte_flush_entries_total",
            "WAL entries flushed into storage",
            f.entries,
        ),
        gauge(
            "hyperbyte_flush_held_tables",
            "Tables whose points storage refused (set aside and retried)",
            f.held_tables as f64,
        ),
        family(
            "hyperbyte_engine_errors_total",
            "Storage engine errors, by path (failed flushes; failed engine reads of queries)",
            MetricType::COUNTER,
            vec![
                counter_metric(&[("path", "flush")], f.failures),
                counter_metric(&[("path", "query")], q.engine_errors),
            ],
        ),
        gauge(
            "hyperbyte_queries_active",
            "Queries running now",
            q.active as f64,
        ),
        counter(
            "hyperbyte_queries_total",
            "Query requests started",
            q.executed,
        ),
        counter(
            "hyperbyte_queries_killed_total",
            "Queries stopped by KILL QUERY",
            q.killed,
        ),
        histogram(
            "hyperbyte_query_duration_seconds",
            "Time to execute a query request (parse to last statement)",
            &q.duration,
        ),
    ];
    if let Some(t) = &st.tier {
        let reads = t.hits.saturating_add(t.misses);
        out.extend([
            gauge(
                "hyperbyte_tier_bytes",
                "Bytes of point data in the recent-data tier",
                t.bytes as f64,
            ),
            gauge(
                "hyperbyte_tier_max_bytes",
                "Budget of the recent-data tier",
                t.max_bytes as f64,
            ),
            counter(
                "hyperbyte_tier_hits_total",
                "SELECT sources answered from the recent-data tier",
                t.hits,
            ),
            counter(
                "hyperbyte_tier_misses_total",
                "SELECT sources answered by storage while the tier is enabled",
                t.misses,
            ),
            gauge(
                "hyperbyte_tier_hit_ratio",
                "Hits over reads of the recent-data tier since start (0 before any read)",
                if reads == 0 {
                    0.0
                } else {
                    t.hits as f64 / reads as f64
                },
            ),
        ]);
    }
    let per_db = |name: &str, help: &str, v: &dyn Fn(usize) -> u64| {
        let metrics = st
            .databases
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let mut g = proto::Gauge::default();
                g.set_value(v(i) as f64);
                let mut m = labelled(&[("database", &d.name)]);
                m.set_gauge(g);
                m
            })
            .collect();
        family(name, help, MetricType::GAUGE, metrics)
    };
    out.push(per_db(
        "hyperbyte_series",
        "Series per database (cardinality)",
        &|i| st.databases[i].series,
    ));
    out.push(per_db(
        "hyperbyte_measurements",
        "Measurements per database",
        &|i| st.databases[i].measurements,
    ));
    out.push(gauge(
        "hyperbyte_databases",
        "Databases",
        st.databases.len() as f64,
    ));
    out.extend(listener_families(st));
    out.extend(cluster_families(st));
    out
}

/// Cluster mode: each peer's hint queue (labelled with the peer's node id).
fn cluster_families(st: &ServiceStats) -> Vec<MetricFamily> {
    use hyperbyte_application::cluster::HintStats;
    let Some(c) = &st.cluster else {
        return Vec::new();
    };
    type Family = (
        &'static str,
        &'static str,
        MetricType,
        fn(&HintStats) -> u64,
    );
    let families: [Family; 4] = [
        (
            "hyperbyte_cluster_hint_batches",
            "Replicated batches queued for a peer that has not taken them yet",
            MetricType::GAUGE,
            |h| h.queued,
        ),
        (
            "hyperbyte_cluster_hint_bytes",
            "Bytes of the batches queued for a peer",
            MetricType::GAUGE,
            |h| h.bytes,
        ),
        (
            "hyperbyte_cluster_hints_delivered_total",
            "Queued batches delivered to a peer by hinted handoff (since start-up)",
            MetricType::COUNTER,
            |h| h.delivered,
        ),
        (
            "hyperbyte_cluster_hints_dropped_total",
            "Queued batches dropped by the size or age bound (since start-up)",
            MetricType::COUNTER,
            |h| h.dropped,
        ),
    ];
    let ae = &c.anti_entropy;
    let mut out: Vec<MetricFamily> = [
        (
            "hyperbyte_cluster_anti_entropy_rounds_total",
            "Anti-entropy rounds run",
            ae.rounds,
        ),
        (
            "hyperbyte_cluster_anti_entropy_ranges_compared_total",
            "Table ranges (one hour each) whose digests were compared with a peer",
            ae.ranges_compared,
        ),
        (
            "hyperbyte_cluster_anti_entropy_ranges_repaired_total",
            "Table ranges whose points were copied from a peer",
            ae.ranges_repaired,
        ),
        (
            "hyperbyte_cluster_anti_entropy_points_copied_total",
            "Points copied from peers by anti-entropy",
            ae.points_copied,
        ),
        (
            "hyperbyte_cluster_anti_entropy_failures_total",
            "Anti-entropy comparisons or copies that failed (retried next round)",
            ae.failures,
        ),
    ]
    .into_iter()
    .map(|(name, help, v)| counter(name, help, v))
    .collect();
    if c.hints.is_empty() {
        // A family without a metric would fail the whole exposition.
        return out;
    }
    out.extend(families.iter().map(|(name, help, kind, value)| {
        let metrics = c
            .hints
            .iter()
            .map(|(peer, h)| {
                let peer = peer.to_string();
                let labels = [("peer", peer.as_str())];
                if *kind == MetricType::GAUGE {
                    let mut g = proto::Gauge::default();
                    g.set_value(value(h) as f64);
                    let mut m = labelled(&labels);
                    m.set_gauge(g);
                    m
                } else {
                    counter_metric(&labels, value(h))
                }
            })
            .collect();
        family(name, help, *kind, metrics)
    }));
    out
}

/// The Graphite, OpenTSDB, collectd and UDP listeners, one counter per family labelled
/// with the listener's kind and address.
fn listener_families(st: &ServiceStats) -> Vec<MetricFamily> {
    use hyperbyte_application::stats::ListenerStats;
    if st.listeners.is_empty() {
        return Vec::new();
    }
    type Family = (&'static str, &'static str, fn(&ListenerStats) -> u64);
    let families: [Family; 8] = [
        (
            "hyperbyte_listener_points_received_total",
            "Points parsed by a listener",
            |l| l.points_received,
        ),
        (
            "hyperbyte_listener_bytes_received_total",
            "Bytes read by a listener",
            |l| l.bytes_received,
        ),
        (
            "hyperbyte_listener_bad_total",
            "Lines, packets or points a listener dropped because they did not parse",
            |l| l.bad,
        ),
        (
            "hyperbyte_listener_batches_written_total",
            "Batches a listener wrote through the ingestion service",
            |l| l.batches_written,
        ),
        (
            "hyperbyte_listener_points_written_total",
            "Points a listener wrote into the WAL",
            |l| l.points_written,
        ),
        (
            "hyperbyte_listener_batch_failures_total",
            "Batches the ingestion service refused as a whole",
            |l| l.batches_failed,
        ),
        (
            "hyperbyte_listener_points_refused_total",
            "Points of written batches the ingestion service refused",
            |l| l.points_refused,
        ),
        (
            "hyperbyte_listener_buffer_dropped_total",
            "Points a UDP listener dropped because its buffer was full",
            |l| l.buffer_dropped,
        ),
    ];
    families
        .iter()
        .map(|(name, help, value)| {
            family(
                name,
                help,
                MetricType::COUNTER,
                st.listeners
                    .iter()
                    .map(|l| counter_metric(&[("listener", &l.kind), ("bind", &l.bind)], value(l)))
                    .collect(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyperbyte_application::stats::{DatabaseStats, DurationHistogram, TierStats};

    #[test]
    fn renders_request_and_service_families() {
        let m = Metrics::new().unwrap();
        m.started();
        m.answered("write", 204, Duration::from_millis(3));
        m.finished();
        m.answered("query", 401, Duration::from_millis(1));
        let h = DurationHistogram::default();
        h.observe(Duration::from_millis(20));
        let mut st = ServiceStats::default();
        st.flush.duration = h.snapshot();
        st.tier = Some(TierStats {
            bytes: 10,
            max_bytes: 100,
            hits: 3,
            misses: 1,
        });
        st.databases.push(DatabaseStats {
            name: "db\"1".into(),
            measurements: 2,
            series: 7,
        });
        let text = m.render(&st);
        assert!(
            text.contains("hyperbyte_http_requests_total{endpoint=\"write\",status=\"204\"} 1\n")
        );
        assert!(text.contains("# TYPE hyperbyte_http_request_duration_seconds histogram\n"));
        assert!(text.contains("hyperbyte_flush_duration_seconds_bucket{le=\"0.025\"} 1\n"));
        assert!(text.contains("hyperbyte_flush_duration_seconds_count 1\n"));
        assert!(text.contains("hyperbyte_series{database=\"db\\\"1\"} 7\n"));
        assert!(text.contains("hyperbyte_tier_hit_ratio 0.75\n"));
        assert!(text.contains("hyperbyte_build_info{"));
        let httpd = m.httpd();
        assert_eq!((httpd.requests, httpd.write, httpd.query), (2, 1, 1));
        assert_eq!((httpd.client_errors, httpd.auth_failures), (1, 1));
        assert_eq!(endpoint_of("/nope"), "other");
    }

    #[test]
    fn renders_each_peers_hint_queue() {
        use hyperbyte_application::cluster::HintStats;
        use hyperbyte_application::stats::ClusterStats;
        let m = Metrics::new().unwrap();
        let mut hints = std::collections::BTreeMap::new();
        hints.insert(
            3,
            HintStats {
                queued: 4,
                bytes: 400,
                delivered: 7,
                dropped: 2,
            },
        );
        let base = ServiceStats {
            databases: vec![DatabaseStats {
                name: "db".into(),
                measurements: 1,
                series: 1,
            }],
            ..ServiceStats::default()
        };
        let st = ServiceStats {
            cluster: Some(ClusterStats {
                hints,
                anti_entropy: Default::default(),
            }),
            ..base.clone()
        };
        let text = m.render(&st);
        for line in [
            "hyperbyte_cluster_hint_batches{peer=\"3\"} 4",
            "hyperbyte_cluster_hint_bytes{peer=\"3\"} 400",
            "hyperbyte_cluster_hints_delivered_total{peer=\"3\"} 7",
            "hyperbyte_cluster_hints_dropped_total{peer=\"3\"} 2",
            "hyperbyte_cluster_anti_entropy_points_copied_total 0",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        assert!(!m.render(&base).contains("hyperbyte_cluster_"));
        // A member with no hint counters yet still renders (no empty family).
        let fresh = ServiceStats {
            cluster: Some(ClusterStats::default()),
            ..base.clone()
        };
        let text = m.render(&fresh);
        assert!(
            text.contains("hyperbyte_cluster_anti_entropy_rounds_total 0"),
            "{text}"
        );
    }
}
