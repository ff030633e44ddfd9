//! Running probe actions and lifecycle hooks against a container: exec (containerd exec,
//! through `runtime::exec`), httpGet (HTTP/1.1 to the pod IP), tcpSocket (a connect) and
//! sleep. Used by the probers ([`super::probes`]) and by postStart / preStop.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::core::v1::{
    ContainerPort, ExecAction, HTTPGetAction, LifecycleHandler, TCPSocketAction,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::runtime::exec::ExecRequest;
use crate::runtime::Containerd;

/// Where a handler runs.
#[derive(Debug, Clone)]
pub struct HandlerTarget {
    /// For exec actions (None: exec is refused, e.g. in unit tests).
    pub runtime: Option<Containerd>,
    pub container_id: String,
    pub container_name: String,
    /// The pod's IP (the node's for hostNetwork pods); httpGet / tcpSocket default host.
    pub pod_ip: Option<String>,
    /// The container's declared ports, for named ports.
    pub ports: Vec<ContainerPort>,
    /// Directory for exec FIFOs.
    pub fifo_root: PathBuf,
}

/// A named or numeric port -> the number (upstream `findPortByName`).
pub fn resolve_port(port: &IntOrString, ports: &[ContainerPort]) -> Result<u16, String> {
    let n = match port {
        IntOrString::Int(n) => *n,
        IntOrString::String(s) => match s.parse::<i32>() {
            Ok(n) => n,
            Err(_) => ports
                .iter()
                .find(|p| p.name.as_deref() == Some(s.as_str()))
                .map(|p| p.container_port)
                .ok_or_else(|| format!("couldn't find port: {s}"))?,
        },
    };
    u16::try_from(n)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("invalid port number: {n}"))
}

fn host_of(explicit: Option<&String>, target: &HandlerTarget) -> Result<String, String> {
    explicit
        .filter(|h| !h.is_empty())
        .cloned()
        .or_else(|| target.pod_ip.clone())
        .ok_or_else(|| "pod has no IP address".to_string())
}

fn socket_addr(host: &str, port: u16) -> Result<SocketAddr, String> {
    let ip: IpAddr = host
        .parse()
        .map_err(|_| format!("host {host:?} is not an IP address"))?;
    Ok(SocketAddr::new(ip, port))
}

/// The status line's code of an HTTP/1.x response.
pub fn parse_status_code(head: &str) -> Option<u16> {
    let line = head.lines().next()?;
    let mut parts = line.split_whitespace();
    if !parts.next()?.starts_with("HTTP/") {
        return None;
    }
    parts.next()?.parse().ok()
}

/// The GET request upstream's prober sends (User-Agent `kube-probe/<major.minor>`).
pub fn http_request(action: &HTTPGetAction, host: &str, port: u16) -> String {
    let path = action
        .path
        .as_deref()
        .filter(|p| !p.is_empty())
        .unwrap_or("/");
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    let host_header = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut headers = vec![
        ("Host".to_string(), host_header),
        ("User-Agent".to_string(), "kube-probe/1.33".to_string()),
        ("Accept".to_string(), "*/*".to_string()),
    ];
    for h in action.http_headers.iter().flatten() {
        match headers
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(&h.name))
        {
            Some(slot) => slot.1 = h.value.clone(),
            None => headers.push((h.name.clone(), h.value.clone())),
        }
    }
    let mut req = format!("GET {path} HTTP/1.1\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("Connection: close\r\n\r\n");
    req
}

