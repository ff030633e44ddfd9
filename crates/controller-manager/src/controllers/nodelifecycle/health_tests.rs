use super::*;
use k8s_openapi::api::core::v1::{NodeSpec, NodeStatus};

const GRACE: SignedDuration = SignedDuration::from_secs(40);

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + secs).unwrap()
}

fn node(ready: &str, heartbeat: i64) -> Node {
    Node {
        status: Some(NodeStatus {
            conditions: Some(vec![NodeCondition {
                type_: "Ready".into(),
                status: ready.into(),
                reason: Some("KubeletReady".into()),
                last_heartbeat_time: Some(Time(at(heartbeat))),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn a_live_lease_keeps_the_node_healthy_even_with_an_old_heartbeat() {
    let n = node("True", 0);
    let first = check_node_health(None, &n, Some(at(0)), at(0), GRACE);
    assert_eq!(first.conditions, None);
    // 100 s later, the Ready heartbeat is old but the lease was renewed at 95 s.
    let later = check_node_health(Some(&first.health), &n, Some(at(95)), at(100), GRACE);
    assert_eq!(later.conditions, None);
    assert_eq!(later.health.probe, at(100));
}

#[test]
fn silence_past_the_grace_period_marks_conditions_unknown() {
    let n = node("True", 0);
    let first = check_node_health(None, &n, Some(at(0)), at(0), GRACE);
    let within = check_node_health(Some(&first.health), &n, Some(at(0)), at(40), GRACE);
    assert_eq!(
        within.conditions, None,
        "exactly at the grace period is still fine"
    );
    let out = check_node_health(Some(&first.health), &n, Some(at(0)), at(41), GRACE);
    let cs = out.conditions.expect("conditions updated");
    let ready = cs.iter().find(|c| c.type_ == "Ready").unwrap();
    assert_eq!(ready.status, "Unknown");
    assert_eq!(ready.reason.as_deref(), Some("NodeStatusUnknown"));
    assert_eq!(
        ready.message.as_deref(),
        Some("Kubelet stopped posting node status.")
    );
    assert_eq!(
        ready.last_heartbeat_time,
        Some(Time(at(0))),
        "heartbeat kept"
    );
    assert_eq!(ready.last_transition_time, Some(Time(at(41))));
    let never = cs.iter().find(|c| c.type_ == "MemoryPressure").unwrap();
    assert_eq!(never.reason.as_deref(), Some("NodeStatusNeverUpdated"));
    // Once Unknown, nothing more to write.
    let mut unknown = n.clone();
    unknown.status.as_mut().unwrap().conditions = Some(cs);
    let again = check_node_health(Some(&out.health), &unknown, Some(at(0)), at(50), GRACE);
    assert_eq!(again.conditions, None);
}

#[test]
fn a_new_heartbeat_resets_the_probe() {
    let first = check_node_health(None, &node("True", 0), None, at(0), GRACE);
    let hb = check_node_health(Some(&first.health), &node("True", 30), None, at(60), GRACE);
    assert_eq!(hb.conditions, None);
    assert_eq!(hb.health.probe, at(60));
}

#[test]
fn taints_follow_the_ready_condition() {
    let n = node("True", 0);
    let unknown = node("Unknown", 0);
    let conds = |n: &Node| n.status.as_ref().unwrap().conditions.clone().unwrap();
    assert_eq!(desired_taints(&n, &conds(&n), at(0)), None);

    let t = desired_taints(&n, &conds(&unknown), at(5)).unwrap();
    let keys: Vec<(&str, &str)> = t
        .iter()
        .map(|t| (t.key.as_str(), t.effect.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            (TAINT_UNREACHABLE, "NoExecute"),
            (TAINT_UNREACHABLE, "NoSchedule")
        ]
    );
    assert_eq!(t[0].time_added, Some(Time(at(5))));
    assert_eq!(t[1].time_added, None);

    // Already tainted: no change, timeAdded kept.
    let mut tainted = unknown.clone();
    tainted.spec = Some(NodeSpec {
        taints: Some(t.clone()),
        ..Default::default()
    });
    assert_eq!(desired_taints(&tainted, &conds(&unknown), at(9)), None);

    // Not ready swaps unreachable for not-ready; a user taint stays.
    let mut with_user = t.clone();
    with_user.push(Taint {
        key: "dedicated".into(),
        effect: "NoSchedule".into(),
        ..Default::default()
    });
    tainted.spec = Some(NodeSpec {
        taints: Some(with_user),
        ..Default::default()
    });
    let nr = desired_taints(&tainted, &conds(&node("False", 0)), at(10)).unwrap();
    let keys: Vec<&str> = nr.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(keys, ["dedicated", TAINT_NOT_READY, TAINT_NOT_READY]);

    // Ready again: only the user's taint is left.
    let back = desired_taints(&tainted, &conds(&n), at(20)).unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].key, "dedicated");
}

#[test]
fn unschedulable_and_pressure_taints() {
    let mut n = node("True", 0);
    n.spec = Some(NodeSpec {
        unschedulable: Some(true),
        ..Default::default()
    });
    let mut conds = n.status.as_ref().unwrap().conditions.clone().unwrap();
    conds.push(NodeCondition {
        type_: "DiskPressure".into(),
        status: "True".into(),
        ..Default::default()
    });
    let t = desired_taints(&n, &conds, at(0)).unwrap();
    let keys: Vec<&str> = t.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(keys, [TAINT_DISK_PRESSURE, TAINT_UNSCHEDULABLE]);
    assert!(t.iter().all(|t| t.effect == "NoSchedule"));
}
