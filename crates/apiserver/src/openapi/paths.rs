//! The REST operations of every served resource, shaped like upstream's (operation ids,
//! `x-kubernetes-action`, `x-kubernetes-group-version-kind`, query parameters), built once
//! and rendered into both the v2 and the v3 documents by [`super::render`].
//!
//! kubectl reads these: `fieldValidation` among a PATCH operation's own parameters tells it
//! the server validates fields (client-go/cli-runtime `QueryParamVerifierV3`), the
//! `application/strategic-merge-patch+json` request body of PATCH tells `kubectl apply` it
//! may send a strategic merge patch, and the operations' group-version-kind lets
//! `kubectl explain` find the kind of a resource path.

use api_types::resources::ResourceInfo;
use serde_json::Value;

use super::defs::{self, gvk, API_RESOURCE_LIST, DELETE_OPTIONS, PATCH, STATUS, WATCH_EVENT};
use super::params::{
    delete_collection_params, delete_params, list_params, patch_params, path_param, q,
    write_params, Param,
};

/// What a response (or request body) holds: a definition, or plain text.
#[derive(Clone)]
pub(crate) enum Payload {
    Def(String),
    Text,
}

pub(crate) struct Operation {
    pub method: &'static str,
    pub id: String,
    pub description: String,
    pub action: Option<&'static str>,
    pub gvk: Option<Value>,
    pub params: Vec<Param>,
    /// Request body definition and whether it is required.
    pub body: Option<(String, bool)>,
    pub consumes: &'static [&'static str],
    pub produces: &'static [&'static str],
    pub responses: Vec<(&'static str, Option<Payload>)>,
    pub tag: String,
}

pub(crate) struct PathItem {
    pub path: String,
    pub params: Vec<Param>,
    pub ops: Vec<Operation>,
}

const ANY: &[&str] = &["*/*"];
const JSON_YAML: &[&str] = &["application/json", "application/yaml"];
const LIST: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/json;stream=watch",
];
const LOG: &[&str] = &["text/plain", "application/json", "application/yaml"];
pub(crate) const PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];

/// `AppsV1`, `CoreV1`, `RbacAuthorizationV1`: the group version part of operation ids.
pub(crate) fn gv_camel(group: &str, version: &str) -> String {
    let group = if group.is_empty() {
        "core"
    } else {
        group.strip_suffix(".k8s.io").unwrap_or(group)
    };
    let mut out: String = group.split(['.', '-']).map(upper_first).collect();
    out.push_str(&upper_first(version));
    out
}

/// `apps_v1`, `core_v1`, `rbacAuthorization_v1`: upstream's operation tags.
pub(crate) fn gv_tag(group: &str, version: &str) -> String {
    let camel = gv_camel(group, "");
    let mut chars = camel.chars();
    let first = chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string())
        .unwrap_or_default();
    format!("{first}{}_{version}", chars.as_str())
}

fn upper_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// `/api/v1` or `/apis/apps/v1`.
pub(crate) fn gv_prefix(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

/// Builds the operations of one resource's paths.
struct Builder<'a> {
    r: &'a ResourceInfo,
    gv: String,
    tag: String,
    kind_def: String,
    scope: &'static str,
}

impl Builder<'_> {
    #[allow(clippy::too_many_arguments)]
    fn op(
        &self,
        method: &'static str,
        id: String,
        description: String,
        action: &'static str,
        gvk: Value,
        params: Vec<Param>,
        body: Option<(String, bool)>,
        produces: &'static [&'static str],
        responses: Vec<(&'static str, Option<Payload>)>,
    ) -> Operation {
        let consumes = if method == "patch" && action == "patch" {
            PATCH_TYPES
        } else {
            ANY
        };
        Operation {
            method,
            id,
            description,
            action: Some(action),
            gvk: Some(gvk),
            params,
            body,
            consumes,
            produces,
            responses,
            tag: self.tag.clone(),
        }
    }

    fn kind_gvk(&self) -> Value {
        gvk(self.r.group, self.r.version, self.r.kind)
    }

    fn ok(&self, def: &str, codes: &[&'static str]) -> Vec<(&'static str, Option<Payload>)> {
        let mut out: Vec<_> = codes
            .iter()
            .map(|c| (*c, Some(Payload::Def(def.to_string()))))
            .collect();
        out.push(("401", None));
        out
    }

    /// Operation id: `{verb}{GV}{Namespaced}{Kind}{suffix}`.
    fn id(&self, verb: &str, middle: &str, suffix: &str) -> String {
        format!(
            "{verb}{}{middle}{}{}{suffix}",
            self.gv, self.scope, self.r.kind
        )
    }
}

