//! RFC 6902 JSON patch. Mutations go through the json-patch crate; each operation is
//! checked first so failures carry the messages of the library upstream uses
//! (evanphx/json-patch v4), and its lenient spots that clients may rely on are kept:
//! `replace` of a missing object member adds it, `test` of a missing member against
//! `null` passes, and negative array indices count from the end.

use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, CopyOperation, PatchOperation, ReplaceOperation};
use serde_json::{Map, Value};

use super::{check_depth, depth, json_equal, json_kind, PatchError, MAX_DEPTH};

/// Upstream's `maxJSONPatchOperations`.
pub const MAX_JSON_PATCH_OPERATIONS: usize = 10_000;
/// Upstream's default `JSONPatchMaxCopyBytes`: total bytes `copy` operations may add.
pub const MAX_JSON_PATCH_COPY_BYTES: usize = 3 * 1024 * 1024;

fn invalid(msg: String) -> PatchError {
    PatchError::Unprocessable(msg)
}

/// Applies a JSON patch (an array of operations) to a copy of `doc`.
pub fn apply_json_patch(doc: &Value, patch: &Value) -> Result<Value, PatchError> {
    check_depth(doc, "the object")?;
    check_depth(patch, "the patch")?;
    let ops: &[Value] = match patch {
        Value::Array(a) => a,
        // Go decodes `null` into an empty patch.
        Value::Null => &[],
        other => {
            return Err(PatchError::BadRequest(format!(
                "json: cannot unmarshal {} into Go value of type jsonpatch.Patch",
                json_kind(other)
            )))
        }
    };
    if let Some(bad) = ops.iter().find(|op| !op.is_object() && !op.is_null()) {
        return Err(PatchError::BadRequest(format!(
            "json: cannot unmarshal {} into Go value of type jsonpatch.Operation",
            json_kind(bad)
        )));
    }
    if ops.len() > MAX_JSON_PATCH_OPERATIONS {
        return Err(PatchError::TooManyOperations {
            max: MAX_JSON_PATCH_OPERATIONS,
            got: ops.len(),
        });
    }

    let empty = Map::new();
    let mut st = State {
        doc: doc.clone(),
        copied: 0,
    };
    for op in ops {
        let op = op.as_object().unwrap_or(&empty);
        let kind = op.get("op").and_then(Value::as_str).unwrap_or("unknown");
        let value = op.get("value").cloned().unwrap_or(Value::Null);
        match kind {
            "add" => {
                let path = field(op, "path").map_err(|_| {
                    invalid("add operation failed to decode path: missing value".into())
                })?;
                st.add(path, value)?;
            }
            "remove" => {
                let path = field(op, "path").map_err(|_| {
                    invalid("remove operation failed to decode path: missing value".into())
                })?;
                st.remove(path)?;
            }
            "replace" => {
                let path = field(op, "path").map_err(|e| {
                    invalid(format!("replace operation failed to decode path: {e}"))
                })?;
                st.replace(path, value)?;
            }
            "move" => {
                let from = field(op, "from")
                    .map_err(|e| invalid(format!("move operation failed to decode from: {e}")))?;
                let path = field(op, "path")
                    .map_err(|e| invalid(format!("move operation failed to decode path: {e}")))?;
                st.mv(from, path)?;
            }
            "copy" => {
                let from = field(op, "from")
                    .map_err(|e| invalid(format!("copy operation failed to decode from: {e}")))?;
                let path = field(op, "path").map_err(|_| {
                    invalid("copy operation failed to decode path: missing value".into())
                })?;
                st.copy(from, path)?;
            }
            "test" => {
                let path = field(op, "path")
                    .map_err(|e| invalid(format!("test operation failed to decode path: {e}")))?;
                st.test(path, op.get("value"))?;
            }
            other => return Err(invalid(format!("Unexpected kind: {other}"))),
        }
    }
    Ok(st.doc)
}

/// A string member of an operation, or upstream's reason it is unusable.
fn field<'a>(op: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    match op.get(name) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) if name == "path" => {
            Err("operation missing path field: missing value".into())
        }
        None | Some(Value::Null) => Err("operation, missing from field: missing value".into()),
        Some(other) => Err(format!(
            "json: cannot unmarshal {} into Go value of type string",
            json_kind(other)
        )),
    }
}

