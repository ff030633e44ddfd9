//! The OpenAPI v3 documents: one per group version (`GET /openapi/v3/apis/apps/v1`),
//! holding that group version's paths and only the schemas they reach, plus the index
//! (`GET /openapi/v3`) that points at each with a content hash.

use std::collections::BTreeSet;
use std::fmt::Write;

use serde_json::{json, Map, Value};

use super::defs;
use super::paths::{self, PathItem};

/// `api/v1` or `apis/apps/v1`: the key of a group version in the index.
pub(crate) fn index_key(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// One group version's document.
pub(crate) fn document(items: &[PathItem], definitions: &Map<String, Value>) -> Value {
    let roots = paths::referenced_definitions(items);
    let reachable: BTreeSet<String> = defs::closure(definitions, roots);
    let schemas: Map<String, Value> = reachable
        .iter()
        .filter_map(|name| {
            definitions
                .get(name)
                .map(|s| (name.clone(), defs::to_v3(name, s)))
        })
        .collect();
    json!({
        "openapi": "3.0.0",
        // Upstream leaves the version out of v3 documents so that their hashes (and
        // clients' caches) survive patch upgrades.
        "info": { "title": "Kubernetes", "version": "unversioned" },
        "paths": super::render::render_v3(items),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "BearerToken": {
                    "type": "apiKey",
                    "description": "Bearer Token authentication",
                    "name": "authorization",
                    "in": "header"
                }
            }
        }
    })
}

/// Upstream's ETag and `hash` query value: the upper-case hex SHA-512 of the document.
pub(crate) fn hash(doc: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA512, doc);
    let mut out = String::with_capacity(128);
    for b in digest.as_ref() {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02X}");
    }
    out
}

/// The index: `{"paths": {"apis/apps/v1": {"serverRelativeURL": "/openapi/v3/apis/apps/v1?hash=…"}}}`.
pub(crate) fn index<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
    let mut paths = Map::new();
    for (key, hash) in entries {
        paths.insert(
            key.to_string(),
            json!({ "serverRelativeURL": format!("/openapi/v3/{key}?hash={hash}") }),
        );
    }
    json!({ "paths": paths })
}
