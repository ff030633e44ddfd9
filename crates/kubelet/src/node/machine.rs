//! Reading the facts about this machine that the Node status reports. All I/O for the
//! status lives here so that `status::build_node_status` stays a pure function.

use std::ffi::CStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};

/// What the kubelet knows about its machine (cadvisor's MachineInfo, trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineInfo {
    /// uname's nodename, lower-cased as upstream does for the node name.
    pub hostname: String,
    pub num_cpus: u32,
    /// MemTotal from /proc/meminfo, in bytes.
    pub memory_bytes: u64,
    /// Size of the filesystem holding the kubelet's root dir, in bytes.
    pub root_fs_bytes: u64,
    /// PRETTY_NAME from /etc/os-release.
    pub os_image: String,
    /// uname's release.
    pub kernel_version: String,
    /// Go's GOARCH spelling (amd64, arm64, ...).
    pub architecture: String,
    pub machine_id: String,
    pub system_uuid: String,
    pub boot_id: String,
}

impl MachineInfo {
    /// Reads the machine's facts; `root_dir` is the kubelet's --root-dir (its filesystem
    /// is the node's ephemeral storage).
    pub fn read(root_dir: &Path) -> Result<MachineInfo> {
        let uts = uname()?;
        let meminfo = std::fs::read_to_string("/proc/meminfo").context("reading /proc/meminfo")?;
        let os_release = std::fs::read_to_string("/etc/os-release")
            .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
            .unwrap_or_default();
        let num_cpus = std::thread::available_parallelism()
            .context("counting CPUs")?
            .get() as u32;
        Ok(MachineInfo {
            hostname: uts.nodename.to_lowercase(),
            num_cpus,
            memory_bytes: parse_meminfo_total(&meminfo)?,
            root_fs_bytes: filesystem_bytes(root_dir)?,
            os_image: parse_os_release_pretty_name(&os_release)
                .unwrap_or_else(|| "Linux".to_string()),
            kernel_version: uts.release,
            architecture: go_arch(std::env::consts::ARCH).to_string(),
            // These ids are best effort: containers and some VMs lack them; upstream
            // reports empty strings then.
            machine_id: read_trimmed("/etc/machine-id")
                .or_else(|| read_trimmed("/var/lib/dbus/machine-id"))
                .unwrap_or_default(),
            system_uuid: read_trimmed("/sys/class/dmi/id/product_uuid").unwrap_or_default(),
            boot_id: read_trimmed("/proc/sys/kernel/random/boot_id").unwrap_or_default(),
        })
    }
}

fn read_trimmed(path: &str) -> Option<String> {
    let s = std::fs::read_to_string(path).ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// Rust's target arch names mapped to Go's GOARCH (what `kubernetes.io/arch` carries).
pub fn go_arch(rust_arch: &str) -> &str {
    match rust_arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
}

/// MemTotal (kB) from /proc/meminfo text, in bytes.
pub fn parse_meminfo_total(meminfo: &str) -> Result<u64> {
    let line = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .ok_or_else(|| anyhow!("/proc/meminfo has no MemTotal line"))?;
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow!("/proc/meminfo: cannot parse {line:?}"))?;
    Ok(kb * 1024)
}

/// PRETTY_NAME from os-release text, quotes removed.
pub fn parse_os_release_pretty_name(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let v = l.trim().strip_prefix("PRETTY_NAME=")?;
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(v);
        Some(v.to_string())
    })
}

struct Uname {
    nodename: String,
    release: String,
}

fn uname() -> Result<Uname> {
    // SAFETY: utsname is plain data; uname fills it and NUL-terminates each field.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut uts) } != 0 {
        return Err(std::io::Error::last_os_error()).context("uname");
    }
    let field = |f: &[libc::c_char]| {
        // SAFETY: the kernel NUL-terminates the field within its length.
        unsafe { CStr::from_ptr(f.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    };
    Ok(Uname {
        nodename: field(&uts.nodename),
        release: field(&uts.release),
    })
}

/// Total size of the filesystem holding `path` (statvfs blocks * fragment size).
pub fn filesystem_bytes(path: &Path) -> Result<u64> {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .with_context(|| format!("path {} contains NUL", path.display()))?;
    // SAFETY: statvfs is plain data filled by the call.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("statvfs {}", path.display()));
    }
    Ok(st.f_blocks as u64 * st.f_frsize as u64)
}

