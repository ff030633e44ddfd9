//! Ownership bookkeeping for one write (structured-merge-diff's `merge.Updater`):
//! which manager owns which fields after an update or an apply, conflicts, and pruning
//! the fields an applier stopped applying.

use serde_json::Value;

use super::compare::{compare, Comparison};
use super::fieldset::{values_equal, Set};
use super::managed::{ManagerId, Managers, VersionedSet};
use super::merge;
use super::schema::{Schema, TypeRef};
use super::typed::{field_set, with_named_fields};

/// Fields other managers own that a write changed, by manager.
pub(crate) type ConflictSets = Vec<(ManagerId, Set)>;

pub(crate) struct Updater<'a> {
    pub(crate) schema: &'a Schema,
    pub(crate) root: TypeRef,
    /// Fields this endpoint never records (the strategy resets them: `status` on the
    /// main resource, `spec` on the status subresource).
    pub(crate) ignored: &'a Set,
    pub(crate) api_version: &'a str,
}

impl Updater<'_> {
    fn filter(&self, set: &Set) -> Set {
        if self.ignored.is_empty() {
            set.clone()
        } else {
            set.recursive_difference(self.ignored)
        }
    }

    fn ensure(&self, set: &Set) -> Set {
        with_named_fields(self.schema, Some(self.root), set)
    }

    /// Takes what `old` -> `new` changed away from every manager but `workflow`; with
    /// `force` false, fails instead when another manager owns a changed field.
    fn update(
        &self,
        old: &Value,
        new: &Value,
        managers: &mut Managers,
        workflow: &ManagerId,
        force: bool,
    ) -> Result<Comparison, ConflictSets> {
        let cmp = compare(self.schema, self.root, old, new).without(self.ignored);
        let changed = cmp.modified.union(&cmp.added);
        let mut conflicts: ConflictSets = Vec::new();
        for (id, vs) in managers.iter() {
            if id == workflow {
                continue;
            }
            let c = vs.set.intersection(&changed);
            if !c.is_empty() {
                conflicts.push((id.clone(), c));
            }
        }
        if !force && !conflicts.is_empty() {
            return Err(conflicts);
        }
        for (id, c) in &conflicts {
            if let Some(vs) = managers.get_mut(id) {
                vs.set = vs.set.difference(c);
            }
        }
        if !cmp.removed.is_empty() {
            for (id, vs) in managers.iter_mut() {
                if id != workflow {
                    vs.set = vs.set.difference(&cmp.removed);
                }
            }
        }
        managers.retain(|_, vs| !vs.set.is_empty());
        Ok(cmp)
    }

    /// A non-apply write: `manager` gains what it changed, others lose it.
    pub(crate) fn update_op(
        &self,
        live: &Value,
        new: &Value,
        managers: &mut Managers,
        manager: &ManagerId,
    ) {
        let Ok(cmp) = self.update(live, new, managers, manager, true) else {
            return;
        };
        let mine = managers
            .get(manager)
            .map(|vs| vs.set.clone())
            .unwrap_or_default();
        let set = mine
            .difference(&cmp.removed)
            .union(&cmp.modified)
            .union(&cmp.added);
        let set = self.filter(&set);
        if set.is_empty() {
            managers.remove(manager);
        } else {
            managers.insert(
                manager.clone(),
                VersionedSet {
                    set,
                    api_version: self.api_version.to_string(),
                    applied: false,
                },
            );
        }
    }

    /// An apply: merges `config` into `live`, makes `manager` own exactly the fields of
    /// `config`, prunes what it applied before and no longer does (unless someone else
    /// owns it). Returns the new object, or `None` when the object did not change.
    pub(crate) fn apply(
        &self,
        live: &Value,
        config: &Value,
        managers: &mut Managers,
        manager: &ManagerId,
        force: bool,
    ) -> Result<Option<Value>, ConflictSets> {
        let merged = merge::merge(self.schema, self.root, live, config);
        let last = managers.get(manager).cloned();
        let set = self.filter(&field_set(self.schema, self.root, config));
        managers.insert(
            manager.clone(),
            VersionedSet {
                set,
                api_version: self.api_version.to_string(),
                applied: true,
            },
        );
        let new = match last {
            Some(last) if !last.set.is_empty() => self.prune(&merged, managers, &last.set),
            _ => merged,
        };
        self.update(live, &new, managers, manager, force)?;
        Ok((!values_equal(live, &new)).then_some(new))
    }

    /// Removes what the applier owned last time and nobody owns now.
    fn prune(&self, merged: &Value, managers: &Managers, last: &Set) -> Value {
        let (schema, root) = (self.schema, self.root);
        let remove = |v: &Value, set: &Set| {
            merge::remove(schema, root, v, set).unwrap_or_else(|| Value::Object(Default::default()))
        };
        let pruned = remove(merged, &self.ensure(last));
        // Add back whatever a manager (the applier's new configuration included) owns.
        let owned = managers
            .values()
            .fold(Set::new(), |acc, vs| acc.union(&vs.set));
        let merged_set = self.ensure(&field_set(schema, root, merged));
        let pruned_set = self.ensure(&field_set(schema, root, &pruned));
        let keep = pruned_set.union(&self.ensure(&owned));
        let pruned = remove(merged, &merged_set.difference(&keep));
        // Only ever remove what the applier itself owned.
        let pruned_set = self.ensure(&field_set(schema, root, &pruned));
        let dangling = merged_set
            .difference(&pruned_set)
            .intersection(&self.ensure(last));
        remove(merged, &dangling)
    }
}
