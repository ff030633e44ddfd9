//! Decoding request bodies into objects, encoding objects for storage, and writing
//! objects in the representation the client asked for.

use api_types::resources::ResourceInfo;
use api_types::table::IncludeObject;
use api_types::{ApiError, DynamicObject};
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
use kube_core::TypeMeta;
use serde_json::Value;

use crate::negotiate::{self, BodyFormat, Output};
use crate::server::{full, json_response, ApiServer, Body, RequestContext};

/// fieldValidation: what to do with unknown or duplicate fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    Warn,
    Strict,
}

impl FieldValidation {
    pub fn from_query(ctx: &RequestContext) -> Result<FieldValidation, ApiError> {
        match ctx.query.get("fieldValidation") {
            None | Some("") | Some("Warn") => Ok(FieldValidation::Warn),
            Some("Ignore") => Ok(FieldValidation::Ignore),
            Some("Strict") => Ok(FieldValidation::Strict),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation parameter unsupported: {other}; accepted values are Ignore, Warn, Strict"
            ))),
        }
    }
}

/// dryRun=All, or 400 for anything else upstream refuses.
pub fn dry_run(ctx: &RequestContext) -> Result<bool, ApiError> {
    match ctx.query.get("dryRun") {
        None | Some("") => Ok(false),
        Some("All") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "Invalid dry run value: {other}: supported values: \"All\""
        ))),
    }
}

/// Parses a JSON or YAML body into a JSON value.
pub fn parse_body(bytes: &[u8], format: BodyFormat) -> Result<Value, String> {
    match format {
        BodyFormat::Json => serde_json::from_slice(bytes).map_err(|e| e.to_string()),
        BodyFormat::Yaml => serde_saphyr::from_slice::<Value>(bytes).map_err(|e| e.to_string()),
        BodyFormat::Protobuf => crate::protobuf::decode(bytes).map_err(|e| e.to_string()),
    }
}

/// A decoded body and the warnings it earned (unknown fields under Warn).
pub struct Decoded {
    pub object: DynamicObject,
    pub warnings: Vec<String>,
}

fn cannot_handle(r: &ResourceInfo, why: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!(
        "{} in version \"{}\" cannot be handled as a {}: {}",
        r.kind, r.version, r.kind, why
    ))
}

/// Decodes a create/update body for resource `r`: syntax, apiVersion/kind agreement,
/// unknown fields per fieldValidation, and the typed metadata.
pub fn decode_object(
    server: &ApiServer,
    r: &ResourceInfo,
    ctx: &RequestContext,
) -> Result<Decoded, ApiError> {
    let format = negotiate::body_format(ctx.content_type.as_deref())?;
    if ctx.body.is_empty() {
        return Err(ApiError::bad_request("the body of the request is empty"));
    }
    let value = match format {
        BodyFormat::Protobuf => {
            crate::protobuf::decode(&ctx.body).map_err(|e| match e.status_code() {
                415 => ApiError::unsupported_media_type(e.to_string()),
                _ => cannot_handle(r, e),
            })?
        }
        _ => parse_body(&ctx.body, format).map_err(|e| cannot_handle(r, e))?,
    };
    decode_value(server, r, value, FieldValidation::from_query(ctx)?)
}

/// As `decode_object`, from an already parsed value (a patched object, say).
pub fn decode_value(
    server: &ApiServer,
    r: &ResourceInfo,
    mut value: Value,
    validation: FieldValidation,
) -> Result<Decoded, ApiError> {
    let Some(map) = value.as_object_mut() else {
        return Err(cannot_handle(r, "the object must be a JSON object"));
    };
    let api_version = r.api_version();
    match map.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("apiVersion".into(), Value::String(api_version.clone()));
        }
        Some(v) if v == api_version => {}
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({api_version})"
            )))
        }
    }
    match map.get("kind").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("kind".into(), Value::String(r.kind.to_string()));
        }
        Some(k) if k == r.kind => {}
        Some(k) => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                r.kind
            )))
        }
    }
    let mut warnings = Vec::new();
    if validation != FieldValidation::Ignore {
        let unknown = server.openapi.unknown_fields(r, &value);
        if !unknown.is_empty() {
            match validation {
                FieldValidation::Strict => {
                    return Err(cannot_handle(
                        r,
                        crate::openapi::strict_decoding_message(&unknown),
                    ));
                }
                _ => warnings.extend(unknown.iter().map(|f| format!("unknown field \"{f}\""))),
            }
        }
    }
    let object: DynamicObject = serde_json::from_value(value).map_err(|e| cannot_handle(r, e))?;
    Ok(Decoded { object, warnings })
}

/// The stored form: everything but resourceVersion (etcd's revision is the version).
pub fn encode_for_storage(obj: &DynamicObject) -> Result<Vec<u8>, ApiError> {
    let mut o = obj.clone();
    o.metadata.resource_version = None;
    serde_json::to_vec(&o).map_err(ApiError::internal)
}

pub fn set_types(obj: &mut DynamicObject, r: &ResourceInfo) {
    obj.types = Some(TypeMeta {
        api_version: r.api_version(),
        kind: r.kind.to_string(),
    });
}

