//! Test container images built on this machine and served by a local registry, so that
//! node tests (kubelet, containerd) never pull from the internet.
//!
//! - [`build_busybox_image`]: an OCI image layout tarball (what `ctr images import`
//!   accepts) with Debian's static busybox, built deterministically so its digest is stable.
//! - [`push_to_registry`]: the Docker Registry HTTP API v2 push of such a tarball, over
//!   plain HTTP (loopback only).
//! - [`start_registry`]: Debian's `docker-registry` (distribution) on loopback.
//! - [`get_manifest`]: `GET /v2/<repo>/manifests/<ref>`, to check what a registry serves.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Value};

use crate::fsutil::write_public;
use crate::process::{Daemon, DaemonSpec};

pub const MEDIA_TYPE_OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MEDIA_TYPE_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MEDIA_TYPE_OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const MEDIA_TYPE_OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// Where Debian's `busybox-static` puts the binary.
pub const DEFAULT_BUSYBOX: &str = "/bin/busybox";
/// Debian's `docker-registry` (CNCF distribution v2).
pub const DEFAULT_REGISTRY_BIN: &str = "/usr/bin/docker-registry";

/// Every file in the layer and the image's `created` get this time (2024-01-01T00:00:00Z),
/// so that the same busybox always gives the same digests.
const FIXED_MTIME: u64 = 1_704_067_200;
const FIXED_CREATED: &str = "2024-01-01T00:00:00Z";
const PATH_ENV: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What [`build_busybox_image`] built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// The full reference, e.g. `docker.io/library/busybox:latest`.
    pub reference: String,
    /// `sha256:<hex>` of the manifest: the image's digest (`busybox@sha256:...`).
    pub manifest_digest: String,
    /// `sha256:<hex>` of the image config: the image ID containerd and the CRI show.
    pub config_digest: String,
    /// Bytes a pull transfers: manifest + config + compressed layer.
    pub size: u64,
}

/// `sha256:<hex>` of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    for b in d.as_ref() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The OCI architecture name of this machine (`amd64`, `arm64`, ...).
pub fn oci_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
}

/// Builds an OCI image layout tarball at `out_tar` from `/bin/busybox` (Debian's
/// `busybox-static`): one layer with busybox, a `/bin` symlink per applet, `/etc/passwd` and
/// `/etc/group` (root, nobody) and `/tmp`; `Cmd ["sh"]`. `reference` (a full reference such as
/// `docker.io/library/busybox:latest`) goes into index.json's name annotations.
pub fn build_busybox_image(out_tar: &Path, reference: &str) -> Result<ImageInfo> {
    build_busybox_image_from(Path::new(DEFAULT_BUSYBOX), out_tar, reference)
}

/// [`build_busybox_image`] with another busybox binary (it must be statically linked: the
/// image has no libc).
pub fn build_busybox_image_from(
    busybox: &Path,
    out_tar: &Path,
    reference: &str,
) -> Result<ImageInfo> {
    let binary = std::fs::read(busybox).with_context(|| {
        format!(
            "reading {} (Debian package busybox-static)",
            busybox.display()
        )
    })?;
    if elf_has_interpreter(&binary)? {
        bail!(
            "{} is dynamically linked; the image needs a static busybox (apt-get install busybox-static)",
            busybox.display()
        );
    }
    let out = Command::new(busybox)
        .arg("--list")
        .output()
        .with_context(|| format!("running {} --list", busybox.display()))?;
    if !out.status.success() {
        bail!("{} --list failed ({})", busybox.display(), out.status);
    }
    let applets: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect();
    build_image(out_tar, reference, &binary, &applets, oci_arch())
}

