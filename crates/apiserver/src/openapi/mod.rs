//! The OpenAPI documents the API server publishes (`/openapi/v2`, `/openapi/v3`,
//! `/openapi/v3/<group version>`), generated once at start from the k8s-openapi types of
//! the served resources, and unknown-field detection from the same schemas.
//!
//! What kubectl reads from them (client-go / cli-runtime / kubectl sources):
//! - `/openapi/v3` then `/openapi/v3/apis/<g>/<v>` (JSON): `kubectl explain` (kubectl
//!   pkg/explain/v2, finds the kind through the GVK of the resource path's operations, then
//!   the schema whose `x-kubernetes-group-version-kind` contains it); server-side field
//!   validation detection (cli-runtime `queryParamVerifierV3`: `fieldValidation` among the
//!   parameters of the kind's PATCH operations); `kubectl apply` patch metadata (kubectl
//!   pkg/cmd/apply/patcher.go, 1.29+: `x-kubernetes-patch-*` on the kind's schema, and
//!   `application/strategic-merge-patch+json` in the PATCH request body).
//! - `/openapi/v2` as gnostic protobuf only (client-go discovery `OpenAPISchema()`); see
//!   `proto.rs` for which kubectl commands need it.

mod defs;
pub mod extensions;
mod extensions_table;
mod params;
mod paths;
mod proto;
mod render;
mod unknown_fields;
mod v2;
mod v3;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;

use api_types::resources::ResourceInfo;
use bytes::Bytes;

/// The Content-Type of the protobuf `/openapi/v2` answer. client-go asks for the older
/// spelling `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`, but upstream
/// answers with this one, and kubectl 1.27/1.28 fail ("mime: unexpected content after media
/// subtype") when the answer's Content-Type has the `@`.
pub const V2_PROTOBUF_CONTENT_TYPE: &str =
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// The encodings `GET /openapi/v2` serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V2Format {
    /// `application/json`.
    Json,
    /// Gnostic protobuf, sent with [`V2_PROTOBUF_CONTENT_TYPE`].
    Protobuf,
}

/// Upstream's content negotiation for `GET /openapi/v2` (kube-openapi handler): the
/// highest-quality Accept clause that names JSON or either protobuf spelling (wildcards
/// allowed) wins; a missing header means `*/*` (JSON); `None` means 406 Not Acceptable.
pub fn negotiate_v2(accept: Option<&str>) -> Option<V2Format> {
    negotiate(
        accept,
        &[
            ("json", V2Format::Json),
            (
                "com.github.proto-openapi.spec.v2@v1.0+protobuf",
                V2Format::Protobuf,
            ),
            (
                "com.github.proto-openapi.spec.v2.v1.0+protobuf",
                V2Format::Protobuf,
            ),
        ],
    )
}

/// Whether `GET /openapi/v3/<group version>` can answer this Accept header with JSON (the
/// only encoding served; upstream also offers protobuf and answers 406 to anything else).
pub fn v3_accepts_json(accept: Option<&str>) -> bool {
    negotiate(accept, &[("json", ())]).is_some()
}

/// The highest-quality Accept clause that matches an offered `application/<subtype>`,
/// wildcards allowed, as goautoneg (which kube-openapi uses) picks it.
fn negotiate<T: Copy>(accept: Option<&str>, offered: &[(&str, T)]) -> Option<T> {
    let accept = accept
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .unwrap_or("*/*");
    let mut clauses: Vec<(f32, u8, &str, &str)> = Vec::new();
    for clause in accept.split(',') {
        let mut parts = clause.split(';');
        let media = parts.next().unwrap_or_default().trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|v| v.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let (ty, sub) = media.split_once('/').unwrap_or((media, ""));
        if q > 0.0 && !ty.is_empty() {
            let specificity = u8::from(ty != "*") + u8::from(sub != "*");
            clauses.push((q, specificity, ty, sub));
        }
    }
    // Quality first, then the more specific clause.
    clauses.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
    clauses.iter().find_map(|(_, _, ty, sub)| {
        offered
            .iter()
            .find(|(o, _)| (*ty == "application" || *ty == "*") && (sub == o || *sub == "*"))
            .map(|(_, value)| *value)
    })
}

/// Every OpenAPI document, serialized once; cheap to clone and share.
#[derive(Clone)]
pub struct OpenApi {
    inner: Arc<Inner>,
}

struct Inner {
    v2_json: Bytes,
    v2_etag: String,
    v2_protobuf: Bytes,
    v3_index: Bytes,
    /// `api/v1` / `apis/apps/v1` -> (document, hash).
    v3: HashMap<String, (Bytes, String)>,
    validator: unknown_fields::Validator,
}

impl std::fmt::Debug for OpenApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenApi")
            .field("group_versions", &self.inner.v3.len())
            .finish()
    }
}

