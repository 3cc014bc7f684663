//! The objects steps 3 and 4 write: their keys, API paths, and manifests cleaned for re-creation.
//! Pure.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::kube_api::ObjectRef;

/// The kinds a plan may create or delete: PSPs, RBAC and the admission policies. Never Secrets
/// or anything else.
pub const KINDS: [&str; 9] = [
    "PodSecurityPolicy",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
];

/// The plural resource name and whether it is namespaced, for the kinds of [`KINDS`].
pub fn resource(kind: &str) -> Option<(&'static str, bool)> {
    match kind {
        "PodSecurityPolicy" => Some(("podsecuritypolicies", false)),
        "ClusterRole" => Some(("clusterroles", false)),
        "ClusterRoleBinding" => Some(("clusterrolebindings", false)),
        "Role" => Some(("roles", true)),
        "RoleBinding" => Some(("rolebindings", true)),
        "ValidatingAdmissionPolicy" => Some(("validatingadmissionpolicies", false)),
        "ValidatingAdmissionPolicyBinding" => Some(("validatingadmissionpolicybindings", false)),
        "MutatingAdmissionPolicy" => Some(("mutatingadmissionpolicies", false)),
        "MutatingAdmissionPolicyBinding" => Some(("mutatingadmissionpolicybindings", false)),
        _ => None,
    }
}

/// Identifies one object.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectKey {
    pub api_version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

impl ObjectKey {
    /// The key of a manifest (`apiVersion`, `kind`, `metadata.name`, `metadata.namespace`).
    pub fn from_manifest(v: &Value) -> Result<ObjectKey, String> {
        let s = |ptr: &str| v.pointer(ptr).and_then(Value::as_str).unwrap_or_default().to_owned();
        let (api_version, kind, name) = (s("/apiVersion"), s("/kind"), s("/metadata/name"));
        if api_version.is_empty() || kind.is_empty() || name.is_empty() {
            return Err("an object needs apiVersion, kind and metadata.name".to_owned());
        }
        let namespace = Some(s("/metadata/namespace")).filter(|n| !n.is_empty());
        let key = ObjectKey { api_version, kind, namespace, name };
        if let Some((_, namespaced)) = resource(&key.kind)
            && namespaced != key.namespace.is_some()
        {
            return Err(if namespaced {
                format!("{key}: a {} needs metadata.namespace", key.kind)
            } else {
                format!("{key}: a {} is cluster-scoped and takes no namespace", key.kind)
            });
        }
        Ok(key)
    }

    /// The namespace the object lives in, if any.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// `/apis/rbac.authorization.k8s.io/v1/namespaces/web/rolebindings` (the collection).
    pub fn collection_path(&self) -> Result<String, String> {
        let (plural, _) = resource(&self.kind)
            .ok_or_else(|| format!("{self}: kind {} is not supported", self.kind))?;
        crate::kube_api::resource_path(&self.api_version, plural, self.namespace.as_deref())
            .map_err(|m| format!("{self}: {m}"))
    }

    /// The object's collection and name, for requests.
    pub fn target(&self) -> Result<ObjectRef, String> {
        Ok(ObjectRef::new(self.collection_path()?, &self.name))
    }
}

/// A live object as it can be created again: the server-owned metadata (uid, resourceVersion,
/// creationTimestamp, managedFields, …) and `status` removed.
pub fn for_create(live: &Value) -> Value {
    let mut v = live.clone();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "managedFields",
            "selfLink",
        ] {
            m.remove(k);
        }
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    v
}

/// The `resourceVersion` of an object, if it has one.
pub fn resource_version(v: &Value) -> Option<String> {
    v.pointer("/metadata/resourceVersion").and_then(Value::as_str).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keys_and_paths() {
        let rb = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                        "metadata": {"name": "psp:x", "namespace": "web"}});
        let k = ObjectKey::from_manifest(&rb).unwrap();
        assert_eq!(k.to_string(), "RoleBinding web/psp:x");
        assert_eq!(
            k.target().unwrap().to_string(),
            "/apis/rbac.authorization.k8s.io/v1/namespaces/web/rolebindings/psp:x"
        );
        let psp = json!({"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy",
                         "metadata": {"name": "privileged"}});
        let k = ObjectKey::from_manifest(&psp).unwrap();
        assert_eq!(k.collection_path().unwrap(), "/apis/policy/v1beta1/podsecuritypolicies");
        let bad = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                         "metadata": {"name": "r"}});
        assert!(ObjectKey::from_manifest(&bad).unwrap_err().contains("needs metadata.namespace"));
        assert!(ObjectKey::from_manifest(&json!({"kind": "Role"})).is_err());
        let secret = ObjectKey {
            api_version: "v1".into(),
            kind: "Secret".into(),
            namespace: Some("a".into()),
            name: "s".into(),
        };
        assert!(secret.target().is_err());
    }

    #[test]
    fn manifests_for_create() {
        let live = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "r", "uid": "u", "resourceVersion": "7", "labels": {"a": "b"},
                         "creationTimestamp": "2023-01-01T00:00:00Z", "managedFields": []},
            "rules": []});
        assert_eq!(resource_version(&live).as_deref(), Some("7"));
        let c = for_create(&live);
        assert_eq!(
            c,
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                   "metadata": {"name": "r", "labels": {"a": "b"}}, "rules": []})
        );
    }
}
