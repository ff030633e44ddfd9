use super::*;

fn id(uid: &str, kind: &str) -> ObjectId {
    ObjectId {
        api_version: "apps/v1".into(),
        kind: kind.into(),
        namespace: Some("ns".into()),
        name: format!("{kind}-{uid}"),
        uid: uid.into(),
    }
}

fn owner_ref(uid: &str, kind: &str, block: bool) -> OwnerReference {
    OwnerReference {
        api_version: "apps/v1".into(),
        kind: kind.into(),
        name: format!("{kind}-{uid}"),
        uid: uid.into(),
        controller: Some(true),
        block_owner_deletion: Some(block),
    }
}

fn obs(uid: &str, kind: &str, owners: Vec<OwnerReference>) -> Observed {
    Observed {
        id: id(uid, kind),
        owners,
        being_deleted: false,
        finalizers: vec![],
    }
}

#[test]
fn unseen_owner_becomes_virtual_and_is_checked() {
    let mut g = Graph::default();
    let a = g.observe(obs(
        "pod1",
        "Pod",
        vec![owner_ref("rs1", "ReplicaSet", true)],
    ));
    assert_eq!(a, vec![Action::AttemptToDelete("rs1".into())]);
    assert!(g.get("rs1").unwrap().virtual_);
    // The owner is then seen: no longer virtual, keeps its dependent.
    assert!(g.observe(obs("rs1", "ReplicaSet", vec![])).is_empty());
    let rs = g.get("rs1").unwrap();
    assert!(!rs.virtual_);
    assert!(rs.dependents.contains("pod1"));
}

#[test]
fn deleting_an_owner_queues_its_dependents() {
    let mut g = Graph::default();
    g.observe(obs("rs1", "ReplicaSet", vec![]));
    g.observe(obs("p1", "Pod", vec![owner_ref("rs1", "ReplicaSet", true)]));
    g.observe(obs("p2", "Pod", vec![owner_ref("rs1", "ReplicaSet", true)]));
    let mut a = g.remove("rs1");
    a.sort_by_key(|x| format!("{x:?}"));
    assert_eq!(
        a,
        vec![
            Action::AttemptToDelete("p1".into()),
            Action::AttemptToDelete("p2".into())
        ]
    );
}

#[test]
fn foreground_deletion_queues_dependents_and_waits_for_blocking_ones() {
    let mut g = Graph::default();
    g.observe(obs("d1", "Deployment", vec![]));
    g.observe(obs(
        "rs1",
        "ReplicaSet",
        vec![owner_ref("d1", "Deployment", true)],
    ));
    g.observe(obs(
        "rs2",
        "ReplicaSet",
        vec![owner_ref("d1", "Deployment", false)],
    ));
    let mut deleting = obs("d1", "Deployment", vec![]);
    deleting.being_deleted = true;
    deleting.finalizers = vec![FOREGROUND_FINALIZER.into()];
    let a = g.observe(deleting);
    assert!(a.contains(&Action::AttemptToDelete("rs1".into())));
    assert!(a.contains(&Action::AttemptToDelete("rs2".into())));
    assert!(a.contains(&Action::AttemptToDelete("d1".into())));
    let blocking: Vec<&str> = g
        .blocking_dependents("d1")
        .iter()
        .map(|n| n.id.uid.as_str())
        .collect();
    assert_eq!(blocking, vec!["rs1"]);
    // The blocking dependent goes: the owner is looked at again.
    assert_eq!(g.remove("rs1"), vec![Action::AttemptToDelete("d1".into())]);
    assert!(g.blocking_dependents("d1").is_empty());
}

#[test]
fn orphan_finalizer_queues_orphaning() {
    let mut g = Graph::default();
    let mut o = obs("d1", "Deployment", vec![]);
    o.being_deleted = true;
    o.finalizers = vec![ORPHAN_FINALIZER.into()];
    assert_eq!(g.observe(o), vec![Action::AttemptToOrphan("d1".into())]);
}

#[test]
fn decisions_follow_upstream() {
    let solid = owner_ref("a", "ReplicaSet", true);
    let gone = owner_ref("b", "ReplicaSet", true);
    let waiting = owner_ref("c", "Deployment", true);
    let state = |r: &OwnerReference| match r.uid.as_str() {
        "a" => OwnerState::Present,
        "b" => OwnerState::Absent,
        _ => OwnerState::WaitingForDependents,
    };
    // A live owner keeps the object; dangling references are dropped.
    let c = classify(&[solid.clone(), gone.clone()], state);
    assert_eq!(
        decide(&c, &[], false, false),
        Decision::RemoveReferences(vec!["b".into()])
    );
    let c = classify(&[solid], state);
    assert_eq!(decide(&c, &[], false, false), Decision::Nothing);
    // All owners gone: background delete (or the object's own policy).
    let c = classify(std::slice::from_ref(&gone), state);
    assert_eq!(
        decide(&c, &[], false, false),
        Decision::Delete("Background")
    );
    assert_eq!(
        decide(&c, &[ORPHAN_FINALIZER.into()], false, false),
        Decision::Delete("Orphan")
    );
    // Owner waiting in foreground and we have dependents: foreground too.
    let c = classify(std::slice::from_ref(&waiting), state);
    assert_eq!(decide(&c, &[], true, false), Decision::DeleteForeground);
    assert_eq!(
        decide(&c, &[], true, true),
        Decision::UnblockThenDeleteForeground(vec!["c".into()])
    );
    assert_eq!(
        decide(&c, &[], false, false),
        Decision::Delete("Background")
    );
}
