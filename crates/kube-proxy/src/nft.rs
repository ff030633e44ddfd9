//! Where the proxier works (our network namespace, or a named one for tests and the
//! benchmark), and the `nft` binary run there: the tests read tables back with it and
//! load the golden files with `nft -f`; the proxier itself talks netlink
//! ([`crate::netlink`]).

use std::ffi::OsString;
use std::process::Stdio;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::model::Family;
use crate::ruleset::TABLE;

#[derive(Debug, thiserror::Error)]
pub enum NftError {
    #[error("running {program:?}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("nft {what} failed: {stderr}")]
    Failed { what: String, stderr: String },
    #[error("parsing `nft -j` output: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Netlink(#[from] crate::netlink::NetlinkError),
}

/// How to run `nft`.
#[derive(Clone, Debug)]
pub struct Nft {
    argv: Vec<OsString>,
    netns: Option<String>,
}

impl Default for Nft {
    fn default() -> Self {
        Nft::new()
    }
}

impl Nft {
    /// The `nft` on the PATH, in our own network namespace.
    pub fn new() -> Nft {
        Nft {
            argv: vec!["nft".into()],
            netns: None,
        }
    }

    /// `ip netns exec <name> nft`.
    pub fn in_netns(name: &str) -> Nft {
        Nft {
            argv: ["ip", "netns", "exec", name, "nft"]
                .iter()
                .map(OsString::from)
                .collect(),
            netns: Some(name.to_string()),
        }
    }

    /// The named network namespace (None: our own), where the proxier's netlink
    /// socket is opened.
    pub fn netns(&self) -> Option<&str> {
        self.netns.as_deref()
    }

    /// What runs before `nft` (`ip netns exec <name>`, or nothing): other tools the
    /// proxier runs (conntrack) use the same network namespace.
    pub fn prefix(&self) -> Vec<OsString> {
        self.argv[..self.argv.len().saturating_sub(1)].to_vec()
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.argv[0]);
        cmd.args(&self.argv[1..]);
        cmd.kill_on_drop(true);
        cmd
    }

    fn program(&self) -> String {
        self.argv
            .iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Applies `text` as one transaction (`nft -f -`): all of it or none of it.
    pub async fn apply(&self, text: &str) -> Result<(), NftError> {
        let mut cmd = self.command();
        cmd.args(["-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let spawn_err = |source| NftError::Spawn {
            program: self.program(),
            source,
        };
        let mut child = cmd.spawn().map_err(spawn_err)?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(text.as_bytes()).await.map_err(spawn_err)?;
            drop(stdin);
        }
        let out = child.wait_with_output().await.map_err(spawn_err)?;
        if out.status.success() {
            return Ok(());
        }
        Err(NftError::Failed {
            what: "-f (transaction)".into(),
            stderr: truncate(&String::from_utf8_lossy(&out.stderr), 2000),
        })
    }

    /// Runs `nft <args>` and returns stdout.
    pub async fn run(&self, args: &[&str]) -> Result<String, NftError> {
        let out = self
            .command()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|source| NftError::Spawn {
                program: self.program(),
                source,
            })?;
        if out.status.success() {
            return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
        }
        Err(NftError::Failed {
            what: args.join(" "),
            stderr: truncate(&String::from_utf8_lossy(&out.stderr), 2000),
        })
    }

    /// `nft -j list table <family> kube-proxy`, parsed with the nftables crate's schema.
    /// Objects the crate cannot represent (some rule expressions of nft 1.0) are skipped
    /// rather than failing the whole listing.
    pub async fn list_table(
        &self,
        family: Family,
    ) -> Result<Vec<nftables::schema::NfObject<'static>>, NftError> {
        #[derive(serde::Deserialize)]
        struct Listing {
            nftables: Vec<Box<serde_json::value::RawValue>>,
        }
        let json = self
            .run(&["-j", "list", "table", family.nft(), TABLE])
            .await?;
        let listing: Listing = serde_json::from_str(&json)?;
        Ok(listing
            .nftables
            .iter()
            .filter_map(|raw| serde_json::from_str(raw.get()).ok())
            .collect())
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.trim_end().to_string();
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}...", &s[..cut])
}

/// Chain and set names in a `nft -j list table` answer (for tests and diagnostics).
pub fn object_names(objects: &[nftables::schema::NfObject<'_>]) -> (Vec<String>, Vec<String>) {
    use nftables::schema::{NfListObject, NfObject};
    let mut chains = Vec::new();
    let mut sets = Vec::new();
    for obj in objects {
        if let NfObject::ListObject(item) = obj {
            match item {
                NfListObject::Chain(c) => chains.push(c.name.to_string()),
                NfListObject::Set(s) => sets.push(s.name.to_string()),
                NfListObject::Map(m) => sets.push(m.name.to_string()),
                _ => {}
            }
        }
    }
    (chains, sets)
}