/// A parsed pointer: the crate's form and the decoded tokens.
struct Ptr {
    buf: PointerBuf,
    tokens: Vec<String>,
}

/// Parses `s` against `doc`, turning negative array indices into positions from the
/// end (upstream's `SupportNegativeIndices`); `add` allows one past the end.
fn parse_ptr(doc: &Value, s: &str, add: bool) -> Option<Ptr> {
    let buf = PointerBuf::parse(s).ok()?;
    let mut tokens: Vec<String> = buf.tokens().map(|t| t.decoded().into_owned()).collect();
    let mut cur = Some(doc);
    let mut rewritten = false;
    let last = tokens.len().saturating_sub(1);
    for (i, t) in tokens.iter_mut().enumerate() {
        if let (Some(Value::Array(a)), Ok(n)) = (cur, t.parse::<i64>()) {
            let len = a.len() + usize::from(add && i == last);
            if n < 0 && n.unsigned_abs() <= len as u64 {
                *t = (len as u64 - n.unsigned_abs()).to_string();
                rewritten = true;
            }
        }
        cur = match cur {
            Some(Value::Object(m)) => m.get(t.as_str()),
            Some(Value::Array(a)) => parse_index(t).and_then(|i| a.get(i)),
            _ => None,
        };
    }
    let buf = if rewritten {
        PointerBuf::from_tokens(tokens.iter().map(String::as_str))
    } else {
        buf
    };
    Some(Ptr { buf, tokens })
}

/// RFC 6901 array index: digits, no leading zero.
fn parse_index(t: &str) -> Option<usize> {
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) || (t.len() > 1 && t.starts_with('0'))
    {
        return None;
    }
    t.parse().ok()
}

