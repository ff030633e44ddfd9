//! The dependency graph (pure), after upstream's GraphBuilder: one node per object
//! (or per owner referenced but not yet seen: a "virtual" node), owners -> dependents
//! edges from ownerReferences, and the work each change implies.

use std::collections::{HashMap, HashSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

pub const FOREGROUND_FINALIZER: &str = "foregroundDeletion";
pub const ORPHAN_FINALIZER: &str = "orphan";

/// Who an object is: enough to GET, patch or delete it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectId {
    pub api_version: String,
    pub kind: String,
    /// The dependent's namespace for a virtual owner (scope resolved when used).
    pub namespace: Option<String>,
    pub name: String,
    pub uid: String,
}

/// What a watch tells the graph about one object.
#[derive(Clone, Debug)]
pub struct Observed {
    pub id: ObjectId,
    pub owners: Vec<OwnerReference>,
    pub being_deleted: bool,
    pub finalizers: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub id: ObjectId,
    pub owners: Vec<OwnerReference>,
    pub dependents: HashSet<String>,
    /// Referenced as an owner but not (yet) seen by a watch.
    pub virtual_: bool,
    pub being_deleted: bool,
    pub deleting_dependents: bool,
}

/// Work for the GC workers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    AttemptToDelete(String),
    AttemptToOrphan(String),
}

#[derive(Default, Debug)]
pub struct Graph {
    nodes: HashMap<String, Node>,
}

fn blocks(r: &OwnerReference) -> bool {
    r.block_owner_deletion == Some(true)
}

impl Graph {
    pub fn get(&self, uid: &str) -> Option<&Node> {
        self.nodes.get(uid)
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Dependents whose reference to `uid` has blockOwnerDeletion.
    pub fn blocking_dependents(&self, uid: &str) -> Vec<&Node> {
        let Some(n) = self.nodes.get(uid) else {
            return Vec::new();
        };
        n.dependents
            .iter()
            .filter_map(|d| self.nodes.get(d))
            .filter(|d| d.owners.iter().any(|r| r.uid == uid && blocks(r)))
            .collect()
    }

    fn add_edge(&mut self, dependent: &ObjectId, r: &OwnerReference, actions: &mut Vec<Action>) {
        let owner = self.nodes.entry(r.uid.clone()).or_insert_with(|| {
            actions.push(Action::AttemptToDelete(r.uid.clone()));
            Node {
                id: ObjectId {
                    api_version: r.api_version.clone(),
                    kind: r.kind.clone(),
                    namespace: dependent.namespace.clone(),
                    name: r.name.clone(),
                    uid: r.uid.clone(),
                },
                owners: Vec::new(),
                dependents: HashSet::new(),
                virtual_: true,
                being_deleted: false,
                deleting_dependents: false,
            }
        });
        owner.dependents.insert(dependent.uid.clone());
    }

    fn remove_edge(&mut self, dependent: &str, owner: &str) {
        if let Some(o) = self.nodes.get_mut(owner) {
            o.dependents.remove(dependent);
        }
    }

    /// An add or update from a watch.
    pub fn observe(&mut self, obj: Observed) -> Vec<Action> {
        let mut actions = Vec::new();
        let uid = obj.id.uid.clone();
        let old_owners = match self.nodes.get(&uid) {
            Some(n) if !n.virtual_ => n.owners.clone(),
            _ => Vec::new(),
        };
        let was_deleting_dependents = self.nodes.get(&uid).is_some_and(|n| n.deleting_dependents);
        // Edges: removed references, then added ones.
        for r in &old_owners {
            if !obj.owners.iter().any(|n| n.uid == r.uid) {
                self.remove_edge(&uid, &r.uid);
                if self
                    .nodes
                    .get(&r.uid)
                    .is_some_and(|o| o.deleting_dependents)
                {
                    actions.push(Action::AttemptToDelete(r.uid.clone()));
                }
            } else if blocks(r)
                && obj.owners.iter().any(|n| n.uid == r.uid && !blocks(n))
                && self
                    .nodes
                    .get(&r.uid)
                    .is_some_and(|o| o.deleting_dependents)
            {
                // No longer blocking an owner waiting for its dependents.
                actions.push(Action::AttemptToDelete(r.uid.clone()));
            }
        }
        for r in &obj.owners {
            self.add_edge(&obj.id, r, &mut actions);
        }
        let foreground =
            obj.being_deleted && obj.finalizers.iter().any(|f| f == FOREGROUND_FINALIZER);
        let orphan = obj.being_deleted && obj.finalizers.iter().any(|f| f == ORPHAN_FINALIZER);
        let dependents = self
            .nodes
            .get(&uid)
            .map(|n| n.dependents.clone())
            .unwrap_or_default();
        self.nodes.insert(
            uid.clone(),
            Node {
                id: obj.id,
                owners: obj.owners,
                dependents: dependents.clone(),
                virtual_: false,
                being_deleted: obj.being_deleted,
                deleting_dependents: foreground,
            },
        );
        if orphan {
            actions.push(Action::AttemptToOrphan(uid.clone()));
        }
        if foreground && !was_deleting_dependents {
            for d in dependents {
                actions.push(Action::AttemptToDelete(d));
            }
            actions.push(Action::AttemptToDelete(uid));
        }
        actions
    }

    /// A deletion from a watch (or a virtual node found not to exist).
    pub fn remove(&mut self, uid: &str) -> Vec<Action> {
        let Some(node) = self.nodes.remove(uid) else {
            return Vec::new();
        };
        let mut actions = Vec::new();
        for r in &node.owners {
            self.remove_edge(uid, &r.uid);
            if self
                .nodes
                .get(&r.uid)
                .is_some_and(|o| o.deleting_dependents)
            {
                actions.push(Action::AttemptToDelete(r.uid.clone()));
            }
        }
        for d in node.dependents {
            actions.push(Action::AttemptToDelete(d));
        }
        actions
    }
}

/// How the owners of a dependent stand (classifyReferences).
#[derive(Debug, Default, PartialEq)]
pub struct Classified {
    pub solid: Vec<OwnerReference>,
    pub dangling: Vec<OwnerReference>,
    pub waiting_for_dependents_deletion: Vec<OwnerReference>,
}

/// What an owner lookup found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OwnerState {
    /// Not found, or found with another uid.
    Absent,
    /// Being deleted with the foregroundDeletion finalizer.
    WaitingForDependents,
    Present,
}

