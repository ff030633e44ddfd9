//! `metadata.managedFields`: decoding the entries into per-manager field sets, encoding
//! them back in upstream's order, and the bookkeeping upstream's field manager does around
//! them (manager identifiers, capping the number of update entries, never tracking the
//! identity fields of an object).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::fieldset::{PathElement, Set};
use super::gojson;

pub(crate) const APPLY: &str = "Apply";
pub(crate) const UPDATE: &str = "Update";

/// Upstream keeps at most this many `Update` entries; older ones merge into
/// `ancient-changes`.
const MAX_UPDATE_MANAGERS: usize = 10;

/// Who owns a set of fields: manager, operation, and (for updates) API version, plus the
/// subresource written through. Ordered as upstream orders its identifiers (their JSON).
#[derive(Debug, Clone)]
pub struct ManagerId {
    pub manager: String,
    pub operation: String,
    /// Empty for `Apply`: an applier keeps one entry whatever version it applies.
    pub api_version: String,
    pub subresource: String,
    key: String,
}

impl ManagerId {
    pub fn new(manager: &str, operation: &str, api_version: &str, subresource: &str) -> Self {
        let api_version = if operation == APPLY { "" } else { api_version };
        // Go's json.Marshal of a ManagedFieldsEntry without fields, type and time.
        let mut key = String::from("{");
        for (name, value) in [
            ("manager", manager),
            ("operation", operation),
            ("apiVersion", api_version),
            ("subresource", subresource),
        ] {
            if !value.is_empty() {
                if key.len() > 1 {
                    key.push(',');
                }
                key.push_str(&format!("\"{name}\":"));
                gojson::write_string(&mut key, value);
            }
        }
        key.push('}');
        ManagerId {
            manager: manager.to_string(),
            operation: operation.to_string(),
            api_version: api_version.to_string(),
            subresource: subresource.to_string(),
            key,
        }
    }

    /// The placeholder upstream records a write under before crediting its manager.
    pub(crate) fn current_operation() -> Self {
        ManagerId {
            manager: String::new(),
            operation: String::new(),
            api_version: String::new(),
            subresource: String::new(),
            key: "current-operation".into(),
        }
    }

    /// Upstream's identifier string (JSON), which orders managers in messages.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl PartialEq for ManagerId {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for ManagerId {}

impl Ord for ManagerId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

impl PartialOrd for ManagerId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The fields one manager owns, at the API version it last wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VersionedSet {
    pub(crate) set: Set,
    pub(crate) api_version: String,
    pub(crate) applied: bool,
}

pub(crate) type Managers = BTreeMap<ManagerId, VersionedSet>;

/// Decoded managed fields: every manager's set, and the time of its last change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Managed {
    pub(crate) fields: Managers,
    pub(crate) times: BTreeMap<ManagerId, String>,
}

fn str_field<'a>(entry: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    match entry.get(name) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!("{name} must be a string, got {other}")),
    }
}

impl Managed {
    /// Decodes `metadata.managedFields` (absent or null: nothing managed).
    pub(crate) fn decode(entries: Option<&Value>) -> Result<Managed, String> {
        let mut out = Managed::default();
        let entries = match entries {
            None | Some(Value::Null) => return Ok(out),
            Some(Value::Array(entries)) => entries,
            Some(other) => return Err(format!("managedFields must be a list, got {other}")),
        };
        for (i, entry) in entries.iter().enumerate() {
            let Value::Object(entry) = entry else {
                return Err(format!("managed fields entry {i} is not an object"));
            };
            let operation = str_field(entry, "operation")?;
            if operation != APPLY && operation != UPDATE {
                return Err("operation must be `Apply` or `Update`".into());
            }
            let api_version = str_field(entry, "apiVersion")?;
            if api_version.is_empty() {
                return Err("apiVersion must not be empty".into());
            }
            match str_field(entry, "fieldsType")? {
                "FieldsV1" => {}
                "" => return Err(format!("missing fieldsType in managed fields entry {i}")),
                other => {
                    return Err(format!(
                        "invalid fieldsType {} in managed fields entry {i}",
                        crate::openapi::go_quote(other)
                    ))
                }
            }
            let set = match entry.get("fieldsV1") {
                None | Some(Value::Null) => Set::new(),
                Some(v) => {
                    Set::from_fields_v1(v).map_err(|e| format!("error decoding set: {e}"))?
                }
            };
            let id = ManagerId::new(
                str_field(entry, "manager")?,
                operation,
                api_version,
                str_field(entry, "subresource")?,
            );
            match str_field(entry, "time")? {
                "" => out.times.remove(&id),
                t => out.times.insert(id.clone(), t.to_string()),
            };
            out.fields.insert(
                id,
                VersionedSet {
                    set,
                    api_version: api_version.to_string(),
                    applied: operation == APPLY,
                },
            );
        }
        Ok(out)
    }