impl OpenApi {
    /// Generates every document for `resources` (normally `api_types::resources::BUILTIN`).
    pub fn build(resources: &[ResourceInfo], git_version: &str) -> OpenApi {
        let definitions = defs::generate(resources);

        // Group versions in the order resources list them.
        let mut group_versions: Vec<(&str, &str)> = Vec::new();
        for r in resources {
            if !group_versions.contains(&(r.group, r.version)) {
                group_versions.push((r.group, r.version));
            }
        }
        let groups: Vec<Vec<paths::PathItem>> = group_versions
            .iter()
            .map(|(g, v)| {
                let members: Vec<&ResourceInfo> = resources
                    .iter()
                    .filter(|r| r.group == *g && r.version == *v)
                    .collect();
                paths::group_version_paths(g, v, &members)
            })
            .collect();

        let v2_doc = v2::document(git_version, &groups, &definitions);
        let v2_protobuf = Bytes::from(proto::encode_document(&v2_doc));
        let v2_json = Bytes::from(serde_json::to_vec(&v2_doc).unwrap_or_default());
        let v2_etag = v3::hash(&v2_json);
        drop(v2_doc);

        let mut v3 = HashMap::new();
        let mut index_entries: Vec<(String, String)> = Vec::new();
        for ((group, version), items) in group_versions.iter().zip(&groups) {
            let doc = serde_json::to_vec(&v3::document(items, &definitions)).unwrap_or_default();
            let hash = v3::hash(&doc);
            let key = v3::index_key(group, version);
            index_entries.push((key.clone(), hash.clone()));
            v3.insert(key, (Bytes::from(doc), hash));
        }
        let index = v3::index(index_entries.iter().map(|(k, h)| (k.as_str(), h.as_str())));
        let v3_index = Bytes::from(serde_json::to_vec(&index).unwrap_or_default());

        let validator = unknown_fields::Validator::compile(&definitions);
        OpenApi {
            inner: Arc::new(Inner {
                v2_json,
                v2_etag,
                v2_protobuf,
                v3_index,
                v3,
                validator,
            }),
        }
    }

    /// `GET /openapi/v2` as JSON (`Accept: application/json`).
    pub fn v2_json(&self) -> Bytes {
        self.inner.v2_json.clone()
    }

    /// The `ETag` (quote it) of `/openapi/v2`, for both encodings as upstream (the response
    /// varies on Accept).
    pub fn v2_etag(&self) -> String {
        self.inner.v2_etag.clone()
    }

    /// `GET /openapi/v2` as gnostic protobuf ([`V2_PROTOBUF_CONTENT_TYPE`]), what client-go
    /// (kubectl) asks for; see [`negotiate_v2`].
    pub fn v2_protobuf(&self) -> Option<Bytes> {
        Some(self.inner.v2_protobuf.clone())
    }

    /// `GET /openapi/v3`: the group versions and the hashed URL of each document.
    pub fn v3_index(&self) -> Bytes {
        self.inner.v3_index.clone()
    }

    /// `GET /openapi/v3/<path>` for `path` = `api/v1` or `apis/apps/v1` (a leading
    /// `/openapi/v3/`, slashes and a query string are ignored). Returns the JSON document and
    /// its hash: send the hash as the `ETag` (quoted); when the request's `hash` query value
    /// equals it, upstream adds `Cache-Control: public, immutable` and an `Expires` a year
    /// ahead, and when it differs it redirects (301) to the index's current URL.
    pub fn v3_group_version(&self, path: &str) -> Option<(Bytes, String)> {
        let path = path.split('?').next().unwrap_or_default();
        let path = path.trim_start_matches('/');
        let path = path
            .strip_prefix("openapi/v3/")
            .unwrap_or(path)
            .trim_matches('/');
        self.inner
            .v3
            .get(path)
            .map(|(doc, hash)| (doc.clone(), hash.clone()))
    }

    /// Every field of `obj` that the resource's schema does not know, as upstream's strict
    /// decoder names them (`spec.foo`, `spec.template.spec.containers[0].imagePullPolice`),
    /// in document order, at most 100.
    pub fn unknown_fields(&self, r: &ResourceInfo, obj: &serde_json::Value) -> Vec<String> {
        self.unknown_fields_of(&(r.schema_name)(), obj)
    }

    /// Like [`OpenApi::unknown_fields`] for any generated definition (subresource bodies
    /// such as `io.k8s.api.autoscaling.v1.Scale`, or `DeleteOptions`); nothing for an
    /// unknown definition.
    pub fn unknown_fields_of(&self, definition: &str, obj: &serde_json::Value) -> Vec<String> {
        let v = &self.inner.validator;
        match v.definition(definition) {
            Some(root) => v.unknown_fields(root, obj),
            None => Vec::new(),
        }
    }
}

/// Upstream's message for `fieldValidation=Strict` failures (a 400 BadRequest):
/// `strict decoding error: unknown field "spec.foo", unknown field "spec.bar"`.
pub fn strict_decoding_message(fields: &[String]) -> String {
    let mut out = String::from("strict decoding error: ");
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str("unknown field ");
        out.push_str(&go_quote(f));
    }
    out
}

/// Go's `strconv.Quote` (the error text quotes field paths with it), for the characters
/// JSON keys can hold.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
