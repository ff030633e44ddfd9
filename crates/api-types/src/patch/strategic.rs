//! Strategic merge patch, following apimachinery `pkg/util/strategicpatch`
//! (`StrategicMergeMapPatch`): merge lists by key, merge primitive lists as sets,
//! `null` deletes, and the `$patch`, `$retainKeys`, `$setElementOrder/` and
//! `$deleteFromPrimitiveList/` directives. Results keep upstream's element order
//! (including new merge-list items going first when no `$setElementOrder` is given).
//!
//! Where upstream keeps directives or `null`s in values it copies verbatim (new keys,
//! replaced lists), they are stripped here, and `$patch: merge` is accepted as "merge"
//! instead of failing.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::{check_depth, json_equal, json_kind, ListStrategy, PatchError, PatchMeta};

type Obj = Map<String, Value>;

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ORDER: &str = "$setElementOrder";
const DELETE_PRIMITIVES: &str = "$deleteFromPrimitiveList";

const ERR_RETAIN_KEYS: &str = "invalid patch format of retainKeys";
const ERR_SET_ORDER: &str = "invalid patch format of setElementOrder list";
const ERR_PRIMITIVE_LIST: &str = "invalid patch format of primitive list";

fn bad(msg: impl Into<String>) -> PatchError {
    PatchError::BadRequest(msg.into())
}

/// Applies a strategic merge patch to a copy of `doc`, with `meta` telling which lists
/// merge and by which key.
pub fn apply_strategic_merge_patch(
    doc: &Value,
    patch: &Value,
    meta: &dyn PatchMeta,
) -> Result<Value, PatchError> {
    check_depth(doc, "the object")?;
    check_depth(patch, "the patch")?;
    let patch = match patch {
        Value::Object(p) => p,
        // Go decodes `null` into an empty map.
        Value::Null => return Ok(doc.clone()),
        other => {
            return Err(bad(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(other)
            )))
        }
    };
    let mut out = match doc {
        Value::Object(d) => d.clone(),
        // Upstream reads a missing original as `{}`.
        Value::Null => Obj::new(),
        _ => return Err(bad("invalid JSON document")),
    };
    merge_map(&mut out, patch, &mut Vec::new(), meta)?;
    Ok(Value::Object(out))
}

fn is_directive_key(k: &str) -> bool {
    k == DIRECTIVE
        || k == RETAIN_KEYS
        || k.starts_with(SET_ORDER)
        || k.starts_with(DELETE_PRIMITIVES)
}

/// `$setElementOrder/containers` -> `containers`; the prefix must be exact.
fn directive_field<'a>(k: &'a str, prefix: &str) -> Option<&'a str> {
    let (p, field) = k.split_once('/')?;
    (p == prefix).then_some(field)
}

/// Shows a value the way upstream's "%s"/"%v" would, near enough: strings bare.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn no_merge_key(m: &Obj, key: &str) -> PatchError {
    PatchError::Unprocessable(format!(
        "map: {} does not contain declared merge key: {key}",
        Value::Object(m.clone())
    ))
}

fn unknown_directive(d: &Value, m: &Obj) -> PatchError {
    bad(format!(
        "unknown patch type: {} in map: {}",
        show(d),
        Value::Object(m.clone())
    ))
}

fn merge_map<'p>(
    orig: &mut Obj,
    patch: &'p Obj,
    path: &mut Vec<&'p str>,
    meta: &dyn PatchMeta,
) -> Result<(), PatchError> {
    if let Some(d) = patch.get(DIRECTIVE) {
        match d.as_str() {
            Some("replace") => {
                *orig = strip_map(patch);
                return Ok(());
            }
            Some("delete") => {
                orig.clear();
                return Ok(());
            }
            Some("merge") => {}
            _ => return Err(unknown_directive(d, patch)),
        }
    }
    if let Some(keys) = patch.get(RETAIN_KEYS) {
        retain_keys(orig, patch, keys)?;
    }
    let ordered = set_element_orders(orig, patch, path, meta)?;

    for (k, pv) in patch {
        let k = k.as_str();
        if k == DIRECTIVE || k == RETAIN_KEYS || k.starts_with(SET_ORDER) || ordered.contains(k) {
            continue;
        }
        if k.starts_with(DELETE_PRIMITIVES) {
            let field =
                directive_field(k, DELETE_PRIMITIVES).ok_or_else(|| bad(ERR_PRIMITIVE_LIST))?;
            delete_from_primitive_list(orig, field, pv)?;
            continue;
        }
        if pv.is_null() {
            orig.shift_remove(k);
            continue;
        }
        let Some(ov) = orig.get_mut(k) else {
            if let Some(v) = strip(pv) {
                orig.insert(k.to_string(), v);
            }
            continue;
        };
        path.push(k);
        let keep = merge_value(ov, pv, path, meta);
        path.pop();
        if !keep? {
            orig.shift_remove(k);
        }
    }
    Ok(())
}