/// Whether an ELF file has a PT_INTERP program header (is dynamically linked).
fn elf_has_interpreter(elf: &[u8]) -> Result<bool> {
    if elf.len() < 64 || &elf[..4] != b"\x7fELF" {
        bail!("not an ELF file");
    }
    if elf[4] != 2 || elf[5] != 1 {
        bail!("only 64-bit little-endian ELF is supported");
    }
    let u16_at =
        |o: usize| -> Option<u16> { Some(u16::from_le_bytes(elf.get(o..o + 2)?.try_into().ok()?)) };
    let u32_at =
        |o: usize| -> Option<u32> { Some(u32::from_le_bytes(elf.get(o..o + 4)?.try_into().ok()?)) };
    let u64_at =
        |o: usize| -> Option<u64> { Some(u64::from_le_bytes(elf.get(o..o + 8)?.try_into().ok()?)) };
    let phoff = usize::try_from(u64_at(0x20).context("ELF header")?).context("e_phoff")?;
    let phentsize = usize::from(u16_at(0x36).context("ELF header")?);
    let phnum = usize::from(u16_at(0x38).context("ELF header")?);
    for i in 0..phnum {
        const PT_INTERP: u32 = 3;
        if u32_at(phoff + i * phentsize).context("truncated program headers")? == PT_INTERP {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The layer: an uncompressed tar with fixed owners and mtimes, entries in a fixed order.
fn busybox_layer(busybox: &[u8], applets: &[String]) -> Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    let dir = |b: &mut tar::Builder<Vec<u8>>, path: &str, mode: u32| -> io::Result<()> {
        let mut h = header(tar::EntryType::Directory, mode, 0);
        b.append_data(&mut h, path, io::empty())
    };
    let file = |b: &mut tar::Builder<Vec<u8>>, path: &str, mode: u32, data: &[u8]| {
        let mut h = header(tar::EntryType::Regular, mode, data.len() as u64);
        b.append_data(&mut h, path, data)
    };
    dir(&mut b, "bin/", 0o755)?;
    file(&mut b, "bin/busybox", 0o755, busybox)?;
    let mut names: Vec<&str> = applets
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "busybox" && !a.contains('/'))
        .collect();
    names.sort_unstable();
    names.dedup();
    for applet in names {
        let mut h = header(tar::EntryType::Symlink, 0o777, 0);
        b.append_link(&mut h, format!("bin/{applet}"), "busybox")?;
    }
    dir(&mut b, "etc/", 0o755)?;
    file(&mut b, "etc/group", 0o644, b"root:x:0:\nnobody:x:65534:\n")?;
    file(
        &mut b,
        "etc/passwd",
        0o644,
        b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )?;
    dir(&mut b, "root/", 0o700)?;
    // Sticky and world-writable, like every /tmp.
    dir(&mut b, "tmp/", 0o1777)?;
    b.into_inner().context("finishing the layer tar")
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(FIXED_MTIME);
    h
}

fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    // flate2 writes mtime 0 and no file name into the gzip header: deterministic.
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).context("compressing the layer")?;
    enc.finish().context("compressing the layer")
}

fn to_json(v: &Value) -> Result<Vec<u8>> {
    serde_json::to_vec(v).context("encoding JSON")
}

fn hex_of(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or(digest)
}

/// The OCI layout tarball from the binary, its applet names and the image architecture.
fn build_image(
    out_tar: &Path,
    reference: &str,
    busybox: &[u8],
    applets: &[String],
    arch: &str,
) -> Result<ImageInfo> {
    let layer_tar = busybox_layer(busybox, applets)?;
    let diff_id = sha256_digest(&layer_tar);
    let layer = gzip(&layer_tar)?;
    let layer_digest = sha256_digest(&layer);
    let config = to_json(&json!({
        "created": FIXED_CREATED,
        "architecture": arch,
        "os": "linux",
        "config": {
            "Env": [PATH_ENV],
            "Cmd": ["sh"],
        },
        "rootfs": { "type": "layers", "diff_ids": [diff_id] },
        "history": [{ "created": FIXED_CREATED, "created_by": "ferrokube deploy::images (busybox-static)" }],
    }))?;
    let config_digest = sha256_digest(&config);
    let manifest = to_json(&json!({
        "schemaVersion": 2,
        "mediaType": MEDIA_TYPE_OCI_MANIFEST,
        "config": { "mediaType": MEDIA_TYPE_OCI_CONFIG, "digest": config_digest, "size": config.len() },
        "layers": [{ "mediaType": MEDIA_TYPE_OCI_LAYER_GZIP, "digest": layer_digest, "size": layer.len() }],
    }))?;
    let manifest_digest = sha256_digest(&manifest);
    // Both annotations carry the full reference: containerd's importer names the image from
    // io.containerd.image.name, other tools read org.opencontainers.image.ref.name.
    let index = to_json(&json!({
        "schemaVersion": 2,
        "mediaType": MEDIA_TYPE_OCI_INDEX,
        "manifests": [{
            "mediaType": MEDIA_TYPE_OCI_MANIFEST,
            "digest": manifest_digest,
            "size": manifest.len(),
            "platform": { "architecture": arch, "os": "linux" },
            "annotations": {
                "io.containerd.image.name": reference,
                "org.opencontainers.image.ref.name": reference,
            },
        }],
    }))?;

    let mut blobs: BTreeMap<String, &[u8]> = BTreeMap::new();
    for (digest, data) in [
        (&layer_digest, &layer[..]),
        (&config_digest, &config[..]),
        (&manifest_digest, &manifest[..]),
    ] {
        blobs.insert(hex_of(digest).to_string(), data);
    }
    let mut b = tar::Builder::new(Vec::new());
    let add = |b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]| -> io::Result<()> {
        let mut h = header(tar::EntryType::Regular, 0o644, data.len() as u64);
        b.append_data(&mut h, path, data)
    };
    add(&mut b, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    add(&mut b, "index.json", &index)?;
    for path in ["blobs/", "blobs/sha256/"] {
        let mut h = header(tar::EntryType::Directory, 0o755, 0);
        b.append_data(&mut h, path, io::empty())?;
    }
    for (hex, data) in &blobs {
        add(&mut b, &format!("blobs/sha256/{hex}"), data)?;
    }
    let tarball = b.into_inner().context("finishing the image tarball")?;
    write_public(out_tar, &tarball)?;
    Ok(ImageInfo {
        reference: reference.to_string(),
        manifest_digest,
        config_digest,
        size: (manifest.len() + config.len() + layer.len()) as u64,
    })
}

