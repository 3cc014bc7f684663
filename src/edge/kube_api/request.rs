//! Requests, built with kube-core's request builders: the one place a resource's URL is
//! composed ([`resource_path`]); names, query parameters and their encoding are kube-core's.

use std::fmt;

use http::header;
use kube::core::Request;
use kube::core::params::{
    DeleteParams, GetParams, ListParams, Patch, PatchParams, PostParams, Preconditions,
};
use serde_json::Value;

use super::ApiError;
use super::retry::{Call, Verb};

/// The collection path of a resource: `/api/v1/namespaces/web/pods`,
/// `/apis/apps/v1/deployments`. `api_version` is `v1` for the core group, else `group/version`.
pub fn resource_path(
    api_version: &str,
    plural: &str,
    namespace: Option<&str>,
) -> Result<String, String> {
    let root = if api_version.contains('/') { "/apis" } else { "/api" };
    for segment in api_version.split('/').chain([plural]).chain(namespace) {
        check_segment(segment)?;
    }
    Ok(match namespace {
        Some(ns) => format!("{root}/{api_version}/namespaces/{ns}/{plural}"),
        None => format!("{root}/{api_version}/{plural}"),
    })
}

/// Whether `s` can be one path segment as it is: Kubernetes names never need escaping (the API
/// server refuses `/` and `%` in them), so anything that would is refused rather than sent.
fn check_segment(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s != "."
        && s != ".."
        && s.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'/' | b'%' | b'?' | b'#'));
    if ok { Ok(()) } else { Err(format!("{s:?} is not a valid name")) }
}

/// An object: its collection's path and its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRef {
    pub collection: String,
    pub name: String,
}

impl ObjectRef {
    pub fn new(collection: String, name: &str) -> ObjectRef {
        ObjectRef { collection, name: name.to_owned() }
    }

    /// A namespace object.
    pub fn namespace(name: &str) -> ObjectRef {
        ObjectRef::new("/api/v1/namespaces".to_owned(), name)
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.collection, self.name)
    }
}

/// A request ready to send, with what the retry policy needs to know about it.
#[derive(Debug)]
pub struct Prepared {
    pub call: Call,
    pub request: http::Request<Vec<u8>>,
}

impl Prepared {
    fn new(call: Call, mut request: http::Request<Vec<u8>>) -> Prepared {
        request
            .headers_mut()
            .insert(header::ACCEPT, header::HeaderValue::from_static("application/json"));
        Prepared { call, request }
    }

    /// The path and query, for messages (without the empty first pair or the bare `?` that
    /// kube-core's builders leave in the URI, which servers ignore).
    pub fn path(&self) -> String {
        let uri = self.request.uri();
        match uri.query().map(|q| q.trim_start_matches('&')).filter(|q| !q.is_empty()) {
            Some(q) => format!("{}?{q}", uri.path()),
            None => uri.path().to_owned(),
        }
    }
}

type Built = Result<http::Request<Vec<u8>>, kube::core::request::Error>;

fn finish(verb: Verb, target: &str, call: Call, built: Built) -> Result<Prepared, ApiError> {
    built.map(|r| Prepared::new(call, r)).map_err(|e| ApiError::Invalid {
        method: verb.method(),
        path: target.to_owned(),
        message: e.to_string(),
    })
}

fn checked(verb: Verb, obj: &ObjectRef) -> Result<(), ApiError> {
    check_segment(&obj.name).map_err(|message| ApiError::Invalid {
        method: verb.method(),
        path: obj.to_string(),
        message,
    })
}

/// GET of a fixed discovery path (`/version`, `/apis`, `/apis/policy/v1beta1`).
pub fn discovery(path: &str) -> Prepared {
    let request = http::Request::get(path).body(Vec::new()).unwrap_or_default();
    Prepared::new(Call::read(Verb::Get), request)
}

/// GET of one object.
pub fn get(obj: &ObjectRef) -> Result<Prepared, ApiError> {
    checked(Verb::Get, obj)?;
    let built = Request::new(&obj.collection).get(&obj.name, &GetParams::default());
    finish(Verb::Get, &obj.to_string(), Call::read(Verb::Get), built)
}

/// One page of a list: `limit` items (0: all), from `token` on.
pub fn list(collection: &str, limit: u32, token: Option<&str>) -> Result<Prepared, ApiError> {
    let params = ListParams {
        limit: (limit > 0).then_some(limit),
        continue_token: token.map(str::to_owned),
        ..ListParams::default()
    };
    let built = Request::new(collection).list(&params);
    finish(Verb::List, collection, Call::read(Verb::List), built)
}

/// How a PATCH body is to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchKind {
    /// `application/merge-patch+json`.
    Merge,
    /// Server-side apply (`application/apply-patch+yaml`, JSON body), never forced.
    Apply,
}

/// A PATCH by `field_manager`. A `metadata.resourceVersion` in the body is a precondition.
pub fn patch(
    obj: &ObjectRef,
    kind: PatchKind,
    body: &Value,
    dry_run: bool,
    field_manager: &str,
) -> Result<Prepared, ApiError> {
    checked(Verb::Patch, obj)?;
    let params = PatchParams { dry_run, ..PatchParams::apply(field_manager) };
    let patch = match kind {
        PatchKind::Merge => Patch::Merge(body),
        PatchKind::Apply => Patch::Apply(body),
    };
    let precondition = body
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .is_some_and(|rv| !rv.is_empty());
    let call = Call { verb: Verb::Patch, dry_run, precondition };
    let built = Request::new(&obj.collection).patch(&obj.name, &params, &patch);
    finish(Verb::Patch, &obj.to_string(), call, built)
}

