//! WATCH: a chunked stream of JSON events served from the watch cache.

use std::sync::Arc;
use std::time::Duration;

use api_types::table::IncludeObject;
use api_types::watch::EventType;
use api_types::{ApiError, DynamicObject};
use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
use rand::Rng;
use tokio::sync::{broadcast, mpsc};

use super::read::{parse_resource_version, Filter};
use crate::conversion;
use crate::metrics::METRICS;
use crate::negotiate::{self, Output};
use crate::request::ResourceRequest;
use crate::server::{ApiServer, Body, RequestContext};
use crate::storage::{CacheEvent, CachedObject, StorageError};

/// How one event is put on the wire.
struct Encoder {
    r: &'static api_types::resources::ResourceInfo,
    table: bool,
    include: IncludeObject,
}

impl Encoder {
    fn event(&self, kind: EventType, obj: &CachedObject) -> Bytes {
        let json = if self.table && kind != EventType::Bookmark {
            Bytes::new()
        } else {
            match obj.json() {
                Ok(json) => json,
                Err(e) => return self.error(&ApiError::internal(e)),
            }
        };
        let mut out = Vec::with_capacity(json.len() + 40);
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(kind.as_str().as_bytes());
        out.extend_from_slice(b"\",\"object\":");
        if self.table && kind != EventType::Bookmark {
            let table = crate::tables::to_table(
                self.r,
                std::slice::from_ref(&obj.object),
                self.include,
                ListMeta {
                    resource_version: Some(obj.revision.to_string()),
                    ..Default::default()
                },
                jiff::Timestamp::now(),
            );
            out.extend_from_slice(&serde_json::to_vec(&table).unwrap_or_default());
        } else {
            out.extend_from_slice(&json);
        }
        out.extend_from_slice(b"}\n");
        out.into()
    }

    fn bookmark(&self, revision: i64, initial_end: bool) -> Bytes {
        let mut meta = serde_json::json!({ "resourceVersion": revision.to_string() });
        if initial_end {
            meta["annotations"] = serde_json::json!({ "k8s.io/initial-events-end": "true" });
        }
        let obj = serde_json::json!({
            "kind": self.r.kind,
            "apiVersion": self.r.api_version(),
            "metadata": meta,
        });
        let mut line =
            serde_json::to_vec(&serde_json::json!({ "type": "BOOKMARK", "object": obj }))
                .unwrap_or_default();
        line.push(b'\n');
        line.into()
    }

    fn error(&self, e: &ApiError) -> Bytes {
        let mut line =
            serde_json::to_vec(&serde_json::json!({ "type": "ERROR", "object": e.to_json() }))
                .unwrap_or_default();
        line.push(b'\n');
        line.into()
    }
}

/// What a selector-filtered watcher sees of a change (upstream's watch filtering:
/// an object leaving the selection is DELETED, entering it is ADDED).
fn filtered(event: &CacheEvent, filter: &Filter) -> Option<(EventType, Arc<CachedObject>)> {
    let now = filter.matches(&event.object.object);
    let before = event
        .previous
        .as_ref()
        .is_some_and(|p| filter.matches(&p.object));
    match event.kind {
        EventType::Added => now.then(|| (EventType::Added, event.object.clone())),
        EventType::Modified => match (before, now) {
            (true, true) => Some((EventType::Modified, event.object.clone())),
            (false, true) => Some((EventType::Added, event.object.clone())),
            (true, false) => Some((EventType::Deleted, event.object.clone())),
            (false, false) => None,
        },
        EventType::Deleted => before.then(|| (EventType::Deleted, event.object.clone())),
        _ => None,
    }
}

/// The line a watcher is sent for one cache event: the change in the version the
/// watch asked for, if it is under the watch's key prefix (its namespace) and the
/// watcher's selectors let it through. An object that does not convert gives an
/// ERROR line, which ends the watch.
fn event_line(
    enc: &Encoder,
    event: Arc<CacheEvent>,
    prefix: &str,
    filter: &Filter,
    names: &NameFilter,
) -> Result<Option<Bytes>, Bytes> {
    if !event.object.key.starts_with(prefix) {
        return Ok(None);
    }
    let event =
        conversion::event_view(enc.r, event).map_err(|e| enc.error(&ApiError::internal(e)))?;
    Ok(filtered(&event, filter)
        .filter(|(_, o)| names.ok(&o.object))
        .map(|(kind, obj)| enc.event(kind, &obj)))
}

struct NameFilter(Option<String>);

impl NameFilter {
    fn ok(&self, obj: &DynamicObject) -> bool {
        self.0
            .as_deref()
            .is_none_or(|n| obj.metadata.name.as_deref() == Some(n))
    }
}