/// Merges `pv` into the existing `ov`; false when the key should go away.
fn merge_value<'p>(
    ov: &mut Value,
    pv: &'p Value,
    path: &mut Vec<&'p str>,
    meta: &dyn PatchMeta,
) -> Result<bool, PatchError> {
    match (&mut *ov, pv) {
        (Value::Object(o), Value::Object(p)) if !meta.replaces_map(path) => {
            merge_map(o, p, path, meta)?
        }
        (Value::Array(o), Value::Array(p)) => {
            merge_or_replace_list(o, p, meta.list_strategy(path), path, meta)?;
        }
        _ => match strip(pv) {
            Some(v) => *ov = v,
            None => return Ok(false),
        },
    }
    Ok(true)
}

/// Returns the identities of the object's list as upstream's `$setElementOrder` code
/// then sees it (see [`merge_list`]).
fn merge_or_replace_list<'p>(
    orig: &mut Vec<Value>,
    patch: &'p [Value],
    strategy: ListStrategy,
    path: &mut Vec<&'p str>,
    meta: &dyn PatchMeta,
) -> Result<Vec<Option<String>>, PatchError> {
    match strategy {
        ListStrategy::Replace => {
            let view = keys_of(orig, None);
            *orig = strip_list(patch);
            Ok(view)
        }
        _ => merge_list(orig, patch, strategy, path, meta),
    }
}

// --- stripping directives from values copied from the patch ------------------------

/// The patch value as it should land in the object; None when it is a deletion.
fn strip(v: &Value) -> Option<Value> {
    match v {
        Value::Object(m) => match m.get(DIRECTIVE).map(Value::as_str) {
            None | Some(Some("replace" | "merge")) => Some(Value::Object(strip_map(m))),
            Some(_) => None,
        },
        Value::Array(a) => Some(Value::Array(strip_list(a))),
        other => Some(other.clone()),
    }
}

fn strip_map(m: &Obj) -> Obj {
    m.iter()
        .filter(|(k, v)| !is_directive_key(k) && !v.is_null())
        .filter_map(|(k, v)| strip(v).map(|v| (k.clone(), v)))
        .collect()
}

/// List elements carrying `$patch` are directives, not data, except a `merge` marker on
/// an otherwise real element.
fn strip_list(a: &[Value]) -> Vec<Value> {
    a.iter()
        .filter(|e| match e.as_object() {
            Some(m) => match m.get(DIRECTIVE) {
                None => true,
                Some(d) => d == "merge" && m.len() > 1,
            },
            None => true,
        })
        .filter_map(strip)
        .collect()
}

// --- directives --------------------------------------------------------------------

/// `$retainKeys`: drop object members not listed; every patched member must be listed.
fn retain_keys(orig: &mut Obj, patch: &Obj, keys: &Value) -> Result<(), PatchError> {
    let Value::Array(list) = keys else {
        return Err(bad(ERR_RETAIN_KEYS));
    };
    let keep: HashSet<&str> = list.iter().filter_map(Value::as_str).collect();
    for (k, v) in patch {
        if !v.is_null() && !is_directive_key(k) && !keep.contains(k.as_str()) {
            return Err(bad(ERR_RETAIN_KEYS));
        }
    }
    orig.retain(|k, _| keep.contains(k.as_str()));
    Ok(())
}

