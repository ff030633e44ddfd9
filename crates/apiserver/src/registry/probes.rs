//! Probe and lifecycle-hook validation (upstream's validateProbe, validateHandler,
//! validateLifecycle): exactly one handler, sane thresholds, valid ports.

use api_types::validation::{child, FieldError};
use k8s_openapi::api::core::v1::{HTTPGetAction, Lifecycle, LifecycleHandler, Probe};

use super::containers::{is_valid_port_num, validate_port_num_or_name};
use super::metadata::validate_nonnegative;
use super::pod_spec::opt;

fn validate_http_get(h: &HTTPGetAction, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if opt(&h.path).is_empty() {
        errs.push(FieldError::required(child(path, "path"), ""));
    }
    errs.extend(validate_port_num_or_name(&h.port, &child(path, "port")));
    let scheme = opt(&h.scheme);
    if scheme != "HTTP" && scheme != "HTTPS" {
        errs.push(FieldError::not_supported(
            child(path, "scheme"),
            scheme,
            &["HTTP", "HTTPS"],
        ));
    }
    for hd in h.http_headers.iter().flatten() {
        if hd.name.is_empty()
            || !hd
                .name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-')
        {
            errs.push(FieldError::invalid(child(path, "httpHeaders"), hd.name.as_str(), "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')"));
        }
    }
    errs
}

/// `validateHandler` for probes and lifecycle hooks: exactly one handler.
fn validate_handler(
    h: &LifecycleHandler,
    grpc_port: Option<i32>,
    grace: Option<i64>,
    path: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut count = 0;
    let mut one = |name: &str, present: bool, errs: &mut Vec<FieldError>| -> bool {
        if !present {
            return false;
        }
        if count > 0 {
            errs.push(FieldError::forbidden(
                child(path, name),
                "may not specify more than 1 handler type",
            ));
            return false;
        }
        count += 1;
        true
    };
    if one("exec", h.exec.is_some(), &mut errs)
        && h.exec
            .as_ref()
            .is_some_and(|e| e.command.as_ref().is_none_or(Vec::is_empty))
    {
        errs.push(FieldError::required(
            child(&child(path, "exec"), "command"),
            "",
        ));
    }
    if one("httpGet", h.http_get.is_some(), &mut errs) {
        if let Some(g) = &h.http_get {
            errs.extend(validate_http_get(g, &child(path, "httpGet")));
        }
    }
    if one("tcpSocket", h.tcp_socket.is_some(), &mut errs) {
        if let Some(t) = &h.tcp_socket {
            errs.extend(validate_port_num_or_name(
                &t.port,
                &child(&child(path, "tcpSocket"), "port"),
            ));
        }
    }
    if one("grpc", grpc_port.is_some(), &mut errs) {
        if let Some(p) = grpc_port {
            for m in is_valid_port_num(i64::from(p)) {
                errs.push(FieldError::invalid(
                    child(&child(path, "grpc"), "port"),
                    p,
                    m,
                ));
            }
        }
    }
    if one("sleep", h.sleep.is_some(), &mut errs) {
        if let (Some(s), Some(g)) = (&h.sleep, grace) {
            if s.seconds < 0 || s.seconds > g {
                errs.push(FieldError::invalid(
                    child(path, "sleep"),
                    s.seconds,
                    format!(
                        "must be non-negative and less than terminationGracePeriodSeconds ({g})"
                    ),
                ));
            }
        }
    }
    if count == 0 {
        errs.push(FieldError::required(path, "must specify a handler type"));
    }
    errs
}

/// Which probe: liveness and startup probes must have successThreshold 1.
#[derive(Clone, Copy, PartialEq)]
pub enum ProbeKind {
    Liveness,
    Readiness,
    Startup,
}

/// `validateProbe` plus the liveness / readiness / startup specifics.
pub fn validate_probe(p: Option<&Probe>, kind: ProbeKind, path: &str) -> Vec<FieldError> {
    let Some(p) = p else { return Vec::new() };
    let handler = LifecycleHandler {
        exec: p.exec.clone(),
        http_get: p.http_get.clone(),
        tcp_socket: p.tcp_socket.clone(),
        sleep: None,
    };
    let mut errs = validate_handler(&handler, p.grpc.as_ref().map(|g| g.port), None, path);
    for (field, v) in [
        ("initialDelaySeconds", p.initial_delay_seconds),
        ("timeoutSeconds", p.timeout_seconds),
        ("periodSeconds", p.period_seconds),
        ("successThreshold", p.success_threshold),
        ("failureThreshold", p.failure_threshold),
    ] {
        errs.extend(validate_nonnegative(
            i64::from(v.unwrap_or(0)),
            &child(path, field),
        ));
    }
    if let Some(t) = p.termination_grace_period_seconds.filter(|t| *t <= 0) {
        errs.push(FieldError::invalid(
            child(path, "terminationGracePeriodSeconds"),
            t,
            "must be greater than 0",
        ));
    }
    match kind {
        ProbeKind::Liveness | ProbeKind::Startup if p.success_threshold.unwrap_or(0) != 1 => {
            errs.push(FieldError::invalid(
                child(path, "successThreshold"),
                p.success_threshold.unwrap_or(0),
                "must be 1",
            ));
        }
        ProbeKind::Readiness if p.termination_grace_period_seconds.is_some() => {
            errs.push(FieldError::invalid(
                child(path, "terminationGracePeriodSeconds"),
                p.termination_grace_period_seconds.unwrap_or(0),
                "must not be set for readinessProbes",
            ));
        }
        _ => {}
    }
    errs
}

/// `validateLifecycle`: postStart and preStop handlers.
pub fn validate_lifecycle(l: &Lifecycle, grace: Option<i64>, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (field, h) in [("postStart", &l.post_start), ("preStop", &l.pre_stop)] {
        if let Some(h) = h {
            errs.extend(validate_handler(h, None, grace, &child(path, field)));
        }
    }
    errs
}
