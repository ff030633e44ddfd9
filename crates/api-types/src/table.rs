//! `meta.k8s.io/v1` Table objects: what `kubectl get` asks for
//! (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`) and prints as it is told.
//! Also the `includeObject` policy and apimachinery's `duration.HumanDuration`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ListMeta, ObjectMeta};
use serde::{Deserialize, Serialize};

use crate::status::ApiError;

/// The group version every Table served here carries.
pub const TABLE_API_VERSION: &str = "meta.k8s.io/v1";
pub const TABLE_KIND: &str = "Table";
pub const PARTIAL_OBJECT_METADATA_KIND: &str = "PartialObjectMetadata";

/// A tabular view of one object or a list of objects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Table {
    pub api_version: String,
    pub kind: String,
    /// Upstream's `metadata,omitempty` on a struct still writes `{}`.
    #[serde(default)]
    pub metadata: ListMeta,
    /// Always written (upstream has no omitempty here); empty on watch events after the
    /// first, where upstream sets `NoHeaders`.
    #[serde(default)]
    pub column_definitions: Vec<TableColumnDefinition>,
    #[serde(default)]
    pub rows: Vec<TableRow>,
}

impl Default for Table {
    fn default() -> Self {
        Table::new(ListMeta::default())
    }
}

impl Table {
    /// An empty `meta.k8s.io/v1` Table.
    pub fn new(metadata: ListMeta) -> Self {
        Table {
            api_version: TABLE_API_VERSION.to_string(),
            kind: TABLE_KIND.to_string(),
            metadata,
            column_definitions: Vec::new(),
            rows: Vec::new(),
        }
    }
}

/// One column: its header, the OpenAPI type and format of its cells, and the priority
/// (0 = always shown, 1 = only with `-o wide`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableColumnDefinition {
    pub name: String,
    #[serde(rename = "type")]
    pub type_: String,
    /// Upstream writes every field of a column, empty or not.
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub priority: i32,
}

impl TableColumnDefinition {
    pub fn new(name: &str, type_: &str, format: &str, description: &str, priority: i32) -> Self {
        TableColumnDefinition {
            name: name.to_string(),
            type_: type_.to_string(),
            format: format.to_string(),
            description: description.to_string(),
            priority,
        }
    }
}

/// One row: a cell per column definition (strings, integers, booleans or null), plus
/// the object it describes as the `includeObject` policy asks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    pub cells: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<TableRowCondition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<serde_json::Value>,
}

/// A condition of a row; upstream only uses `Completed` (for finished pods).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableRowCondition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Row condition type meaning the object finished its work (a pod that succeeded or failed).
pub const ROW_COMPLETED: &str = "Completed";

/// The `includeObject` query parameter: what each row carries besides its cells.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IncludeObject {
    /// No object (`"object"` is left out).
    None,
    /// The whole object, as a plain GET would return it.
    Object,
    /// A `meta.k8s.io/v1` PartialObjectMetadata; upstream's default.
    #[default]
    Metadata,
}

impl IncludeObject {
    /// Parses the query parameter's value; absent or empty means `Metadata`, as upstream.
    /// Anything else is refused; the error turns into upstream's 400 with `?`.
    pub fn parse(value: Option<&str>) -> Result<Self, InvalidIncludeObject> {
        match value.unwrap_or("") {
            "" | "Metadata" => Ok(IncludeObject::Metadata),
            "Object" => Ok(IncludeObject::Object),
            "None" => Ok(IncludeObject::None),
            other => Err(InvalidIncludeObject(other.to_string())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            IncludeObject::None => "None",
            IncludeObject::Object => "Object",
            IncludeObject::Metadata => "Metadata",
        }
    }
}

/// An `includeObject` value upstream does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unrecognized includeObject value: {0:?}")]
pub struct InvalidIncludeObject(pub String);

impl From<InvalidIncludeObject> for ApiError {
    fn from(e: InvalidIncludeObject) -> Self {
        ApiError::bad_request(e.to_string())
    }
}

/// `{"apiVersion":"meta.k8s.io/v1","kind":"PartialObjectMetadata","metadata":{...}}`, as
/// upstream embeds in each row under the default `includeObject=Metadata`.
pub fn partial_object_metadata(metadata: &ObjectMeta) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": TABLE_API_VERSION,
        "kind": PARTIAL_OBJECT_METADATA_KIND,
        "metadata": metadata,
    })
}

/// apimachinery's `duration.HumanDuration`: a succinct duration with about 2-3
/// significant figures, e.g. "45s", "2m3s", "10m", "3h5m", "8h", "2d3h", "10d", "3y45d".
pub fn human_duration(d: jiff::SignedDuration) -> String {
    // Go truncates toward zero (`int(d.Seconds())`), as `as_secs` does.
    let seconds = d.as_secs();
    // Up to 2 seconds in the future is tolerated as clock skew.
    if seconds < -1 {
        return "<invalid>".to_string();
    } else if seconds < 0 {
        return "0s".to_string();
    } else if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    } else if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        format!("{hours}h{m}m")
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        format!("{}d{}h", hours / 24, h)
    } else if hours < 24 * 365 * 2 {
        format!("{}d", hours / 24)
    } else if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        format!("{}y{}d", hours / 24 / 365, dy)
    } else {
        format!("{}y", hours / 24 / 365)
    }
}

/// [`human_duration`] for an unsigned std duration.
pub fn human_duration_std(d: std::time::Duration) -> String {
    // Go's time.Duration is int64 nanoseconds (about 292 years); clamp there as Go does.
    const GO_MAX_SECS: u64 = (i64::MAX / 1_000_000_000) as u64;
    let secs = i64::try_from(d.as_secs().min(GO_MAX_SECS)).unwrap_or(i64::MAX);
    human_duration(jiff::SignedDuration::from_secs(secs))
}

