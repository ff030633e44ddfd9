//! Version conversion between a served version and the version a resource is stored
//! as (upstream's cohabitating resources and storage versions). events.k8s.io/v1
//! Events live under `/registry/events/` as core/v1 Events, autoscaling/v1 HPAs under
//! `/registry/horizontalpodautoscalers/` as autoscaling/v2: every read is converted to
//! the version the request names, every write back to the stored version. Only the
//! versions listed in `CONVERSIONS` convert; every other one is stored as served.
//!
//! The conversions themselves are pure functions on the typed k8s-openapi structs
//! (one module per kind); this module adapts them to the untyped objects the
//! handlers and the watch cache carry.

pub mod autoscaling;
pub mod events;
pub mod migrate;
#[cfg(test)]
mod write_tests;

use std::sync::Arc;

use api_types::resources::ResourceInfo;
use api_types::DynamicObject;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::storage::{CacheEvent, CachedObject};

#[derive(Debug, thiserror::Error)]
pub enum ConversionError {
    #[error("converting {what}: {source}")]
    Decode {
        what: &'static str,
        source: serde_json::Error,
    },
    #[error("encoding {what}: {source}")]
    Encode {
        what: &'static str,
        source: serde_json::Error,
    },
    /// A stored object that does not convert (written with wrongly typed fields
    /// through a version that does not check them).
    #[error("the object stored at {key}: {source}")]
    Stored {
        key: String,
        source: Box<ConversionError>,
    },
}

/// `f(obj)`, its error naming the stored object.
fn stored(obj: &CachedObject, f: Convert) -> Result<DynamicObject, ConversionError> {
    f(&obj.object).map_err(|e| ConversionError::Stored {
        key: obj.key.clone(),
        source: Box::new(e),
    })
}

type Convert = fn(&DynamicObject) -> Result<DynamicObject, ConversionError>;

/// One served version stored as another.
pub struct Conversion {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    /// The apiVersion objects are stored as (that resource is served as-is).
    pub storage_api_version: &'static str,
    /// Served form -> stored form.
    pub to_storage: Convert,
    /// Stored form -> served form.
    pub from_storage: Convert,
}

static CONVERSIONS: &[Conversion] = &[
    Conversion {
        group: "events.k8s.io",
        version: "v1",
        plural: "events",
        storage_api_version: "v1",
        to_storage: |o| typed_convert(o, "events.k8s.io/v1 Event", |e| Ok(events::v1_to_core(e))),
        from_storage: |o| typed_convert(o, "core/v1 Event", |e| Ok(events::core_to_v1(e))),
    },
    Conversion {
        group: "autoscaling",
        version: "v1",
        plural: "horizontalpodautoscalers",
        storage_api_version: "autoscaling/v2",
        to_storage: |o| {
            typed_convert(o, "autoscaling/v1 HorizontalPodAutoscaler", |h| {
                Ok(autoscaling::v1_to_v2(h))
            })
        },
        from_storage: |o| {
            typed_convert(
                o,
                "autoscaling/v2 HorizontalPodAutoscaler",
                autoscaling::v2_to_v1,
            )
        },
    },
];

/// The conversion a resource's objects go through, if it is not stored as served.
pub fn for_resource(r: &ResourceInfo) -> Option<&'static Conversion> {
    CONVERSIONS
        .iter()
        .find(|c| c.group == r.group && c.version == r.version && c.plural == r.plural)
}

/// Decodes `obj` as `A`, converts it with `f`, and returns the result untyped.
fn typed_convert<A: DeserializeOwned, B: Serialize>(
    obj: &DynamicObject,
    what: &'static str,
    f: impl FnOnce(A) -> Result<B, serde_json::Error>,
) -> Result<DynamicObject, ConversionError> {
    let decode = |source| ConversionError::Decode { what, source };
    let encode = |source| ConversionError::Encode { what, source };
    let value = serde_json::to_value(obj).map_err(decode)?;
    let typed: A = serde_json::from_value(value).map_err(decode)?;
    let converted = serde_json::to_value(f(typed).map_err(decode)?).map_err(encode)?;
    serde_json::from_value(converted).map_err(encode)
}

