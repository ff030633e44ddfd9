//! One module per controller, named as upstream names them; the table below is what
//! `--controllers` selects from.

use std::sync::Arc;

use futures::future::BoxFuture;

use crate::context::ControllerContext;

pub mod deployment;
pub mod endpoints;
pub mod endpointslice;
pub mod garbagecollector;
pub mod namespace;
pub mod nodeipam;
pub mod nodelifecycle;
pub mod podgc;
pub mod replicaset;
pub mod replicationcontroller;
pub mod root_ca_publisher;
pub mod serviceaccount;

pub type StartFn = fn(Arc<ControllerContext>) -> BoxFuture<'static, anyhow::Result<()>>;

pub struct ControllerDescriptor {
    /// The canonical name (cmd/kube-controller-manager/names).
    pub name: &'static str,
    /// Older names `--controllers` still accepts.
    pub aliases: &'static [&'static str],
    pub enabled_by_default: bool,
    pub start: StartFn,
}

pub const CONTROLLERS: &[ControllerDescriptor] = &[
    ControllerDescriptor {
        name: "deployment-controller",
        aliases: &["deployment"],
        enabled_by_default: true,
        start: |ctx| Box::pin(deployment::run(ctx)),
    },
    ControllerDescriptor {
        name: "replicaset-controller",
        aliases: &["replicaset"],
        enabled_by_default: true,
        start: |ctx| Box::pin(replicaset::run(ctx)),
    },
    ControllerDescriptor {
        name: "replicationcontroller-controller",
        aliases: &["replicationcontroller"],
        enabled_by_default: true,
        start: |ctx| Box::pin(replicationcontroller::run(ctx)),
    },
    ControllerDescriptor {
        name: "garbage-collector-controller",
        aliases: &["garbagecollector"],
        enabled_by_default: true,
        start: |ctx| Box::pin(garbagecollector::run(ctx)),
    },
    ControllerDescriptor {
        name: "pod-garbage-collector-controller",
        aliases: &["podgc"],
        enabled_by_default: true,
        start: |ctx| Box::pin(podgc::run(ctx)),
    },
    ControllerDescriptor {
        name: "namespace-controller",
        aliases: &["namespace"],
        enabled_by_default: true,
        start: |ctx| Box::pin(namespace::run(ctx)),
    },
    ControllerDescriptor {
        name: "endpointslice-controller",
        aliases: &["endpointslice"],
        enabled_by_default: true,
        start: |ctx| Box::pin(endpointslice::run(ctx)),
    },
    ControllerDescriptor {
        name: "endpoints-controller",
        aliases: &["endpoint"],
        enabled_by_default: true,
        start: |ctx| Box::pin(endpoints::run(ctx)),
    },
    ControllerDescriptor {
        name: "serviceaccount-controller",
        aliases: &["serviceaccount"],
        enabled_by_default: true,
        start: |ctx| Box::pin(serviceaccount::run(ctx)),
    },
    ControllerDescriptor {
        name: "root-ca-certificate-publisher-controller",
        aliases: &["root-ca-cert-publisher"],
        enabled_by_default: true,
        start: |ctx| Box::pin(root_ca_publisher::run(ctx)),
    },
    ControllerDescriptor {
        name: "node-ipam-controller",
        aliases: &["nodeipam"],
        enabled_by_default: true,
        start: |ctx| Box::pin(nodeipam::run(ctx)),
    },
    ControllerDescriptor {
        name: "node-lifecycle-controller",
        aliases: &["nodelifecycle"],
        enabled_by_default: true,
        start: |ctx| Box::pin(nodelifecycle::run(ctx)),
    },
    // cm-infra: upstream runs taint-based eviction as its own controller.
    ControllerDescriptor {
        name: "taint-eviction-controller",
        aliases: &[],
        enabled_by_default: true,
        start: |ctx| Box::pin(nodelifecycle::taint_eviction::run(ctx)),
    },
];

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0:?} is not in the list of known controllers")]
pub struct UnknownController(pub String);

/// Upstream's --controllers rule: '*' = the on-by-default set, 'foo' enables,
/// '-foo' disables (a disable wins); names may be canonical or aliases.
pub fn enabled(
    selection: &[String],
) -> Result<Vec<&'static ControllerDescriptor>, UnknownController> {
    let find = |name: &str| {
        CONTROLLERS
            .iter()
            .find(|c| c.name == name || c.aliases.contains(&name))
            .ok_or_else(|| UnknownController(name.to_string()))
    };
    let mut star = false;
    let mut on = Vec::new();
    let mut off = Vec::new();
    for raw in selection.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if raw == "*" {
            star = true;
        } else if let Some(name) = raw.strip_prefix('-') {
            off.push(find(name)?.name);
        } else {
            on.push(find(raw)?.name);
        }
    }
    Ok(CONTROLLERS
        .iter()
        .filter(|c| {
            !off.contains(&c.name) && (on.contains(&c.name) || (star && c.enabled_by_default))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(sel: &[&str]) -> Vec<&'static str> {
        let sel: Vec<String> = sel.iter().map(|s| s.to_string()).collect();
        enabled(&sel).unwrap().iter().map(|c| c.name).collect()
    }

    #[test]
    fn star_minus_one() {
        let n = names(&["*", "-nodeipam"]);
        assert!(n.contains(&"deployment-controller"));
        assert!(!n.contains(&"node-ipam-controller"));
    }

    #[test]
    fn explicit_list_by_alias_or_name() {
        assert_eq!(
            names(&["deployment", "replicaset-controller"]),
            vec!["deployment-controller", "replicaset-controller"]
        );
    }

    #[test]
    fn unknown_is_an_error() {
        assert_eq!(
            enabled(&["nope".to_string()]).err(),
            Some(UnknownController("nope".into()))
        );
    }
}
