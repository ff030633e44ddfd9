//! Merging an applied configuration into a live object, and removing fields from an
//! object (structured-merge-diff's `TypedValue.Merge` and `RemoveItems`):
//!
//! - structs and granular maps merge key by key,
//! - `map` lists merge item by item (matched by their keys), `set` lists are unioned,
//!   keeping the live order for items the configuration does not mention and the
//!   configuration's order for the ones it does,
//! - atomic lists, atomic maps / structs and scalars are replaced by the configuration's.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::compare::{as_list, as_map};
use super::fieldset::{PathElement, Set, MAX_DEPTH};
use super::schema::{ListType, Resolved, Schema, TypeRef};
use super::typed::{child_type, deduce, form, is_declared, item_element, Form};

static NULL: Value = Value::Null;

/// `rhs` (the configuration) merged onto `lhs` (the live object).
pub(crate) fn merge(schema: &Schema, tr: TypeRef, lhs: &Value, rhs: &Value) -> Value {
    Merger { schema, depth: 0 }
        .merge(tr, Some(lhs), Some(rhs))
        .unwrap_or_else(|| Value::Object(Map::new()))
}

struct Merger<'a> {
    schema: &'a Schema,
    depth: usize,
}

impl Merger<'_> {
    fn merge(&mut self, tr: TypeRef, lhs: Option<&Value>, rhs: Option<&Value>) -> Option<Value> {
        if self.depth > MAX_DEPTH {
            return rhs.or(lhs).cloned();
        }
        let r = self.schema.resolve(tr);
        // The configuration's form wins when the two differ.
        let forms = match rhs {
            None => deduce(&r, lhs),
            Some(_) => deduce(&r, rhs),
        };
        self.depth += 1;
        let out = match form(forms) {
            Form::List => match r.list {
                Some(list) => {
                    let (l, rr) = (as_list(lhs), as_list(rhs));
                    let empty = |x: Option<&Vec<Value>>| x.is_none_or(|x| x.is_empty());
                    if list.atomic || (empty(l) && empty(rr)) {
                        rhs.or(lhs).cloned()
                    } else {
                        self.list_items(list, l, rr)
                    }
                }
                None => rhs.or(lhs).cloned(),
            },
            Form::Map => {
                let (l, rr) = (as_map(lhs), as_map(rhs));
                let empty = |x: Option<&Map<String, Value>>| x.is_none_or(|x| x.is_empty());
                if r.map_atomic() || (empty(l) && empty(rr)) {
                    rhs.or(lhs).cloned()
                } else {
                    self.map_items(&r, l, rr)
                }
            }
            Form::Scalar | Form::Invalid => rhs.or(lhs).cloned(),
        };
        self.depth -= 1;
        out
    }

    fn map_items(
        &mut self,
        r: &Resolved<'_>,
        lhs: Option<&Map<String, Value>>,
        rhs: Option<&Map<String, Value>>,
    ) -> Option<Value> {
        let mut out = Map::new();
        let scalar_values = r.map.and_then(|(m, _)| m.element).is_some_and(|e| {
            let e = self.schema.resolve(e);
            e.map.is_none() && e.list.is_none()
        });
        let mut put = |this: &mut Self, key: &String, l: Option<&Value>, rv: Option<&Value>| {
            // A null in the configuration clears a struct field or a string map entry
            // (Go decodes it as unset); deduced maps keep their nulls.
            if rv.is_some_and(Value::is_null) && (is_declared(r, key) || scalar_values) {
                return;
            }
            if let Some(v) = this.merge(child_type(r, key), l, rv) {
                out.insert(key.clone(), v);
            }
        };
        for (key, l) in lhs.into_iter().flatten() {
            put(self, key, Some(l), rhs.and_then(|m| m.get(key)));
        }
        for (key, rv) in rhs.into_iter().flatten() {
            if !lhs.is_some_and(|m| m.contains_key(key)) {
                put(self, key, None, Some(rv));
            }
        }
        (!out.is_empty()).then_some(Value::Object(out))
    }

    /// Upstream's ordering: live items stay where they are unless the configuration
    /// mentions them; mentioned items follow the configuration's order.
    fn list_items(
        &mut self,
        list: &ListType,
        lhs: Option<&Vec<Value>>,
        rhs: Option<&Vec<Value>>,
    ) -> Option<Value> {
        let lhs: &[Value] = lhs.map(Vec::as_slice).unwrap_or_default();
        let rhs: &[Value] = rhs.map(Vec::as_slice).unwrap_or_default();
        let rhs_pes: Vec<PathElement> = rhs
            .iter()
            .enumerate()
            .map(|(i, v)| item_element(self.schema, list, v).unwrap_or(PathElement::Index(i)))
            .collect();
        let observed_rhs: BTreeMap<&PathElement, &Value> = rhs_pes.iter().zip(rhs).collect();
        // Live items we cannot name (invalid live data) are kept where they are.
        let lhs_pes: Vec<PathElement> = lhs
            .iter()
            .enumerate()
            .map(|(i, v)| {
                item_element(self.schema, list, v).unwrap_or(PathElement::Index(usize::MAX - i))
            })
            .collect();
        // Duplicated live keys merge as null: the configuration's item replaces them.
        let mut observed_lhs: BTreeMap<&PathElement, &Value> = BTreeMap::new();
        for (pe, v) in lhs_pes.iter().zip(lhs) {
            observed_lhs
                .entry(pe)
                .and_modify(|e| *e = &NULL)
                .or_insert(v);
        }
        let mut shared = rhs_pes.iter().filter(|pe| observed_lhs.contains_key(pe));
        let mut next_shared = shared.next();
        let mut merged_rhs: BTreeSet<&PathElement> = BTreeSet::new();
        let mut out = Vec::with_capacity(lhs.len().max(rhs.len()));
        let (mut li, mut ri) = (0, 0);
        // Each round advances li or ri; the bound only guards against a logic error.
        let mut rounds = 2 * (lhs.len() + rhs.len()) + 2;
        while (li < lhs.len() || ri < rhs.len()) && rounds > 0 {
            rounds -= 1;
            if li < lhs.len() && ri < rhs.len() {
                let pe = &lhs_pes[li];
                if *pe == rhs_pes[ri] {
                    merged_rhs.insert(pe);
                    let l = observed_lhs.get(pe).copied();
                    let rv = observed_rhs.get(pe).copied();
                    out.extend(self.merge(list.element, l, rv));
                    li += 1;
                    ri += 1;
                    next_shared = shared.next();
                    continue;
                }
                if observed_rhs.contains_key(pe) && next_shared.is_some_and(|n| n != pe) {
                    // Shared, but not the one due now: it comes with the configuration.
                    li += 1;
                    continue;
                }
            }
            if li < lhs.len() {
                let pe = &lhs_pes[li];
                if !observed_rhs.contains_key(pe) {
                    out.extend(self.merge(list.element, Some(&lhs[li]), None));
                    li += 1;
                    continue;
                } else if merged_rhs.contains(pe) {
                    li += 1;
                }
            }
            if ri < rhs.len() {
                let pe = &rhs_pes[ri];
                merged_rhs.insert(pe);
                let l = observed_lhs.get(pe).copied();
                out.extend(self.merge(list.element, l, Some(&rhs[ri])));
                ri += 1;
                if next_shared == Some(pe) {
                    next_shared = shared.next();
                }
            }
        }
        (!out.is_empty()).then_some(Value::Array(out))
    }
}

