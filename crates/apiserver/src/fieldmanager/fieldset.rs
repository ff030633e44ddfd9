//! Sets of field paths (structured-merge-diff's `fieldpath.Set`) and their `FieldsV1`
//! encoding in `metadata.managedFields`:
//!
//! - `f:<name>` a field of a struct or a key of a map,
//! - `k:{"name":"x"}` an item of a list keyed by `x-kubernetes-list-map-keys`,
//! - `v:<json>` an item of a `set` list,
//! - `i:<n>` a position in a list without keys,
//! - `.` the node itself, when it is a member and also has members below it.
//!
//! Path elements order as upstream orders them (fields, then keys, then values, then
//! indexes; values compared numerically / lexically), so the encoding and conflict
//! messages come out in upstream's order.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::gojson;

/// As deep as serde_json parses by default and deeper than any real object; guards the
/// stack on hostile input.
pub(crate) const MAX_DEPTH: usize = 128;

/// One step of a path.
#[derive(Debug, Clone)]
pub enum PathElement {
    /// A struct field or map key.
    Field(String),
    /// A list item selected by its key fields, sorted by name.
    Key(Vec<(String, Value)>),
    /// A `set` list item.
    Value(Value),
    /// A position in a list without keys (only inside atomic lists).
    Index(usize),
}

impl PathElement {
    fn rank(&self) -> u8 {
        match self {
            PathElement::Field(_) => 0,
            PathElement::Key(_) => 1,
            PathElement::Value(_) => 2,
            PathElement::Index(_) => 3,
        }
    }