/// `obj` (in the served form of `r`) as it is stored.
pub fn to_storage(
    r: &ResourceInfo,
    obj: &DynamicObject,
) -> Result<Option<DynamicObject>, ConversionError> {
    for_resource(r).map(|c| (c.to_storage)(obj)).transpose()
}

/// Checks that `obj`, written through `r`, converts to every other version served from
/// the same storage: a core/v1 Event must read as events.k8s.io/v1, an autoscaling/v2
/// HPA as autoscaling/v1. Upstream cannot store an object that does not, since every
/// write decodes into the typed struct; without the check one wrongly typed object
/// would break every LIST and WATCH of the other version.
pub fn check_shared_storage(r: &ResourceInfo, obj: &DynamicObject) -> Result<(), ConversionError> {
    let stored_as = r.api_version();
    for c in CONVERSIONS
        .iter()
        .filter(|c| c.plural == r.plural && c.storage_api_version == stored_as)
    {
        (c.from_storage)(obj)?;
    }
    Ok(())
}

/// The object a write through `r` stores, from the stored old object (None on create)
/// and the new one in `r`'s form: converted, with what the write may not change taken
/// from the old stored object (status on a create or main write, spec on a status
/// write, when the kind has a status subresource), and generation bumped when the
/// stored spec changed. Returns the stored object and the new one as `r` serves it
/// (what the client is answered). The old object is the stored one, not its view
/// converted back: a round trip through autoscaling/v1 reorders metrics.
pub fn stored_write(
    r: &ResourceInfo,
    keep: Option<&'static str>,
    old_stored: Option<&DynamicObject>,
    new: &DynamicObject,
) -> Result<Option<(DynamicObject, DynamicObject)>, ConversionError> {
    let Some(c) = for_resource(r) else {
        return Ok(None);
    };
    let mut stored = (c.to_storage)(new)?;
    if let Some(field) = keep {
        if let Some(map) = stored.data.as_object_mut() {
            match old_stored.and_then(|o| o.data.get(field)) {
                Some(v) => {
                    map.insert(field.to_string(), v.clone());
                }
                None => {
                    map.remove(field);
                }
            }
        }
    }
    if let Some(old_stored) = old_stored {
        if let Some(g) = old_stored.metadata.generation {
            if stored.metadata.generation == Some(g)
                && stored.data.get("spec") != old_stored.data.get("spec")
            {
                stored.metadata.generation = Some(g + 1);
            }
        }
    }
    let mut view = (c.from_storage)(&stored)?;
    view.metadata.resource_version = new.metadata.resource_version.clone();
    Ok(Some((stored, view)))
}

/// A stored object as `r` serves it (the same object when no conversion applies).
pub fn cached_view(
    r: &ResourceInfo,
    obj: Arc<CachedObject>,
) -> Result<Arc<CachedObject>, ConversionError> {
    match for_resource(r) {
        None => Ok(obj),
        Some(c) => Ok(Arc::new(obj.with_object(stored(&obj, c.from_storage)?))),
    }
}

/// As `cached_view`, for an object not (yet) shared.
pub fn owned_view(r: &ResourceInfo, obj: CachedObject) -> Result<CachedObject, ConversionError> {
    match for_resource(r) {
        None => Ok(obj),
        Some(c) => {
            let converted = stored(&obj, c.from_storage)?;
            Ok(obj.with_object(converted))
        }
    }
}