/// `v` without the fields of `set` (upstream's `RemoveItems`); `None` when nothing is
/// left. Empty lists and maps stay as they are.
pub(crate) fn remove(schema: &Schema, tr: TypeRef, v: &Value, set: &Set) -> Option<Value> {
    remove_at(schema, tr, v, set, 0)
}

fn remove_at(schema: &Schema, tr: TypeRef, v: &Value, set: &Set, depth: usize) -> Option<Value> {
    if depth > MAX_DEPTH || set.is_empty() {
        return Some(v.clone());
    }
    let r = schema.resolve(tr);
    match (form(deduce(&r, Some(v))), v) {
        (Form::List, Value::Array(items)) if !items.is_empty() => {
            let Some(list) = r.list.filter(|l| !l.atomic) else {
                return Some(v.clone());
            };
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let Ok(pe) = item_element(schema, list, item) else {
                    out.push(item.clone());
                    continue;
                };
                if set.has(std::slice::from_ref(&pe)) {
                    continue;
                }
                match set.with_prefix(&pe) {
                    Some(sub) => match remove_at(schema, list.element, item, sub, depth + 1) {
                        Some(kept) => out.push(kept),
                        // Everything but the item itself went: keep the item by its key.
                        None => out.push(key_only(&pe)),
                    },
                    None => out.push(item.clone()),
                }
            }
            (!out.is_empty()).then_some(Value::Array(out))
        }
        (Form::Map, Value::Object(obj)) if !obj.is_empty() && !r.map_atomic() => {
            let mut out = Map::new();
            for (key, child) in obj {
                let pe = PathElement::Field(key.clone());
                if set.has(std::slice::from_ref(&pe)) {
                    continue;
                }
                let kept = match set.with_prefix(&pe) {
                    Some(sub) => remove_at(schema, child_type(&r, key), child, sub, depth + 1),
                    None => Some(child.clone()),
                };
                if let Some(kept) = kept {
                    out.insert(key.clone(), kept);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        _ => Some(v.clone()),
    }
}

fn key_only(pe: &PathElement) -> Value {
    match pe {
        PathElement::Key(fields) => Value::Object(fields.iter().cloned().collect()),
        PathElement::Value(v) => v.clone(),
        _ => Value::Object(Map::new()),
    }
}
