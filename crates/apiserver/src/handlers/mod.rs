//! Request handlers: one module per kind of request, dispatched from a route.

pub mod delete;
pub mod discovery;
pub mod objects;
// kubelet-streaming: pods/log, exec, attach, portforward and nodes/proxy via the kubelet.
pub mod proxy;
pub mod read;
pub mod subresources;
pub mod system;
pub mod watch;
pub mod write;

use api_types::ApiError;
use http::Response;

use crate::authz::Attributes;
use crate::request::{ResourceRequest, Route};
use crate::server::{ApiServer, Body, RequestContext};

pub async fn dispatch(
    server: &ApiServer,
    route: Route,
    ctx: &RequestContext,
) -> Result<Response<Body>, ApiError> {
    match route {
        Route::Healthz(which) => system::health(server, &which, ctx).await,
        Route::Version => Ok(system::version()),
        Route::Metrics => {
            authorize_path(server, ctx)?;
            Ok(system::metrics())
        }
        Route::OpenApiV2 => system::openapi_v2(server, ctx),
        Route::OpenApiV3(path) => system::openapi_v3(server, path.as_deref(), ctx),
        Route::DiscoveryRoot { core } => discovery::root(core, ctx),
        Route::DiscoveryGroup(group) => discovery::group(&group),
        Route::DiscoveryGroupVersion { group, version } => {
            discovery::group_version(&group, &version)
        }
        Route::Resource(req) => {
            authorize(server, &req, ctx)?;
            resource(server, &req, ctx).await
        }
    }
}

fn authorize_path(server: &ApiServer, ctx: &RequestContext) -> Result<(), ApiError> {
    server.authz.authorize(&Attributes {
        user: &ctx.user,
        verb: &ctx.method.as_str().to_lowercase(),
        group: "",
        resource: "",
        subresource: "",
        namespace: "",
        name: "",
        path: &ctx.path,
    })
}

fn authorize(
    server: &ApiServer,
    req: &ResourceRequest,
    ctx: &RequestContext,
) -> Result<(), ApiError> {
    server.authz.authorize(&Attributes {
        user: &ctx.user,
        verb: req.verb,
        group: req.resource.group,
        resource: req.resource.plural,
        subresource: req.subresource.as_deref().unwrap_or(""),
        namespace: req.namespace.as_deref().unwrap_or(""),
        name: req.name.as_deref().unwrap_or(""),
        path: &ctx.path,
    })
}

async fn resource(
    server: &ApiServer,
    req: &ResourceRequest,
    ctx: &RequestContext,
) -> Result<Response<Body>, ApiError> {
    let r = req.resource;
    let verb_allowed = |v: &str| {
        if r.has_verb(v) {
            Ok(())
        } else {
            Err(ApiError::method_not_allowed(format!(
                "{} is not allowed on {}",
                v,
                r.group_resource()
            )))
        }
    };
    match (req.verb, req.subresource.as_deref()) {
        ("get", None) => read::get(server, req, ctx).await,
        ("list", None) => read::list(server, req, ctx).await,
        ("watch", None) => watch::watch(server, req, ctx).await,
        ("create", None) => {
            verb_allowed("create")?;
            if r.group.is_empty() && r.plural == "bindings" {
                return subresources::bind(server, req, ctx).await;
            }
            if !r.is_stored() {
                return subresources::review(server, req, ctx);
            }
            write::create(server, req, ctx).await
        }
        ("update", None) => write::update(server, req, ctx, write::Target::Main).await,
        ("patch", None) => write::patch(server, req, ctx, write::Target::Main).await,
        ("delete", None) => delete::delete(server, req, ctx).await,
        ("deletecollection", None) => {
            verb_allowed("deletecollection")?;
            delete::delete_collection(server, req, ctx).await
        }
        ("get", Some("status")) => read::get(server, req, ctx).await,
        ("update", Some("status")) => write::update(server, req, ctx, write::Target::Status).await,
        ("patch", Some("status")) => write::patch(server, req, ctx, write::Target::Status).await,
        ("update", Some("finalize")) => {
            write::update(server, req, ctx, write::Target::Finalize).await
        }
        ("get", Some("scale")) => subresources::get_scale(server, req, ctx).await,
        ("update", Some("scale")) => subresources::update_scale(server, req, ctx, false).await,
        ("patch", Some("scale")) => subresources::update_scale(server, req, ctx, true).await,
        ("create", Some("binding")) => subresources::bind(server, req, ctx).await,
        // kubelet-streaming
        (_, Some("log" | "exec" | "attach" | "portforward" | "proxy")) => {
            proxy::handle(server, req, ctx).await
        }
        (_, Some(sub)) => Err(ApiError::new(
            501,
            "NotImplemented",
            format!(
                "the {sub} subresource of {} is not served by this apiserver yet",
                r.group_resource()
            ),
        )),
        (verb, None) => Err(ApiError::method_not_allowed(format!(
            "{verb} is not supported here"
        ))),
    }
}