/// A watch cache event as `r` serves it: the object and its previous state converted.
pub fn event_view(
    r: &ResourceInfo,
    event: Arc<CacheEvent>,
) -> Result<Arc<CacheEvent>, ConversionError> {
    if for_resource(r).is_none() {
        return Ok(event);
    }
    Ok(Arc::new(CacheEvent {
        kind: event.kind,
        revision: event.revision,
        object: cached_view(r, event.object.clone())?,
        previous: event
            .previous
            .clone()
            .map(|p| cached_view(r, p))
            .transpose()?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use api_types::resources::find;
    use serde_json::json;

    fn object(v: serde_json::Value) -> DynamicObject {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn only_the_listed_versions_convert() {
        let events = find("events.k8s.io", "v1", "events").unwrap();
        let core = find("", "v1", "events").unwrap();
        assert!(for_resource(events).is_some());
        assert!(for_resource(core).is_none());
        assert_eq!(events.storage_resource(), core.storage_resource());
        let hpa_v1 = find("autoscaling", "v1", "horizontalpodautoscalers").unwrap();
        let hpa_v2 = find("autoscaling", "v2", "horizontalpodautoscalers").unwrap();
        assert!(for_resource(hpa_v1).is_some());
        assert!(for_resource(hpa_v2).is_none());
        let pod = object(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}));
        assert!(to_storage(find("", "v1", "pods").unwrap(), &pod)
            .unwrap()
            .is_none());
    }

    #[test]
    fn resources_sharing_storage_convert_to_one_stored_version() {
        use std::collections::HashMap;
        // Every stored resource is either stored as served or has a conversion, and all
        // the served versions of one storage agree on the stored version.
        let mut stored_as: HashMap<&str, HashMap<String, Vec<String>>> = HashMap::new();
        for r in api_types::resources::BUILTIN
            .iter()
            .filter(|r| r.is_stored())
        {
            let stored_version = match for_resource(r) {
                Some(c) => c.storage_api_version.to_string(),
                None => r.api_version(),
            };
            stored_as
                .entry(r.storage_resource())
                .or_default()
                .entry(stored_version)
                .or_default()
                .push(r.api_version());
        }
        for (storage, versions) in &stored_as {
            assert_eq!(versions.len(), 1, "{storage} is stored as {versions:?}");
        }
        assert_eq!(stored_as["events"].len(), 1);
        assert_eq!(stored_as["events"]["v1"].len(), 2);
    }

    #[test]
    fn untyped_objects_convert_both_ways() {
        let r = find("events.k8s.io", "v1", "events").unwrap();
        let served = object(json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "e", "namespace": "ns", "resourceVersion": "12"},
            "note": "hi", "regarding": {"kind": "Pod", "name": "p"},
            "reportingController": "c", "reportingInstance": "i",
            "eventTime": "2026-01-01T00:00:00.000001Z", "action": "A", "reason": "R",
            "type": "Normal"
        }));
        let stored = to_storage(r, &served).unwrap().unwrap();
        let v = serde_json::to_value(&stored).unwrap();
        assert_eq!(v["apiVersion"], "v1");
        assert_eq!(v["message"], "hi");
        assert_eq!(v["involvedObject"]["name"], "p");
        assert_eq!(v["metadata"]["resourceVersion"], "12");
        assert_eq!(
            v["apiVersion"],
            for_resource(r).unwrap().storage_api_version
        );
        let back = (for_resource(r).unwrap().from_storage)(&stored).unwrap();
        assert_eq!(back, served);
        // Read back through the cache path: same object, same revision.
        let cached = CachedObject::decode(&crate::storage::Stored {
            key: "/registry/events/ns/e".into(),
            value: serde_json::to_vec(&stored).unwrap(),
            mod_revision: 12,
        })
        .unwrap();
        let view = cached_view(r, Arc::new(cached)).unwrap();
        assert_eq!(view.object, served);
        assert_eq!(view.revision, 12);
        let json: serde_json::Value = serde_json::from_slice(&view.json().unwrap()).unwrap();
        assert_eq!(json["note"], "hi");
    }

    #[test]
    fn malformed_objects_are_errors_not_panics() {
        let r = find("events.k8s.io", "v1", "events").unwrap();
        let bad = object(json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "e"}, "series": {"count": "many"}
        }));
        let err = to_storage(r, &bad).unwrap_err().to_string();
        assert!(err.contains("events.k8s.io/v1 Event"), "{err}");
        // A core Event with a wrongly typed field (core writes do not check types)
        // cannot be served as events.k8s.io: the error names where it is stored.
        let value = br#"{"apiVersion":"v1","kind":"Event","metadata":{"name":"e"},"count":"x"}"#;
        let cached = CachedObject::decode(&crate::storage::Stored {
            key: "/registry/events/ns/e".into(),
            value: value.to_vec(),
            mod_revision: 3,
        })
        .unwrap();
        let err = owned_view(r, cached).unwrap_err().to_string();
        assert!(
            err.contains("/registry/events/ns/e") && err.contains("core/v1 Event"),
            "{err}"
        );
    }
}