/// The node IP when --node-ip is not given: upstream resolves the hostname, then falls
/// back to the default route's interface. Here: the first global IPv4 address of the
/// default-route interface, else of any interface that is up.
pub fn detect_node_ip() -> Result<IpAddr> {
    let default_if = std::fs::read_to_string("/proc/net/route")
        .ok()
        .and_then(|t| default_route_interface(&t));
    let addrs = interface_addresses()?;
    let usable = |ip: &IpAddr| match ip {
        IpAddr::V4(v4) => !v4.is_loopback() && !v4.is_link_local() && !v4.is_unspecified(),
        IpAddr::V6(_) => false,
    };
    if let Some(ifname) = &default_if {
        if let Some((_, ip)) = addrs.iter().find(|(n, ip)| n == ifname && usable(ip)) {
            return Ok(*ip);
        }
    }
    match addrs.iter().find(|(_, ip)| usable(ip)) {
        Some((_, ip)) => Ok(*ip),
        None => bail!("no usable IPv4 address found on any interface; pass --node-ip"),
    }
}

/// The interface of the 0.0.0.0/0 route in /proc/net/route text.
pub fn default_route_interface(route_table: &str) -> Option<String> {
    route_table.lines().skip(1).find_map(|l| {
        let cols: Vec<&str> = l.split_whitespace().collect();
        (cols.len() > 7 && cols[1] == "00000000" && cols[7] == "00000000")
            .then(|| cols[0].to_string())
    })
}

fn interface_addresses() -> Result<Vec<(String, IpAddr)>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs allocates a list we walk read-only and free once below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(std::io::Error::last_os_error()).context("getifaddrs");
    }
    let mut out = Vec::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: cur points into the list getifaddrs returned.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_addr.is_null() || ifa.ifa_flags & libc::IFF_UP as u32 == 0 {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        let name = unsafe { CStr::from_ptr(ifa.ifa_name) }
            .to_string_lossy()
            .into_owned();
        // SAFETY: the family field says which sockaddr type ifa_addr points to.
        let ip = unsafe {
            match (*ifa.ifa_addr).sa_family as i32 {
                libc::AF_INET => {
                    let sa = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                    Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr))))
                }
                libc::AF_INET6 => {
                    let sa = &*(ifa.ifa_addr as *const libc::sockaddr_in6);
                    Some(IpAddr::V6(Ipv6Addr::from(sa.sin6_addr.s6_addr)))
                }
                _ => None,
            }
        };
        if let Some(ip) = ip {
            out.push((name, ip));
        }
    }
    // SAFETY: head came from getifaddrs and is freed exactly once.
    unsafe { libc::freeifaddrs(head) };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        let meminfo = "MemTotal:        8039596 kB\nMemFree:          123 kB\n";
        assert_eq!(parse_meminfo_total(meminfo).unwrap(), 8039596 * 1024);
        assert!(parse_meminfo_total("MemFree: 1 kB\n").is_err());
        let os = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n";
        assert_eq!(
            parse_os_release_pretty_name(os).as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(
            parse_os_release_pretty_name("PRETTY_NAME=Alpine\n").as_deref(),
            Some("Alpine")
        );
        let routes = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n\
                      eth0\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\n\
                      eth0\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\n";
        assert_eq!(default_route_interface(routes).as_deref(), Some("eth0"));
        assert_eq!(go_arch("x86_64"), "amd64");
        assert_eq!(go_arch("aarch64"), "arm64");
    }

    #[test]
    fn reads_this_machine() {
        let dir = tempfile::tempdir().unwrap();
        let m = MachineInfo::read(dir.path()).unwrap();
        assert!(m.num_cpus >= 1);
        assert!(m.memory_bytes > 0);
        assert!(m.root_fs_bytes > 0);
        assert!(!m.kernel_version.is_empty());
        assert!(!m.hostname.is_empty());
        assert!(MachineInfo::read(Path::new("/nonexistent/kubelet")).is_err());
    }
}