/// `$deleteFromPrimitiveList/<field>`: removes every listed value from a scalar list.
fn delete_from_primitive_list(orig: &mut Obj, field: &str, pv: &Value) -> Result<(), PatchError> {
    // Like upstream, nothing happens when either side is not a list.
    let (Some(Value::Array(list)), Value::Array(del)) = (orig.get_mut(field), pv) else {
        return Ok(());
    };
    if list
        .iter()
        .chain(del)
        .any(|v| v.is_object() || v.is_array())
    {
        return Err(bad(ERR_PRIMITIVE_LIST));
    }
    let del: HashSet<String> = del.iter().map(repr).collect();
    list.retain(|v| !del.contains(&repr(v)));
    Ok(())
}

/// `$setElementOrder/<field>`: merges `<field>` (if patched) and orders the result as
/// listed, with items the list does not name kept in their place relative to the
/// object's order. Returns the fields handled, which the caller then skips.
fn set_element_orders<'p>(
    orig: &mut Obj,
    patch: &'p Obj,
    path: &mut Vec<&'p str>,
    meta: &dyn PatchMeta,
) -> Result<HashSet<&'p str>, PatchError> {
    let mut handled = HashSet::new();
    for (k, order) in patch {
        if !k.starts_with(SET_ORDER) {
            continue;
        }
        let field = directive_field(k, SET_ORDER).ok_or_else(|| bad(ERR_SET_ORDER))?;
        let Value::Array(order) = order else {
            return Err(bad(ERR_SET_ORDER));
        };
        let patch_list = match patch.get(field) {
            None => None,
            Some(Value::Array(a)) => Some(a.as_slice()),
            // An explicit deletion of the field wins over its ordering.
            Some(Value::Null) => continue,
            Some(_) => return Err(bad(ERR_SET_ORDER)),
        };
        path.push(field);
        let r = order_field(orig, field, patch_list, order, path, meta);
        path.pop();
        if r? {
            handled.insert(field);
        }
    }
    Ok(handled)
}

fn order_field<'p>(
    orig: &mut Obj,
    field: &'p str,
    patch_list: Option<&'p [Value]>,
    order: &[Value],
    path: &mut Vec<&'p str>,
    meta: &dyn PatchMeta,
) -> Result<bool, PatchError> {
    let strategy = meta.list_strategy(path);
    let key = match strategy {
        ListStrategy::MergeByKey(k) => Some(k),
        _ => None,
    };
    if let Some(p) = patch_list {
        validate_order(p, order, key)?;
    }
    // A non-list in the object is simply replaced by the patch's list.
    let orig_list = match orig.get_mut(field) {
        Some(Value::Array(a)) => Some(std::mem::take(a)),
        _ => None,
    };
    let (merged, server_view) = match (orig_list, patch_list) {
        (Some(o), None) => {
            let view = keys_of(&o, key);
            (o, view)
        }
        (None, Some(p)) => (strip_list(p), Vec::new()),
        (Some(mut o), Some(p)) => {
            let view = merge_or_replace_list(&mut o, p, strategy, path, meta)?;
            (o, view)
        }
        (None, None) => return Ok(false),
    };
    let server_order = index_keys(server_view);
    let in_order: HashSet<String> = order.iter().filter_map(|v| item_key(v, key)).collect();
    let (listed, others): (Vec<Value>, Vec<Value>) = merged
        .into_iter()
        .partition(|v| item_key(v, key).is_some_and(|k| in_order.contains(&k)));
    let result = normalize_order(listed, others, &index_map(order, key), &server_order, key);
    orig.insert(field.to_string(), Value::Array(result));
    Ok(true)
}

/// Upstream's check that the patch list is in the order `$setElementOrder` gives.
fn validate_order(patch: &[Value], order: &[Value], key: Option<&str>) -> Result<(), PatchError> {
    if patch.is_empty() || order.is_empty() {
        return Ok(());
    }
    let items: Vec<&Value> = patch.iter().filter(|v| !has_directive(v)).collect();
    let (mut pi, mut si) = (0, 0);
    while pi < items.len() && si < order.len() {
        if merge_key_equal(items[pi], &order[si], key)? {
            pi += 1;
        }
        si += 1;
    }
    if pi < items.len() {
        return Err(bad(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ORDER} list:\n{}\n",
            Value::Array(patch.to_vec()),
            Value::Array(order.to_vec())
        )));
    }
    Ok(())
}

fn has_directive(v: &Value) -> bool {
    v.as_object().is_some_and(|m| m.contains_key(DIRECTIVE))
}