    /// The `FieldsV1` key of this element (`f:name`, `k:{...}`, `v:...`, `i:n`).
    pub fn serialize(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(fields) => {
                let mut out = String::from("k:{");
                for (i, (name, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    gojson::write_string(&mut out, name);
                    out.push(':');
                    out.push_str(&gojson::encode(value));
                }
                out.push('}');
                out
            }
            PathElement::Value(v) => format!("v:{}", gojson::encode(v)),
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    /// Parses a `FieldsV1` key. `Ok(None)` for an unknown element type, which upstream
    /// skips so that newer encodings do not break older servers.
    pub fn deserialize(s: &str) -> Result<Option<PathElement>, String> {
        let b = s.as_bytes();
        if b.len() < 2 {
            return Err("key must be 2 characters long:".into());
        }
        if b[1] != b':' {
            return Err(format!("missing colon: {s}"));
        }
        // Byte 1 is ':', so byte 0 is ASCII and 2 is a character boundary.
        let rest = &s[2..];
        Ok(Some(match b[0] {
            b'f' => PathElement::Field(rest.to_string()),
            b'v' => PathElement::Value(serde_json::from_str(rest).map_err(|e| e.to_string())?),
            b'k' => {
                let Value::Object(map) =
                    serde_json::from_str::<Value>(rest).map_err(|e| e.to_string())?
                else {
                    return Err(format!("key is not a JSON object: {rest}"));
                };
                let mut fields: Vec<(String, Value)> = map.into_iter().collect();
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                PathElement::Key(fields)
            }
            b'i' => PathElement::Index(
                rest.parse::<usize>()
                    .map_err(|e| format!("strconv.Atoi: parsing {rest:?}: {e}"))?,
            ),
            _ => return Ok(None),
        }))
    }
}

impl std::fmt::Display for PathElement {
    /// Upstream's `PathElement.String()`: `.name`, `[name="x",port=80]`, `[=value]`, `[3]`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(n, v)| format!("{n}={}", gojson::to_string(v)))
                    .collect();
                write!(f, "[{}]", parts.join(","))
            }
            PathElement::Value(v) => write!(f, "[={}]", gojson::to_string(v)),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

impl Ord for PathElement {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PathElement::Field(a), PathElement::Field(b)) => a.cmp(b),
            (PathElement::Key(a), PathElement::Key(b)) => compare_field_lists(a, b),
            (PathElement::Value(a), PathElement::Value(b)) => compare_values(a, b),
            (PathElement::Index(a), PathElement::Index(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for PathElement {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PathElement {}

/// A path from the object root.
pub type Path = Vec<PathElement>;

/// Upstream's `Path.String()`, e.g. `.spec.template.spec.containers[name="web"].image`.
pub fn path_string(path: &[PathElement]) -> String {
    path.iter().map(|pe| pe.to_string()).collect()
}

fn compare_field_lists(a: &[(String, Value)], b: &[(String, Value)]) -> Ordering {
    for ((an, av), (bn, bv)) in a.iter().zip(b) {
        match an.cmp(bn).then_with(|| compare_values(av, bv)) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    a.len().cmp(&b.len())
}

fn type_rank(v: &Value) -> u8 {
    match v {
        Value::Number(_) => 0,
        Value::String(_) => 1,
        Value::Bool(_) => 2,
        Value::Array(_) => 3,
        Value::Object(_) => 4,
        Value::Null => 5,
    }
}

/// structured-merge-diff's `value.Compare`: numbers (ints and floats compared
/// numerically), then strings, booleans, lists, maps, null.
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let int = |n: &serde_json::Number| {
                n.as_i64()
                    .map(i128::from)
                    .or_else(|| n.as_u64().map(i128::from))
            };
            match (int(x), int(y)) {
                (Some(x), Some(y)) => x.cmp(&y),
                _ => {
                    let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                    x.partial_cmp(&y).unwrap_or(Ordering::Equal)
                }
            }
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (i, j) in x.iter().zip(y) {
                match compare_values(i, j) {
                    Ordering::Equal => {}
                    other => return other,
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            let mut xs: Vec<(&String, &Value)> = x.iter().collect();
            let mut ys: Vec<(&String, &Value)> = y.iter().collect();
            xs.sort_by(|a, b| a.0.cmp(b.0));
            ys.sort_by(|a, b| a.0.cmp(b.0));
            for ((xk, xv), (yk, yv)) in xs.iter().zip(&ys) {
                match xk.cmp(yk).then_with(|| compare_values(xv, yv)) {
                    Ordering::Equal => {}
                    other => return other,
                }
            }
            xs.len().cmp(&ys.len())
        }
        (Value::Null, Value::Null) => Ordering::Equal,
        _ => type_rank(a).cmp(&type_rank(b)),
    }
}

/// Deep equality with numbers compared numerically (upstream's `value.Equals`).
pub fn values_equal(a: &Value, b: &Value) -> bool {
    compare_values(a, b) == Ordering::Equal
}

/// A set of paths: `members` are paths ending here, `children` the subtrees below.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Set {
    pub(crate) members: BTreeSet<PathElement>,
    pub(crate) children: BTreeMap<PathElement, Set>,
}

impl Set {
    pub fn new() -> Set {
        Set::default()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.values().all(Set::is_empty)
    }

    /// Adds `path`; the empty path (the whole object) is never tracked, as upstream.
    pub fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    pub fn has(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self.children.get(first).is_some_and(|c| c.has(rest)),
        }
    }

    /// The paths below `pe`, relative to it.
    pub fn with_prefix(&self, pe: &PathElement) -> Option<&Set> {
        self.children.get(pe).filter(|c| !c.is_empty())
    }

    pub fn union(&self, other: &Set) -> Set {
        let mut out = self.clone();
        out.members.extend(other.members.iter().cloned());
        for (pe, child) in &other.children {
            let merged = match out.children.get(pe) {
                Some(mine) => mine.union(child),
                None => child.clone(),
            };
            out.children.insert(pe.clone(), merged);
        }
        out
    }

    pub fn intersection(&self, other: &Set) -> Set {
        let members = self.members.intersection(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(pe, mine)| {
                let both = mine.intersection(other.children.get(pe)?);
                (!both.is_empty()).then(|| (pe.clone(), both))
            })
            .collect();
        Set { members, children }
    }

    /// Leaf-wise difference: a parent minus its child is still the parent.
    pub fn difference(&self, other: &Set) -> Set {
        let members = self.members.difference(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(pe, mine)| match other.children.get(pe) {
                Some(theirs) => {
                    let d = mine.difference(theirs);
                    (!d.is_empty()).then(|| (pe.clone(), d))
                }
                None => Some((pe.clone(), mine.clone())),
            })
            .collect();
        Set { members, children }
    }

    /// Like [`Set::difference`], but a member of `other` also removes everything below it.
    pub fn recursive_difference(&self, other: &Set) -> Set {
        let members = self.members.difference(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter(|(pe, _)| !other.members.contains(pe))
            .filter_map(|(pe, mine)| match other.children.get(pe) {
                Some(theirs) => {
                    let d = mine.recursive_difference(theirs);
                    (!d.is_empty()).then(|| (pe.clone(), d))
                }
                None => Some((pe.clone(), mine.clone())),
            })
            .collect();
        Set { members, children }
    }

    /// Every path, members of a node before the subtrees below it (upstream's order).
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect(&self, prefix: &mut Path, out: &mut Vec<Path>) {
        for pe in &self.members {
            let mut p = prefix.clone();
            p.push(pe.clone());
            out.push(p);
        }
        for (pe, child) in &self.children {
            prefix.push(pe.clone());
            child.collect(prefix, out);
            prefix.pop();
        }
    }

    /// The `fieldsV1` object.
    pub fn to_fields_v1(&self) -> Value {
        Value::Object(self.emit(false))
    }

    fn emit(&self, include_self: bool) -> Map<String, Value> {
        let mut out = Map::new();
        if include_self && !self.is_empty() {
            out.insert(".".into(), Value::Object(Map::new()));
        }
        // Members and children merged in path-element order; an element that is both
        // becomes a child object holding ".".
        let mut members = self.members.iter().peekable();
        let mut children = self
            .children
            .iter()
            .filter(|(_, c)| !c.is_empty())
            .peekable();
        loop {
            let order = match (members.peek(), children.peek()) {
                (None, None) => break,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(m), Some((c, _))) => (*m).cmp(c),
            };
            match order {
                Ordering::Less => {
                    if let Some(m) = members.next() {
                        out.insert(m.serialize(), Value::Object(Map::new()));
                    }
                }
                Ordering::Greater => {
                    if let Some((pe, child)) = children.next() {
                        out.insert(pe.serialize(), Value::Object(child.emit(false)));
                    }
                }
                Ordering::Equal => {
                    members.next();
                    if let Some((pe, child)) = children.next() {
                        out.insert(pe.serialize(), Value::Object(child.emit(true)));
                    }
                }
            }
        }
        out
    }

    /// Parses a `fieldsV1` object (unknown element types are skipped, as upstream).
    pub fn from_fields_v1(v: &Value) -> Result<Set, String> {
        match v {
            Value::Object(map) => Ok(read_node(map, 0)?.0.unwrap_or_default()),
            other => Err(format!("fieldsV1 is not an object: {other}")),
        }
    }
}

/// Returns the children of a node and whether the node itself is a member.
fn read_node(map: &Map<String, Value>, depth: usize) -> Result<(Option<Set>, bool), String> {
    if depth > MAX_DEPTH {
        return Err("fieldsV1 nested too deeply".into());
    }
    let mut children: Option<Set> = None;
    let mut is_member = false;
    for (key, value) in map {
        if key == "." {
            is_member = true;
            continue;
        }
        let Some(pe) = PathElement::deserialize(key)
            .map_err(|e| format!("parsing key as path element: {e}"))?
        else {
            continue;
        };
        let Value::Object(inner) = value else {
            return Err(format!("value of {key:?} is not an object"));
        };
        let (grandchildren, child_is_member) = read_node(inner, depth + 1)?;
        let set = children.get_or_insert_with(Set::new);
        if child_is_member {
            set.members.insert(pe.clone());
        }
        if let Some(g) = grandchildren {
            set.children.insert(pe, g);
        }
    }
    if children.is_none() {
        is_member = true;
    }
    Ok((children, is_member))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(name: &str) -> PathElement {
        PathElement::Field(name.into())
    }

    fn key(name: &str) -> PathElement {
        PathElement::Key(vec![("name".into(), json!(name))])
    }

    #[test]
    fn encodes_fields_v1_like_upstream() {
        let mut s = Set::new();
        s.insert(&[f("metadata"), f("labels"), f("app")]);
        s.insert(&[f("spec"), f("replicas")]);
        s.insert(&[f("spec"), f("selector")]);
        let c = [f("spec"), f("template"), f("spec"), f("containers")];
        s.insert(&[&c[..], &[key("nginx")]].concat());
        s.insert(&[&c[..], &[key("nginx"), f("image")]].concat());
        s.insert(&[&c[..], &[key("nginx"), f("name")]].concat());
        let v = s.to_fields_v1();
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:name":{}}}}}}}"#
        );
        assert_eq!(Set::from_fields_v1(&v).unwrap(), s);
    }

    #[test]
    fn parses_every_element_kind() {
        let v = json!({
            "f:finalizers": {"v:\"a\"": {}, "v:1": {}},
            "f:ports": {"k:{\"protocol\":\"TCP\",\"containerPort\":80}": {".": {}, "f:name": {}}},
            "f:args": {"i:0": {}},
            "x:future": {}
        });
        let s = Set::from_fields_v1(&v).unwrap();
        assert!(s.has(&[f("finalizers"), PathElement::Value(json!("a"))]));
        assert!(s.has(&[f("args"), PathElement::Index(0)]));
        let port = PathElement::Key(vec![
            ("containerPort".into(), json!(80)),
            ("protocol".into(), json!("TCP")),
        ]);
        assert!(s.has(&[f("ports"), port.clone()]));
        assert!(s.has(&[f("ports"), port.clone(), f("name")]));
        assert_eq!(
            port.serialize(),
            r#"k:{"containerPort":80,"protocol":"TCP"}"#
        );
        assert_eq!(
            path_string(&[f("ports"), port]),
            r#".ports[containerPort=80,protocol="TCP"]"#
        );
        // Numbers before strings, numerically.
        let order: Vec<String> = s.children[&f("finalizers")]
            .members
            .iter()
            .map(PathElement::serialize)
            .collect();
        assert_eq!(order, vec!["v:1", "v:\"a\""]);
    }

    #[test]
    fn rejects_malformed_fields_v1() {
        for bad in [
            json!([]),
            json!({"f": {}}),
            json!({"fx": {}}),
            json!({"k:[1]": {}}),
            json!({"i:-1": {}}),
            json!({"v:{": {}}),
            json!({"f:a": 1}),
        ] {
            assert!(Set::from_fields_v1(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn set_algebra() {
        let mut a = Set::new();
        a.insert(&[f("spec"), f("replicas")]);
        a.insert(&[f("spec"), f("paused")]);
        a.insert(&[f("spec")]);
        let mut b = Set::new();
        b.insert(&[f("spec"), f("replicas")]);
        let d = a.difference(&b);
        assert!(d.has(&[f("spec")]) && d.has(&[f("spec"), f("paused")]));
        assert!(!d.has(&[f("spec"), f("replicas")]));
        let mut spec = Set::new();
        spec.insert(&[f("spec")]);
        assert!(a.recursive_difference(&spec).is_empty());
        assert_eq!(a.intersection(&b), b);
        assert_eq!(b.union(&a), a);
        assert_eq!(
            a.paths().iter().map(|p| path_string(p)).collect::<Vec<_>>(),
            vec![".spec", ".spec.paused", ".spec.replicas"]
        );
    }
}