/// How long ago `t` was, as upstream's printers say it (`translateTimestampSince`).
pub fn timestamp_since(t: jiff::Timestamp, now: jiff::Timestamp) -> String {
    human_duration(now.duration_since(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;

    fn hd(secs: i64) -> String {
        human_duration(SignedDuration::from_secs(secs))
    }

    #[test]
    fn human_duration_matches_apimachinery() {
        // Cases from apimachinery's duration_test.go plus every threshold.
        let m = 60;
        let h = 60 * m;
        let d = 24 * h;
        let y = 365 * d;
        let cases: &[(i64, &str)] = &[
            (-2, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (1, "1s"),
            (45, "45s"),
            (59, "59s"),
            (60, "60s"),
            (119, "119s"),
            (2 * m, "2m"),
            (2 * m + 3, "2m3s"),
            (9 * m + 59, "9m59s"),
            (10 * m, "10m"),
            (10 * m + 30, "10m"),
            (3 * h - 1, "179m"),
            (3 * h, "3h"),
            (3 * h + 5 * m, "3h5m"),
            (7 * h + 59 * m, "7h59m"),
            (8 * h, "8h"),
            (47 * h + 59 * m, "47h"),
            (48 * h, "2d"),
            (2 * d + 3 * h, "2d3h"),
            (7 * d + 23 * h, "7d23h"),
            (8 * d, "8d"),
            (10 * d, "10d"),
            (2 * y - 1, "729d"),
            (2 * y, "2y"),
            (3 * y + 45 * d, "3y45d"),
            (8 * y - 1, "7y364d"),
            (8 * y, "8y"),
            (100 * y, "100y"),
        ];
        for (secs, want) in cases {
            assert_eq!(hd(*secs), *want, "{secs}s");
        }
    }

    #[test]
    fn human_duration_truncates_sub_seconds_like_go() {
        assert_eq!(human_duration(SignedDuration::from_millis(-1500)), "0s");
        assert_eq!(
            human_duration(SignedDuration::from_millis(-2500)),
            "<invalid>"
        );
        assert_eq!(human_duration(SignedDuration::from_millis(1999)), "1s");
        assert_eq!(
            human_duration_std(std::time::Duration::from_secs(123)),
            "2m3s"
        );
        assert_eq!(human_duration_std(std::time::Duration::MAX), "292y");
    }

    #[test]
    fn timestamp_since_counts_back_from_now() {
        let now: jiff::Timestamp = "2025-01-01T12:00:00Z".parse().unwrap();
        let then: jiff::Timestamp = "2025-01-01T11:55:00Z".parse().unwrap();
        assert_eq!(timestamp_since(then, now), "5m");
        assert_eq!(timestamp_since(now, then), "<invalid>");
    }

    #[test]
    fn include_object_parses_like_upstream() {
        assert_eq!(IncludeObject::parse(None).unwrap(), IncludeObject::Metadata);
        assert_eq!(
            IncludeObject::parse(Some("")).unwrap(),
            IncludeObject::Metadata
        );
        assert_eq!(
            IncludeObject::parse(Some("Metadata")).unwrap(),
            IncludeObject::Metadata
        );
        assert_eq!(
            IncludeObject::parse(Some("Object")).unwrap(),
            IncludeObject::Object
        );
        assert_eq!(
            IncludeObject::parse(Some("None")).unwrap(),
            IncludeObject::None
        );
        let err: ApiError = IncludeObject::parse(Some("object")).unwrap_err().into();
        assert_eq!(err.code, 400);
        assert_eq!(err.reason, "BadRequest");
        assert_eq!(err.message, "unrecognized includeObject value: \"object\"");
        assert_eq!(IncludeObject::default().as_str(), "Metadata");
    }

    #[test]
    fn table_serializes_camel_case_like_upstream() {
        let mut t = Table::new(ListMeta {
            resource_version: Some("12".into()),
            ..Default::default()
        });
        t.column_definitions.push(TableColumnDefinition::new(
            "Name", "string", "name", "the name", 0,
        ));
        t.column_definitions
            .push(TableColumnDefinition::new("IP", "string", "", "", 1));
        t.rows.push(TableRow {
            cells: vec!["a".into(), 3.into(), true.into()],
            conditions: None,
            object: Some(partial_object_metadata(&ObjectMeta {
                name: Some("a".into()),
                ..Default::default()
            })),
        });
        t.rows.push(TableRow {
            cells: vec![],
            conditions: None,
            object: None,
        });
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "apiVersion": "meta.k8s.io/v1",
                "kind": "Table",
                "metadata": {"resourceVersion": "12"},
                "columnDefinitions": [
                    {"name": "Name", "type": "string", "format": "name", "description": "the name", "priority": 0},
                    {"name": "IP", "type": "string", "format": "", "description": "", "priority": 1},
                ],
                "rows": [
                    {"cells": ["a", 3, true], "object": {
                        "apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata", "metadata": {"name": "a"}}},
                    {"cells": []},
                ],
            })
        );
        let back: Table = serde_json::from_value(v).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn empty_table_keeps_required_fields() {
        let v = serde_json::to_value(Table::default()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"apiVersion": "meta.k8s.io/v1", "kind": "Table", "metadata": {}, "columnDefinitions": [], "rows": []})
        );
        let cond = TableRowCondition {
            type_: ROW_COMPLETED.into(),
            status: "True".into(),
            reason: Some("Succeeded".into()),
            message: None,
        };
        assert_eq!(
            serde_json::to_value(cond).unwrap(),
            serde_json::json!({"type": "Completed", "status": "True", "reason": "Succeeded"})
        );
    }
}
