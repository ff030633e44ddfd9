use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, ReplicaSet, ReplicaSetSpec, ReplicaSetStatus,
    RollingUpdateDeployment,
};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::progress::rollout_status;
use super::rolling::*;
use super::util::*;

fn ts(s: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(s).unwrap()
}

fn deployment(replicas: i32, surge: &str, unavailable: &str) -> Deployment {
    let ios = |s: &str| match s.parse::<i32>() {
        Ok(i) => IntOrString::Int(i),
        Err(_) => IntOrString::String(s.into()),
    };
    Deployment {
        metadata: ObjectMeta {
            name: Some("web".into()),
            generation: Some(1),
            ..Default::default()
        },
        spec: Some(DeploymentSpec {
            replicas: Some(replicas),
            progress_deadline_seconds: Some(600),
            revision_history_limit: Some(1),
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_surge: Some(ios(surge)),
                    max_unavailable: Some(ios(unavailable)),
                }),
            }),
            ..Default::default()
        }),
        status: None,
    }
}

fn rs(name: &str, created: i64, replicas: i32, available: i32) -> ReplicaSet {
    ReplicaSet {
        metadata: ObjectMeta {
            name: Some(name.into()),
            uid: Some(format!("uid-{name}")),
            creation_timestamp: Some(Time(ts(created))),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(replicas),
            ..Default::default()
        }),
        status: Some(ReplicaSetStatus {
            replicas,
            available_replicas: Some(available),
            ready_replicas: Some(available),
            ..Default::default()
        }),
    }
}

#[test]
fn fenceposts_round_like_upstream() {
    let p = |s: &str| IntOrString::String(s.into());
    assert_eq!(
        resolve_fenceposts(Some(&p("25%")), Some(&p("25%")), 10),
        Ok((3, 2))
    );
    assert_eq!(
        resolve_fenceposts(Some(&p("25%")), Some(&p("25%")), 1),
        Ok((1, 0))
    );
    assert_eq!(
        resolve_fenceposts(Some(&IntOrString::Int(0)), Some(&IntOrString::Int(0)), 5),
        Ok((0, 1))
    );
    assert_eq!(resolve_fenceposts(None, None, 4), Ok((1, 1)));
    assert!(resolve_fenceposts(Some(&p("x%")), None, 4).is_err());
    let d = deployment(5, "0", "10");
    assert_eq!(max_unavailable(&d), 5, "capped at replicas");
}

#[test]
fn new_replica_set_grows_within_surge() {
    let d = deployment(10, "3", "2");
    let old = rs("old", 1, 10, 10);
    let new = rs("new", 2, 0, 0);
    assert_eq!(reconcile_new(&d, &[&old, &new], &new), Some(3));
    let new = rs("new", 2, 3, 0);
    assert_eq!(
        reconcile_new(&d, &[&old, &new], &new),
        None,
        "surge used up"
    );
    let new = rs("new", 2, 12, 0);
    assert_eq!(
        reconcile_new(&d, &[&new], &new),
        Some(10),
        "never above replicas"
    );
}

#[test]
fn old_replica_sets_shrink_within_max_unavailable() {
    let d = deployment(10, "3", "2");
    // 10 old available + 3 new not yet available: may take down 2.
    let mut old = vec![rs("old", 1, 10, 10)];
    let new = rs("new", 2, 3, 0);
    assert!(reconcile_old(&d, &mut old, Some(&new)));
    assert_eq!(rs_replicas(&old[0]), 8);
    // Unhealthy old pods go first, without counting against availability.
    let mut old = vec![rs("a", 1, 4, 2), rs("b", 2, 6, 6)];
    let new = rs("new", 3, 3, 3);
    assert!(reconcile_old(&d, &mut old, Some(&new)));
    // cleanup: a 4 -> 2 (2 unhealthy), then available 2+6+3=11 > 8 => 3 more down.
    assert_eq!(rs_replicas(&old[0]), 0);
    assert_eq!(rs_replicas(&old[1]), 5);
}

#[test]
fn proportional_scaling_splits_by_size() {
    let mut d = deployment(20, "3", "2");
    let mut a = rs("a", 1, 5, 5);
    let mut b = rs("b", 2, 5, 5);
    for r in [&mut a, &mut b] {
        set_replicas_annotations(r, 10, 13);
    }
    d.status = Some(Default::default());
    let sizes = scale(&d, &[a, b], Some(1));
    assert_eq!(sizes.iter().sum::<i32>(), 23, "replicas + maxSurge");
    // Each grows by round(5 * 23 / 13) - 5 = 4; the 5 left over go to the first in
    // ReplicaSetsBySizeNewer order (equal sizes: the newer one, b).
    assert_eq!(sizes, vec![9, 14]);
}