fn merge_key_equal(a: &Value, b: &Value, key: Option<&str>) -> Result<bool, PatchError> {
    let Some(key) = key else {
        return Ok(json_equal(a, b));
    };
    let get = |v: &Value| -> Result<Value, PatchError> {
        match v {
            Value::Object(m) => m.get(key).cloned().ok_or_else(|| no_merge_key(m, key)),
            other => Err(PatchError::Unprocessable(format!(
                "expected a map with merge key {key}, but received a {}",
                json_kind(other)
            ))),
        }
    };
    Ok(json_equal(&get(a)?, &get(b)?))
}

// --- list merging ------------------------------------------------------------------

/// A hashable identity for scalars with upstream's equality (numbers are float64).
fn repr(v: &Value) -> String {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) => format!("n{f}"),
            None => format!("n{n}"),
        },
        Value::String(s) => format!("s{s}"),
        other => format!("j{other}"),
    }
}

/// What identifies a list item: its merge key's value, or the item itself. None for a
/// map lacking the merge key.
fn item_key(v: &Value, key: Option<&str>) -> Option<String> {
    match key {
        Some(k) => v.as_object().and_then(|m| m.get(k)).map(repr),
        None => Some(repr(v)),
    }
}

fn keys_of(list: &[Value], key: Option<&str>) -> Vec<Option<String>> {
    list.iter().map(|v| item_key(v, key)).collect()
}

/// First position of each identity.
fn index_keys(keys: Vec<Option<String>>) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for (i, k) in keys.into_iter().enumerate() {
        if let Some(k) = k {
            m.entry(k).or_insert(i);
        }
    }
    m
}

fn index_map(list: &[Value], key: Option<&str>) -> HashMap<String, usize> {
    index_keys(keys_of(list, key))
}

/// Upstream's `normalizeElementOrder`: patch items sorted by the patch's order, the
/// object's other items by the object's order, then interleaved: an object item goes
/// before a patch item only when both are in the object and it came first there.
fn normalize_order(
    mut patch_items: Vec<Value>,
    mut server_only: Vec<Value>,
    patch_order: &HashMap<String, usize>,
    server_order: &HashMap<String, usize>,
    key: Option<&str>,
) -> Vec<Value> {
    let pos = |order: &HashMap<String, usize>, v: &Value| {
        item_key(v, key).and_then(|k| order.get(&k).copied())
    };
    patch_items.sort_by_cached_key(|v| pos(patch_order, v).unwrap_or(usize::MAX));
    server_only.sort_by_cached_key(|v| pos(server_order, v).unwrap_or(usize::MAX));
    let mut out = Vec::with_capacity(patch_items.len() + server_only.len());
    let mut left = server_only
        .into_iter()
        .map(|v| (pos(server_order, &v), v))
        .peekable();
    let mut right = patch_items
        .into_iter()
        .map(|v| (pos(server_order, &v), v))
        .peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (Some((l, _)), Some((r, _))) => matches!((l, r), (Some(l), Some(r)) if l < r),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_left { left.next() } else { right.next() };
        if let Some((_, v)) = next {
            out.push(v);
        }
    }
    out
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum ElemKind {
    Map,
    String,
    Number,
    Bool,
    Null,
}

/// All elements of both lists must share one type; lists of lists are refused.
fn element_kind(orig: &[Value], patch: &[Value]) -> Result<Option<ElemKind>, PatchError> {
    let mut kind = None;
    for v in orig.iter().chain(patch) {
        let k = match v {
            Value::Object(_) => ElemKind::Map,
            Value::String(_) => ElemKind::String,
            Value::Number(_) => ElemKind::Number,
            Value::Bool(_) => ElemKind::Bool,
            Value::Null => ElemKind::Null,
            Value::Array(_) => {
                return Err(PatchError::Unprocessable(
                    "lists of lists are not supported".into(),
                ))
            }
        };
        match kind {
            None => kind = Some(k),
            Some(prev) if prev != k => {
                return Err(PatchError::Unprocessable(format!(
                    "list element types are not identical: {} {}",
                    Value::Array(orig.to_vec()),
                    Value::Array(patch.to_vec())
                )))
            }
            Some(_) => {}
        }
    }
    Ok(kind)
}

