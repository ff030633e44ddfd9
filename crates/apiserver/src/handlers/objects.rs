//! Decoding request bodies into objects, encoding objects for storage, and writing
//! objects in the representation the client asked for.

use api_types::resources::ResourceInfo;
use api_types::table::IncludeObject;
use api_types::{ApiError, DynamicObject};
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ListMeta, ObjectMeta};
use kube_core::TypeMeta;
use serde::Deserialize;
use serde_json::{Map, Value};

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

pub fn cannot_handle(r: &ResourceInfo, why: impl std::fmt::Display) -> ApiError {
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
    let object = match value {
        Value::Object(map) => dynamic_from_map(map),
        other => serde_json::from_value(other),
    }
    .map_err(|e| cannot_handle(r, e))?;
    // A version stored as another must convert (upstream decodes into the typed
    // struct here, which refuses wrongly typed fields).
    crate::conversion::to_storage(r, &object).map_err(|e| cannot_handle(r, e))?;
    crate::conversion::check_shared_storage(r, &object).map_err(|e| cannot_handle(r, e))?;
    Ok(Decoded { object, warnings })
}

/// `serde_json::from_value::<DynamicObject>` of a JSON object, without the buffering
/// serde's `flatten` does: apiVersion and kind (when both are strings) become the
/// types, `metadata` the typed metadata (default when absent), the rest, in order,
/// the data. Anything else takes the general path.
fn dynamic_from_map(mut map: Map<String, Value>) -> Result<DynamicObject, serde_json::Error> {
    let typed = matches!(
        (map.get("apiVersion"), map.get("kind")),
        (Some(Value::String(_)), Some(Value::String(_)))
    );
    if !typed {
        return serde_json::from_value(Value::Object(map));
    }
    let (Some(Value::String(api_version)), Some(Value::String(kind))) =
        (map.shift_remove("apiVersion"), map.shift_remove("kind"))
    else {
        return Err(serde::de::Error::custom("apiVersion and kind went missing"));
    };
    let metadata = match map.shift_remove("metadata") {
        Some(m) => ObjectMeta::deserialize(m)?,
        None => ObjectMeta::default(),
    };
    Ok(DynamicObject {
        types: Some(TypeMeta { api_version, kind }),
        metadata,
        data: Value::Object(map),
    })
}

/// Room for a typical object's JSON, so encoding rarely has to grow its buffer.
const ENCODE_CAPACITY: usize = 1024;

fn to_json(value: &impl serde::Serialize) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(ENCODE_CAPACITY);
    serde_json::to_writer(&mut out, value)?;
    Ok(out)
}

/// A `DynamicObject` with other metadata: serialises exactly as the object would
/// (the same derive over the same fields) without copying its data.
#[derive(serde::Serialize)]
struct WithMetadata<'a> {
    #[serde(flatten)]
    types: &'a Option<TypeMeta>,
    metadata: &'a ObjectMeta,
    #[serde(flatten)]
    data: &'a Value,
}

/// The stored form: everything but resourceVersion (etcd's revision is the version).
pub fn encode_for_storage(obj: &DynamicObject) -> Result<Vec<u8>, ApiError> {
    if obj.metadata.resource_version.is_none() {
        return to_json(obj).map_err(ApiError::internal);
    }
    let metadata = ObjectMeta {
        resource_version: None,
        ..obj.metadata.clone()
    };
    to_json(&WithMetadata {
        types: &obj.types,
        metadata: &metadata,
        data: &obj.data,
    })
    .map_err(ApiError::internal)
}

/// The stored form of `obj`, an object in the version `r` serves: converted to the
/// storage version first when `r` is served at another one.
pub fn encode_for_storage_as(r: &ResourceInfo, obj: &DynamicObject) -> Result<Vec<u8>, ApiError> {
    match crate::conversion::to_storage(r, obj).map_err(|e| cannot_handle(r, e))? {
        Some(stored) => encode_for_storage(&stored),
        None => encode_for_storage(obj),
    }
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
                None => to_json(obj).map_err(ApiError::internal)?.into(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_from_maps_are_what_serde_makes_of_them() {
        let cases = [
            json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","labels":{"x":"y"},
                "creationTimestamp":"2024-01-01T00:00:00Z"},"data":{"k":"v"},"immutable":true}),
            json!({"kind":"Pod","data":1,"apiVersion":"v1","z":null,"a":[1,2]}),
            json!({"apiVersion":"v1","kind":"Pod"}),
            json!({"apiVersion":"v1","kind":"Pod","metadata":null}),
            json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":5}}),
            json!({"apiVersion":"v1","kind":"Pod","metadata":[]}),
            json!({"apiVersion":"v1","kind":"Pod","metadata":{"creationTimestamp":"yesterday"}}),
            json!({"apiVersion":"v1","kind":"Pod","spec":{},"metadata":{"name":"late"},"status":{}}),
            json!({"apiVersion":5,"kind":"Pod","metadata":{}}),
            json!({"apiVersion":"v1","metadata":{}}),
            json!({"metadata":{"name":"n"},"x":{"y":"z"}}),
            json!({}),
        ];
        for case in cases {
            let Value::Object(map) = case.clone() else {
                unreachable!()
            };
            let ours = dynamic_from_map(map).map_err(|e| e.to_string());
            let theirs =
                serde_json::from_value::<DynamicObject>(case.clone()).map_err(|e| e.to_string());
            assert_eq!(ours, theirs, "{case}");
            if let Ok(o) = ours {
                assert_eq!(
                    serde_json::to_string(&o).unwrap(),
                    serde_json::to_string(&theirs.unwrap()).unwrap(),
                    "key order of {case}"
                );
            }
        }
    }

    #[test]
    fn stored_form_has_no_resource_version_and_keeps_the_rest() {
        let mut obj: DynamicObject =
            serde_json::from_value(json!({"apiVersion":"v1","kind":"ConfigMap",
            "metadata":{"name":"a","namespace":"d","resourceVersion":"7","uid":"u","selfLink":"/x"},
            "data":{"k":"v"},"binaryData":{"b":"eA=="}}))
            .unwrap();
        let expected = |o: &DynamicObject| {
            let mut o = o.clone();
            o.metadata.resource_version = None;
            serde_json::to_vec(&o).unwrap()
        };
        assert_eq!(encode_for_storage(&obj).unwrap(), expected(&obj));
        obj.metadata.resource_version = None;
        assert_eq!(encode_for_storage(&obj).unwrap(), expected(&obj));
        obj.types = None;
        obj.data = Value::Null;
        assert_eq!(encode_for_storage(&obj).unwrap(), expected(&obj));
        obj.metadata.resource_version = Some("8".into());
        assert_eq!(encode_for_storage(&obj).unwrap(), expected(&obj));
        obj.data = json!([1]);
        assert_eq!(
            encode_for_storage(&obj).map_err(|e| e.message),
            serde_json::to_vec(&{
                let mut o = obj.clone();
                o.metadata.resource_version = None;
                o
            })
            .map_err(|e| ApiError::internal(e).message)
        );
    }
}
