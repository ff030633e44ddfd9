//! Dispatch, the read-only routes (/pods, /metrics) and /containerLogs.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::List;

use super::query::{self, Route, Target};
use super::{json, text, Body, ServerState};
use crate::logs::{self, LogOptions};
use crate::pod::{pod_log_dir, RunningPod};

pub async fn dispatch(
    state: Arc<ServerState>,
    route: Route,
    req: Request<Incoming>,
) -> Response<Body> {
    match route {
        Route::Healthz => text(StatusCode::OK, "ok"),
        Route::Metrics => match refresh_gauges(&state).await.render() {
            Ok(body) => {
                let mut r = text(StatusCode::OK, body);
                r.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                );
                r
            }
            Err(e) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("gathering metrics: {e}"),
            ),
        },
        Route::Pods => json(&pod_list(&state)),
        Route::StatsSummary => super::stats::summary(&state).await,
        Route::ContainerLogs(t) => container_logs(state, &t, req.uri().query()).await,
        Route::Exec(t) => super::exec::exec(state, t, req).await,
        Route::Attach(t) => super::attach::attach(state, t, req).await,
        Route::PortForward { namespace, pod } => {
            super::portforward::port_forward(state, namespace, pod, req).await
        }
        Route::NotFound => text(StatusCode::NOT_FOUND, "404 page not found"),
    }
}

/// Sets kubelet_running_pods and kubelet_running_containers from the pods running now
/// (containers by their containerd task state), before a scrape.
async fn refresh_gauges(state: &ServerState) -> &crate::metrics::Metrics {
    use crate::runtime::TaskState;
    let pods = running_pods(state);
    state.metrics.running_pods.set(pods.len() as f64);
    let (mut running, mut exited, mut created, mut unknown) = (0u32, 0u32, 0u32, 0u32);
    for rp in &pods {
        for c in &rp.app {
            match state.runtime.task_status(&c.id).await.map(|s| s.state) {
                Ok(TaskState::Running | TaskState::Paused | TaskState::Pausing) => running += 1,
                Ok(TaskState::Stopped) => exited += 1,
                Ok(TaskState::Created) => created += 1,
                _ => unknown += 1,
            }
        }
    }
    let g = &state.metrics.running_containers;
    g.with_label_values(&["running"]).set(running.into());
    g.with_label_values(&["exited"]).set(exited.into());
    g.with_label_values(&["created"]).set(created.into());
    g.with_label_values(&["unknown"]).set(unknown.into());
    &state.metrics
}

/// The running pods, as upstream's /pods PodList.
pub fn pod_list(state: &ServerState) -> List<Pod> {
    let mut items: Vec<Pod> = running_pods(state)
        .iter()
        .map(|rp| rp.pod.clone())
        .collect();
    items.sort_by(|a, b| {
        (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name))
    });
    List {
        items,
        metadata: Default::default(),
    }
}

pub fn running_pods(state: &ServerState) -> Vec<Arc<RunningPod>> {
    match state.running.lock() {
        Ok(map) => map.values().cloned().collect(),
        Err(poisoned) => poisoned.into_inner().values().cloned().collect(),
    }
}

/// The running pod `namespace/name` (with `uid` when given).
pub fn find_pod(
    state: &ServerState,
    namespace: &str,
    name: &str,
    uid: Option<&str>,
) -> Option<Arc<RunningPod>> {
    running_pods(state).into_iter().find(|rp| {
        let m = &rp.pod.metadata;
        m.namespace.as_deref().unwrap_or("default") == namespace
            && m.name.as_deref() == Some(name)
            && uid.is_none_or(|u| m.uid.as_deref() == Some(u))
    })
}

/// The containerd id of a running pod's container.
pub fn find_container(
    state: &ServerState,
    t: &Target,
) -> Result<(Arc<RunningPod>, String), Box<Response<Body>>> {
    let rp = find_pod(state, &t.namespace, &t.pod, t.uid.as_deref()).ok_or_else(|| {
        Box::new(text(
            StatusCode::NOT_FOUND,
            format!("pod {}/{} not found on this node", t.namespace, t.pod),
        ))
    })?;
    let id = rp
        .app
        .iter()
        .chain(&rp.init)
        .find(|c| c.name == t.container)
        .map(|c| c.id.clone())
        .ok_or_else(|| {
            Box::new(text(
                StatusCode::NOT_FOUND,
                format!("container {} is not valid for pod {}", t.container, t.pod),
            ))
        })?;
    Ok((rp, id))
}

/// The directory of a container's log files: from the running pod, else the newest
/// `<ns>_<pod>_<uid>` directory under podLogsDir (pods that already stopped).
fn container_log_dir(state: &ServerState, t: &Target) -> Option<PathBuf> {
    if let Some(rp) = find_pod(state, &t.namespace, &t.pod, t.uid.as_deref()) {
        let uid = rp.pod.metadata.uid.clone().unwrap_or_default();
        return Some(
            pod_log_dir(&state.pod_logs_dir, &t.namespace, &t.pod, &uid).join(&t.container),
        );
    }
    let prefix = format!("{}_{}_", t.namespace, t.pod);
    let entries = std::fs::read_dir(state.pod_logs_dir.clone()).ok()?;
    entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with(&prefix)
                && t.uid
                    .as_deref()
                    .is_none_or(|u| name.ends_with(&format!("_{u}")))
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()
        .map(|(_, p)| p.join(&t.container))
}

async fn container_logs(state: Arc<ServerState>, t: &Target, q: Option<&str>) -> Response<Body> {
    let pairs = query::pairs(q);
    let opts = match LogOptions::from_query(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        jiff::Timestamp::now(),
    ) {
        Ok(o) => o,
        Err(e) => return text(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let Some(dir) = container_log_dir(&state, t) else {
        return text(
            StatusCode::NOT_FOUND,
            format!("pod {}/{} not found on this node", t.namespace, t.pod),
        );
    };
    let file = match logs::select_log_file(&dir, opts.previous) {
        Ok(Some(f)) => f,
        Ok(None) if opts.previous => {
            return text(
                StatusCode::BAD_REQUEST,
                format!(
                    "previous terminated container \"{}\" in pod \"{}\" not found",
                    t.container, t.pod
                ),
            )
        }
        Ok(None) => {
            return text(
                StatusCode::NOT_FOUND,
                format!(
                    "container \"{}\" in pod \"{}\" has no logs",
                    t.container, t.pod
                ),
            )
        }
        Err(e) => {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("reading {}: {e}", dir.display()),
            )
        }
    };
    let container_id = find_container(&state, t).ok().map(|(_, id)| id);
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    let runtime = state.runtime.clone();
    tokio::spawn(async move {
        let running = move || {
            let runtime = runtime.clone();
            let id = container_id.clone();
            async move {
                match id {
                    Some(id) => matches!(
                        runtime.task_status(&id).await.map(|s| s.state),
                        Ok(crate::runtime::TaskState::Running)
                    ),
                    None => false,
                }
            }
        };
        if let Err(e) = logs::reader::stream(&file, &opts, running, tx).await {
            tracing::warn!(error = %e, "streaming container logs");
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| {
            (
                Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(b)),
                rx,
            )
        })
    });
    let mut resp = Response::new(http_body_util::StreamBody::new(stream).boxed());
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain"),
    );
    resp
}