/// Adds upstream's `Warning: 299 - "..."` headers.
pub fn add_warnings(resp: &mut Response<Body>, warnings: &[String]) {
    for w in warnings {
        let text = format!("299 - \"{}\"", w.replace('"', "\\\""));
        if let Ok(v) = HeaderValue::from_str(&text) {
            resp.headers_mut().append("warning", v);
        }
    }
}

fn yaml_response(status: StatusCode, value: &Value) -> Result<Response<Body>, ApiError> {
    let text = serde_saphyr::to_string(value).map_err(ApiError::internal)?;
    let mut resp = Response::new(full(text));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/yaml"),
    );
    Ok(resp)
}

fn partial_metadata(obj: &DynamicObject, v1beta1: bool) -> Value {
    serde_json::json!({
        "apiVersion": if v1beta1 { "meta.k8s.io/v1beta1" } else { "meta.k8s.io/v1" },
        "kind": "PartialObjectMetadata",
        "metadata": obj.metadata,
    })
}

/// Writes one object (already JSON-encoded in `json`) as the client asked.
pub fn object_response(
    r: &ResourceInfo,
    ctx: &RequestContext,
    status: StatusCode,
    obj: &DynamicObject,
    json: Option<Bytes>,
) -> Result<Response<Body>, ApiError> {
    match negotiate::output(ctx.accept.as_deref(), false)? {
        Output::Json | Output::Discovery { .. } => {
            let bytes = match json {
                Some(b) => b,
                None => serde_json::to_vec(obj).map_err(ApiError::internal)?.into(),
            };
            Ok(json_response(status, bytes))
        }
        Output::Yaml => yaml_response(
            status,
            &serde_json::to_value(obj).map_err(ApiError::internal)?,
        ),
        Output::Table { .. } => {
            let include = IncludeObject::parse(ctx.query.get("includeObject"))?;
            let meta = ListMeta {
                resource_version: obj.metadata.resource_version.clone(),
                ..Default::default()
            };
            let table = crate::tables::to_table(r, std::slice::from_ref(obj), include, meta, now());
            Ok(json_response(
                status,
                serde_json::to_vec(&table).map_err(ApiError::internal)?,
            ))
        }
        Output::PartialMetadata { v1beta1 } => Ok(json_response(
            status,
            serde_json::to_vec(&partial_metadata(obj, v1beta1)).map_err(ApiError::internal)?,
        )),
    }
}

/// Writes a list of objects as the client asked. `items` are pre-encoded JSON.
pub fn list_response(
    r: &ResourceInfo,
    ctx: &RequestContext,
    objects: &[&DynamicObject],
    encoded: &[Bytes],
    list_meta: ListMeta,
) -> Result<Response<Body>, ApiError> {
    match negotiate::output(ctx.accept.as_deref(), false)? {
        Output::Json | Output::Discovery { .. } => {
            // Concatenate the cached encodings: no per-object serialisation on LIST.
            let meta = serde_json::to_vec(&list_meta).map_err(ApiError::internal)?;
            let mut out = Vec::with_capacity(encoded.iter().map(Bytes::len).sum::<usize>() + 128);
            out.extend_from_slice(b"{\"kind\":\"");
            out.extend_from_slice(r.list_kind.as_bytes());
            out.extend_from_slice(b"\",\"apiVersion\":\"");
            out.extend_from_slice(r.api_version().as_bytes());
            out.extend_from_slice(b"\",\"metadata\":");
            out.extend_from_slice(&meta);
            out.extend_from_slice(b",\"items\":[");
            for (i, item) in encoded.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(item);
            }
            out.extend_from_slice(b"]}");
            Ok(json_response(StatusCode::OK, out))
        }
        Output::Yaml => {
            let value = serde_json::json!({
                "kind": r.list_kind,
                "apiVersion": r.api_version(),
                "metadata": list_meta,
                "items": objects,
            });
            yaml_response(StatusCode::OK, &value)
        }
        Output::Table { .. } => {
            let include = IncludeObject::parse(ctx.query.get("includeObject"))?;
            let owned: Vec<DynamicObject> = objects.iter().map(|o| (*o).clone()).collect();
            let table = crate::tables::to_table(r, &owned, include, list_meta, now());
            Ok(json_response(
                StatusCode::OK,
                serde_json::to_vec(&table).map_err(ApiError::internal)?,
            ))
        }
        Output::PartialMetadata { v1beta1 } => {
            let value = serde_json::json!({
                "kind": "PartialObjectMetadataList",
                "apiVersion": if v1beta1 { "meta.k8s.io/v1beta1" } else { "meta.k8s.io/v1" },
                "metadata": list_meta,
                "items": objects.iter().map(|o| partial_metadata(o, v1beta1)).collect::<Vec<_>>(),
            });
            Ok(json_response(
                StatusCode::OK,
                serde_json::to_vec(&value).map_err(ApiError::internal)?,
            ))
        }
    }
}

pub fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

/// Upstream timestamps: RFC 3339, second precision, UTC.
pub fn now_time() -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Time {
    let secs = jiff::Timestamp::now().as_second();
    k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        jiff::Timestamp::from_second(secs).unwrap_or_else(|_| jiff::Timestamp::now()),
    )
}