async fn http_get(target: &HandlerTarget, action: &HTTPGetAction) -> Result<(), String> {
    let port = resolve_port(&action.port, &target.ports)?;
    let host = host_of(action.host.as_ref(), target)?;
    let scheme = action.scheme.as_deref().unwrap_or("HTTP");
    let url = format!(
        "{}://{host}:{port}{}",
        scheme.to_ascii_lowercase(),
        action.path.as_deref().unwrap_or("/")
    );
    if !scheme.eq_ignore_ascii_case("HTTP") {
        return Err(format!(
            "Get {url:?}: scheme {scheme} is not supported by this kubelet"
        ));
    }
    let addr = socket_addr(&host, port)?;
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("Get {url:?}: dial tcp {addr}: connect: {e}"))?;
    stream
        .write_all(http_request(action, &host, port).as_bytes())
        .await
        .map_err(|e| format!("Get {url:?}: {e}"))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    // The status line is all that matters; stop reading after 10 KiB.
    loop {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("Get {url:?}: {e}"))?;
        buf.extend_from_slice(&chunk[..n]);
        if n == 0 || buf.windows(2).any(|w| w == b"\r\n") || buf.len() > 10 * 1024 {
            break;
        }
    }
    let head = String::from_utf8_lossy(&buf);
    match parse_status_code(&head) {
        Some(code) if (200..400).contains(&code) => Ok(()),
        Some(code) => Err(format!("HTTP probe failed with statuscode: {code}")),
        None => Err(format!("Get {url:?}: malformed HTTP response")),
    }
}

async fn tcp_socket(target: &HandlerTarget, action: &TCPSocketAction) -> Result<(), String> {
    let port = resolve_port(&action.port, &target.ports)?;
    let host = host_of(action.host.as_ref(), target)?;
    let addr = socket_addr(&host, port)?;
    tokio::net::TcpStream::connect(addr)
        .await
        .map(|_| ())
        .map_err(|e| format!("dial tcp {addr}: connect: {e}"))
}

/// Runs `command` in the container; Ok(output) on exit 0, Err(output or error) otherwise.
async fn exec(target: &HandlerTarget, action: &ExecAction) -> Result<String, String> {
    let command = action.command.clone().unwrap_or_default();
    if command.is_empty() {
        return Err("exec action has no command".into());
    }
    let req = ExecRequest {
        container_id: target.container_id.clone(),
        command,
        tty: false,
        stdin: false,
        stdout: true,
        stderr: true,
    };
    let Some(runtime) = target.runtime.as_ref() else {
        return Err("exec actions need the container runtime".into());
    };
    let mut process = runtime
        .exec(&req, &target.fifo_root)
        .await
        .map_err(|e| e.to_string())?;
    let mut output = Vec::new();
    let read_out = async {
        if let Some(mut out) = process.stdout.take() {
            let _ = out.read_to_end(&mut output).await;
        }
        let mut err_buf = Vec::new();
        if let Some(mut err) = process.stderr.take() {
            let _ = err.read_to_end(&mut err_buf).await;
        }
        output.extend(err_buf);
    };
    read_out.await;
    let code = runtime
        .wait_exec(&process.container_id, &process.exec_id)
        .await;
    let _ = runtime
        .delete_exec(&process.container_id, &process.exec_id)
        .await;
    process.cleanup();
    let text = String::from_utf8_lossy(&output).trim_end().to_string();
    match code {
        Ok(0) => Ok(text),
        Ok(code) if text.is_empty() => Err(format!("command exited with {code}")),
        Ok(_) => Err(text),
        Err(e) => Err(e.to_string()),
    }
}

/// One probe attempt with its timeout; Err carries upstream-like output.
pub async fn run_probe_action(
    target: &HandlerTarget,
    exec_action: Option<&ExecAction>,
    http: Option<&HTTPGetAction>,
    tcp: Option<&TCPSocketAction>,
    timeout: Duration,
) -> Result<(), String> {
    let attempt = async {
        if let Some(e) = exec_action {
            exec(target, e).await.map(|_| ())
        } else if let Some(h) = http {
            http_get(target, h).await
        } else if let Some(t) = tcp {
            tcp_socket(target, t).await
        } else {
            Err("probe has no handler (grpc probes are not supported)".into())
        }
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(r) => r,
        Err(_) => Err(match exec_action {
            Some(e) => format!(
                "command {:?} timed out",
                e.command.clone().unwrap_or_default().join(" ")
            ),
            None => format!("probe timed out after {}s", timeout.as_secs()),
        }),
    }
}