/// The files of an image tarball, by path.
fn read_tarball(image_tar: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let file = std::fs::File::open(image_tar)
        .with_context(|| format!("opening {}", image_tar.display()))?;
    let mut archive = tar::Archive::new(file);
    let mut files = BTreeMap::new();
    for entry in archive
        .entries()
        .with_context(|| format!("reading {}", image_tar.display()))?
    {
        let mut entry = entry.with_context(|| format!("reading {}", image_tar.display()))?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry
            .path()
            .context("entry path")?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .with_context(|| format!("reading {path} in {}", image_tar.display()))?;
        files.insert(path, data);
    }
    Ok(files)
}

/// An OCI layout's single image: manifest bytes and the blobs it names (config, layers),
/// each checked against its digest.
struct LayoutImage {
    manifest: Vec<u8>,
    manifest_digest: String,
    /// (digest, bytes), config first.
    blobs: Vec<(String, Vec<u8>)>,
}

fn load_layout(image_tar: &Path) -> Result<LayoutImage> {
    let mut files = read_tarball(image_tar)?;
    let index: Value = serde_json::from_slice(
        files
            .get("index.json")
            .with_context(|| format!("{} has no index.json", image_tar.display()))?,
    )
    .context("parsing index.json")?;
    let mut blob = |digest: &str| -> Result<Vec<u8>> {
        let path = format!("blobs/sha256/{}", hex_of(digest));
        let data = files
            .remove(&path)
            .with_context(|| format!("{} has no {path}", image_tar.display()))?;
        if sha256_digest(&data) != digest {
            bail!(
                "{path} in {} does not match its digest",
                image_tar.display()
            );
        }
        Ok(data)
    };
    let desc = index["manifests"]
        .get(0)
        .context("index.json lists no manifest")?;
    let manifest_digest = desc["digest"]
        .as_str()
        .context("index.json manifest without digest")?
        .to_string();
    let manifest = blob(&manifest_digest)?;
    let parsed: Value = serde_json::from_slice(&manifest).context("parsing the manifest")?;
    let mut digests = vec![parsed["config"]["digest"]
        .as_str()
        .context("manifest without config digest")?
        .to_string()];
    for layer in parsed["layers"]
        .as_array()
        .context("manifest without layers")?
    {
        digests.push(
            layer["digest"]
                .as_str()
                .context("layer without digest")?
                .to_string(),
        );
    }
    let mut blobs = Vec::new();
    for d in digests {
        let data = blob(&d)?;
        blobs.push((d, data));
    }
    Ok(LayoutImage {
        manifest,
        manifest_digest,
        blobs,
    })
}

