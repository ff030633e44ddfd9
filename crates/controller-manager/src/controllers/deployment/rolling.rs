//! The rollout plans (pure): each function takes the ReplicaSets' current sizes and
//! returns the new sizes, as upstream's rolling.go, recreate.go and sync.go scale().
//! The controller applies the differences.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

use super::util::*;

fn creation(rs: &ReplicaSet) -> (Option<jiff::Timestamp>, String) {
    (
        rs.metadata.creation_timestamp.as_ref().map(|t| t.0),
        rs.metadata.name.clone().unwrap_or_default(),
    )
}

/// Oldest first (ReplicaSetsByCreationTimestamp).
pub fn sort_by_creation(rss: &mut [ReplicaSet]) {
    rss.sort_by_key(creation);
}

fn set_replicas(rs: &mut ReplicaSet, n: i32) {
    rs.spec.get_or_insert_with(Default::default).replicas = Some(n);
}

/// reconcileNewReplicaSet: the new ReplicaSet's size, if it should change.
pub fn reconcile_new(d: &Deployment, all: &[&ReplicaSet], new_rs: &ReplicaSet) -> Option<i32> {
    let want = replicas(d);
    let cur = rs_replicas(new_rs);
    if cur == want {
        return None;
    }
    if cur > want {
        return Some(want);
    }
    let n = new_rs_new_replicas(d, all, new_rs);
    (n != cur).then_some(n)
}

/// reconcileOldReplicaSets: scales old ReplicaSets down (unhealthy ones first) without
/// dropping below replicas - maxUnavailable available pods. `old` is changed in place.
pub fn reconcile_old(d: &Deployment, old: &mut [ReplicaSet], new_rs: Option<&ReplicaSet>) -> bool {
    let old_count: i32 = old.iter().map(rs_replicas).sum();
    if old_count == 0 {
        return false;
    }
    let all_count = old_count + new_rs.map(rs_replicas).unwrap_or(0);
    let min_available = replicas(d) - max_unavailable(d);
    let new_unavailable = new_rs
        .map(|rs| rs_replicas(rs) - rs_available(rs))
        .unwrap_or(0);
    let max_scaled_down = all_count - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return false;
    }
    sort_by_creation(old);
    // cleanupUnhealthyReplicas
    let mut cleaned = 0;
    for rs in old.iter_mut() {
        if cleaned >= max_scaled_down {
            break;
        }
        let r = rs_replicas(rs);
        if r == 0 || r == rs_available(rs) {
            continue;
        }
        let down = (max_scaled_down - cleaned).min(r - rs_available(rs));
        set_replicas(rs, r - down);
        cleaned += down;
    }
    // scaleDownOldReplicaSetsForRollingUpdate
    let available: i32 =
        old.iter().map(rs_available).sum::<i32>() + new_rs.map(rs_available).unwrap_or(0);
    let mut scaled = 0;
    if available > min_available {
        let total = available - min_available;
        for rs in old.iter_mut() {
            if scaled >= total {
                break;
            }
            let r = rs_replicas(rs);
            if r == 0 {
                continue;
            }
            let down = r.min(total - scaled);
            set_replicas(rs, r - down);
            scaled += down;
        }
    }
    cleaned + scaled > 0
}

fn is_active(rs: &ReplicaSet) -> bool {
    rs_replicas(rs) > 0
}

/// IsSaturated: the new ReplicaSet has all the Deployment's replicas, all available.
pub fn is_saturated(d: &Deployment, rs: &ReplicaSet) -> bool {
    let want = replicas(d);
    annotation_i32(rs, DESIRED_REPLICAS_ANNOTATION) == Some(want)
        && rs_replicas(rs) == want
        && rs_available(rs) == want
}

/// getReplicaSetFraction / GetProportion for proportional scaling.
fn proportion(d: &Deployment, rs: &ReplicaSet, to_add: i32, added: i32) -> i32 {
    if rs_replicas(rs) == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let fraction = if replicas(d) == 0 {
        -rs_replicas(rs)
    } else {
        let deployment_replicas = replicas(d) + max_surge(d);
        let annotated = annotation_i32(rs, MAX_REPLICAS_ANNOTATION)
            .unwrap_or_else(|| d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0));
        if annotated == 0 {
            0
        } else {
            let size =
                f64::from(rs_replicas(rs)) * f64::from(deployment_replicas) / f64::from(annotated);
            size.round() as i32 - rs_replicas(rs)
        }
    };
    let allowed = to_add - added;
    if to_add > 0 {
        fraction.min(allowed)
    } else {
        fraction.max(allowed)
    }
}

