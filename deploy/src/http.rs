//! A tiny blocking HTTP/1.1 client for health checks: plain HTTP (etcd's `/health`) and
//! HTTPS with rustls (the apiserver's `/readyz`), one request per connection.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// A response: status code and body (de-chunked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// A TLS client configuration trusting `ca_pem`, presenting a client certificate if given.
pub fn tls_client_config(
    ca_pem: &str,
    client_cert: Option<(&str, &str)>,
) -> Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots
            .add(cert.context("parsing CA PEM")?)
            .context("adding CA certificate")?;
    }
    if roots.is_empty() {
        bail!("no certificate in the CA PEM");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_root_certificates(roots);
    let config = match client_cert {
        Some((cert_pem, key_pem)) => {
            let chain = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .context("parsing client certificate PEM")?;
            let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
                .context("parsing client key PEM")?;
            builder
                .with_client_auth_cert(chain, key)
                .context("client certificate")?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// `GET path` over plain HTTP.
pub fn http_get(addr: SocketAddr, path: &str, timeout: Duration) -> Result<Response> {
    let mut stream = connect(addr, timeout)?;
    let request = request(&addr.to_string(), path, None);
    stream
        .write_all(request.as_bytes())
        .context("sending request")?;
    parse_response(&read_all(&mut stream)?)
}

/// `GET path` over HTTPS, checking the server certificate against `config`'s roots for
/// `server_name` (an IP address or DNS name); `bearer` adds an Authorization header.
pub fn https_get(
    addr: SocketAddr,
    server_name: &str,
    path: &str,
    config: Arc<ClientConfig>,
    bearer: Option<&str>,
    timeout: Duration,
) -> Result<Response> {
    let name = ServerName::try_from(server_name.to_string())
        .with_context(|| format!("server name {server_name:?}"))?;
    let conn = ClientConnection::new(config, name).context("TLS client")?;
    let mut stream = StreamOwned::new(conn, connect(addr, timeout)?);
    let request = request(&addr.to_string(), path, bearer);
    stream
        .write_all(request.as_bytes())
        .context("sending request (TLS handshake)")?;
    stream.flush().context("sending request")?;
    parse_response(&read_all(&mut stream)?)
}

fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, timeout)
        .with_context(|| format!("connecting to {addr}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .context("set_read_timeout")?;
    stream
        .set_write_timeout(Some(timeout))
        .context("set_write_timeout")?;
    Ok(stream)
}

fn request(host: &str, path: &str, bearer: Option<&str>) -> String {
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: ferrokube-deploy\r\nAccept: */*\r\nConnection: close\r\n");
    if let Some(token) = bearer {
        req.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    req.push_str("\r\n");
    req
}

/// Reads until the peer closes; a TLS peer closing without close_notify counts as the end.
fn read_all(stream: &mut impl Read) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if out.len() > 4 * 1024 * 1024 {
                    bail!("response larger than 4 MiB");
                }
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && !out.is_empty() => {
                return Ok(out)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).context("reading response"),
        }
    }
}

fn parse_response(raw: &[u8]) -> Result<Response> {
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("response without a complete header")?;
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let body = &raw[head_end + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    Ok(Response {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .context("truncated chunk size")?;
        let size_str = String::from_utf8_lossy(&data[..line_end]);
        let size_str = size_str.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_str, 16)
            .with_context(|| format!("bad chunk size {size_str:?}"))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size {
            bail!("truncated chunk");
        }
        out.extend_from_slice(&data[..size]);
        data = data.get(size + 2..).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked() -> Result<()> {
        let r = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")?;
        assert_eq!(
            r,
            Response {
                status: 200,
                body: "ok".into()
            }
        );
        let r = parse_response(b"HTTP/1.1 500 Internal\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")?;
        assert_eq!(
            r,
            Response {
                status: 500,
                body: "abcde".into()
            }
        );
        Ok(())
    }

    #[test]
    fn plain_get_against_a_local_listener() -> Result<()> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let server = std::thread::spawn(move || -> io::Result<String> {
            let (mut s, _) = listener.accept()?;
            let mut buf = [0u8; 1024];
            let n = s.read(&mut buf)?;
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n{\"health\":\"true\"}")?;
            Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
        });
        let r = http_get(addr, "/health", Duration::from_secs(5))?;
        assert_eq!(r.status, 200);
        assert_eq!(r.body, "{\"health\":\"true\"}");
        let req = server
            .join()
            .map_err(|_| anyhow::anyhow!("server thread panicked"))??;
        assert!(req.starts_with("GET /health HTTP/1.1\r\n"), "{req}");
        Ok(())
    }
}
