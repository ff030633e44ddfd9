//! Renders the operations into the v2 (swagger 2.0) and v3 `paths` objects.

use serde_json::{json, Map, Value};

use super::defs::{V2_PREFIX, V3_PREFIX};
use super::params::{param_v2, param_v3};
use super::paths::{Operation, PathItem, Payload};

fn status_text(code: &str) -> &'static str {
    match code {
        "200" => "OK",
        "201" => "Created",
        "202" => "Accepted",
        _ => "Unauthorized",
    }
}

fn payload_schema(p: &Payload, prefix: &str) -> Value {
    match p {
        Payload::Def(d) => json!({ "$ref": format!("{prefix}{d}") }),
        Payload::Text => json!({ "type": "string" }),
    }
}

fn extensions(op: &Operation, m: &mut Map<String, Value>) {
    if let Some(a) = op.action {
        m.insert("x-kubernetes-action".into(), a.into());
    }
    if let Some(g) = &op.gvk {
        m.insert("x-kubernetes-group-version-kind".into(), g.clone());
    }
}

/// The v2 (swagger 2.0) `paths` object entries.
pub(crate) fn render_v2(items: &[PathItem], out: &mut Map<String, Value>) {
    for item in items {
        let mut path = Map::new();
        for op in &item.ops {
            let mut m = Map::new();
            m.insert("description".into(), op.description.clone().into());
            m.insert("consumes".into(), json!(op.consumes));
            m.insert("produces".into(), json!(op.produces));
            m.insert("schemes".into(), json!(["https"]));
            m.insert("tags".into(), json!([op.tag]));
            m.insert("operationId".into(), op.id.clone().into());
            let mut params: Vec<Value> = Vec::new();
            if let Some((def, required)) = &op.body {
                params.push(json!({ "name": "body", "in": "body", "required": required, "schema": { "$ref": format!("{V2_PREFIX}{def}") } }));
            }
            params.extend(op.params.iter().map(param_v2));
            if !params.is_empty() {
                m.insert("parameters".into(), params.into());
            }
            let mut responses = Map::new();
            for (code, payload) in &op.responses {
                let mut r = Map::new();
                r.insert("description".into(), status_text(code).into());
                if let Some(p) = payload {
                    r.insert("schema".into(), payload_schema(p, V2_PREFIX));
                }
                responses.insert((*code).into(), Value::Object(r));
            }
            m.insert("responses".into(), Value::Object(responses));
            extensions(op, &mut m);
            path.insert(op.method.into(), Value::Object(m));
        }
        if !item.params.is_empty() {
            path.insert(
                "parameters".into(),
                item.params.iter().map(param_v2).collect(),
            );
        }
        out.insert(item.path.clone(), Value::Object(path));
    }
}

/// The v3 `paths` object of one group version.
pub(crate) fn render_v3(items: &[PathItem]) -> Map<String, Value> {
    let mut out = Map::new();
    for item in items {
        let mut path = Map::new();
        for op in &item.ops {
            let mut m = Map::new();
            m.insert("tags".into(), json!([op.tag]));
            m.insert("description".into(), op.description.clone().into());
            m.insert("operationId".into(), op.id.clone().into());
            if !op.params.is_empty() {
                m.insert(
                    "parameters".into(),
                    op.params.iter().map(param_v3).collect(),
                );
            }
            if let Some((def, required)) = &op.body {
                let schema = json!({ "$ref": format!("{V3_PREFIX}{def}") });
                let content: Map<String, Value> = op
                    .consumes
                    .iter()
                    .map(|c| ((*c).to_string(), json!({ "schema": schema })))
                    .collect();
                m.insert(
                    "requestBody".into(),
                    json!({ "content": content, "required": required }),
                );
            }
            let mut responses = Map::new();
            for (code, payload) in &op.responses {
                let mut r = Map::new();
                r.insert("description".into(), status_text(code).into());
                if let Some(p) = payload {
                    let schema = payload_schema(p, V3_PREFIX);
                    let content: Map<String, Value> = op
                        .produces
                        .iter()
                        .map(|c| ((*c).to_string(), json!({ "schema": schema })))
                        .collect();
                    r.insert("content".into(), Value::Object(content));
                }
                responses.insert((*code).into(), Value::Object(r));
            }
            m.insert("responses".into(), Value::Object(responses));
            extensions(op, &mut m);
            path.insert(op.method.into(), Value::Object(m));
        }
        if !item.params.is_empty() {
            path.insert(
                "parameters".into(),
                item.params.iter().map(param_v3).collect(),
            );
        }
        out.insert(item.path.clone(), Value::Object(path));
    }
    out
}
