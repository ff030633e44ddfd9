//! Content negotiation: which representation a client accepts and sends.

use api_types::ApiError;

/// A representation the server can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Json,
    Yaml,
    /// meta.k8s.io Table (v1 or v1beta1).
    Table {
        v1beta1: bool,
    },
    /// meta.k8s.io PartialObjectMetadata (or its List for collections).
    PartialMetadata {
        v1beta1: bool,
    },
    /// apidiscovery.k8s.io APIGroupDiscoveryList (v2 or v2beta1).
    Discovery {
        v2beta1: bool,
    },
}

struct MediaType<'a> {
    essence: &'a str,
    params: Vec<(&'a str, &'a str)>,
}

fn parse_media(s: &str) -> MediaType<'_> {
    let mut parts = s.split(';').map(str::trim);
    let essence = parts.next().unwrap_or("");
    let params = parts
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    MediaType { essence, params }
}

impl MediaType<'_> {
    fn param(&self, k: &str) -> Option<&str> {
        self.params.iter().find(|(pk, _)| *pk == k).map(|(_, v)| *v)
    }
}

/// Picks the first representation in the Accept header the server can produce.
/// `discovery` allows the aggregated discovery documents.
pub fn output(accept: Option<&str>, discovery: bool) -> Result<Output, ApiError> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Ok(Output::Json);
    };
    for item in accept.split(',') {
        let m = parse_media(item.trim());
        let json_like = matches!(
            m.essence,
            "application/json" | "*/*" | "application/*" | "application/json-patch+json"
        );
        let yaml = matches!(
            m.essence,
            "application/yaml" | "application/x-yaml" | "text/yaml"
        );
        match (m.param("as"), m.param("g"), m.param("v")) {
            (None, _, _) if json_like => return Ok(Output::Json),
            (None, _, _) if yaml => return Ok(Output::Yaml),
            (Some("Table"), Some("meta.k8s.io"), Some(v @ ("v1" | "v1beta1"))) if json_like => {
                return Ok(Output::Table {
                    v1beta1: v == "v1beta1",
                })
            }
            (
                Some("PartialObjectMetadata" | "PartialObjectMetadataList"),
                Some("meta.k8s.io"),
                Some(v @ ("v1" | "v1beta1")),
            ) if json_like => {
                return Ok(Output::PartialMetadata {
                    v1beta1: v == "v1beta1",
                })
            }
            (
                Some("APIGroupDiscoveryList"),
                Some("apidiscovery.k8s.io"),
                Some(v @ ("v2" | "v2beta1")),
            ) if json_like && discovery => {
                return Ok(Output::Discovery {
                    v2beta1: v == "v2beta1",
                })
            }
            _ => continue,
        }
    }
    Err(ApiError::not_acceptable(
        "only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io",
    ))
}

/// How a request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Json,
    Yaml,
    /// Kubernetes protobuf (kubectl's typed clients send it).
    Protobuf,
}

/// The body encoding of a create or update, from Content-Type.
pub fn body_format(content_type: Option<&str>) -> Result<BodyFormat, ApiError> {
    let essence = content_type
        .map(|c| parse_media(c).essence.to_ascii_lowercase())
        .unwrap_or_default();
    match essence.as_str() {
        "" | "application/json" => Ok(BodyFormat::Json),
        "application/yaml" | "application/x-yaml" | "text/yaml" => Ok(BodyFormat::Yaml),
        crate::protobuf::CONTENT_TYPE => Ok(BodyFormat::Protobuf),
        other => Err(ApiError::unsupported_media_type(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {other:?})"
        ))),
    }
}

/// The essence of the Content-Type (for PATCH, where it names the patch type).
pub fn content_essence(content_type: Option<&str>) -> String {
    content_type
        .map(|c| parse_media(c).essence.to_ascii_lowercase())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_get_asks_for_tables() {
        let a = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(
            output(Some(a), false).ok(),
            Some(Output::Table { v1beta1: false })
        );
    }

    #[test]
    fn discovery_only_where_allowed() {
        let a =
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
        assert_eq!(
            output(Some(a), true).ok(),
            Some(Output::Discovery { v2beta1: false })
        );
        assert_eq!(output(Some(a), false).ok(), Some(Output::Json));
    }

    #[test]
    fn protobuf_only_is_406() {
        assert_eq!(
            output(Some("application/vnd.kubernetes.protobuf"), false).map_err(|e| e.code),
            Err(406)
        );
        assert_eq!(
            output(Some("application/vnd.kubernetes.protobuf, */*"), false).ok(),
            Some(Output::Json)
        );
    }
}
