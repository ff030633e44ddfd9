//! syncRolloutStatus and the Progressing condition (pure).

use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};

use super::util::*;

/// The status a rollout sync should write, and when to look again for a stuck
/// rollout (requeueStuckDeployment).
pub fn rollout_status(
    d: &Deployment,
    all: &[&ReplicaSet],
    new_rs: Option<&ReplicaSet>,
    now: jiff::Timestamp,
) -> (DeploymentStatus, Option<Duration>) {
    let mut status = calculate_status(d, all, new_rs, now);
    let has_deadline = progress_deadline(d).is_some();
    if !has_deadline {
        remove_condition(&mut status, PROGRESSING);
    }
    let old = d.status.clone().unwrap_or_default();
    let current = get_condition(&old, PROGRESSING).cloned();
    let complete_already = status.replicas == status.updated_replicas
        && current
            .as_ref()
            .is_some_and(|c| c.reason.as_deref() == Some(NEW_RS_AVAILABLE_REASON));
    let name = d.metadata.name.clone().unwrap_or_default();
    if has_deadline && !complete_already {
        if deployment_complete(d, &status) {
            let msg = match new_rs {
                Some(rs) => format!(
                    "ReplicaSet {:?} has successfully progressed.",
                    rs.metadata.name.clone().unwrap_or_default()
                ),
                None => format!("Deployment {name:?} has successfully progressed."),
            };
            set_condition(
                &mut status,
                new_condition(PROGRESSING, "True", NEW_RS_AVAILABLE_REASON, msg, now),
            );
        } else if deployment_progressing(d, &status) {
            let msg = match new_rs {
                Some(rs) => format!(
                    "ReplicaSet {:?} is progressing.",
                    rs.metadata.name.clone().unwrap_or_default()
                ),
                None => format!("Deployment {name:?} is progressing."),
            };
            let mut cond = new_condition(PROGRESSING, "True", RS_UPDATED_REASON, msg, now);
            if let Some(cur) = &current {
                if cur.status == "True" {
                    cond.last_transition_time = cur.last_transition_time.clone();
                }
                remove_condition(&mut status, PROGRESSING);
            }
            set_condition(&mut status, cond);
        } else if deployment_timed_out(d, &status, now) {
            let msg = match new_rs {
                Some(rs) => format!(
                    "ReplicaSet {:?} has timed out progressing.",
                    rs.metadata.name.clone().unwrap_or_default()
                ),
                None => format!("Deployment {name:?} has timed out progressing."),
            };
            set_condition(
                &mut status,
                new_condition(PROGRESSING, "False", TIMED_OUT_REASON, msg, now),
            );
        }
    }
    match replica_failure(all, new_rs) {
        Some(c) => set_condition(&mut status, c),
        None => remove_condition(&mut status, REPLICA_FAILURE),
    }
    let requeue = stuck_requeue(d, &status, now);
    (status, requeue)
}

/// getReplicaFailures: the new ReplicaSet's ReplicaFailure condition first, else any.
fn replica_failure(
    all: &[&ReplicaSet],
    new_rs: Option<&ReplicaSet>,
) -> Option<DeploymentCondition> {
    let find = |rs: &ReplicaSet| {
        rs.status
            .as_ref()?
            .conditions
            .as_ref()?
            .iter()
            .find(|c| c.type_ == REPLICA_FAILURE)
            .map(|c| DeploymentCondition {
                type_: REPLICA_FAILURE.into(),
                status: c.status.clone(),
                reason: c.reason.clone(),
                message: c.message.clone(),
                last_transition_time: c.last_transition_time.clone(),
                last_update_time: c.last_transition_time.clone(),
            })
    };
    new_rs
        .and_then(find)
        .or_else(|| all.iter().find_map(|rs| find(rs)))
}

/// requeueStuckDeployment: when the progress deadline would pass.
fn stuck_requeue(d: &Deployment, s: &DeploymentStatus, now: jiff::Timestamp) -> Option<Duration> {
    let deadline = progress_deadline(d)?;
    let cond = get_condition(s, PROGRESSING)?;
    if deployment_complete(d, s) || cond.reason.as_deref() == Some(TIMED_OUT_REASON) {
        return None;
    }
    let last = cond.last_update_time.as_ref()?.0;
    let at = last + jiff::SignedDuration::from_secs(i64::from(deadline));
    let after = at.duration_since(now);
    let secs = after.as_secs_f64().max(0.0);
    Some(Duration::from_secs_f64(secs) + Duration::from_secs(1))
}

/// checkPausedConditions: the Progressing condition for a paused / resumed
/// Deployment, or None when nothing changes.
pub fn paused_condition(d: &Deployment, now: jiff::Timestamp) -> Option<DeploymentStatus> {
    progress_deadline(d)?;
    let mut status = d.status.clone().unwrap_or_default();
    let cond = get_condition(&status, PROGRESSING);
    if cond.is_some_and(|c| c.reason.as_deref() == Some(TIMED_OUT_REASON)) {
        return None;
    }
    let paused_exists = cond.is_some_and(|c| c.reason.as_deref() == Some(PAUSED_DEPLOY_REASON));
    let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
    if paused && !paused_exists {
        set_condition(
            &mut status,
            new_condition(
                PROGRESSING,
                "Unknown",
                PAUSED_DEPLOY_REASON,
                "Deployment is paused".into(),
                now,
            ),
        );
        Some(status)
    } else if !paused && paused_exists {
        set_condition(
            &mut status,
            new_condition(
                PROGRESSING,
                "Unknown",
                RESUMED_DEPLOY_REASON,
                "Deployment is resumed".into(),
                now,
            ),
        );
        Some(status)
    } else {
        None
    }
}
