//! The cluster PKI: a CA, the kube-apiserver serving certificate and client certificates
//! (CN = user name, O = groups), written as PEM files with `0600` keys.
//!
//! Everything here is idempotent: [`ensure_pki`] keeps the files it finds as long as they
//! are still good (parse, chain to the CA on disk, match their key, carry the wanted names,
//! and stay valid for at least [`RENEW_BEFORE_DAYS`] more days) and reissues only what is not.
//!
//! File layout (kubeadm's names):
//!
//! | file | what |
//! | --- | --- |
//! | `ca.crt`, `ca.key` | the cluster CA (10 years) |
//! | `apiserver.crt`, `apiserver.key` | kube-apiserver serving certificate (1 year) |
//! | `admin.crt`, `admin.key` | CN=kubernetes-admin, O=system:masters (1 year) |

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use rand::RngCore;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SerialNumber,
};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

use crate::fsutil::{read_to_string, write_private, write_public};

/// The first IP of the default service range `10.96.0.0/12`: the `kubernetes` Service.
pub const DEFAULT_KUBERNETES_SERVICE_IP: &str = "10.96.0.1";
/// Common name of the CA that [`ensure_pki`] creates.
pub const CA_COMMON_NAME: &str = "ferrokube-ca";
/// The admin user of a generated cluster.
pub const ADMIN_USER: &str = "kubernetes-admin";
/// The group that the admin belongs to (upstream's superuser group).
pub const ADMIN_GROUP: &str = "system:masters";
/// Validity of the CA.
pub const CA_VALIDITY_DAYS: u64 = 3650;
/// Validity of leaf certificates.
pub const LEAF_VALIDITY_DAYS: u64 = 365;
/// A leaf (or the CA) that expires sooner than this is reissued by `ensure_*`.
pub const RENEW_BEFORE_DAYS: u64 = 30;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Options for [`ensure_pki_with`].
/// File name (without extension) of the apiserver's client certificate for kubelets.
pub const APISERVER_KUBELET_CLIENT: &str = "apiserver-kubelet-client";

#[derive(Debug, Clone, Default)]
pub struct PkiOptions {
    /// Extra subject alternative names for the apiserver certificate: IP addresses or DNS
    /// names, added to [`default_apiserver_sans`].
    pub extra_sans: Vec<String>,
}

/// A certificate file and its private key file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertPair {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl CertPair {
    fn in_dir(dir: &Path, name: &str) -> CertPair {
        CertPair {
            cert: dir.join(format!("{name}.crt")),
            key: dir.join(format!("{name}.key")),
        }
    }

    /// The certificate PEM.
    pub fn cert_pem(&self) -> Result<String> {
        read_to_string(&self.cert)
    }

    /// The private key PEM.
    pub fn key_pem(&self) -> Result<String> {
        read_to_string(&self.key)
    }
}

/// A cluster PKI directory made by [`ensure_pki`].
#[derive(Debug, Clone)]
pub struct Pki {
    dir: PathBuf,
}

