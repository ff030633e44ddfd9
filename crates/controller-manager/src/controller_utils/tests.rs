use super::*;
use k8s_openapi::api::core::v1::{PodCondition, PodSpec, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

fn ts(secs: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(secs).unwrap()
}

fn pod(name: &str, node: &str, phase: &str, ready_since: Option<i64>) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("ns".into()),
            creation_timestamp: Some(Time(ts(1_000))),
            ..Default::default()
        },
        spec: Some(PodSpec {
            node_name: (!node.is_empty()).then(|| node.to_string()),
            ..Default::default()
        }),
        status: Some(PodStatus {
            phase: Some(phase.into()),
            conditions: Some(vec![PodCondition {
                type_: "Ready".into(),
                status: if ready_since.is_some() {
                    "True"
                } else {
                    "False"
                }
                .into(),
                last_transition_time: ready_since.map(|s| Time(ts(s))),
                ..Default::default()
            }]),
            ..Default::default()
        }),
    }
}

#[test]
fn ranking_follows_upstream_order() {
    let now = ts(100_000);
    let unassigned = pod("unassigned", "", "Pending", None);
    let pending = pod("pending", "n1", "Pending", None);
    let unknown = pod("unknown", "n1", "Unknown", None);
    let running_not_ready = pod("running-not-ready", "n1", "Running", None);
    let ready_new = pod("ready-new", "n2", "Running", Some(99_990));
    let ready_old = pod("ready-old", "n3", "Running", Some(10_000));
    let pods = vec![
        &ready_old,
        &ready_new,
        &running_not_ready,
        &unknown,
        &pending,
        &unassigned,
    ];
    let chosen = pods_to_delete(&pods, &[], 5, now);
    let names: Vec<&str> = chosen
        .iter()
        .map(|p| p.metadata.name.as_deref().unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            "unassigned",
            "pending",
            "unknown",
            "running-not-ready",
            "ready-new"
        ]
    );
}

#[test]
fn doubled_up_pods_go_first() {
    let now = ts(100_000);
    let a = pod("alone", "n1", "Running", Some(50_000));
    let b = pod("doubled", "n2", "Running", Some(50_000));
    let c = pod("other-rs-on-n2", "n2", "Running", Some(50_000));
    let chosen = pods_to_delete(&[&a, &b], &[&a, &b, &c], 1, now);
    assert_eq!(chosen[0].metadata.name.as_deref(), Some("doubled"));
}

#[test]
fn deletion_cost_beats_rank() {
    let now = ts(100_000);
    let mut cheap = pod("cheap", "n1", "Running", Some(50_000));
    cheap.metadata.annotations = Some(
        [(
            "controller.kubernetes.io/pod-deletion-cost".to_string(),
            "-5".to_string(),
        )]
        .into(),
    );
    let doubled = pod("doubled", "n2", "Running", Some(50_000));
    let other = pod("other", "n2", "Running", Some(50_000));
    let chosen = pods_to_delete(&[&doubled, &cheap], &[&doubled, &other, &cheap], 1, now);
    assert_eq!(chosen[0].metadata.name.as_deref(), Some("cheap"));
}

#[test]
fn availability_needs_min_ready_seconds() {
    let p = pod("p", "n", "Running", Some(1_000));
    assert!(is_pod_available(&p, 0, ts(1_000)));
    assert!(!is_pod_available(&p, 10, ts(1_005)));
    assert!(is_pod_available(&p, 10, ts(1_011)));
    assert!(!is_pod_available(
        &pod("q", "n", "Running", None),
        0,
        ts(1_011)
    ));
}

#[test]
fn slow_start_doubles() {
    assert_eq!(slow_start_batches(10, 1), vec![1, 2, 4, 3]);
    assert_eq!(slow_start_batches(1, 1), vec![1]);
    assert!(slow_start_batches(0, 1).is_empty());
}

#[tokio::test]
async fn slow_start_stops_after_a_failing_batch() {
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let (ok, err) = slow_start_batch(10, || {
        let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async move {
            if n == 2 {
                Err("quota")
            } else {
                Ok(())
            }
        }
    })
    .await;
    // batches 1 (ok) + 2 (one fails) -> stop: 3 calls, 2 successes.
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);
    assert_eq!(ok, 2);
    assert_eq!(err, Some("quota"));
}

#[test]
fn expectations_count_down() {
    let e = Expectations::default();
    assert!(e.satisfied("ns/rs"));
    e.expect_creations("ns/rs", 2);
    assert!(!e.satisfied("ns/rs"));
    e.creation_observed("ns/rs");
    assert!(!e.satisfied("ns/rs"));
    e.creation_observed("ns/rs");
    assert!(e.satisfied("ns/rs"));
    e.expect_deletions("ns/rs", vec!["ns/a".into()]);
    e.deletion_observed("ns/rs", "ns/b");
    assert!(!e.satisfied("ns/rs"));
    e.deletion_observed("ns/rs", "ns/a");
    e.deletion_observed("ns/rs", "ns/a");
    assert!(e.satisfied("ns/rs"));
}

#[test]
fn active_excludes_terminated_and_deleting() {
    assert!(is_pod_active(&pod("a", "n", "Running", None)));
    assert!(!is_pod_active(&pod("a", "n", "Succeeded", None)));
    let mut d = pod("a", "n", "Running", None);
    d.metadata.deletion_timestamp = Some(Time(ts(5)));
    assert!(!is_pod_active(&d));
}