    /// The `managedFields` list in upstream's order (operation, time, manager, API
    /// version, subresource); `None` when nothing is managed.
    pub(crate) fn encode(&self) -> Option<Value> {
        if self.fields.is_empty() {
            return None;
        }
        let mut entries: Vec<(&str, i64, &ManagerId, &VersionedSet, Option<&String>)> = self
            .fields
            .iter()
            .map(|(id, vs)| {
                let op = if vs.applied {
                    APPLY
                } else {
                    id.operation.as_str()
                };
                let time = self.times.get(id);
                (op, seconds(time), id, vs, time)
            })
            .collect();
        entries.sort_by(|a, b| {
            (a.0, a.1, &a.2.manager, &a.3.api_version, &a.2.subresource).cmp(&(
                b.0,
                b.1,
                &b.2.manager,
                &b.3.api_version,
                &b.2.subresource,
            ))
        });
        let list = entries
            .into_iter()
            .map(|(op, _, id, vs, time)| {
                let mut e = Map::new();
                if !id.manager.is_empty() {
                    e.insert("manager".into(), id.manager.clone().into());
                }
                e.insert("operation".into(), op.into());
                e.insert("apiVersion".into(), vs.api_version.clone().into());
                if let Some(t) = time {
                    e.insert("time".into(), t.clone().into());
                }
                e.insert("fieldsType".into(), "FieldsV1".into());
                e.insert("fieldsV1".into(), vs.set.to_fields_v1());
                if !id.subresource.is_empty() {
                    e.insert("subresource".into(), id.subresource.clone().into());
                }
                Value::Object(e)
            })
            .collect();
        Some(Value::Array(list))
    }

    /// Merges the oldest `Update` entries into `ancient-changes` (one per API version)
    /// until at most ten remain, as upstream's capManagersManager does.
    pub(crate) fn cap_update_managers(&mut self) {
        let mut updaters: Vec<ManagerId> = self
            .fields
            .iter()
            .filter(|(_, vs)| !vs.applied)
            .map(|(id, _)| id.clone())
            .collect();
        if updaters.len() <= MAX_UPDATE_MANAGERS {
            return;
        }
        updaters.sort_by(|a, b| {
            seconds(self.times.get(a))
                .cmp(&seconds(self.times.get(b)))
                .then_with(|| a.cmp(b))
        });
        let mut first_of_version: BTreeMap<String, ManagerId> = BTreeMap::new();
        let mut length = updaters.len();
        for id in updaters {
            if length <= MAX_UPDATE_MANAGERS {
                break;
            }
            let Some(vs) = self.fields.get(&id).cloned() else {
                continue;
            };
            let time = self.times.get(&id).cloned();
            let bucket = ManagerId::new("ancient-changes", UPDATE, &vs.api_version, "");
            match first_of_version.get(&vs.api_version) {
                Some(first) => {
                    if !self.fields.contains_key(&bucket) {
                        if let Some(s) = self.fields.remove(first) {
                            self.fields.insert(bucket.clone(), s);
                        }
                    }
                    if let Some(b) = self.fields.get_mut(&bucket) {
                        b.set = vs.set.union(&b.set);
                        b.api_version = vs.api_version.clone();
                        b.applied = vs.applied;
                    }
                    self.fields.remove(&id);
                    length -= 1;
                    match time {
                        Some(t) => self.times.insert(bucket, t),
                        None => self.times.remove(&bucket),
                    };
                }
                None => {
                    first_of_version.insert(vs.api_version.clone(), id);
                }
            }
        }
    }

    /// Drops the fields that are never managed from `id`'s set (upstream's
    /// stripMetaManager), and the entry if nothing is left.
    pub(crate) fn strip_meta(&mut self, id: &ManagerId) {
        let Some(vs) = self.fields.get_mut(id) else {
            return;
        };
        vs.set = vs.set.difference(strip_set());
        if vs.set.is_empty() {
            self.fields.remove(id);
        }
    }
}

/// Identity and bookkeeping fields nobody owns.
fn strip_set() -> &'static Set {
    static SET: std::sync::OnceLock<Set> = std::sync::OnceLock::new();
    SET.get_or_init(|| {
        let mut s = Set::new();
        let f = |n: &str| PathElement::Field(n.into());
        s.insert(&[f("apiVersion")]);
        s.insert(&[f("kind")]);
        s.insert(&[f("metadata")]);
        for name in [
            "name",
            "namespace",
            "creationTimestamp",
            "selfLink",
            "uid",
            "clusterName",
            "generation",
            "managedFields",
            "resourceVersion",
        ] {
            s.insert(&[f("metadata"), f(name)]);
        }
        s
    })
}

/// Seconds since the epoch of an RFC 3339 time; 0 when absent or unreadable.
fn seconds(t: Option<&String>) -> i64 {
    t.and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map(|t| t.as_second())
        .unwrap_or(0)
}

/// A timestamp as `metav1.Time` writes it: RFC 3339, whole seconds, UTC.
pub(crate) fn format_time(now: jiff::Timestamp) -> String {
    jiff::Timestamp::from_second(now.as_second())
        .unwrap_or(now)
        .to_string()
}

/// The field manager upstream derives from a User-Agent when a non-apply request names
/// none (`prefixFromUserAgent`): the part before the first `/`, without unprintable
/// characters, at most 128 bytes. `kubectl-edit/v1.33.0 (linux/amd64) kubernetes/abc`
/// gives `kubectl-edit`.
pub fn manager_from_user_agent(ua: &str) -> String {
    const MAX: usize = 128;
    let prefix = ua.split('/').next().unwrap_or_default();
    let mut out = String::new();
    for c in prefix.chars() {
        // Go's unicode.IsPrint: graphic characters and the ASCII space.
        let printable = !c.is_control() && (c == ' ' || !c.is_whitespace()) && c != '\u{feff}';
        if !printable {
            continue;
        }
        if out.len() + c.len_utf8() > MAX {
            break;
        }
        out.push(c);
    }
    out
}