impl Pki {
    /// Opens a PKI directory without creating or checking anything.
    pub fn open(dir: impl Into<PathBuf>) -> Pki {
        Pki { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `ca.crt` / `ca.key`.
    pub fn ca(&self) -> CertPair {
        CertPair::in_dir(&self.dir, "ca")
    }

    /// `apiserver.crt` / `apiserver.key`: the serving certificate.
    pub fn apiserver(&self) -> CertPair {
        CertPair::in_dir(&self.dir, "apiserver")
    }

    /// `admin.crt` / `admin.key`: CN=kubernetes-admin, O=system:masters.
    pub fn admin(&self) -> CertPair {
        CertPair::in_dir(&self.dir, "admin")
    }

    /// `apiserver-kubelet-client.crt` / `.key`: the apiserver's identity towards kubelets
    /// (CN=kube-apiserver-kubelet-client, O=system:masters), as kubeadm names it.
    pub fn apiserver_kubelet_client(&self) -> CertPair {
        CertPair::in_dir(&self.dir, APISERVER_KUBELET_CLIENT)
    }

    /// Makes sure `kubelet-serving-<node>.crt` / `.key` hold a serving certificate for
    /// the kubelet API of `node` (CN=system:node:<node>), valid for `sans` (the node's IPs
    /// and host names) and the node name.
    pub fn ensure_kubelet_serving_cert(&self, node: &str, sans: &[String]) -> Result<CertPair> {
        let mut all = vec![node.to_string()];
        for s in sans {
            if !all.contains(s) {
                all.push(s.clone());
            }
        }
        self.ensure_serving_cert(
            &format!("kubelet-serving-{node}"),
            &format!("system:node:{node}"),
            &all,
        )
    }

    /// The CA certificate PEM.
    pub fn ca_pem(&self) -> Result<String> {
        self.ca().cert_pem()
    }

    /// Makes sure `<name>.crt` / `<name>.key` hold a client certificate for `user` in
    /// `groups`, signed by this PKI's CA; reissues it if it is missing or not right.
    pub fn ensure_client_cert(&self, name: &str, user: &str, groups: &[&str]) -> Result<CertPair> {
        let issuer = load_ca(&self.dir)?;
        let spec = LeafSpec {
            common_name: user.to_string(),
            organizations: groups.iter().map(|g| g.to_string()).collect(),
            sans: Vec::new(),
            usage: Usage::Client,
        };
        ensure_leaf(&self.dir, name, &spec, &issuer)
    }

    /// Makes sure `<name>.crt` / `<name>.key` hold a serving certificate for `sans` (IP
    /// addresses or DNS names) with common name `common_name`, signed by this PKI's CA.
    pub fn ensure_serving_cert(
        &self,
        name: &str,
        common_name: &str,
        sans: &[String],
    ) -> Result<CertPair> {
        let issuer = load_ca(&self.dir)?;
        let spec = LeafSpec {
            common_name: common_name.to_string(),
            organizations: Vec::new(),
            sans: sans.to_vec(),
            usage: Usage::Server,
        };
        ensure_leaf(&self.dir, name, &spec, &issuer)
    }
}

/// The names every apiserver certificate carries: loopback, the in-cluster DNS names of the
/// `kubernetes` Service and its first service IP.
pub fn default_apiserver_sans() -> Vec<String> {
    [
        "127.0.0.1",
        "::1",
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        DEFAULT_KUBERNETES_SERVICE_IP,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// [`ensure_pki_with`] with default options.
pub fn ensure_pki(dir: &Path) -> Result<Pki> {
    ensure_pki_with(dir, &PkiOptions::default())
}

/// Creates (or checks and reuses) the CA, the apiserver serving certificate and the admin
/// client certificate in `dir`.
pub fn ensure_pki_with(dir: &Path, options: &PkiOptions) -> Result<Pki> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating PKI directory {}", dir.display()))?;
    let pki = Pki::open(dir);
    ensure_ca(dir)?;
    let mut sans = default_apiserver_sans();
    for extra in &options.extra_sans {
        if !sans.contains(extra) {
            sans.push(extra.clone());
        }
    }
    pki.ensure_serving_cert("apiserver", "kube-apiserver", &sans)?;
    pki.ensure_client_cert("admin", ADMIN_USER, &[ADMIN_GROUP])?;
    pki.ensure_client_cert(
        APISERVER_KUBELET_CLIENT,
        "kube-apiserver-kubelet-client",
        &[ADMIN_GROUP],
    )?;
    Ok(pki)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Usage {
    Server,
    Client,
}

struct LeafSpec {
    common_name: String,
    organizations: Vec<String>,
    sans: Vec<String>,
    usage: Usage,
}

/// Makes sure `dir/ca.{crt,key}` is a usable CA; creates a new one otherwise.
fn ensure_ca(dir: &Path) -> Result<()> {
    let pair = CertPair::in_dir(dir, "ca");
    if pair.cert.exists() && pair.key.exists() {
        match check_ca(&pair) {
            Ok(()) => return Ok(()),
            Err(reason) => tracing::warn!("regenerating CA {}: {reason:#}", pair.cert.display()),
        }
    }
    let key = KeyPair::generate().context("generating CA key")?;
    let mut params = CertificateParams::default();
    params.distinguished_name = name_with_orgs(CA_COMMON_NAME, &[]);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.serial_number = Some(random_serial());
    set_validity(&mut params, CA_VALIDITY_DAYS)?;
    let cert = params
        .self_signed(&key)
        .context("self-signing the CA certificate")?;
    write_private(&pair.key, key.serialize_pem().as_bytes())?;
    write_public(&pair.cert, cert.pem().as_bytes())?;
    Ok(())
}

fn check_ca(pair: &CertPair) -> Result<()> {
    let pem = read_to_string(&pair.cert)?;
    let key = KeyPair::from_pem(&read_to_string(&pair.key)?).context("parsing CA key")?;
    let der = pem_to_der(&pem)?;
    let cert = parse_cert(&der)?;
    if !cert.is_ca() {
        bail!("not a CA certificate");
    }
    check_time_left(&cert)?;
    if cert.public_key().raw != key.subject_public_key_info().as_slice() {
        bail!("key does not match certificate");
    }
    Ok(())
}

fn load_ca(dir: &Path) -> Result<Issuer<'static, KeyPair>> {
    let pair = CertPair::in_dir(dir, "ca");
    let pem = read_to_string(&pair.cert).context("no CA: run ensure_pki first")?;
    let key = KeyPair::from_pem(&read_to_string(&pair.key)?)
        .with_context(|| format!("parsing {}", pair.key.display()))?;
    Issuer::from_ca_cert_pem(&pem, key)
        .with_context(|| format!("loading CA {}", pair.cert.display()))
}

fn ensure_leaf(
    dir: &Path,
    name: &str,
    spec: &LeafSpec,
    issuer: &Issuer<'_, KeyPair>,
) -> Result<CertPair> {
    let pair = CertPair::in_dir(dir, name);
    if pair.cert.exists() && pair.key.exists() {
        match check_leaf(dir, &pair, spec) {
            Ok(()) => {
                crate::fsutil::restrict_permissions(&pair.key)?;
                return Ok(pair);
            }
            Err(reason) => tracing::info!("reissuing {}: {reason:#}", pair.cert.display()),
        }
    }
    let key = KeyPair::generate().with_context(|| format!("generating key for {name}"))?;
    let mut params = CertificateParams::new(spec.sans.clone())
        .with_context(|| format!("subject alternative names {:?}", spec.sans))?;
    params.distinguished_name = name_with_orgs(&spec.common_name, &spec.organizations);
    params.is_ca = IsCa::ExplicitNoCa;
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(random_serial());
    match spec.usage {
        Usage::Server => {
            params.key_usages = vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ];
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        }
        Usage::Client => {
            params.key_usages = vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ];
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        }
    }
    set_validity(&mut params, LEAF_VALIDITY_DAYS)?;
    let cert = params
        .signed_by(&key, issuer)
        .with_context(|| format!("signing certificate {name}"))?;
    let cert_pem = if spec.organizations.len() > 1 {
        // rcgen keeps one value per attribute type; Kubernetes reads one group per O.
        let subject = der::name(&spec.common_name, &spec.organizations);
        let der = der::replace_subject_and_resign(cert.der(), &subject, issuer.key())
            .with_context(|| format!("writing the groups of {name} into its subject"))?;
        der::pem("CERTIFICATE", &der)
    } else {
        cert.pem()
    };
    write_private(&pair.key, key.serialize_pem().as_bytes())?;
    write_public(&pair.cert, cert_pem.as_bytes())?;
    Ok(pair)
}

/// Just enough DER to write a subject with several O attributes (one per group, as Go's
/// crypto/x509 writes `Organization: []string{...}`) and to sign a changed TBSCertificate.
mod der {
    use anyhow::{bail, Context, Result};
    use base64::Engine as _;
    use rcgen::{KeyPair, SigningKey};