/// Every path of one group version, upstream's order aside (callers sort).
pub(crate) fn group_version_paths(
    group: &str,
    version: &str,
    resources: &[&ResourceInfo],
) -> Vec<PathItem> {
    let prefix = gv_prefix(group, version);
    let gv = gv_camel(group, version);
    let tag = gv_tag(group, version);
    let mut items = vec![PathItem {
        path: format!("{prefix}/"),
        params: Vec::new(),
        ops: vec![Operation {
            method: "get",
            id: format!("get{gv}APIResources"),
            description: "get available resources".into(),
            action: None,
            gvk: None,
            params: Vec::new(),
            body: None,
            consumes: JSON_YAML,
            produces: JSON_YAML,
            responses: vec![
                ("200", Some(Payload::Def(API_RESOURCE_LIST.into()))),
                ("401", None),
            ],
            tag: tag.clone(),
        }],
    }];
    for r in resources {
        resource_paths(r, &prefix, &gv, &tag, &mut items);
    }
    items.retain(|i| !i.ops.is_empty());
    items.sort_by(|a, b| a.path.cmp(&b.path));
    items
}

fn resource_paths(r: &ResourceInfo, prefix: &str, gv: &str, tag: &str, items: &mut Vec<PathItem>) {
    let b = Builder {
        r,
        gv: gv.to_string(),
        tag: tag.to_string(),
        kind_def: (r.schema_name)().into_owned(),
        scope: if r.namespaced { "Namespaced" } else { "" },
    };
    let kind = r.kind;
    let list_def = defs::list_definition(r);
    let ns_path = if r.namespaced {
        "/namespaces/{namespace}"
    } else {
        ""
    };
    let base = format!("{prefix}{ns_path}/{}", r.plural);
    let namespace = || {
        path_param(
            "namespace",
            "object name and auth scope, such as for teams and projects".into(),
        )
    };
    let name = || path_param("name", format!("name of the {kind}"));
    let scope_params = |with_name: bool| {
        let mut p = Vec::new();
        if with_name {
            p.push(name());
        }
        if r.namespaced {
            p.push(namespace());
        }
        p.push(q("pretty", "string"));
        p
    };

    // The collection: list, create, deletecollection.
    let mut ops = Vec::new();
    if r.has_verb("deletecollection") {
        let id = b.id("delete", "Collection", "");
        let body = Some((DELETE_OPTIONS.to_string(), false));
        let resp = b.ok(STATUS, &["200"]);
        ops.push(b.op(
            "delete",
            id,
            format!("delete collection of {kind}"),
            "deletecollection",
            b.kind_gvk(),
            delete_collection_params(),
            body,
            JSON_YAML,
            resp,
        ));
    }
    if r.has_verb("list") {
        let resp = b.ok(&list_def, &["200"]);
        ops.push(b.op(
            "get",
            b.id("list", "", ""),
            list_description(r),
            "list",
            b.kind_gvk(),
            list_params(),
            None,
            LIST,
            resp,
        ));
    }
    if r.has_verb("create") {
        let body = Some((b.kind_def.clone(), true));
        let resp = b.ok(&b.kind_def, &["200", "201", "202"]);
        ops.push(b.op(
            "post",
            b.id("create", "", ""),
            format!("create{}{kind}", article(kind)),
            "post",
            b.kind_gvk(),
            write_params(),
            body,
            JSON_YAML,
            resp,
        ));
    }
    items.push(PathItem {
        path: base.clone(),
        params: scope_params(false),
        ops,
    });

    // One object: read, replace, patch, delete.
    let mut ops = Vec::new();
    if r.has_verb("delete") {
        let body = Some((DELETE_OPTIONS.to_string(), false));
        let resp = b.ok(STATUS, &["200", "202"]);
        ops.push(b.op(
            "delete",
            b.id("delete", "", ""),
            format!("delete{}{kind}", article(kind)),
            "delete",
            b.kind_gvk(),
            delete_params(),
            body,
            JSON_YAML,
            resp,
        ));
    }
    if r.has_verb("get") {
        let resp = b.ok(&b.kind_def, &["200"]);
        ops.push(b.op(
            "get",
            b.id("read", "", ""),
            format!("read the specified {kind}"),
            "get",
            b.kind_gvk(),
            Vec::new(),
            None,
            JSON_YAML,
            resp,
        ));
    }
    if r.has_verb("patch") {
        let body = Some((PATCH.to_string(), true));
        let resp = b.ok(&b.kind_def, &["200", "201"]);
        ops.push(b.op(
            "patch",
            b.id("patch", "", ""),
            format!("partially update the specified {kind}"),
            "patch",
            b.kind_gvk(),
            patch_params(),
            body,
            JSON_YAML,
            resp,
        ));
    }
    if r.has_verb("update") {
        let body = Some((b.kind_def.clone(), true));
        let resp = b.ok(&b.kind_def, &["200", "201"]);
        ops.push(b.op(
            "put",
            b.id("replace", "", ""),
            format!("replace the specified {kind}"),
            "put",
            b.kind_gvk(),
            write_params(),
            body,
            JSON_YAML,
            resp,
        ));
    }
    items.push(PathItem {
        path: format!("{base}/{{name}}"),
        params: scope_params(true),
        ops,
    });

    // Deprecated watch paths, and the cross-namespace list.
    if r.has_verb("watch") {
        let watch_base = format!("{prefix}/watch{ns_path}/{}", r.plural);
        let mut params = list_params();
        params.extend(scope_params(false));
        params.sort_by_key(|p| p.name);
        let desc = format!("watch individual changes to a list of {kind}. deprecated: use the 'watch' parameter with a list operation instead.");
        let op = b.op(
            "get",
            b.id("watch", "", "List"),
            desc,
            "watchlist",
            b.kind_gvk(),
            Vec::new(),
            None,
            LIST,
            b.ok(WATCH_EVENT, &["200"]),
        );
        items.push(PathItem {
            path: watch_base.clone(),
            params: params.clone(),
            ops: vec![op],
        });
        params.push(name());
        params.sort_by_key(|p| p.name);
        let desc = format!("watch changes to an object of kind {kind}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.");
        let op = b.op(
            "get",
            b.id("watch", "", ""),
            desc,
            "watch",
            b.kind_gvk(),
            Vec::new(),
            None,
            LIST,
            b.ok(WATCH_EVENT, &["200"]),
        );
        items.push(PathItem {
            path: format!("{watch_base}/{{name}}"),
            params,
            ops: vec![op],
        });
    }
    if r.namespaced {
        let mut params = list_params();
        params.push(q("pretty", "string"));
        params.sort_by_key(|p| p.name);
        let all = format!("{}{kind}{}", b.gv, "ForAllNamespaces");
        if r.has_verb("list") {
            let op = b.op(
                "get",
                format!("list{all}"),
                list_description(r),
                "list",
                b.kind_gvk(),
                Vec::new(),
                None,
                LIST,
                b.ok(&list_def, &["200"]),
            );
            items.push(PathItem {
                path: format!("{prefix}/{}", r.plural),
                params: params.clone(),
                ops: vec![op],
            });
        }
        if r.has_verb("watch") {
            let desc = format!("watch individual changes to a list of {kind}. deprecated: use the 'watch' parameter with a list operation instead.");
            let op = b.op(
                "get",
                format!("watch{}{kind}ListForAllNamespaces", b.gv),
                desc,
                "watchlist",
                b.kind_gvk(),
                Vec::new(),
                None,
                LIST,
                b.ok(WATCH_EVENT, &["200"]),
            );
            items.push(PathItem {
                path: format!("{prefix}/watch/{}", r.plural),
                params,
                ops: vec![op],
            });
        }
    }

    for sub in r.subresources {
        subresource_paths(
            &b,
            sub,
            &format!("{base}/{{name}}/{sub}"),
            scope_params(true),
            items,
        );
    }
}

