//! The OpenAPI v2 (swagger 2.0) document: every served path and every definition, as
//! upstream's `GET /openapi/v2` serves it (JSON, and protobuf for client-go).

use serde_json::{json, Map, Value};

use super::paths::PathItem;
use super::render;

/// The whole v2 document.
pub(crate) fn document(
    git_version: &str,
    groups: &[Vec<PathItem>],
    definitions: &Map<String, Value>,
) -> Value {
    let mut all_paths = Map::new();
    for items in groups {
        render::render_v2(items, &mut all_paths);
    }
    all_paths.sort_keys();
    json!({
        "swagger": "2.0",
        "info": { "title": "Kubernetes", "version": git_version },
        "paths": all_paths,
        "definitions": definitions,
        "securityDefinitions": {
            "BearerToken": {
                "description": "Bearer Token authentication",
                "type": "apiKey",
                "name": "authorization",
                "in": "header"
            }
        },
        "security": [{ "BearerToken": [] }]
    })
}