/// Pushes the image of an OCI layout tarball (as [`build_busybox_image`] writes) to a
/// registry at `registry` (`127.0.0.1:5000`, plain HTTP) as `repository:tag`: each blob
/// the registry lacks (HEAD) by a monolithic upload (POST, then PUT `?digest=`), then the
/// manifest. Returns the manifest digest.
pub fn push_to_registry(
    image_tar: &Path,
    registry: &str,
    repository: &str,
    tag: &str,
) -> Result<String> {
    let image = load_layout(image_tar)?;
    let client = RegistryClient::new(registry)?;
    for (digest, data) in &image.blobs {
        let path = format!("/v2/{repository}/blobs/{digest}");
        let head = client.request("HEAD", &path, &[], None)?;
        if head.status == 200 {
            continue; // already there (blobs are content-addressed)
        }
        let start = client.request(
            "POST",
            &format!("/v2/{repository}/blobs/uploads/"),
            &[],
            Some(&[]),
        )?;
        if start.status != 202 {
            bail!(
                "starting the upload of {digest}: HTTP {} {}",
                start.status,
                String::from_utf8_lossy(&start.body)
            );
        }
        let location = start
            .header("location")
            .context("upload start without a Location header")?;
        let location = strip_origin(location);
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = client.request(
            "PUT",
            &format!("{location}{sep}digest={digest}"),
            &[("Content-Type", "application/octet-stream")],
            Some(data),
        )?;
        if put.status != 201 {
            bail!(
                "uploading {digest}: HTTP {} {}",
                put.status,
                String::from_utf8_lossy(&put.body)
            );
        }
    }
    let put = client.request(
        "PUT",
        &format!("/v2/{repository}/manifests/{tag}"),
        &[("Content-Type", MEDIA_TYPE_OCI_MANIFEST)],
        Some(&image.manifest),
    )?;
    if put.status != 201 {
        bail!(
            "putting the manifest {repository}:{tag}: HTTP {} {}",
            put.status,
            String::from_utf8_lossy(&put.body)
        );
    }
    if let Some(d) = put.header("docker-content-digest") {
        if d != image.manifest_digest {
            bail!(
                "the registry stored the manifest as {d}, expected {}",
                image.manifest_digest
            );
        }
    }
    Ok(image.manifest_digest)
}

/// `GET /v2/<repository>/manifests/<reference>` accepting OCI manifests: the manifest's
/// digest (Docker-Content-Digest, else computed) and bytes. Errors unless HTTP 200.
pub fn get_manifest(
    registry: &str,
    repository: &str,
    reference: &str,
) -> Result<(String, Vec<u8>)> {
    let client = RegistryClient::new(registry)?;
    let resp = client.request(
        "GET",
        &format!("/v2/{repository}/manifests/{reference}"),
        &[("Accept", MEDIA_TYPE_OCI_MANIFEST)],
        None,
    )?;
    if resp.status != 200 {
        bail!(
            "GET manifest {repository}:{reference} from {registry}: HTTP {} {}",
            resp.status,
            String::from_utf8_lossy(&resp.body)
        );
    }
    let digest = resp
        .header("docker-content-digest")
        .map(str::to_string)
        .unwrap_or_else(|| sha256_digest(&resp.body));
    Ok((digest, resp.body))
}

/// Whether a registry answers `GET /v2/` with 200 at `registry`.
pub fn registry_ready(registry: &str) -> bool {
    RegistryClient::new(registry)
        .and_then(|c| c.request("GET", "/v2/", &[], None))
        .map(|r| r.status == 200)
        .unwrap_or(false)
}

/// `http://host:port/path?q` -> `/path?q`; a path stays as it is.
fn strip_origin(location: &str) -> &str {
    match location.split_once("://") {
        Some((_, rest)) => rest.find('/').map(|i| &rest[i..]).unwrap_or("/"),
        None => location,
    }
}

/// The paths of a local registry under a directory (e.g. `.local-cluster/`).
#[derive(Debug, Clone)]
pub struct RegistryPaths {
    pub config: PathBuf,
    pub storage: PathBuf,
    pub log_file: PathBuf,
    pub pid_file: PathBuf,
}

impl RegistryPaths {
    /// `<dir>/registry/{config.yml,data}`, `<dir>/logs/registry.log`, `<dir>/run/registry.pid`
    /// (the layout of the other local-cluster daemons).
    pub fn new(dir: &Path) -> RegistryPaths {
        RegistryPaths {
            config: dir.join("registry/config.yml"),
            storage: dir.join("registry/data"),
            log_file: dir.join("logs/registry.log"),
            pid_file: dir.join("run/registry.pid"),
        }
    }
}

/// The distribution config: HTTP on `addr` only, filesystem storage, no auth.
pub fn registry_config_yaml(addr: &str, storage: &Path) -> String {
    format!(
        "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
        storage.display()
    )
}

