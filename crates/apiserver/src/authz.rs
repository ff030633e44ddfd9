//! Authorization. The request's user and attributes reach here already; RBAC will
//! sit behind this same interface.

use api_types::ApiError;

use crate::authn::UserInfo;

/// Upstream's authorizer attributes for a resource or non-resource request.
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    pub user: &'a UserInfo,
    pub verb: &'a str,
    pub group: &'a str,
    pub resource: &'a str,
    pub subresource: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    /// For non-resource requests (/healthz, /version, ...).
    pub path: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    AlwaysAllow,
    AlwaysDeny,
}

#[derive(Debug, Clone)]
pub struct Authorizer {
    modes: Vec<Mode>,
}

impl Authorizer {
    /// From --authorization-mode; a mode not implemented yet is a start-up error.
    pub fn from_modes(names: &[String]) -> anyhow::Result<Authorizer> {
        let mut modes = Vec::new();
        for n in names {
            match n.as_str() {
                "AlwaysAllow" => modes.push(Mode::AlwaysAllow),
                "AlwaysDeny" => modes.push(Mode::AlwaysDeny),
                other => anyhow::bail!(
                    "authorization mode {other:?} is not supported yet (supported: AlwaysAllow, AlwaysDeny)"
                ),
            }
        }
        if modes.is_empty() {
            modes.push(Mode::AlwaysAllow);
        }
        Ok(Authorizer { modes })
    }

    /// Ok, or 403 worded as upstream.
    pub fn authorize(&self, a: &Attributes<'_>) -> Result<(), ApiError> {
        // A chain as upstream's union authorizer: the first decision wins, and
        // AlwaysDeny has no opinion (so the request falls through to Forbidden).
        if self.modes.contains(&Mode::AlwaysAllow) {
            return Ok(());
        }
        Err(ApiError::forbidden(forbidden_message(a)))
    }
}

fn forbidden_message(a: &Attributes<'_>) -> String {
    if a.resource.is_empty() {
        return format!(
            "forbidden: User \"{}\" cannot {} path \"{}\"",
            a.user.name,
            a.verb.to_lowercase(),
            a.path
        );
    }
    let resource = if a.subresource.is_empty() {
        a.resource.to_string()
    } else {
        format!("{}/{}", a.resource, a.subresource)
    };
    let what = if a.name.is_empty() {
        resource.clone()
    } else {
        format!("{resource} \"{}\"", a.name)
    };
    let scope = if a.namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace \"{}\"", a.namespace)
    };
    format!(
        "{what} is forbidden: User \"{}\" cannot {} resource \"{resource}\" in API group \"{}\" {scope}",
        a.user.name, a.verb, a.group
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_message_reads_as_upstream() {
        let user = UserInfo {
            name: "bob".into(),
            uid: String::new(),
            groups: vec![],
        };
        let z = Authorizer::from_modes(&["AlwaysDeny".into()]).unwrap();
        let e = z
            .authorize(&Attributes {
                user: &user,
                verb: "list",
                group: "",
                resource: "pods",
                subresource: "",
                namespace: "default",
                name: "",
                path: "/api/v1/namespaces/default/pods",
            })
            .unwrap_err();
        assert_eq!(e.code, 403);
        assert_eq!(
            e.message,
            "pods is forbidden: User \"bob\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
        );
        assert!(Authorizer::from_modes(&["Webhook".into()]).is_err());
    }
}