/// Runs a postStart / preStop handler. The error is upstream's hook failure message.
pub async fn run_handler(target: &HandlerTarget, h: &LifecycleHandler) -> Result<(), String> {
    let timeout = Duration::from_secs(30);
    if let Some(s) = &h.sleep {
        tokio::time::sleep(Duration::from_secs(u64::try_from(s.seconds).unwrap_or(0))).await;
        return Ok(());
    }
    let result = match tokio::time::timeout(timeout, async {
        if let Some(e) = &h.exec {
            exec(target, e).await.map(|_| ())
        } else if let Some(g) = &h.http_get {
            http_get(target, g).await
        } else if let Some(t) = &h.tcp_socket {
            tcp_socket(target, t).await
        } else {
            Ok(())
        }
    })
    .await
    {
        Ok(r) => r,
        Err(_) => Err("timed out".into()),
    };
    result.map_err(|msg| match &h.exec {
        Some(e) => format!(
            "Exec lifecycle hook ({:?}) for Container {:?} failed - error: {msg}",
            e.command.clone().unwrap_or_default(),
            target.container_name
        ),
        None => format!(
            "HTTP lifecycle hook for Container {:?} failed - error: {msg}",
            target.container_name
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::HTTPHeader;

    #[test]
    fn ports() {
        let ports = vec![ContainerPort {
            name: Some("http".into()),
            container_port: 8080,
            ..Default::default()
        }];
        assert_eq!(resolve_port(&IntOrString::Int(80), &ports), Ok(80));
        assert_eq!(
            resolve_port(&IntOrString::String("http".into()), &ports),
            Ok(8080)
        );
        assert_eq!(
            resolve_port(&IntOrString::String("9090".into()), &ports),
            Ok(9090)
        );
        assert_eq!(
            resolve_port(&IntOrString::String("metrics".into()), &ports),
            Err("couldn't find port: metrics".into())
        );
        assert!(resolve_port(&IntOrString::Int(0), &ports).is_err());
    }

    #[test]
    fn http_pieces() {
        assert_eq!(parse_status_code("HTTP/1.1 200 OK\r\n"), Some(200));
        assert_eq!(parse_status_code("HTTP/1.0 503 Busy\r\n"), Some(503));
        assert_eq!(parse_status_code("garbage"), None);
        let action = HTTPGetAction {
            path: Some("healthz".into()),
            port: IntOrString::Int(80),
            http_headers: Some(vec![HTTPHeader {
                name: "X-Probe".into(),
                value: "1".into(),
            }]),
            ..Default::default()
        };
        let req = http_request(&action, "10.0.0.5", 80);
        assert!(
            req.starts_with("GET /healthz HTTP/1.1\r\nHost: 10.0.0.5:80\r\n"),
            "{req}"
        );
        assert!(req.contains("User-Agent: kube-probe/1.33\r\n"));
        assert!(req.contains("X-Probe: 1\r\n"));
        assert!(req.ends_with("Connection: close\r\n\r\n"));
    }

    #[tokio::test]
    async fn tcp_and_http_against_loopback() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let mut n = 0;
            while let Ok((mut s, _)) = listener.accept().await {
                n += 1;
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                let code = if n % 2 == 1 { "200 OK" } else { "500 Oops" };
                let _ = s
                    .write_all(format!("HTTP/1.1 {code}\r\nContent-Length: 0\r\n\r\n").as_bytes())
                    .await;
            }
        });
        let target = HandlerTarget {
            runtime: None,
            container_id: "c".into(),
            container_name: "c".into(),
            pod_ip: Some("127.0.0.1".into()),
            ports: vec![],
            fifo_root: std::env::temp_dir(),
        };
        let http = HTTPGetAction {
            port: IntOrString::Int(i32::from(port)),
            path: Some("/".into()),
            ..Default::default()
        };
        let t = Duration::from_secs(5);
        assert_eq!(
            run_probe_action(&target, None, Some(&http), None, t).await,
            Ok(())
        );
        assert_eq!(
            run_probe_action(&target, None, Some(&http), None, t).await,
            Err("HTTP probe failed with statuscode: 500".into())
        );
        let tcp = TCPSocketAction {
            port: IntOrString::Int(i32::from(port)),
            host: None,
        };
        assert_eq!(
            run_probe_action(&target, None, None, Some(&tcp), t).await,
            Ok(())
        );
        let closed = TCPSocketAction {
            port: IntOrString::Int(1),
            host: None,
        };
        let err = run_probe_action(&target, None, None, Some(&closed), t)
            .await
            .unwrap_err();
        assert!(err.starts_with("dial tcp 127.0.0.1:1: connect:"), "{err}");
    }
}