/// Starts `docker-registry serve` on `addr` (e.g. `127.0.0.1:5000`) with the files of
/// [`RegistryPaths::new`]`(dir)`, or adopts the one its pid file names; waits until `/v2/`
/// answers. `detach` as in [`DaemonSpec::detach`].
pub fn start_registry(registry_bin: &Path, dir: &Path, addr: &str, detach: bool) -> Result<Daemon> {
    let paths = RegistryPaths::new(dir);
    if let Some(d) = Daemon::adopt(
        "docker-registry",
        registry_bin,
        &paths.pid_file,
        &paths.log_file,
    )? {
        if wait_ready(addr, Duration::from_secs(10)) {
            return Ok(d);
        }
        bail!(
            "docker-registry (pid {}) runs but {addr}/v2/ does not answer; log {}",
            d.pid(),
            paths.log_file.display()
        );
    }
    if registry_ready(addr) {
        bail!("something else already serves a registry on {addr}");
    }
    std::fs::create_dir_all(&paths.storage)
        .with_context(|| format!("creating {}", paths.storage.display()))?;
    write_public(
        &paths.config,
        registry_config_yaml(addr, &paths.storage).as_bytes(),
    )?;
    let spec = DaemonSpec::new(
        "docker-registry",
        registry_bin,
        &paths.log_file,
        &paths.pid_file,
    )
    .arg("serve")
    .arg(&paths.config)
    .detach(detach);
    let mut d = Daemon::spawn(&spec)?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if registry_ready(addr) {
            return Ok(d);
        }
        if !d.is_alive() {
            bail!("docker-registry exited: {}", d.log_tail(20));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let tail = d.log_tail(20);
    let _ = d.stop(Duration::from_secs(5));
    bail!("docker-registry did not answer on {addr} within 20s: {tail}")
}

fn wait_ready(addr: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if registry_ready(addr) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A minimal HTTP/1.1 client for the registry API: one request per connection, request
/// bodies, response headers (Location, Docker-Content-Digest). Plain HTTP, so loopback only.
struct RegistryClient {
    addr: SocketAddr,
    host: String,
    timeout: Duration,
}

struct RegistryResponse {
    status: u16,
    /// Lower-cased names.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RegistryResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl RegistryClient {
    fn new(registry: &str) -> Result<RegistryClient> {
        let addr = registry
            .to_socket_addrs()
            .with_context(|| format!("registry address {registry:?}"))?
            .next()
            .with_context(|| format!("registry address {registry:?} resolves to nothing"))?;
        Ok(RegistryClient {
            addr,
            host: registry.to_string(),
            timeout: Duration::from_secs(30),
        })
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<RegistryResponse> {
        let what = format!("{method} http://{}{path}", self.host);
        let mut stream = TcpStream::connect_timeout(&self.addr, self.timeout)
            .with_context(|| format!("{what}: connecting"))?;
        stream
            .set_read_timeout(Some(self.timeout))
            .context("set_read_timeout")?;
        stream
            .set_write_timeout(Some(self.timeout))
            .context("set_write_timeout")?;
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: ferrokube-deploy\r\nConnection: close\r\n",
            self.host
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(body) = body {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        stream
            .write_all(req.as_bytes())
            .with_context(|| format!("{what}: sending"))?;
        if let Some(body) = body {
            stream
                .write_all(body)
                .with_context(|| format!("{what}: sending the body"))?;
        }
        let mut raw = Vec::new();
        stream
            .read_to_end(&mut raw)
            .with_context(|| format!("{what}: reading the response"))?;
        parse_response(&raw, method == "HEAD").with_context(|| what.clone())
    }
}

fn parse_response(raw: &[u8], head_only: bool) -> Result<RegistryResponse> {
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("response without a complete header")?;
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[head_end + 4..].to_vec();
    if head_only {
        body.clear();
    } else if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked"))
    {
        body = dechunk(&body)?;
    }
    Ok(RegistryResponse {
        status,
        headers,
        body,
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

    /// The real static busybox if installed; otherwise fake bytes (the layout is the same).
    fn build(dir: &Path, name: &str) -> Result<ImageInfo> {
        let out = dir.join(name);
        let reference = "docker.io/library/busybox:latest";
        if Path::new(DEFAULT_BUSYBOX).exists()
            && std::fs::read(DEFAULT_BUSYBOX)
                .map(|b| elf_has_interpreter(&b).ok() == Some(false))
                .unwrap_or(false)
        {
            build_busybox_image(&out, reference)
        } else {
            let applets = vec!["sh".to_string(), "echo".to_string(), "busybox".to_string()];
            build_image(&out, reference, b"not really busybox", &applets, oci_arch())
        }
    }

    #[test]
    fn builds_a_consistent_deterministic_oci_layout() -> Result<()> {
        let tmp = tempfile::tempdir()?;
        let info = build(tmp.path(), "a.tar")?;
        let files = read_tarball(&tmp.path().join("a.tar"))?;
        assert_eq!(
            serde_json::from_slice::<Value>(&files["oci-layout"])?["imageLayoutVersion"],
            "1.0.0"
        );
        let index: Value = serde_json::from_slice(&files["index.json"])?;
        let desc = &index["manifests"][0];
        assert_eq!(desc["mediaType"], MEDIA_TYPE_OCI_MANIFEST);
        assert_eq!(desc["digest"], info.manifest_digest.as_str());
        for key in [
            "io.containerd.image.name",
            "org.opencontainers.image.ref.name",
        ] {
            assert_eq!(desc["annotations"][key], "docker.io/library/busybox:latest");
        }
        let blob = |d: &str| -> Result<&Vec<u8>> {
            let data = files
                .get(&format!("blobs/sha256/{}", hex_of(d)))
                .with_context(|| format!("missing blob {d}"))?;
            assert_eq!(sha256_digest(data), d, "blob bytes match their digest");
            Ok(data)
        };
        let manifest_bytes = blob(&info.manifest_digest)?;
        assert_eq!(desc["size"], manifest_bytes.len());
        let manifest: Value = serde_json::from_slice(manifest_bytes)?;
        assert_eq!(manifest["config"]["digest"], info.config_digest.as_str());
        let config_bytes = blob(&info.config_digest)?;
        assert_eq!(manifest["config"]["size"], config_bytes.len());
        let config: Value = serde_json::from_slice(config_bytes)?;
        assert_eq!(config["architecture"], oci_arch());
        assert_eq!(config["os"], "linux");
        assert_eq!(config["config"]["Cmd"], json!(["sh"]));
        let layer_desc = &manifest["layers"][0];
        let layer_digest = layer_desc["digest"].as_str().context("layer digest")?;
        let layer = blob(layer_digest)?;
        assert_eq!(layer_desc["size"], layer.len());
        // diff_id: sha256 of the uncompressed layer.
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&layer[..]).read_to_end(&mut plain)?;
        assert_eq!(
            config["rootfs"]["diff_ids"][0],
            sha256_digest(&plain).as_str()
        );
        let mut entries = BTreeMap::new();
        for e in tar::Archive::new(&plain[..]).entries()? {
            let e = e?;
            let target = e.link_name()?.map(|l| l.to_string_lossy().into_owned());
            entries.insert(
                e.path()?.to_string_lossy().into_owned(),
                (e.header().entry_type(), target),
            );
        }
        assert_eq!(entries["bin/busybox"].0, tar::EntryType::Regular);
        assert_eq!(
            entries["bin/sh"],
            (tar::EntryType::Symlink, Some("busybox".to_string()))
        );
        for p in ["etc/passwd", "etc/group"] {
            assert_eq!(entries[p].0, tar::EntryType::Regular);
        }
        assert_eq!(entries["tmp/"].0, tar::EntryType::Directory);

        // Same input, same digests.
        let again = build(tmp.path(), "b.tar")?;
        assert_eq!(again, info);
        assert_eq!(
            std::fs::read(tmp.path().join("a.tar"))?,
            std::fs::read(tmp.path().join("b.tar"))?
        );
        Ok(())
    }

    #[test]
    fn strips_the_origin_of_a_location() {
        assert_eq!(
            strip_origin("http://127.0.0.1:5000/v2/x/blobs/uploads/u?_state=s"),
            "/v2/x/blobs/uploads/u?_state=s"
        );
        assert_eq!(
            strip_origin("/v2/x/blobs/uploads/u"),
            "/v2/x/blobs/uploads/u"
        );
    }

    #[test]
    fn reads_headers_and_chunked_bodies() -> Result<()> {
        let r = parse_response(
            b"HTTP/1.1 202 Accepted\r\nLocation: /v2/a/blobs/uploads/1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            false,
        )?;
        assert_eq!(r.status, 202);
        assert_eq!(r.header("location"), Some("/v2/a/blobs/uploads/1"));
        assert_eq!(r.body, b"ok");
        Ok(())
    }
}
