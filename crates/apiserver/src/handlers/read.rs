//! GET and LIST. LISTs without paging are served from the watch cache (after it has
//! caught up with etcd for a consistent read); paged LISTs and exact-revision LISTs
//! read etcd at one revision so every page belongs to the same snapshot.

use std::sync::Arc;
use std::time::Duration;

use api_types::selectors::{FieldSelector, LabelSelector};
use api_types::ApiError;
use base64::Engine;
use bytes::Bytes;
use http::{Response, StatusCode};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;

use super::objects;
use crate::conversion;
use crate::registry::fields;
use crate::request::ResourceRequest;
use crate::server::{ApiServer, Body, RequestContext};
use crate::storage::{CachedObject, StorageError, Stored};

/// The `resourceVersion` query parameter of a LIST or WATCH as a number.
pub fn parse_resource_version(rv: Option<&str>) -> Result<Option<i64>, ApiError> {
    rv.map(|v| {
        v.parse::<i64>().map_err(|_| {
            ApiError::bad_request(format!(
                "resourceVersion: Invalid value: {v:?}: must be a valid integer"
            ))
        })
    })
    .transpose()
}

/// Maps storage failures to upstream's API errors.
pub fn storage_error(e: StorageError, req: &ResourceRequest) -> ApiError {
    let name = req.name.as_deref().unwrap_or("");
    match e {
        StorageError::NotFound => ApiError::not_found(req.resource, name),
        StorageError::AlreadyExists => ApiError::already_exists(req.resource, name),
        StorageError::Conflict { .. } => ApiError::conflict_modified(req.resource, name),
        StorageError::Compacted {
            requested,
            compacted,
        } => ApiError::expired(format!(
            "too old resource version: {requested} ({compacted})"
        )),
        StorageError::Unavailable(why) => {
            ApiError::service_unavailable(format!("etcd is unavailable: {why}"))
        }
        StorageError::Corrupt(why) => ApiError::internal(why),
    }
}

pub fn key(server: &ApiServer, req: &ResourceRequest) -> String {
    server.store.key(
        req.resource.storage_resource(),
        req.namespace.as_deref().filter(|_| req.resource.namespaced),
        req.name.as_deref().unwrap_or(""),
    )
}

/// A stored value decoded, in the version `req` serves.
pub fn decode(req: &ResourceRequest, stored: &Stored) -> Result<CachedObject, ApiError> {
    let obj = CachedObject::decode(stored).map_err(|e| storage_error(e, req))?;
    conversion::owned_view(req.resource, obj).map_err(ApiError::internal)
}

/// A watch cache object in the version `req` serves.
pub fn view(req: &ResourceRequest, obj: Arc<CachedObject>) -> Result<Arc<CachedObject>, ApiError> {
    conversion::cached_view(req.resource, obj).map_err(ApiError::internal)
}

/// Reads the current object from etcd, decoded, in the version `req` serves.
pub async fn current(server: &ApiServer, req: &ResourceRequest) -> Result<CachedObject, ApiError> {
    match server
        .store
        .get(&key(server, req))
        .await
        .map_err(|e| storage_error(e, req))?
    {
        Some(stored) => decode(req, &stored),
        None => Err(ApiError::not_found(
            req.resource,
            req.name.as_deref().unwrap_or(""),
        )),
    }
}

pub async fn get(
    server: &ApiServer,
    req: &ResourceRequest,
    ctx: &RequestContext,
) -> Result<Response<Body>, ApiError> {
    if !req.resource.has_verb("get") {
        return Err(ApiError::method_not_allowed(format!(
            "get is not allowed on {}",
            req.resource.group_resource()
        )));
    }
    let from_cache = ctx.query.get("resourceVersion") == Some("0");
    let cached = if from_cache {
        server
            .cache(req.resource.storage_resource())
            .and_then(|c| c.get(&key(server, req)))
    } else {
        None
    };
    let obj = match cached {
        Some(c) => view(req, c)?,
        None => Arc::new(current(server, req).await?),
    };
    let json = obj.json().map_err(|e| storage_error(e, req))?;
    objects::object_response(req.resource, ctx, StatusCode::OK, &obj.object, Some(json))
}