/// A POST of `body` to its collection.
pub fn create(
    collection: &str,
    body: &Value,
    dry_run: bool,
    field_manager: &str,
) -> Result<Prepared, ApiError> {
    let params = PostParams { dry_run, field_manager: Some(field_manager.to_owned()) };
    let call = Call { verb: Verb::Create, dry_run, precondition: false };
    let data = serde_json::to_vec(body).unwrap_or_default();
    finish(Verb::Create, collection, call, Request::new(collection).create(&params, data))
}

/// A DELETE, on condition that the object still has the uid and resourceVersion of `live`
/// (when given).
pub fn delete(obj: &ObjectRef, live: Option<&Value>, dry_run: bool) -> Result<Prepared, ApiError> {
    checked(Verb::Delete, obj)?;
    let field =
        |p: &str| live.and_then(|v| v.pointer(p)).and_then(Value::as_str).map(str::to_owned);
    let preconditions = Preconditions {
        uid: field("/metadata/uid"),
        resource_version: field("/metadata/resourceVersion"),
    };
    let call = Call {
        verb: Verb::Delete,
        dry_run,
        precondition: preconditions.resource_version.is_some(),
    };
    let params = DeleteParams {
        dry_run,
        preconditions: (preconditions != Preconditions::default()).then_some(preconditions),
        ..DeleteParams::default()
    };
    let built = Request::new(&obj.collection).delete(&obj.name, &params);
    finish(Verb::Delete, &obj.to_string(), call, built)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn uri(p: &Prepared) -> String {
        p.path()
    }

    #[test]
    fn resource_paths() {
        assert_eq!(resource_path("v1", "pods", None).unwrap(), "/api/v1/pods");
        assert_eq!(
            resource_path("apps/v1", "deployments", Some("web")).unwrap(),
            "/apis/apps/v1/namespaces/web/deployments"
        );
        assert!(resource_path("v1", "pods", Some("a/b")).is_err());
        assert!(resource_path("v1", "pods", Some("..")).is_err());
        assert!(resource_path("v1", "pods", Some("")).is_err());
    }

    #[test]
    fn lists_with_limit_and_continue() {
        let pods = resource_path("v1", "pods", None).unwrap();
        assert_eq!(uri(&list(&pods, 500, None).unwrap()), "/api/v1/pods?limit=500");
        let web = resource_path("v1", "pods", Some("web")).unwrap();
        assert_eq!(
            uri(&list(&web, 500, Some("a+b=")).unwrap()),
            "/api/v1/namespaces/web/pods?limit=500&continue=a%2Bb%3D"
        );
        assert_eq!(uri(&list(&pods, 0, Some("t")).unwrap()), "/api/v1/pods?continue=t");
        let p = list(&pods, 0, None).unwrap();
        assert_eq!(p.path(), "/api/v1/pods");
        assert_eq!(p.call, Call::read(Verb::List));
    }

    #[test]
    fn writes_carry_their_parameters_and_preconditions() {
        let ns = ObjectRef::namespace("apps");
        let body = json!({"metadata": {"resourceVersion": "7", "labels": {"a": "b"}}});
        let p = patch(&ns, PatchKind::Merge, &body, true, "psa-migrate").unwrap();
        assert_eq!(uri(&p), "/api/v1/namespaces/apps?dryRun=All&fieldManager=psa-migrate");
        assert_eq!(p.request.headers()[header::CONTENT_TYPE], "application/merge-patch+json");
        assert_eq!(p.call, Call { verb: Verb::Patch, dry_run: true, precondition: true });

        let rb = ObjectRef::new(
            resource_path("rbac.authorization.k8s.io/v1", "rolebindings", Some("web")).unwrap(),
            "psp:x",
        );
        let p = patch(&rb, PatchKind::Apply, &json!({"metadata": {}}), false, "m").unwrap();
        assert_eq!(
            p.request.uri().path(),
            "/apis/rbac.authorization.k8s.io/v1/namespaces/web/rolebindings/psp:x"
        );
        assert_eq!(p.request.headers()[header::CONTENT_TYPE], "application/apply-patch+yaml");
        assert!(!p.call.replayable());

        let live = json!({"metadata": {"uid": "u", "resourceVersion": "9"}});
        let d = delete(&rb, Some(&live), true).unwrap();
        let sent: Value = serde_json::from_slice(d.request.body()).unwrap();
        assert_eq!(
            sent,
            json!({"dryRun": ["All"], "preconditions": {"uid": "u", "resourceVersion": "9"}})
        );
        assert!(d.call.precondition);

        let c = create(&rb.collection, &json!({}), false, "m").unwrap();
        assert_eq!(c.request.method(), http::Method::POST);
        assert!(!c.call.replayable());

        let bad = ObjectRef::new(rb.collection.clone(), "x?y");
        assert!(matches!(get(&bad), Err(ApiError::Invalid { .. })));
        assert!(matches!(get(&ObjectRef::namespace("")), Err(ApiError::Invalid { .. })));
    }
}