pub async fn watch(
    server: &ApiServer,
    req: &ResourceRequest,
    ctx: &RequestContext,
) -> Result<Response<Body>, ApiError> {
    let r = req.resource;
    if !r.has_verb("watch") {
        return Err(ApiError::method_not_allowed(format!(
            "watch is not allowed on {}",
            r.group_resource()
        )));
    }
    let filter = Filter::from_query(req, ctx)?;
    let names = NameFilter(req.name.clone());
    let table = matches!(
        negotiate::output(ctx.accept.as_deref(), false)?,
        Output::Table { .. }
    );
    let include = IncludeObject::parse(ctx.query.get("includeObject"))?;
    let bookmarks = ctx.query.flag("allowWatchBookmarks");
    let send_initial = ctx.query.get("sendInitialEvents").map(|v| v == "true");
    let timeout = match ctx.query.int("timeoutSeconds")? {
        Some(t) if t > 0 => Duration::from_secs(t as u64),
        // Upstream spreads watch lifetimes over [min-request-timeout, 2x].
        _ => Duration::from_secs(rand::rng().random_range(1800..3600)),
    };
    let rv = ctx.query.get("resourceVersion").filter(|v| !v.is_empty());
    let rv_num = parse_resource_version(rv)?;
    let storage = r.storage_resource();
    let cache = server
        .cache(storage)
        .ok_or_else(|| {
            ApiError::method_not_allowed(format!("watch is not allowed on {}", r.group_resource()))
        })?
        .clone();
    let prefix = server
        .store
        .resource_prefix(storage, req.namespace.as_deref().filter(|_| r.namespaced));
    let enc = Encoder { r, table, include };

    // Where the stream starts: current state (rv unset or 0, or sendInitialEvents)
    // or the events after a given revision.
    let initial_state = send_initial.unwrap_or(matches!(rv_num, None | Some(0)));
    let (initial, start, expired) = if initial_state {
        if rv_num.is_none() {
            // A consistent start: wait for the cache to reach etcd's revision.
            if let Ok(current) = server.store.current_revision().await {
                cache
                    .wait_for_revision(current, Duration::from_secs(3))
                    .await;
            }
        }
        let (items, start) = cache.snapshot_and_watch(&prefix);
        (items, Some(start), None)
    } else {
        let n = rv_num.unwrap_or(0);
        if n > cache.revision() && !cache.wait_for_revision(n, Duration::from_secs(3)).await {
            return Err(ApiError::timeout(format!(
                "Too large resource version: {n}, current: {}",
                cache.revision()
            )));
        }
        match cache.watch_from(n) {
            Ok(start) => (Vec::new(), Some(start), None),
            Err(StorageError::Compacted { requested, compacted }) => (
                Vec::new(),
                None,
                Some(ApiError::expired(format!(
                    "The resourceVersion for the provided watch is too old. too old resource version: {requested} ({compacted})"
                ))),
            ),
            Err(e) => return Err(ApiError::internal(e)),
        }
    };
    let from_rev = rv_num.unwrap_or(0);

    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let bookmark_interval = server.bookmark_interval;
    let gauge = METRICS
        .registered_watchers
        .with_label_values(&[r.group, r.version, r.kind]);
    tokio::spawn(async move {
        gauge.inc();
        let send = |b: Bytes| {
            let tx = tx.clone();
            async move { tx.send(b).await.is_ok() }
        };
        'stream: {
            if let Some(e) = expired {
                let _ = send(enc.error(&e)).await;
                break 'stream;
            }
            let Some(mut start) = start else {
                break 'stream;
            };
            for obj in initial {
                let obj = match conversion::cached_view(enc.r, obj) {
                    Ok(obj) => obj,
                    Err(e) => {
                        // As a stored object that does not decode: the watch ends.
                        let _ = send(enc.error(&ApiError::internal(e))).await;
                        break 'stream;
                    }
                };
                if filter.matches(&obj.object)
                    && names.ok(&obj.object)
                    && !send(enc.event(EventType::Added, &obj)).await
                {
                    break 'stream;
                }
            }
            if send_initial == Some(true)
                && bookmarks
                && !send(enc.bookmark(start.revision, true)).await
            {
                break 'stream;
            }
            let mut last_rev = start.revision.max(from_rev);
            for ev in std::mem::take(&mut start.backlog) {
                if ev.revision <= from_rev {
                    continue;
                }
                last_rev = last_rev.max(ev.revision);
                match event_line(&enc, ev, &prefix, &filter, &names) {
                    Ok(None) => {}
                    Ok(Some(line)) => {
                        if !send(line).await {
                            break 'stream;
                        }
                    }
                    Err(error) => {
                        let _ = send(error).await;
                        break 'stream;
                    }
                }
            }
            let deadline = tokio::time::sleep(timeout);
            tokio::pin!(deadline);
            let mut ticker = tokio::time::interval(bookmark_interval);
            ticker.tick().await;
            loop {
                tokio::select! {
                    _ = &mut deadline => break,
                    _ = tx.closed() => break,
                    _ = ticker.tick(), if bookmarks => {
                        if !send(enc.bookmark(last_rev, false)).await { break; }
                    }
                    ev = start.live.recv() => match ev {
                        Ok(ev) => {
                            // Live events follow the snapshot/backlog; skip only what
                            // the client said it has already seen.
                            if ev.revision <= from_rev {
                                continue;
                            }
                            last_rev = last_rev.max(ev.revision);
                            match event_line(&enc, ev, &prefix, &filter, &names) {
                                Ok(None) => {}
                                Ok(Some(line)) => {
                                    if !send(line).await { break; }
                                }
                                Err(error) => {
                                    let _ = send(error).await;
                                    break;
                                }
                            }
                        }
                        // A watcher too slow to keep up is closed; the client re-watches.
                        Err(broadcast::error::RecvError::Lagged(_)) => break,
                        Err(broadcast::error::RecvError::Closed) => break,
                    }
                }
            }
        }
        gauge.dec();
    });

    let stream = tokio_stream::wrappers::ReceiverStream::new(rx)
        .map(|b| Ok::<_, std::convert::Infallible>(Frame::data(b)));
    let mut resp = Response::new(BodyExt::boxed(StreamBody::new(stream)));
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp.headers_mut().insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    Ok(resp)
}