    const OID_ORGANIZATION: [u8; 3] = [0x55, 0x04, 0x0a];
    const OID_COMMON_NAME: [u8; 3] = [0x55, 0x04, 0x03];

    pub(super) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes: Vec<u8> = len
                .to_be_bytes()
                .into_iter()
                .skip_while(|b| *b == 0)
                .collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
        out.extend_from_slice(content);
        out
    }

    /// (header length, content length) of the TLV at the start of `data`.
    pub(super) fn header(data: &[u8]) -> Result<(usize, usize)> {
        let first = *data.get(1).context("truncated DER")?;
        if first < 0x80 {
            return Ok((2, first as usize));
        }
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            bail!("unsupported DER length");
        }
        let bytes = data.get(2..2 + n).context("truncated DER length")?;
        let len = bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
        Ok((2 + n, len))
    }

    fn attribute(oid: &[u8], value: &str) -> Vec<u8> {
        let seq = [tlv(0x06, oid), tlv(0x0c, value.as_bytes())].concat();
        tlv(0x31, &tlv(0x30, &seq))
    }

    /// `O=<org>` for each organization, then `CN=<common_name>` (Go's order).
    pub(super) fn name(common_name: &str, organizations: &[String]) -> Vec<u8> {
        let mut rdns = Vec::new();
        for org in organizations {
            rdns.extend(attribute(&OID_ORGANIZATION, org));
        }
        rdns.extend(attribute(&OID_COMMON_NAME, common_name));
        tlv(0x30, &rdns)
    }

    /// Replaces the subject of a certificate and signs it again with `key` (the issuer's).
    pub(super) fn replace_subject_and_resign(
        cert: &[u8],
        subject: &[u8],
        key: &KeyPair,
    ) -> Result<Vec<u8>> {
        let (_, parsed) = x509_parser::parse_x509_certificate(cert)
            .map_err(|e| anyhow::anyhow!("parsing certificate: {e}"))?;
        let tbs = parsed.tbs_certificate.as_ref();
        let old_subject = parsed.tbs_certificate.subject.as_raw();
        let cert_start = cert.as_ptr() as usize;
        let tbs_off = (tbs.as_ptr() as usize)
            .checked_sub(cert_start)
            .context("TBS outside certificate")?;
        let subj_off = (old_subject.as_ptr() as usize)
            .checked_sub(tbs.as_ptr() as usize)
            .context("subject outside TBS")?;
        if subj_off + old_subject.len() > tbs.len() || tbs_off + tbs.len() > cert.len() {
            bail!("unexpected certificate layout");
        }
        let (tbs_hdr, _) = header(tbs)?;
        let mut content = tbs[tbs_hdr..subj_off].to_vec();
        content.extend_from_slice(subject);
        content.extend_from_slice(&tbs[subj_off + old_subject.len()..]);
        let new_tbs = tlv(0x30, &content);
        // signatureAlgorithm follows the TBS in the outer SEQUENCE; keep it as it is.
        let rest = &cert[tbs_off + tbs.len()..];
        let (alg_hdr, alg_len) = header(rest)?;
        let alg = rest
            .get(..alg_hdr + alg_len)
            .context("truncated signatureAlgorithm")?;
        let signature = key.sign(&new_tbs).context("signing")?;
        let mut bits = vec![0u8];
        bits.extend(signature);
        let body = [new_tbs, alg.to_vec(), tlv(0x03, &bits)].concat();
        Ok(tlv(0x30, &body))
    }

    pub(super) fn pem(label: &str, der: &[u8]) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let mut out = format!("-----BEGIN {label}-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(chunk));
            out.push('\n');
        }
        out.push_str(&format!("-----END {label}-----\n"));
        out
    }
}