/// scale(): for a scaling event (or a paused Deployment), the new size of every
/// ReplicaSet: the single active one gets everything; a saturated new one means old
/// ones go to zero; otherwise replicas are added or removed proportionally.
/// `all` is [old..., new?]; returns sizes in the same order.
pub fn scale(d: &Deployment, all: &[ReplicaSet], new_idx: Option<usize>) -> Vec<i32> {
    let mut sizes: Vec<i32> = all.iter().map(rs_replicas).collect();
    let want = replicas(d);
    // FindActiveOrLatest.
    let active: Vec<usize> = (0..all.len()).filter(|i| is_active(&all[*i])).collect();
    let target = match active.len() {
        0 => new_idx.or_else(|| (0..all.len()).max_by_key(|i| creation(&all[*i]))),
        1 => Some(active[0]),
        _ => None,
    };
    if all.is_empty() {
        return sizes;
    }
    if let Some(t) = target {
        sizes[t] = want;
        return sizes;
    }
    if let Some(n) = new_idx {
        if is_saturated(d, &all[n]) {
            for i in active {
                if i != n {
                    sizes[i] = 0;
                }
            }
            return sizes;
        }
    }
    if !is_rolling_update(d) {
        return sizes;
    }
    let total: i32 = active.iter().map(|i| rs_replicas(&all[*i])).sum();
    let allowed = if want > 0 { want + max_surge(d) } else { 0 };
    let to_add = allowed - total;
    let mut order = active.clone();
    if to_add > 0 {
        // ReplicaSetsBySizeNewer: bigger first, newer first on ties.
        order.sort_by(|a, b| {
            rs_replicas(&all[*b])
                .cmp(&rs_replicas(&all[*a]))
                .then_with(|| creation(&all[*b]).cmp(&creation(&all[*a])))
        });
    } else if to_add < 0 {
        // ReplicaSetsBySizeOlder: bigger first, older first on ties.
        order.sort_by(|a, b| {
            rs_replicas(&all[*b])
                .cmp(&rs_replicas(&all[*a]))
                .then_with(|| creation(&all[*a]).cmp(&creation(&all[*b])))
        });
    }
    let mut added = 0;
    for i in &order {
        if to_add != 0 {
            let p = proportion(d, &all[*i], to_add, added);
            sizes[*i] = rs_replicas(&all[*i]) + p;
            added += p;
        }
    }
    if to_add != added {
        if let Some(first) = order.first() {
            sizes[*first] = (sizes[*first] + to_add - added).max(0);
        }
    }
    sizes
}

/// cleanupDeployment: the old ReplicaSets to delete beyond revisionHistoryLimit,
/// lowest revision first, only empty and fully observed ones.
pub fn history_to_delete<'a>(d: &Deployment, old: &[&'a ReplicaSet]) -> Vec<&'a ReplicaSet> {
    let Some(limit) = d
        .spec
        .as_ref()
        .and_then(|s| s.revision_history_limit)
        .filter(|l| *l != i32::MAX)
    else {
        return Vec::new();
    };
    let mut alive: Vec<&ReplicaSet> = old
        .iter()
        .copied()
        .filter(|rs| rs.metadata.deletion_timestamp.is_none())
        .collect();
    let diff = alive.len() as i64 - i64::from(limit.max(0));
    if diff <= 0 {
        return Vec::new();
    }
    alive.sort_by_key(|rs| (revision(rs.metadata.annotations.as_ref()), creation(rs)));
    alive
        .into_iter()
        .take(diff as usize)
        .filter(|rs| {
            let st = rs.status.clone().unwrap_or_default();
            st.replicas == 0
                && rs_replicas(rs) == 0
                && rs.metadata.generation.unwrap_or(0) <= st.observed_generation.unwrap_or(0)
        })
        .collect()
}
