#![allow(clippy::unwrap_used)]
use super::*;
use hyperbyte_domain::FieldValue;
use std::sync::Mutex;

/// Records every batch; refuses the first `overloaded` writes as a full backlog would.
#[derive(Debug, Default)]
struct Recorder {
    batches: Mutex<Vec<Vec<Point>>>,
    overloaded: Mutex<usize>,
}

#[async_trait::async_trait]
impl PointWriter for Recorder {
    async fn write(&self, _: &Target, points: Vec<Point>) -> WriteResult {
        {
            let mut o = self.overloaded.lock().unwrap();
            if *o > 0 {
                *o -= 1;
                return WriteResult::Failed {
                    message: "write backlog full".into(),
                    client: false,
                    retry: true,
                };
            }
        }
        let n = points.len();
        self.batches.lock().unwrap().push(points);
        WriteResult::Written {
            written: n,
            refused: 0,
            message: String::new(),
        }
    }
    async fn ensure_database(&self, _: &str) -> Result<(), String> {
        Ok(())
    }
}

fn pt(i: i64) -> Point {
    Point {
        measurement: "m".into(),
        tags: vec![],
        fields: vec![("v".into(), FieldValue::Float(i as f64))],
        timestamp: i,
    }
}

fn target() -> Target {
    Target {
        database: "db".into(),
        retention_policy: None,
    }
}

fn sizes(r: &Recorder) -> Vec<usize> {
    r.batches.lock().unwrap().iter().map(Vec::len).collect()
}

async fn wait_for(r: &Recorder, total: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while sizes(r).iter().sum::<usize>() < total {
        assert!(Instant::now() < deadline, "batches: {:?}", sizes(r));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn start(
    r: &Arc<Recorder>,
    size: usize,
    pending: usize,
    timeout: Duration,
) -> (
    Batcher,
    tokio::task::JoinHandle<()>,
    watch::Sender<bool>,
    Arc<ListenerCounters>,
) {
    let counters = Arc::new(ListenerCounters::new("udp", "udp", "x", "db"));
    let (stop_tx, stop_rx) = watch::channel(false);
    let (b, h) = Batcher::start(
        r.clone(),
        target(),
        BatchConfig {
            size,
            pending,
            timeout,
        },
        counters.clone(),
        stop_rx,
    );
    (b, h, stop_tx, counters)
}

#[tokio::test]
async fn full_batches_are_written_at_once_in_order() {
    let r = Arc::new(Recorder::default());
    let (b, h, stop, c) = start(&r, 3, 10, Duration::from_secs(3600));
    b.push((0..7).map(pt).collect()).await;
    wait_for(&r, 6).await;
    assert_eq!(sizes(&r), vec![3, 3]);
    // The seventh waits for the timeout or the stop; the stop writes it.
    stop.send(true).unwrap();
    h.await.unwrap();
    assert_eq!(sizes(&r), vec![3, 3, 1]);
    let times: Vec<i64> = r
        .batches
        .lock()
        .unwrap()
        .iter()
        .flatten()
        .map(|p| p.timestamp)
        .collect();
    assert_eq!(times, (0..7).collect::<Vec<_>>());
    let s = c.snapshot();
    assert_eq!((s.batches_written, s.points_written), (3, 7));
}

#[tokio::test]
async fn a_partial_batch_is_written_after_the_timeout() {
    let r = Arc::new(Recorder::default());
    let (b, _h, _stop, _) = start(&r, 1000, 10, Duration::from_millis(50));
    b.try_push(vec![pt(1), pt(2)]);
    wait_for(&r, 2).await;
    assert_eq!(sizes(&r), vec![2]);
}

#[tokio::test]
async fn the_buffer_is_bounded_for_udp() {
    let r = Arc::new(Recorder::default());
    // Room for 4 points; the writer is held back by a full backlog meanwhile.
    *r.overloaded.lock().unwrap() = 3;
    let (b, h, stop, c) = start(&r, 2, 2, Duration::from_secs(3600));
    b.try_push(vec![pt(1), pt(2)]);
    b.try_push(vec![pt(3), pt(4)]);
    b.try_push(vec![pt(5), pt(6), pt(7)]);
    assert_eq!(c.snapshot().buffer_dropped, 3);
    // The refused batch is retried until the backlog takes it.
    wait_for(&r, 4).await;
    stop.send(true).unwrap();
    h.await.unwrap();
    assert_eq!(sizes(&r), vec![2, 2]);
    assert_eq!(c.snapshot().batches_failed, 0);
}

#[tokio::test]
async fn tcp_readers_wait_for_room() {
    let r = Arc::new(Recorder::default());
    let (b, h, stop, c) = start(&r, 2, 1, Duration::from_millis(20));
    // More than the buffer holds at once: pushed in parts as room frees up.
    b.push((0..9).map(pt).collect()).await;
    wait_for(&r, 9).await;
    stop.send(true).unwrap();
    h.await.unwrap();
    assert_eq!(sizes(&r).iter().sum::<usize>(), 9);
    assert_eq!(c.snapshot().buffer_dropped, 0);
}