fn check_leaf(dir: &Path, pair: &CertPair, spec: &LeafSpec) -> Result<()> {
    let ca_der = pem_to_der(&read_to_string(&dir.join("ca.crt"))?)?;
    let ca = parse_cert(&ca_der)?;
    let der = pem_to_der(&read_to_string(&pair.cert)?)?;
    let cert = parse_cert(&der)?;
    let key = KeyPair::from_pem(&read_to_string(&pair.key)?).context("parsing key")?;
    if cert.public_key().raw != key.subject_public_key_info().as_slice() {
        bail!("key does not match certificate");
    }
    if cert.issuer().as_raw() != ca.subject().as_raw() {
        bail!("not issued by the current CA");
    }
    cert.verify_signature(Some(ca.public_key()))
        .map_err(|e| anyhow::anyhow!("signature does not verify with the current CA: {e}"))?;
    check_time_left(&cert)?;
    let cn: Vec<&str> = cert
        .subject()
        .iter_common_name()
        .filter_map(|a| a.as_str().ok())
        .collect();
    if cn != [spec.common_name.as_str()] {
        bail!("common name {cn:?}, want {:?}", spec.common_name);
    }
    let orgs: BTreeSet<&str> = cert
        .subject()
        .iter_organization()
        .filter_map(|a| a.as_str().ok())
        .collect();
    let want_orgs: BTreeSet<&str> = spec.organizations.iter().map(String::as_str).collect();
    if orgs != want_orgs {
        bail!("organizations {orgs:?}, want {want_orgs:?}");
    }
    let eku = cert
        .extended_key_usage()
        .map_err(|e| anyhow::anyhow!("extended key usage: {e}"))?
        .map(|e| (e.value.server_auth, e.value.client_auth))
        .unwrap_or((false, false));
    let eku_ok = match spec.usage {
        Usage::Server => eku.0,
        Usage::Client => eku.1,
    };
    if !eku_ok {
        bail!("missing extended key usage {:?}", spec.usage);
    }
    let have = cert_sans(&cert)?;
    let missing: Vec<&String> = spec
        .sans
        .iter()
        .filter(|s| !have.contains(&normalize_san(s)))
        .collect();
    if !missing.is_empty() {
        bail!("missing subject alternative names {missing:?}");
    }
    Ok(())
}

