//! The static token file of `--token-auth-file`: CSV lines `token,user,uid,"group1,group2"`.

use std::path::Path;

use anyhow::{bail, Context, Result};
use rand::RngCore;

use crate::fsutil::{read_to_string, write_private};

/// One line of the token file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEntry {
    pub token: String,
    pub user: String,
    pub uid: String,
    pub groups: Vec<String>,
}

impl TokenEntry {
    pub fn new(token: &str, user: &str, uid: &str, groups: &[&str]) -> TokenEntry {
        TokenEntry {
            token: token.to_string(),
            user: user.to_string(),
            uid: uid.to_string(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    /// The CSV line, without the newline. Fields are quoted (with `""` for a quote) only
    /// when needed, as Go's encoding/csv reads them.
    pub fn to_csv_line(&self) -> String {
        let mut fields = vec![
            csv_field(&self.token),
            csv_field(&self.user),
            csv_field(&self.uid),
        ];
        if !self.groups.is_empty() {
            fields.push(csv_field(&self.groups.join(",")));
        }
        fields.join(",")
    }
}

/// A random token: 32 hex characters (128 bits).
pub fn generate_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes the token file with mode 0600.
pub fn write_token_file(path: &Path, entries: &[TokenEntry]) -> Result<()> {
    let mut out = String::new();
    for entry in entries {
        if entry.token.is_empty() || entry.user.is_empty() {
            bail!("token file entry needs a token and a user name");
        }
        if entry
            .token
            .chars()
            .any(|c| c.is_whitespace() || c == ',' || c == '"')
        {
            bail!(
                "token for {} contains whitespace, a comma or a quote",
                entry.user
            );
        }
        if [&entry.user, &entry.uid]
            .iter()
            .any(|f| f.contains('\n') || f.contains('\r'))
            || entry
                .groups
                .iter()
                .any(|g| g.contains(',') || g.contains('\n'))
        {
            bail!(
                "token file entry for {} has a newline, or a comma in a group name",
                entry.user
            );
        }
        out.push_str(&entry.to_csv_line());
        out.push('\n');
    }
    write_private(path, out.as_bytes())
        .with_context(|| format!("writing token file {}", path.display()))
}

/// Reads a token file written by [`write_token_file`] (or by hand, in the same format).
pub fn read_token_file(path: &Path) -> Result<Vec<TokenEntry>> {
    let text = read_to_string(path)?;
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields =
            parse_csv_line(line).with_context(|| format!("{}:{}", path.display(), n + 1))?;
        if fields.len() < 3 {
            bail!("{}:{}: want at least token,user,uid", path.display(), n + 1);
        }
        let groups = fields
            .get(3)
            .map(|g| {
                g.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        entries.push(TokenEntry {
            token: fields[0].clone(),
            user: fields[1].clone(),
            uid: fields[2].clone(),
            groups,
        });
    }
    Ok(entries)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn parse_csv_line(line: &str) -> Result<Vec<String>> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => bail!("unterminated quoted field"),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(c) => bail!("unexpected {c:?} after a quoted field"),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
            fields.push(field);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() -> Result<()> {
        let tmp = tempfile::tempdir()?;
        let path = tmp.path().join("tokens.csv");
        let entries = vec![
            TokenEntry::new(
                &generate_token(),
                "admin",
                "uid-1",
                &["system:masters", "ops"],
            ),
            TokenEntry::new("abc", "bob", "2", &[]),
            TokenEntry::new("def", "carol", "3", &["dev"]),
        ];
        write_token_file(&path, &entries)?;
        let text = std::fs::read_to_string(&path)?;
        assert!(
            text.contains(",admin,uid-1,\"system:masters,ops\"\n"),
            "{text}"
        );
        assert!(text.contains("abc,bob,2\n"), "{text}");
        assert!(text.contains("def,carol,3,dev\n"), "{text}");
        assert_eq!(read_token_file(&path)?, entries);
        assert!(write_token_file(&path, &[TokenEntry::new("a,b", "x", "1", &[])]).is_err());
        Ok(())
    }

    #[test]
    fn tokens_are_random_hex() {
        let a = generate_token();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, generate_token());
    }
}