/// Parsed label and field selectors of a LIST, DELETECOLLECTION or WATCH.
pub struct Filter {
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    pub fn from_query(req: &ResourceRequest, ctx: &RequestContext) -> Result<Filter, ApiError> {
        let labels = LabelSelector::parse(ctx.query.get("labelSelector").unwrap_or(""))
            .map_err(ApiError::from)?;
        let fields = FieldSelector::parse(ctx.query.get("fieldSelector").unwrap_or(""))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        for (field, _, _) in fields.requirements() {
            if !fields::is_supported(req.resource, field) {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {field}"
                )));
            }
        }
        Ok(Filter { labels, fields })
    }

    pub fn matches(&self, obj: &api_types::DynamicObject) -> bool {
        let empty = std::collections::BTreeMap::new();
        self.labels
            .matches(obj.metadata.labels.as_ref().unwrap_or(&empty))
            && self
                .fields
                .matches(|f| Some(fields::value_or_default(obj, f)))
    }
}

/// The continue token upstream uses: base64 of {"v","rv","start"}.
#[derive(serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    v: String,
    rv: i64,
    start: String,
}

fn encode_continue(rv: i64, start: &str) -> String {
    let token = ContinueToken {
        v: "meta.k8s.io/v1".into(),
        rv,
        start: start.to_string(),
    };
    base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&token).unwrap_or_default())
}

fn decode_continue(s: &str) -> Result<ContinueToken, ApiError> {
    let bad = |why: String| ApiError::bad_request(format!("continue key is not valid: {why}"));
    let raw = base64::engine::general_purpose::STANDARD
        .decode(s)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(s))
        .map_err(|e| bad(e.to_string()))?;
    let t: ContinueToken = serde_json::from_slice(&raw).map_err(|e| bad(e.to_string()))?;
    if t.v != "meta.k8s.io/v1" {
        return Err(bad(
            "incorrect encoded start resourceVersion (version meta.k8s.io/v1)".into(),
        ));
    }
    if t.rv <= 0 || t.start.contains("..") || t.start.starts_with('/') {
        return Err(bad("invalid start or resourceVersion".into()));
    }
    Ok(t)
}