/// The subject alternative names of a certificate, IPs formatted like `IpAddr`'s `Display`.
fn cert_sans(cert: &X509Certificate<'_>) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    if let Some(san) = cert
        .subject_alternative_name()
        .map_err(|e| anyhow::anyhow!("subject alternative names: {e}"))?
    {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => {
                    out.insert(d.to_ascii_lowercase());
                }
                GeneralName::IPAddress(bytes) => {
                    let ip = match bytes.len() {
                        4 => <[u8; 4]>::try_from(*bytes).ok().map(IpAddr::from),
                        16 => <[u8; 16]>::try_from(*bytes).ok().map(IpAddr::from),
                        _ => None,
                    };
                    if let Some(ip) = ip {
                        out.insert(ip.to_string());
                    }
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

fn normalize_san(s: &str) -> String {
    match s.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => s.to_ascii_lowercase(),
    }
}

fn check_time_left(cert: &X509Certificate<'_>) -> Result<()> {
    let left = cert
        .validity()
        .time_to_expiration()
        .context("certificate is not valid now (expired or not yet valid)")?;
    if left.whole_seconds() < (RENEW_BEFORE_DAYS * DAY.as_secs()) as i64 {
        bail!("certificate expires in less than {RENEW_BEFORE_DAYS} days");
    }
    Ok(())
}

fn pem_to_der(pem: &str) -> Result<Vec<u8>> {
    let (_, parsed) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
        .map_err(|e| anyhow::anyhow!("not a PEM certificate: {e}"))?;
    Ok(parsed.contents)
}

fn parse_cert(der: &[u8]) -> Result<X509Certificate<'_>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| anyhow::anyhow!("not an X.509 certificate: {e}"))?;
    Ok(cert)
}

fn name_with_orgs(common_name: &str, organizations: &[String]) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    for org in organizations {
        dn.push(DnType::OrganizationName, org.as_str());
    }
    dn.push(DnType::CommonName, common_name);
    dn
}

fn random_serial() -> SerialNumber {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes[0] &= 0x7f; // positive
    bytes[0] |= 0x01; // no leading zero byte
    SerialNumber::from_slice(&bytes)
}

