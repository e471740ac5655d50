//! Three cluster members in one process, over real loopback HTTP, each with in-memory
//! stores: bootstrap, joins, forwarded metadata changes, and a member that restarts from
//! its log.

#![allow(clippy::unwrap_used)]

use hyperbyte_adapter_cluster::{
    serve_peers, ClusterConfig, ClusterMetadata, ClusterNode, PeerService, StorageSide,
};
use hyperbyte_domain::{MetaCommand, RetentionPolicy};
use hyperbyte_ports::{ConsensusStorePort, MetaError, MetadataPort};
use hyperbyte_testkit::{MemoryConsensusStore, MemoryMetadata};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

struct Member {
    node: Arc<ClusterNode>,
    meta: ClusterMetadata,
    local: Arc<dyn MetadataPort>,
    addr: String,
    stop: tokio::sync::watch::Sender<bool>,
}

async fn member(
    id: u64,
    join: Option<&str>,
    store: Arc<dyn ConsensusStorePort>,
    local: Arc<dyn MetadataPort>,
    bind: &str,
) -> Member {
    let listener = tokio::net::TcpListener::bind(bind).await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let config = ClusterConfig {
        node_id: id,
        advertise: addr.clone(),
        bootstrap: join.is_none(),
        join: join.map(|j| vec![j.to_string()]).unwrap_or_default(),
        heartbeat: Duration::from_millis(50),
        election_timeout: (Duration::from_millis(200), Duration::from_millis(400)),
        meta_timeout: Duration::from_secs(5),
        write_timeout: Duration::from_secs(2),
    };
    let node = ClusterNode::start(config, store, local.clone(), StorageSide::default())
        .await
        .unwrap();
    let (stop, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(serve_peers(
        listener,
        PeerService::new(
            node.clone(),
            Arc::new(OnceLock::new()),
            Arc::new(OnceLock::new()),
        ),
        rx,
    ));
    node.bootstrap_or_join().await.unwrap();
    Member {
        meta: ClusterMetadata::new(local.clone(), node.clone()),
        node,
        local,
        addr,
        stop,
    }
}

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_members_apply_the_same_metadata_in_the_same_order() {
    let stores: Vec<Arc<dyn ConsensusStorePort>> = (0..3)
        .map(|_| Arc::new(MemoryConsensusStore::default()) as _)
        .collect();
    let m1 = member(
        1,
        None,
        stores[0].clone(),
        Arc::new(MemoryMetadata::new()),
        "127.0.0.1:0",
    )
    .await;
    let m2 = member(
        2,
        Some(&m1.addr),
        stores[1].clone(),
        Arc::new(MemoryMetadata::new()),
        "127.0.0.1:0",
    )
    .await;
    let m3 = member(
        3,
        Some(&m1.addr),
        stores[2].clone(),
        Arc::new(MemoryMetadata::new()),
        "127.0.0.1:0",
    )
    .await;
    let members = [&m1, &m2, &m3];
    for m in members {
        wait_until("three voters", || {
            m.node.status().members.iter().filter(|s| s.voter).count() == 3
        })
        .await;
    }
    // A follower's change is forwarded to the leader and visible on the follower at once.
    let follower = members
        .iter()
        .find(|m| m.node.status().role == "follower")
        .unwrap();
    follower
        .meta
        .apply(MetaCommand::create_database("db"))
        .await
        .unwrap();
    assert!(follower.meta.database("db").is_some());
    // The rules' refusals come back as such, with InfluxDB's text.
    let err = follower
        .meta
        .apply(MetaCommand::create_retention_policy(
            "nodb",
            RetentionPolicy::autogen(),
            false,
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err, MetaError::Invalid(ref m) if m.contains("database not found")),
        "{err:?}"
    );
    for m in members {
        wait_until("the database everywhere", || {
            m.local.database("db").is_some()
        })
        .await;
    }
    // Per-node commands stay local.
    m3.meta
        .apply(MetaCommand::register_series(
            "db",
            "cpu",
            &[&[("host", "a")]],
        ))
        .await
        .unwrap();
    assert_eq!(m3.local.series_count("db"), 1);
    assert_eq!(m1.local.series_count("db"), 0);

    // Member 3 stops; the other two still form a majority.
    let _ = m3.stop.send(true);
    m3.node.shutdown().await;
    let addr3 = m3.addr.clone();
    m1.meta
        .apply(MetaCommand::create_database("while_away"))
        .await
        .unwrap();
    // It comes back on the same address with its log and metadata, and catches up.
    let back = member(
        3,
        Some(&m1.addr),
        stores[2].clone(),
        m3.local.clone(),
        &addr3,
    )
    .await;
    wait_until("the member caught up", || {
        back.local.database("while_away").is_some()
    })
    .await;
    let names = |m: &dyn MetadataPort| {
        m.databases()
            .into_iter()
            .map(|d| d.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(back.local.as_ref()), names(m1.local.as_ref()));
}