#[test]
fn single_active_replica_set_takes_all() {
    let d = deployment(7, "1", "1");
    let sizes = scale(&d, &[rs("a", 1, 0, 0), rs("b", 2, 3, 3)], Some(1));
    assert_eq!(sizes, vec![0, 7]);
}

#[test]
fn hash_is_stable_and_changes_with_template() {
    let t = PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some([("app".to_string(), "web".to_string())].into()),
            ..Default::default()
        }),
        spec: None,
    };
    let h = compute_hash(&t, None);
    assert_eq!(h, compute_hash(&t, None));
    assert_ne!(h, compute_hash(&t, Some(1)));
    assert!(h.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
    // upstream: alphanums[b % 27]; 'a' = 97 -> 16 -> 'v'.
    assert_eq!(safe_encode_string("abc"), "vwx");
    let mut t2 = t.clone();
    t2.metadata
        .as_mut()
        .unwrap()
        .labels
        .as_mut()
        .unwrap()
        .insert(DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY.into(), h.clone());
    assert!(equal_ignore_hash(&t, &t2));
    assert_ne!(compute_hash(&t2, None), h);
}

#[test]
fn rollback_keeps_revision_history() {
    let d = deployment(3, "1", "1");
    let mut r = rs("a", 1, 0, 0);
    r.metadata.annotations = Some([(REVISION_ANNOTATION.to_string(), "1".to_string())].into());
    assert!(set_new_replica_set_annotations(&d, &mut r, 3, true));
    let a = r.metadata.annotations.clone().unwrap();
    assert_eq!(a[REVISION_ANNOTATION], "3");
    assert_eq!(a[REVISION_HISTORY_ANNOTATION], "1");
    assert!(set_new_replica_set_annotations(&d, &mut r, 5, true));
    assert_eq!(
        r.metadata.annotations.unwrap()[REVISION_HISTORY_ANNOTATION],
        "1,3"
    );
}

#[test]
fn progressing_then_available_then_timed_out() {
    let d = deployment(3, "1", "1");
    let new = rs("web-abc", 2, 3, 3);
    let (st, _) = rollout_status(&d, &[&new], Some(&new), ts(100));
    let p = get_condition(&st, PROGRESSING).unwrap();
    assert_eq!(p.reason.as_deref(), Some(NEW_RS_AVAILABLE_REASON));
    assert_eq!(
        p.message.as_deref(),
        Some("ReplicaSet \"web-abc\" has successfully progressed.")
    );
    let a = get_condition(&st, AVAILABLE).unwrap();
    assert_eq!(
        (a.status.as_str(), a.reason.as_deref()),
        ("True", Some(MIN_AVAILABLE_REASON))
    );

    // A rollout stuck for longer than the deadline.
    let mut stuck = deployment(3, "1", "1");
    let mut s = k8s_openapi::api::apps::v1::DeploymentStatus::default();
    set_condition(
        &mut s,
        new_condition(PROGRESSING, "True", RS_UPDATED_REASON, "x".into(), ts(0)),
    );
    s.replicas = Some(1);
    s.updated_replicas = Some(1);
    stuck.status = Some(s);
    let new = rs("web-abc", 2, 1, 0);
    let (st, _) = rollout_status(&stuck, &[&new], Some(&new), ts(1_000));
    let p = get_condition(&st, PROGRESSING).unwrap();
    assert_eq!(
        (p.status.as_str(), p.reason.as_deref()),
        ("False", Some(TIMED_OUT_REASON))
    );
    let a = get_condition(&st, AVAILABLE).unwrap();
    assert_eq!(a.reason.as_deref(), Some(MIN_UNAVAILABLE_REASON));
}

#[test]
fn history_cleanup_keeps_limit_and_skips_non_empty() {
    let d = deployment(3, "1", "1");
    let mut r1 = rs("r1", 1, 0, 0);
    let mut r2 = rs("r2", 2, 0, 0);
    let mut r3 = rs("r3", 3, 1, 1);
    for (r, v) in [(&mut r1, "1"), (&mut r2, "2"), (&mut r3, "3")] {
        r.metadata.annotations = Some([(REVISION_ANNOTATION.to_string(), v.to_string())].into());
    }
    // limit 1, three old: the two lowest revisions are candidates, both empty.
    let del = history_to_delete(&d, &[&r3, &r2, &r1]);
    let names: Vec<_> = del
        .iter()
        .map(|r| r.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names, vec!["r1", "r2"]);
}