/// What attemptToDeleteItem should do with a dependent.
#[derive(Debug, PartialEq)]
pub enum Decision {
    Nothing,
    /// Keep the object; drop these owner references (by uid).
    RemoveReferences(Vec<String>),
    /// Set blockOwnerDeletion=false on these references, then delete in foreground.
    UnblockThenDeleteForeground(Vec<String>),
    DeleteForeground,
    Delete(&'static str),
}

pub fn classify(
    refs: &[OwnerReference],
    state: impl Fn(&OwnerReference) -> OwnerState,
) -> Classified {
    let mut c = Classified::default();
    for r in refs {
        match state(r) {
            OwnerState::Absent => c.dangling.push(r.clone()),
            OwnerState::WaitingForDependents => c.waiting_for_dependents_deletion.push(r.clone()),
            OwnerState::Present => c.solid.push(r.clone()),
        }
    }
    c
}

/// attemptToDeleteItem's decision once the owners are classified. `finalizers` are the
/// dependent's own; `dependent_deleting_dependents` says whether one of its dependents
/// is itself waiting on its dependents (a cycle upstream breaks by unblocking).
pub fn decide(
    c: &Classified,
    finalizers: &[String],
    has_dependents: bool,
    dependent_deleting_dependents: bool,
) -> Decision {
    if !c.solid.is_empty() {
        if c.dangling.is_empty() && c.waiting_for_dependents_deletion.is_empty() {
            return Decision::Nothing;
        }
        let uids = c
            .dangling
            .iter()
            .chain(&c.waiting_for_dependents_deletion)
            .map(|r| r.uid.clone())
            .collect();
        return Decision::RemoveReferences(uids);
    }
    if !c.waiting_for_dependents_deletion.is_empty() && has_dependents {
        if dependent_deleting_dependents {
            let uids = c
                .waiting_for_dependents_deletion
                .iter()
                .map(|r| r.uid.clone())
                .collect();
            return Decision::UnblockThenDeleteForeground(uids);
        }
        return Decision::DeleteForeground;
    }
    let policy = if finalizers.iter().any(|f| f == ORPHAN_FINALIZER) {
        "Orphan"
    } else if finalizers.iter().any(|f| f == FOREGROUND_FINALIZER) {
        "Foreground"
    } else {
        "Background"
    };
    Decision::Delete(policy)
}

#[cfg(test)]
mod tests;