fn resolve<'a>(doc: &'a Value, tokens: &[String]) -> Option<&'a Value> {
    let mut cur = doc;
    for t in tokens {
        cur = match cur {
            Value::Object(m) => m.get(t)?,
            Value::Array(a) => a.get(parse_index(t)?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn resolve_mut<'a>(doc: &'a mut Value, tokens: &[String]) -> Option<&'a mut Value> {
    let mut cur = doc;
    for t in tokens {
        cur = match cur {
            Value::Object(m) => m.get_mut(t)?,
            Value::Array(a) => a.get_mut(parse_index(t)?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// What the parent of a pointer's last token is, in the current document.
enum Target<'a> {
    /// No such container (or the pointer is "" or malformed).
    Missing,
    Object {
        has_key: bool,
        key: &'a str,
    },
    /// `index` is None when the token is not a usable index for this array.
    Array {
        index: Option<usize>,
        len: usize,
        token: &'a str,
    },
}

fn target<'a>(doc: &Value, ptr: Option<&'a Ptr>) -> Target<'a> {
    let Some(ptr) = ptr else {
        return Target::Missing;
    };
    let Some((last, parent)) = ptr.tokens.split_last() else {
        return Target::Missing;
    };
    match resolve(doc, parent) {
        Some(Value::Object(m)) => Target::Object {
            has_key: m.contains_key(last),
            key: last,
        },
        Some(Value::Array(a)) => Target::Array {
            index: parse_index(last),
            len: a.len(),
            token: last,
        },
        _ => Target::Missing,
    }
}

fn bad_index(token: &str) -> String {
    match token.parse::<i64>() {
        Ok(n) => format!("Unable to access invalid index: {n}: invalid index referenced"),
        Err(_) => format!("value was not a proper array index: '{token}': strconv.Atoi: parsing \"{token}\": invalid syntax"),
    }
}

/// Serialized size, for the copy budget.
fn json_len(v: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    // Serializing a Value cannot fail; a failure would only undercount.
    let _ = serde_json::to_writer(&mut c, v);
    c.0
}

/// Refuses to place a value `value_depth` deep at `at` if that nests the document
/// beyond MAX_DEPTH. The document was within the limit before, so only the new value
/// can take it over.
fn fits(at: &Ptr, value_depth: usize) -> Result<(), PatchError> {
    if at.tokens.len() + value_depth > MAX_DEPTH {
        return Err(PatchError::TooDeep {
            what: "the patched object",
            max: MAX_DEPTH,
        });
    }
    Ok(())
}

struct State {
    doc: Value,
    copied: usize,
}

impl State {
    fn run(&mut self, op: PatchOperation) -> Result<(), PatchError> {
        json_patch::patch_unsafe(&mut self.doc, std::slice::from_ref(&op))
            .map_err(|e| invalid(e.to_string()))
    }

    fn add(&mut self, path: &str, value: Value) -> Result<(), PatchError> {
        let ptr = parse_ptr(&self.doc, path, true);
        match target(&self.doc, ptr.as_ref()) {
            Target::Array { index, len, token }
                if token != "-" && index.is_none_or(|i| i > len) =>
            {
                return Err(invalid(format!(
                    "error in add for path: '{path}': {}",
                    bad_index(token)
                )));
            }
            Target::Missing => {
                return Err(invalid(format!(
                    "add operation does not apply: doc is missing path: \"{path}\": missing value"
                )))
            }
            _ => {}
        }
        let Some(ptr) = ptr else { return Ok(()) };
        fits(&ptr, depth(&value))?;
        self.run(PatchOperation::Add(AddOperation {
            path: ptr.buf,
            value,
        }))
    }

    /// Done here rather than by the crate so object members keep their order.
    fn remove_value(&mut self, ptr: &Ptr) -> Option<Value> {
        let (last, parent) = ptr.tokens.split_last()?;
        match resolve_mut(&mut self.doc, parent)? {
            Value::Object(m) => m.shift_remove(last),
            Value::Array(a) => {
                let i = parse_index(last).filter(|&i| i < a.len())?;
                Some(a.remove(i))
            }
            _ => None,
        }
    }

    fn remove(&mut self, path: &str) -> Result<(), PatchError> {
        let ptr = parse_ptr(&self.doc, path, false);
        match target(&self.doc, ptr.as_ref()) {
            Target::Missing => {
                Err(invalid(format!("remove operation does not apply: doc is missing path: \"{path}\": missing value")))
            }
            Target::Object { has_key: false, key } => Err(invalid(format!(
                "error in remove for path: '{path}': Unable to remove nonexistent key: {key}: missing value"
            ))),
            Target::Array { index, len, token } if index.is_none_or(|i| i >= len) => {
                Err(invalid(format!("error in remove for path: '{path}': {}", bad_index(token))))
            }
            _ => {
                if let Some(ptr) = ptr {
                    self.remove_value(&ptr);
                }
                Ok(())
            }
        }
    }

    fn replace(&mut self, path: &str, value: Value) -> Result<(), PatchError> {
        if path.is_empty() {
            if !value.is_object() && !value.is_array() {
                return Err(invalid(
                    "replace operation value must be object or array".into(),
                ));
            }
            self.doc = value;
            return Ok(());
        }
        let ptr = parse_ptr(&self.doc, path, false);
        let op = match target(&self.doc, ptr.as_ref()) {
            Target::Missing => {
                return Err(invalid(format!(
                    "replace operation does not apply: doc is missing path: {path}: missing value"
                )))
            }
            Target::Array { index, len, .. } if index.is_none_or(|i| i >= len) => {
                return Err(invalid(format!(
                    "replace operation does not apply: doc is missing key: {path}: missing value"
                )))
            }
            // Upstream sets a missing member instead of failing.
            Target::Object { has_key: false, .. } => true,
            _ => false,
        };
        let Some(ptr) = ptr else { return Ok(()) };
        fits(&ptr, depth(&value))?;
        if op {
            self.run(PatchOperation::Add(AddOperation {
                path: ptr.buf,
                value,
            }))
        } else {
            self.run(PatchOperation::Replace(ReplaceOperation {
                path: ptr.buf,
                value,
            }))
        }
    }

    fn mv(&mut self, from: &str, path: &str) -> Result<(), PatchError> {
        let from_ptr = parse_ptr(&self.doc, from, false);
        match target(&self.doc, from_ptr.as_ref()) {
            Target::Missing => {
                return Err(invalid(format!("move operation does not apply: doc is missing from path: {from}: missing value")))
            }
            Target::Object { has_key: false, key } => {
                return Err(invalid(format!(
                    "error in move for path: '{key}': Unable to remove nonexistent key: {key}: missing value"
                )))
            }
            Target::Array { index, len, token } if index.is_none_or(|i| i >= len) => {
                return Err(invalid(format!("error in move for path: '{token}': {}", bad_index(token))))
            }
            _ => {}
        }
        let Some(from_ptr) = from_ptr else {
            return Ok(());
        };
        let Some(value) = self.remove_value(&from_ptr) else {
            return Ok(());
        };
        // Upstream removes first, so moving a value into itself finds no destination.
        let ptr = parse_ptr(&self.doc, path, true);
        match target(&self.doc, ptr.as_ref()) {
            Target::Missing => Err(invalid(format!(
                "move operation does not apply: doc is missing destination path: {path}: missing value"
            ))),
            Target::Array { index, len, token } if token != "-" && index.is_none_or(|i| i > len) => {
                Err(invalid(format!("error in move for path: '{path}': {}", bad_index(token))))
            }
            _ => {
                let Some(ptr) = ptr else { return Ok(()) };
                // Only a move deeper than its source can nest the document further.
                if ptr.tokens.len() > from_ptr.tokens.len() {
                    fits(&ptr, depth(&value))?;
                }
                self.run(PatchOperation::Add(AddOperation { path: ptr.buf, value }))
            }
        }
    }

    fn copy(&mut self, from: &str, path: &str) -> Result<(), PatchError> {
        let from_ptr = parse_ptr(&self.doc, from, false);
        let missing_from = || {
            invalid(format!(
                "copy operation does not apply: doc is missing from path: {from}: missing value"
            ))
        };
        match target(&self.doc, from_ptr.as_ref()) {
            Target::Missing | Target::Object { has_key: false, .. } => return Err(missing_from()),
            Target::Array { index, len, token } if index.is_none_or(|i| i >= len) => {
                return Err(invalid(format!(
                    "error in copy for from: '{from}': {}",
                    bad_index(token)
                )))
            }
            _ => {}
        }
        let Some(from_ptr) = from_ptr else {
            return Err(missing_from());
        };
        let (size, d) = match resolve(&self.doc, &from_ptr.tokens) {
            Some(v) => (json_len(v), depth(v)),
            None => return Err(missing_from()),
        };
        let ptr = parse_ptr(&self.doc, path, true);
        match target(&self.doc, ptr.as_ref()) {
            Target::Missing => {
                return Err(invalid(format!(
                    "copy operation does not apply: doc is missing destination path: {path}: missing value"
                )))
            }
            Target::Array { index, len, token } if token != "-" && index.is_none_or(|i| i > len) => {
                return Err(invalid(format!("error while adding value during copy: {}", bad_index(token))))
            }
            _ => {}
        }
        self.copied = self.copied.saturating_add(size);
        if self.copied > MAX_JSON_PATCH_COPY_BYTES {
            return Err(invalid(format!(
                "Unable to complete the copy, the accumulated size increase of copy is {}, exceeding the limit {}",
                self.copied, MAX_JSON_PATCH_COPY_BYTES
            )));
        }
        let Some(ptr) = ptr else { return Ok(()) };
        fits(&ptr, d)?;
        self.run(PatchOperation::Copy(CopyOperation {
            from: from_ptr.buf,
            path: ptr.buf,
        }))
    }

    fn test(&self, path: &str, want: Option<&Value>) -> Result<(), PatchError> {
        let failed = || invalid(format!("testing value {path} failed: test failed"));
        let want_null = want.is_none_or(Value::is_null);
        if path.is_empty() {
            return if want.is_some_and(|w| json_equal(w, &self.doc)) {
                Ok(())
            } else {
                Err(failed())
            };
        }
        let ptr = parse_ptr(&self.doc, path, false);
        match target(&self.doc, ptr.as_ref()) {
            Target::Missing => Err(invalid(format!(
                "test operation does not apply: is missing path: {path}: missing value"
            ))),
            Target::Array { index, len, token } if index.is_none_or(|i| i >= len) => Err(invalid(
                format!("error in test for path: '{path}': {}", bad_index(token)),
            )),
            Target::Object { has_key: false, .. } => {
                if want_null {
                    Ok(())
                } else {
                    Err(failed())
                }
            }
            _ => {
                let have = ptr.as_ref().and_then(|p| resolve(&self.doc, &p.tokens));
                match (have, want) {
                    (Some(h), Some(w)) if json_equal(h, w) => Ok(()),
                    _ => Err(failed()),
                }
            }
        }
    }
}