/// Valid from one hour ago (clock skew between machines) for `days` days.
fn set_validity(params: &mut CertificateParams, days: u64) -> Result<()> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("system clock before 1970")?
        .as_secs();
    let (y, m, d) = civil_from_days((now / DAY.as_secs()) as i64);
    let midnight = rcgen::date_time_ymd(y, m, d);
    let since_midnight = Duration::from_secs(now % DAY.as_secs());
    params.not_before = midnight + since_midnight - Duration::from_secs(3600);
    params.not_after = midnight + since_midnight + DAY * days as u32;
    Ok(())
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    ((if m <= 2 { y + 1 } else { y }) as i32, m as u8, d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
    }

    #[test]
    fn pki_is_idempotent_and_chains() -> Result<()> {
        let tmp = tempfile::tempdir()?;
        let pki = ensure_pki(tmp.path())?;
        let before: Vec<String> = [pki.ca(), pki.apiserver(), pki.admin()]
            .iter()
            .map(|p| p.cert_pem())
            .collect::<Result<_>>()?;
        let pki2 = ensure_pki(tmp.path())?;
        let after: Vec<String> = [pki2.ca(), pki2.apiserver(), pki2.admin()]
            .iter()
            .map(|p| p.cert_pem())
            .collect::<Result<_>>()?;
        assert_eq!(before, after, "second ensure_pki must reuse every file");

        use std::os::unix::fs::PermissionsExt;
        for pair in [pki.ca(), pki.apiserver(), pki.admin()] {
            let mode = std::fs::metadata(&pair.key)?.permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", pair.key.display());
        }

        let ca_der = pem_to_der(&pki.ca_pem()?)?;
        let ca = parse_cert(&ca_der)?;
        let api_der = pem_to_der(&pki.apiserver().cert_pem()?)?;
        let api = parse_cert(&api_der)?;
        api.verify_signature(Some(ca.public_key()))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let sans = cert_sans(&api)?;
        for want in default_apiserver_sans() {
            assert!(
                sans.contains(&normalize_san(&want)),
                "missing SAN {want}: {sans:?}"
            );
        }

        // Asking for one more SAN reissues the serving cert only.
        ensure_pki_with(
            tmp.path(),
            &PkiOptions {
                extra_sans: vec!["192.0.2.10".into(), "api.example.test".into()],
            },
        )?;
        assert_eq!(pki.ca_pem()?, before[0]);
        assert_eq!(pki.admin().cert_pem()?, before[2]);
        assert_ne!(pki.apiserver().cert_pem()?, before[1]);
        let api_der = pem_to_der(&pki.apiserver().cert_pem()?)?;
        let sans = cert_sans(&parse_cert(&api_der)?)?;
        assert!(
            sans.contains("192.0.2.10") && sans.contains("api.example.test"),
            "{sans:?}"
        );

        // A client cert with other groups.
        let pair = pki.ensure_client_cert("alice", "alice", &["dev", "ops"])?;
        let der = pem_to_der(&pair.cert_pem()?)?;
        let cert = parse_cert(&der)?;
        let orgs: BTreeSet<&str> = cert
            .subject()
            .iter_organization()
            .filter_map(|a| a.as_str().ok())
            .collect();
        assert_eq!(orgs, BTreeSet::from(["dev", "ops"]));
        cert.verify_signature(Some(ca.public_key()))
            .map_err(|e| anyhow::anyhow!("re-signed certificate: {e}"))?;
        assert_eq!(
            cert.subject()
                .iter_common_name()
                .next()
                .and_then(|a| a.as_str().ok()),
            Some("alice")
        );
        let first_pem = pair.cert_pem()?;
        let again = pki.ensure_client_cert("alice", "alice", &["dev", "ops"])?;
        assert_eq!(again.cert_pem()?, first_pem);
        let changed = pki.ensure_client_cert("alice", "alice", &["dev"])?;
        assert_ne!(changed.cert_pem()?, first_pem);

        // A new CA invalidates every leaf.
        std::fs::remove_file(pki.ca().key)?;
        ensure_pki(tmp.path())?;
        assert_ne!(pki.ca_pem()?, before[0]);
        assert_ne!(pki.admin().cert_pem()?, before[2]);
        Ok(())
    }
}