/// Merges a list with a merge strategy. Returns the identities of the object's list as
/// upstream's caller sees it afterwards: upstream deletes and appends in the shared Go
/// backing array, so `$setElementOrder` ordering sees the surviving items followed by as
/// many appended items as were deleted. Reproducing that keeps server-only items where
/// upstream puts them.
fn merge_list<'p>(
    orig: &mut Vec<Value>,
    patch: &'p [Value],
    strategy: ListStrategy,
    path: &mut Vec<&'p str>,
    meta: &dyn PatchMeta,
) -> Result<Vec<Option<String>>, PatchError> {
    let kind = match element_kind(orig, patch)? {
        None => return Ok(Vec::new()),
        Some(k) => k,
    };
    if kind != ElemKind::Map {
        let view = keys_of(orig, None);
        merge_primitive_list(orig, patch);
        return Ok(view);
    }
    let ListStrategy::MergeByKey(key) = strategy else {
        return Err(PatchError::Unprocessable(format!(
            "cannot merge lists without merge key for {}",
            path.join(".")
        )));
    };

    // Directive elements first: deletions by key, and whole-list replacement.
    let mut deletes = HashSet::new();
    let mut replace = false;
    let mut items: Vec<&'p Obj> = Vec::new();
    for m in patch.iter().filter_map(Value::as_object) {
        let Some(d) = m.get(DIRECTIVE) else {
            items.push(m);
            continue;
        };
        match d.as_str() {
            Some("delete") => {
                let v = m.get(key).ok_or_else(|| no_merge_key(m, key))?;
                deletes.insert(repr(v));
            }
            Some("replace") => replace = true,
            // A bare `{"$patch": "merge"}` asks for what merging lists do anyway.
            Some("merge") if m.len() == 1 => {}
            Some("merge") => items.push(m),
            _ => return Err(unknown_directive(d, m)),
        }
    }
    if replace {
        let view = keys_of(orig, Some(key));
        *orig = items.iter().map(|m| Value::Object(strip_map(m))).collect();
        return Ok(view);
    }
    let before = orig.len();
    if !deletes.is_empty() {
        orig.retain(|v| !item_key(v, Some(key)).is_some_and(|k| deletes.contains(&k)));
    }

    let server_order = index_map(orig, Some(key));
    let mut positions = server_order.clone();
    for &m in &items {
        let k = repr(m.get(key).ok_or_else(|| no_merge_key(m, key))?);
        match positions.get(&k).copied() {
            Some(i) => {
                if let Some(Value::Object(o)) = orig.get_mut(i) {
                    merge_map(o, m, path, meta)?;
                }
            }
            None => {
                positions.insert(k, orig.len());
                orig.push(Value::Object(strip_map(m)));
            }
        }
    }

    let in_patch: HashSet<String> = items.iter().filter_map(|m| m.get(key)).map(repr).collect();
    let mut patch_order = HashMap::new();
    for (i, m) in items.iter().enumerate() {
        if let Some(v) = m.get(key) {
            patch_order.entry(repr(v)).or_insert(i);
        }
    }
    // The first `before` slots: survivors, then up to `deleted` appended items.
    let view = keys_of(orig, Some(key)).into_iter().take(before).collect();
    let (listed, others): (Vec<Value>, Vec<Value>) = std::mem::take(orig)
        .into_iter()
        .partition(|v| item_key(v, Some(key)).is_some_and(|k| in_patch.contains(&k)));
    *orig = normalize_order(listed, others, &patch_order, &server_order, Some(key));
    Ok(view)
}

/// Scalar lists with a merge strategy are sets: union, first occurrence kept.
fn merge_primitive_list(orig: &mut Vec<Value>, patch: &[Value]) {
    let server_order = index_map(orig, None);
    let patch_order = index_map(patch, None);
    let mut seen = HashSet::new();
    let merged: Vec<Value> = orig
        .iter()
        .chain(patch)
        .filter(|v| seen.insert(repr(v)))
        .cloned()
        .collect();
    let (listed, others): (Vec<Value>, Vec<Value>) = merged
        .into_iter()
        .partition(|v| patch_order.contains_key(&repr(v)));
    *orig = normalize_order(listed, others, &patch_order, &server_order, None);
}
