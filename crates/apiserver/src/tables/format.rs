//! The small formatters upstream's printers share: label sets and selectors as
//! apimachinery's `labels` package writes them, container lists, "a,b,c + 2 more...".

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Container;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// `labels.FormatLabels`: `k=v,k2=v2` sorted by key, `<none>` when empty.
pub(crate) fn format_labels(labels: Option<&BTreeMap<String, String>>) -> String {
    let joined = labels
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    if joined.is_empty() {
        "<none>".to_string()
    } else {
        joined
    }
}

/// `metav1.LabelSelectorAsSelector(..).String()`: requirements sorted by key, values of
/// set operators sorted. A nil selector selects nothing and an empty one everything;
/// both print as "". Errs on what upstream refuses to turn into a selector.
pub(crate) fn label_selector_string(selector: Option<&LabelSelector>) -> Result<String, ()> {
    let Some(selector) = selector else {
        return Ok(String::new());
    };
    // (key, text) pairs, sorted by key afterwards as `Selector.Add` does.
    let mut reqs: Vec<(&str, String)> = Vec::new();
    if let Some(labels) = &selector.match_labels {
        for (k, v) in labels {
            reqs.push((k, format!("{k}={v}")));
        }
    }
    for expr in selector.match_expressions.iter().flatten() {
        let key = expr.key.as_str();
        let mut values: Vec<&str> = expr.values.iter().flatten().map(String::as_str).collect();
        values.sort_unstable();
        let text = match expr.operator.as_str() {
            "In" | "NotIn" => {
                if values.is_empty() {
                    return Err(());
                }
                let op = if expr.operator == "In" { "in" } else { "notin" };
                format!("{key} {op} ({})", values.join(","))
            }
            "Exists" | "DoesNotExist" => {
                if !values.is_empty() {
                    return Err(());
                }
                if expr.operator == "Exists" {
                    key.to_string()
                } else {
                    format!("!{key}")
                }
            }
            _ => return Err(()),
        };
        reqs.push((key, text));
    }
    reqs.sort_by(|a, b| a.0.cmp(b.0));
    Ok(reqs
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join(","))
}

/// `metav1.FormatLabelSelector`: `<none>` when it selects by nothing, `<error>` when it
/// cannot be made a selector.
pub(crate) fn format_label_selector(selector: Option<&LabelSelector>) -> String {
    match label_selector_string(selector) {
        Ok(s) if s.is_empty() => "<none>".to_string(),
        Ok(s) => s,
        Err(()) => "<error>".to_string(),
    }
}

/// `layoutContainerCells`: container names and images, each comma-joined.
pub(crate) fn layout_containers(containers: &[Container]) -> (String, String) {
    let names = containers
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let images = containers
        .iter()
        .map(|c| c.image.as_deref().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(",");
    (names, images)
}

/// `listWithMoreString`: the first few items, then "+ N more...", `<unset>` when empty.
pub(crate) fn list_with_more(list: &[String], more: bool, count: usize, max: usize) -> String {
    let joined = list.join(",");
    if more {
        return format!("{joined} + {} more...", count.saturating_sub(max));
    }
    if joined.is_empty() {
        "<unset>".to_string()
    } else {
        joined
    }
}

/// `printBoolPtr`: "True", "False" or `<unset>`.
pub(crate) fn bool_ptr(value: Option<bool>) -> String {
    match value {
        Some(true) => "True".to_string(),
        Some(false) => "False".to_string(),
        None => "<unset>".to_string(),
    }
}

/// `loadBalancerStatusStringer` with `wide` (the server always prints wide): the
/// distinct IPs or hostnames, sorted and comma-joined.
pub(crate) fn load_balancer_ingress<'a>(
    entries: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> String {
    let mut set: Vec<&str> = entries
        .filter_map(|(ip, hostname)| {
            match (
                ip.filter(|s| !s.is_empty()),
                hostname.filter(|s| !s.is_empty()),
            ) {
                (Some(ip), _) => Some(ip),
                (None, Some(host)) => Some(host),
                (None, None) => None,
            }
        })
        .collect();
    set.sort_unstable();
    set.dedup();
    set.join(",")
}

/// `helper.GetAccessModesAsString`: RWO, ROX, RWX, RWOP in that order, each once.
pub(crate) fn access_modes(modes: Option<&Vec<String>>) -> String {
    let modes = modes.map(Vec::as_slice).unwrap_or(&[]);
    let has = |m: &str| modes.iter().any(|x| x == m);
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(mode, _)| has(mode))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

/// `formatResourceName` with the kind: `deployment.apps/name`, `pod/name`.
pub(crate) fn resource_name(api_version: &str, kind: &str, name: &str) -> String {
    let group = match api_version.split_once('/') {
        Some((group, _)) => group,
        None => "",
    };
    if kind.is_empty() && group.is_empty() {
        return name.to_string();
    }
    let group_kind = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    };
    format!("{}/{name}", group_kind.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn req(key: &str, op: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: if values.is_empty() {
                None
            } else {
                Some(values.iter().map(|v| v.to_string()).collect())
            },
        }
    }

    #[test]
    fn selectors_print_like_apimachinery() {
        assert_eq!(format_label_selector(None), "<none>");
        assert_eq!(
            format_label_selector(Some(&LabelSelector::default())),
            "<none>"
        );
        let sel = LabelSelector {
            match_labels: Some([("app".to_string(), "web".to_string())].into()),
            match_expressions: Some(vec![
                req("tier", "In", &["b", "a"]),
                req("env", "NotIn", &["prod"]),
                req("zz", "Exists", &[]),
                req("beta", "DoesNotExist", &[]),
            ]),
        };
        assert_eq!(
            format_label_selector(Some(&sel)),
            "app=web,!beta,env notin (prod),tier in (a,b),zz"
        );
        let bad = LabelSelector {
            match_expressions: Some(vec![req("a", "Equals", &["x"])]),
            ..Default::default()
        };
        assert_eq!(format_label_selector(Some(&bad)), "<error>");
        assert!(label_selector_string(Some(&bad)).is_err());
        let empty_in = LabelSelector {
            match_expressions: Some(vec![req("a", "In", &[])]),
            ..Default::default()
        };
        assert_eq!(format_label_selector(Some(&empty_in)), "<error>");
    }

    #[test]
    fn labels_and_lists() {
        assert_eq!(format_labels(None), "<none>");
        let m: BTreeMap<String, String> =
            [("b".into(), "2".into()), ("a".into(), "1".into())].into();
        assert_eq!(format_labels(Some(&m)), "a=1,b=2");
        assert_eq!(list_with_more(&[], false, 0, 3), "<unset>");
        let l: Vec<String> = vec!["a".into(), "b".into(), "c".into()];
        assert_eq!(list_with_more(&l, true, 5, 3), "a,b,c + 2 more...");
        assert_eq!(
            access_modes(Some(&vec![
                "ReadWriteMany".into(),
                "ReadWriteOnce".into(),
                "ReadWriteOnce".into()
            ])),
            "RWO,RWX"
        );
        assert_eq!(
            resource_name("apps/v1", "StatefulSet", "web"),
            "statefulset.apps/web"
        );
        assert_eq!(resource_name("v1", "Pod", "p"), "pod/p");
        assert_eq!(
            load_balancer_ingress(
                vec![
                    (Some("10.0.0.2"), None),
                    (None, Some("lb.example")),
                    (Some("10.0.0.2"), None),
                    (None, None)
                ]
                .into_iter()
            ),
            "10.0.0.2,lb.example"
        );
    }
}
