//! Request paths and query strings of the kubelet API (pure).

/// Percent-decodes a query component (`+` is a space, as Go's url.ParseQuery).
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The decoded `key=value` pairs of a query string, in order (keys may repeat).
pub fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// A boolean query parameter: present with "", "1" or "true" (any case) is true.
pub fn flag(pairs: &[(String, String)], key: &str) -> bool {
    pairs
        .iter()
        .any(|(k, v)| k == key && (v.is_empty() || v == "1" || v.eq_ignore_ascii_case("true")))
}

/// Every value of a repeated parameter (exec's `command`).
pub fn all(pairs: &[(String, String)], key: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .collect()
}

/// The routes of the kubelet API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Healthz,
    Metrics,
    Pods,
    StatsSummary,
    ContainerLogs(Target),
    Exec(Target),
    Attach(Target),
    PortForward { namespace: String, pod: String },
    NotFound,
}

/// `<namespace>/<pod>[/<uid>]/<container>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub namespace: String,
    pub pod: String,
    pub uid: Option<String>,
    pub container: String,
}

fn target(parts: &[&str]) -> Option<Target> {
    match parts {
        [ns, pod, container] => Some(Target {
            namespace: ns.to_string(),
            pod: pod.to_string(),
            uid: None,
            container: container.to_string(),
        }),
        [ns, pod, uid, container] => Some(Target {
            namespace: ns.to_string(),
            pod: pod.to_string(),
            uid: Some(uid.to_string()),
            container: container.to_string(),
        }),
        _ => None,
    }
}

pub fn route(path: &str) -> Route {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let t = |rest: &[&str], f: fn(Target) -> Route| target(rest).map(f).unwrap_or(Route::NotFound);
    match parts.as_slice() {
        ["healthz"] => Route::Healthz,
        ["metrics"] => Route::Metrics,
        ["pods"] => Route::Pods,
        ["stats", "summary"] => Route::StatsSummary,
        ["containerLogs", rest @ ..] => t(rest, Route::ContainerLogs),
        ["exec", rest @ ..] => t(rest, Route::Exec),
        ["attach", rest @ ..] => t(rest, Route::Attach),
        ["portForward", ns, pod] | ["portForward", ns, pod, _] => Route::PortForward {
            namespace: ns.to_string(),
            pod: pod.to_string(),
        },
        _ => Route::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_queries() {
        assert_eq!(decode("a%20b+c%2Fd"), "a b c/d");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
        let p = pairs(Some(
            "command=sh&command=-c&command=echo+hi%3Bexit+3&stdout=1&tty",
        ));
        assert_eq!(all(&p, "command"), vec!["sh", "-c", "echo hi;exit 3"]);
        assert!(flag(&p, "stdout"));
        assert!(flag(&p, "tty"));
        assert!(!flag(&p, "stdin"));
        assert!(pairs(None).is_empty());
    }

    #[test]
    fn routes() {
        assert_eq!(route("/healthz"), Route::Healthz);
        assert_eq!(route("/stats/summary/"), Route::StatsSummary);
        assert_eq!(
            route("/containerLogs/ns/p/c"),
            Route::ContainerLogs(Target {
                namespace: "ns".into(),
                pod: "p".into(),
                uid: None,
                container: "c".into()
            })
        );
        assert_eq!(
            route("/exec/ns/p/u1/c"),
            Route::Exec(Target {
                namespace: "ns".into(),
                pod: "p".into(),
                uid: Some("u1".into()),
                container: "c".into()
            })
        );
        assert_eq!(
            route("/portForward/ns/p"),
            Route::PortForward {
                namespace: "ns".into(),
                pod: "p".into()
            }
        );
        assert_eq!(route("/exec/ns"), Route::NotFound);
        assert_eq!(route("/nope"), Route::NotFound);
    }
}