fn list_description(r: &ResourceInfo) -> String {
    if r.has_verb("watch") {
        format!("list or watch objects of kind {}", r.kind)
    } else {
        format!("list objects of kind {}", r.kind)
    }
}

/// Upstream's article before a kind, with its spaces (apiserver endpoints installer
/// `getArticleForNoun`): none for plural-looking kinds such as `Endpoints`.
fn article(kind: &str) -> &'static str {
    if kind.ends_with('s') && !kind.ends_with("ss") {
        return " ";
    }
    match kind.chars().next() {
        Some('A' | 'E' | 'I' | 'O' | 'U' | 'a' | 'e' | 'i' | 'o' | 'u') => " an ",
        _ => " a ",
    }
}

fn subresource_paths(
    b: &Builder,
    sub: &str,
    path: &str,
    params: Vec<Param>,
    items: &mut Vec<PathItem>,
) {
    let kind = b.r.kind;
    let suffix = upper_first(sub);
    let (body_def, body_gvk) = match defs::sub_kind(sub) {
        Some(k) => (k.definition, gvk(k.group, k.version, k.kind)),
        None => (b.kind_def.clone(), b.kind_gvk()),
    };
    let mut ops = Vec::new();
    match sub {
        // Connect subresources: streams, not objects.
        "exec" | "attach" | "portforward" | "proxy" => {
            let options = match sub {
                "exec" => "PodExecOptions".to_string(),
                "attach" => "PodAttachOptions".to_string(),
                "portforward" => "PodPortForwardOptions".to_string(),
                _ => format!("{kind}ProxyOptions"),
            };
            let methods: &[&'static str] = match sub {
                "proxy" => &["delete", "get", "head", "options", "patch", "post", "put"],
                _ => &["get", "post"],
            };
            let query: Vec<Param> = match sub {
                "exec" => vec![
                    q("command", "string"),
                    q("container", "string"),
                    q("stderr", "boolean"),
                    q("stdin", "boolean"),
                    q("stdout", "boolean"),
                    q("tty", "boolean"),
                ],
                "attach" => vec![
                    q("container", "string"),
                    q("stderr", "boolean"),
                    q("stdin", "boolean"),
                    q("stdout", "boolean"),
                    q("tty", "boolean"),
                ],
                "portforward" => vec![q("ports", "integer")],
                _ => vec![q("path", "string")],
            };
            let mut path_params: Vec<Param> =
                params.into_iter().filter(|p| p.name != "pretty").collect();
            path_params.extend(query);
            path_params.sort_by_key(|p| p.name);
            let connect = |method: &'static str, with_path: bool| {
                let m = upper_first(method);
                let id = b.id(
                    "connect",
                    &m,
                    &format!("{suffix}{}", if with_path { "WithPath" } else { "" }),
                );
                b.op(
                    method,
                    id,
                    format!(
                        "connect {} requests to {sub} of {kind}",
                        method.to_uppercase()
                    ),
                    "connect",
                    gvk("", "v1", &options),
                    Vec::new(),
                    None,
                    ANY,
                    vec![("200", Some(Payload::Text)), ("401", None)],
                )
            };
            let ops: Vec<Operation> = methods.iter().map(|m| connect(m, false)).collect();
            if sub == "proxy" {
                let mut with_path = path_params.clone();
                with_path.push(path_param("path", "path to the resource".into()));
                let ops = methods.iter().map(|m| connect(m, true)).collect();
                items.push(PathItem {
                    path: format!("{path}/{{path}}"),
                    params: with_path,
                    ops,
                });
            }
            items.push(PathItem {
                path: path.to_string(),
                params: path_params,
                ops,
            });
            return;
        }
        "log" => {
            let query = vec![
                q("container", "string"),
                q("follow", "boolean"),
                q("insecureSkipTLSVerifyBackend", "boolean"),
                q("limitBytes", "integer"),
                q("previous", "boolean"),
                q("sinceSeconds", "integer"),
                q("tailLines", "integer"),
                q("timestamps", "boolean"),
            ];
            let op = b.op(
                "get",
                b.id("read", "", &suffix),
                format!("read log of the specified {kind}"),
                "get",
                b.kind_gvk(),
                query,
                None,
                LOG,
                vec![("200", Some(Payload::Text)), ("401", None)],
            );
            ops.push(op);
        }
        // Subresources that create a different object.
        "eviction" | "binding" | "token" => {
            let resp = b.ok(&body_def, &["200", "201", "202"]);
            ops.push(b.op(
                "post",
                b.id("create", "", &suffix),
                format!("create {sub} of{}{kind}", article(kind)),
                "post",
                body_gvk,
                write_params(),
                Some((body_def, true)),
                JSON_YAML,
                resp,
            ));
        }
        _ => {
            if sub != "finalize" {
                let resp = b.ok(&body_def, &["200"]);
                ops.push(b.op(
                    "get",
                    b.id("read", "", &suffix),
                    format!("read {sub} of the specified {kind}"),
                    "get",
                    body_gvk.clone(),
                    Vec::new(),
                    None,
                    JSON_YAML,
                    resp,
                ));
                let resp = b.ok(&body_def, &["200", "201"]);
                ops.push(b.op(
                    "patch",
                    b.id("patch", "", &suffix),
                    format!("partially update {sub} of the specified {kind}"),
                    "patch",
                    body_gvk.clone(),
                    patch_params(),
                    Some((PATCH.to_string(), true)),
                    JSON_YAML,
                    resp,
                ));
            }
            let resp = b.ok(&body_def, &["200", "201"]);
            ops.push(b.op(
                "put",
                b.id("replace", "", &suffix),
                format!("replace {sub} of the specified {kind}"),
                "put",
                body_gvk,
                write_params(),
                Some((body_def, true)),
                JSON_YAML,
                resp,
            ));
        }
    }
    items.push(PathItem {
        path: path.to_string(),
        params,
        ops,
    });
}

/// The definitions a group version's operations refer to.
pub(crate) fn referenced_definitions(items: &[PathItem]) -> Vec<String> {
    let mut out = Vec::new();
    for op in items.iter().flat_map(|i| &i.ops) {
        if let Some((def, _)) = &op.body {
            out.push(def.clone());
        }
        for (_, payload) in &op.responses {
            if let Some(Payload::Def(def)) = payload {
                out.push(def.clone());
            }
        }
    }
    out
}
