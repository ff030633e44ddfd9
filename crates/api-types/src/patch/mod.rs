//! The PATCH flavours the API server accepts, as pure functions over JSON values:
//! JSON patch (RFC 6902), JSON merge patch (RFC 7386) and upstream's strategic merge
//! patch. Server-side apply (`application/apply-patch+yaml`) needs managedFields and
//! lives with the apiserver; [`PatchType::Apply`] is only named here so the HTTP layer
//! can route on it.

mod json;
mod merge;
mod merge_keys;
mod strategic;
#[cfg(test)]
mod strategic_tests;
#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::status::ApiError;

pub use json::{apply_json_patch, MAX_JSON_PATCH_COPY_BYTES, MAX_JSON_PATCH_OPERATIONS};
pub use merge::apply_merge_patch;
pub use merge_keys::{BuiltinPatchMeta, ListStrategy, PatchMeta};
pub use strategic::apply_strategic_merge_patch;

/// Deepest nesting accepted in documents, patches and results. serde_json refuses to
/// parse anything deeper, so a result deeper than this could not be read back.
pub const MAX_DEPTH: usize = 127;

/// The patch flavour, from the request's Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchType {
    Json,
    Merge,
    StrategicMerge,
    /// Server-side apply; not applied by this module.
    Apply,
}

impl PatchType {
    /// Parameters (`; charset=utf-8`) and case are ignored. The CBOR apply flavour is
    /// not supported, so it gives `None` like any unknown type.
    pub fn from_content_type(content_type: &str) -> Option<PatchType> {
        let media = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match media.as_str() {
            "application/json-patch+json" => Some(PatchType::Json),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::StrategicMerge),
            "application/apply-patch+yaml" => Some(PatchType::Apply),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            PatchType::Json => "application/json-patch+json",
            PatchType::Merge => "application/merge-patch+json",
            PatchType::StrategicMerge => "application/strategic-merge-patch+json",
            PatchType::Apply => "application/apply-patch+yaml",
        }
    }
}

impl std::fmt::Display for PatchType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.content_type())
    }
}

/// Why a patch could not be applied. Each variant maps to the HTTP status upstream
/// answers with (see [`PatchError::code`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The patch itself is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// The patch is well formed but does not apply to this object (422).
    #[error("{0}")]
    Unprocessable(String),
    /// More JSON patch operations than upstream allows (413).
    #[error("The allowed maximum operations in a JSON patch is {max}, got {got}")]
    TooManyOperations { max: usize, got: usize },
    /// Nesting beyond [`MAX_DEPTH`] in the input or the result (400).
    #[error("{what} is nested more than {max} levels deep")]
    TooDeep { what: &'static str, max: usize },
    /// A patch type this module does not apply (server-side apply) (415).
    #[error("{0} patches are not applied by api_types::patch; server-side apply is handled by the apiserver")]
    Unsupported(PatchType),
}

impl PatchError {
    pub fn code(&self) -> u16 {
        match self {
            PatchError::BadRequest(_) | PatchError::TooDeep { .. } => 400,
            PatchError::Unprocessable(_) => 422,
            PatchError::TooManyOperations { .. } => 413,
            PatchError::Unsupported(_) => 415,
        }
    }

    /// Upstream's StatusReason for [`PatchError::code`].
    pub fn reason(&self) -> &'static str {
        match self.code() {
            400 => "BadRequest",
            413 => "RequestEntityTooLarge",
            415 => "UnsupportedMediaType",
            _ => "Invalid",
        }
    }
}

impl From<PatchError> for ApiError {
    fn from(e: PatchError) -> Self {
        ApiError::new(e.code(), e.reason(), e.to_string())
    }
}

/// Applies a patch of the given type. `meta` is used by strategic merge patches only.
pub fn apply_patch(
    patch_type: PatchType,
    doc: &Value,
    patch: &Value,
    meta: &dyn PatchMeta,
) -> Result<Value, PatchError> {
    match patch_type {
        PatchType::Json => apply_json_patch(doc, patch),
        PatchType::Merge => apply_merge_patch(doc, patch),
        PatchType::StrategicMerge => apply_strategic_merge_patch(doc, patch, meta),
        PatchType::Apply => Err(PatchError::Unsupported(PatchType::Apply)),
    }
}

/// Nesting depth of `v` (scalars 0, `{}` and `[]` 1), computed without recursion so a
/// hostile value cannot overflow the stack here.
pub(crate) fn depth(v: &Value) -> usize {
    let mut max = 0;
    let mut stack: Vec<(&Value, usize)> = vec![(v, 0)];
    while let Some((v, d)) = stack.pop() {
        match v {
            Value::Object(m) => {
                max = max.max(d + 1);
                stack.extend(m.values().map(|c| (c, d + 1)));
            }
            Value::Array(a) => {
                max = max.max(d + 1);
                stack.extend(a.iter().map(|c| (c, d + 1)));
            }
            _ => {}
        }
    }
    max
}

pub(crate) fn check_depth(v: &Value, what: &'static str) -> Result<(), PatchError> {
    if depth(v) > MAX_DEPTH {
        Err(PatchError::TooDeep {
            what,
            max: MAX_DEPTH,
        })
    } else {
        Ok(())
    }
}

/// Equality as upstream sees decoded JSON: every number is a float64, so `1 == 1.0`.
pub(crate) fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// The Go-ish JSON kind name used in upstream's decode errors.
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