pub async fn list(
    server: &ApiServer,
    req: &ResourceRequest,
    ctx: &RequestContext,
) -> Result<Response<Body>, ApiError> {
    let r = req.resource;
    if !r.has_verb("list") {
        return Err(ApiError::method_not_allowed(format!(
            "list is not allowed on {}",
            r.group_resource()
        )));
    }
    let filter = Filter::from_query(req, ctx)?;
    let limit = ctx.query.int("limit")?.unwrap_or(0).max(0);
    let cont = ctx.query.get("continue").filter(|c| !c.is_empty());
    let rv = ctx.query.get("resourceVersion").filter(|v| !v.is_empty());
    let rv_match = ctx
        .query
        .get("resourceVersionMatch")
        .filter(|v| !v.is_empty());
    let rv_num = parse_resource_version(rv)?;
    match (rv_match, rv_num) {
        (Some(_), None) => {
            return Err(ApiError::bad_request(
                "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
            ))
        }
        (Some("Exact"), Some(0)) => {
            return Err(ApiError::bad_request(
                "resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
            ))
        }
        (Some(m), _) if m != "Exact" && m != "NotOlderThan" => {
            return Err(ApiError::bad_request(format!(
                "resourceVersionMatch: Unsupported value: \"{m}\": supported values: \"Exact\", \"NotOlderThan\""
            )))
        }
        _ => {}
    }
    if cont.is_some() && rv_num.is_some_and(|v| v != 0) {
        return Err(ApiError::bad_request(
            "specifying resource version is not allowed when using continue",
        ));
    }
    let storage = r.storage_resource();
    let namespace = req.namespace.as_deref().filter(|_| r.namespaced);
    let prefix = server.store.resource_prefix(storage, namespace);
    let exact = rv_match == Some("Exact");
    let paged = (limit > 0 && rv_num != Some(0)) || cont.is_some() || exact;

    if !paged {
        if let Some(cache) = server.cache(storage) {
            let wanted = match rv_num {
                Some(0) => Some(0),
                Some(n) => Some(n),
                None => server.store.current_revision().await.ok(),
            };
            let caught_up = match wanted {
                Some(0) => cache.is_ready(),
                Some(n) => cache.wait_for_revision(n, Duration::from_secs(3)).await,
                None => false,
            };
            if caught_up {
                let (items, revision) = cache.snapshot(&prefix);
                let mut matching = Vec::with_capacity(items.len());
                for o in items {
                    let o = view(req, o)?;
                    if filter.matches(&o.object) {
                        matching.push(o);
                    }
                }
                let items = matching;
                let items: Vec<_> = if limit > 0 {
                    items.into_iter().take(limit as usize).collect()
                } else {
                    items
                };
                let objs: Vec<&api_types::DynamicObject> =
                    items.iter().map(|o| &o.object).collect();
                let encoded = items
                    .iter()
                    .map(|o| o.json())
                    .collect::<Result<Vec<Bytes>, _>>()
                    .map_err(|e| storage_error(e, req))?;
                let meta = ListMeta {
                    resource_version: Some(revision.to_string()),
                    ..Default::default()
                };
                return objects::list_response(r, ctx, &objs, &encoded, meta);
            }
            if let Some(n) = rv_num.filter(|n| *n > 0) {
                if n > cache.revision() {
                    return Err(ApiError::timeout(format!(
                        "Too large resource version: {n}, current: {}",
                        cache.revision()
                    )));
                }
            }
        }
    }

    // etcd path: one revision for every page.
    let (mut start, revision) = match cont {
        Some(c) => {
            let t = decode_continue(c)?;
            (format!("{prefix}{}", t.start), t.rv)
        }
        None => (prefix.clone(), if exact { rv_num.unwrap_or(0) } else { 0 }),
    };
    let page_size = if limit > 0 { limit.max(1) } else { 500 };
    let mut items: Vec<CachedObject> = Vec::new();
    let mut read_rev = revision;
    let mut next: Option<String> = None;
    loop {
        let page = server
            .store
            .list(&prefix, Some(&start), read_rev, page_size)
            .await
            .map_err(|e| match e {
                StorageError::Compacted { .. } if cont.is_some() => ApiError::expired(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
                ),
                StorageError::Compacted { .. } => {
                    ApiError::expired(format!("too old resource version: {read_rev}"))
                }
                other => storage_error(other, req),
            })?;
        read_rev = page.revision;
        let last_key = page.items.last().map(|s| s.key.clone());
        for stored in &page.items {
            let obj = decode(req, stored)?;
            if filter.matches(&obj.object) {
                items.push(obj);
                if limit > 0 && items.len() as i64 >= limit {
                    // Remaining keys after this one become the next page.
                    let is_last_of_page = last_key.as_deref() == Some(stored.key.as_str());
                    if !is_last_of_page || page.more {
                        next = Some(format!("{}\0", stored.key.trim_start_matches(&prefix)));
                    }
                    break;
                }
            }
        }
        if next.is_some() || !page.more || (limit > 0 && items.len() as i64 >= limit) {
            break;
        }
        match last_key {
            Some(k) => start = format!("{k}\0"),
            None => break,
        }
    }
    let meta = ListMeta {
        resource_version: Some(read_rev.to_string()),
        continue_: next.map(|start| encode_continue(read_rev, &start)),
        ..Default::default()
    };
    let objs: Vec<&api_types::DynamicObject> = items.iter().map(|o| &o.object).collect();
    let encoded = items
        .iter()
        .map(CachedObject::json)
        .collect::<Result<Vec<Bytes>, _>>()
        .map_err(|e| storage_error(e, req))?;
    objects::list_response(r, ctx, &objs, &encoded, meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip_and_reject_garbage() {
        let t = encode_continue(42, "default/web-1\0");
        let d = decode_continue(&t).unwrap();
        assert_eq!((d.rv, d.start.as_str()), (42, "default/web-1\0"));
        assert_eq!(decode_continue("!!!").err().map(|e| e.code), Some(400));
        let evil = base64::engine::general_purpose::STANDARD
            .encode(br#"{"v":"meta.k8s.io/v1","rv":1,"start":"../x"}"#);
        assert!(decode_continue(&evil).is_err());
    }
}
