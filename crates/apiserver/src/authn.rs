//! Authentication: x509 client certificates (CN = user, O = groups) and bearer
//! tokens from --token-auth-file, as upstream's authenticators.

use std::collections::HashMap;
use std::path::Path;

use api_types::ApiError;

/// Who is asking. Carried with every request to authorization and admission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
}

impl UserInfo {
    fn with_authenticated(mut self) -> Self {
        if !self.groups.iter().any(|g| g == "system:authenticated") {
            self.groups.push("system:authenticated".into());
        }
        self
    }

    pub fn anonymous() -> Self {
        UserInfo {
            name: "system:anonymous".into(),
            uid: String::new(),
            groups: vec!["system:unauthenticated".into()],
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    #[error("reading token file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("token file {path} line {line}: {why}")]
    Line {
        path: String,
        line: usize,
        why: String,
    },
}

/// Bearer tokens from a CSV file: `token,user,uid,"group1,group2"`.
#[derive(Debug, Default, Clone)]
pub struct TokenFile {
    tokens: HashMap<String, UserInfo>,
}

impl TokenFile {
    pub fn load(path: &Path) -> Result<TokenFile, TokenFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| TokenFileError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text).map_err(|(line, why)| TokenFileError::Line {
            path: path.display().to_string(),
            line,
            why,
        })
    }

    pub fn parse(text: &str) -> Result<TokenFile, (usize, String)> {
        let mut tokens = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields = split_csv(line);
            if fields.len() < 3 {
                return Err((i + 1, "expected at least 3 columns: token,user,uid".into()));
            }
            if fields[0].is_empty() {
                return Err((i + 1, "empty token".into()));
            }
            let groups = fields
                .get(3)
                .map(|g| {
                    g.split(',')
                        .map(str::trim)
                        .filter(|g| !g.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            tokens.insert(
                fields[0].clone(),
                UserInfo {
                    name: fields[1].clone(),
                    uid: fields[2].clone(),
                    groups,
                },
            );
        }
        Ok(TokenFile { tokens })
    }

    pub fn lookup(&self, token: &str) -> Option<&UserInfo> {
        self.tokens.get(token)
    }
}

/// Splits one CSV line, honouring double quotes.
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    fields.push(cur);
    fields
}

/// The authenticators in upstream's order: client certificate, then bearer token.
#[derive(Debug, Default, Clone)]
pub struct Authenticator {
    pub tokens: TokenFile,
    pub anonymous: bool,
}

impl Authenticator {
    /// `cert_identity` comes from the verified TLS client certificate of the connection.
    pub fn authenticate(
        &self,
        cert_identity: Option<&(String, Vec<String>)>,
        authorization: Option<&str>,
    ) -> Result<UserInfo, ApiError> {
        if let Some((user, groups)) = cert_identity {
            return Ok(UserInfo {
                name: user.clone(),
                uid: String::new(),
                groups: groups.clone(),
            }
            .with_authenticated());
        }
        if let Some(header) = authorization {
            let token = header
                .strip_prefix("Bearer ")
                .or_else(|| header.strip_prefix("bearer "))
                .map(str::trim);
            // A presented but unknown token is a failure, not anonymity (as upstream).
            return match token.and_then(|t| self.tokens.lookup(t)) {
                Some(user) => Ok(user.clone().with_authenticated()),
                None => Err(ApiError::unauthorized()),
            };
        }
        if self.anonymous {
            return Ok(UserInfo::anonymous());
        }
        Err(ApiError::unauthorized())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_file_parses_groups() {
        let f =
            TokenFile::parse("# admin\nabc,alice,1,\"system:masters,dev\"\nxyz,bob,2\n").unwrap();
        let alice = f.lookup("abc").unwrap();
        assert_eq!(alice.name, "alice");
        assert_eq!(alice.groups, vec!["system:masters", "dev"]);
        assert!(f.lookup("xyz").unwrap().groups.is_empty());
        assert!(TokenFile::parse("onlytoken\n").is_err());
    }

    #[test]
    fn certificate_wins_then_token_then_401() {
        let a = Authenticator {
            tokens: TokenFile::parse("t1,tok-user,9\n").unwrap(),
            anonymous: false,
        };
        let cert = ("cert-user".to_string(), vec!["g".to_string()]);
        let u = a.authenticate(Some(&cert), Some("Bearer t1")).unwrap();
        assert_eq!(u.name, "cert-user");
        assert!(u.groups.contains(&"system:authenticated".to_string()));
        assert_eq!(
            a.authenticate(None, Some("Bearer t1")).unwrap().name,
            "tok-user"
        );
        assert_eq!(
            a.authenticate(None, Some("Bearer nope")).unwrap_err().code,
            401
        );
        assert_eq!(a.authenticate(None, None).unwrap_err().code, 401);
    }
}
