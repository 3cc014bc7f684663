//! Raw requests through the kube client, for the writes of `apply` and `rollback` and the few
//! reads they need. Raw, because kube 5's typed API does not surface response headers and the
//! PodSecurity warnings of a dry run arrive as `Warning` headers.
//!
//! Reads are retried (429, 5xx, transport errors; bounded); writes only on 429, which the server
//! sends before doing anything. Every request has the `--request-timeout` limit.

//! The cluster as `apply` and `rollback` see it: the few reads they need and their writes,
//! through the API layer shared with the live source ([`crate::kube_api`]), which builds the
//! requests, retries what each verb allows (see [`crate::kube_api::retry`]), bounds each request
//! by `--request-timeout` and restarts lists after an expired continue token.
//!
//! Writes that the dry runs and label steps make carry a resourceVersion precondition (label
//! patches, deletes), so they are retried after 5xx and transport errors as well as 429; the
//! server-side apply of a new object and creates are retried on 429 only.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::apply::FIELD_MANAGER;
use crate::apply::labels::{is_psp_deprecation, labels_of};
use crate::apply::objects::resource_version;
use crate::kube_api::{self, ApiClient, ConnectError, ConnectOptions, RetryPolicy, request};
pub use crate::kube_api::{ApiError, ObjectRef, PatchKind};

/// Restarts of one list after its continue token expired (410).
const MAX_RESTARTS: u32 = 3;

/// A successful answer: the body as JSON (`Null` when empty) and the `Warning` header texts
/// (the PSP deprecation warning removed).
#[derive(Clone, Debug)]
pub struct Answer {
    pub body: Value,
    pub warnings: Vec<String>,
}

/// A namespace as read live.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveNamespace {
    pub labels: BTreeMap<String, String>,
    pub resource_version: String,
}

impl LiveNamespace {
    pub fn from_object(v: &Value) -> LiveNamespace {
        LiveNamespace {
            labels: labels_of(v),
            resource_version: resource_version(v).unwrap_or_default(),
        }
    }
}

/// The cluster of the kubeconfig.
pub struct Cluster {
    api: ApiClient,
}

/// One page of a list: its items and continue token.
#[derive(serde::Deserialize)]
struct ListPage {
    #[serde(default)]
    items: Vec<Value>,
    #[serde(default)]
    metadata: ListMeta,
}

#[derive(Default, serde::Deserialize)]
struct ListMeta {
    #[serde(default, rename = "continue")]
    token: Option<String>,
}

impl Cluster {
    /// Connects with the kubeconfig options.
    pub async fn connect(opts: &ConnectOptions) -> Result<Cluster, ConnectError> {
        Ok(Cluster::with_api(kube_api::connect(opts, RetryPolicy::default()).await?))
    }

    /// A cluster behind an existing API client (tests).
    pub fn with_api(api: ApiClient) -> Cluster {
        Cluster { api }
    }

    /// Sends a write (or a read of one object) and decodes its answer.
    async fn send(&self, prepared: request::Prepared) -> Result<Answer, ApiError> {
        let response = self.api.send(&prepared).await?;
        let body = if response.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&response.body).map_err(|e| ApiError::Decode {
                method: prepared.call.verb.method(),
                path: prepared.path(),
                message: e.to_string(),
            })?
        };
        let warnings = response.warnings.into_iter().filter(|w| !is_psp_deprecation(w)).collect();
        Ok(Answer { body, warnings })
    }

    /// GETs an object; `None` when it does not exist (404).
    pub async fn get(&self, obj: &ObjectRef) -> Result<Option<Value>, ApiError> {
        match self.send(request::get(obj)?).await {
            Ok(a) => Ok(Some(a.body)),
            Err(e) if e.code() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether the server serves `plural` in `api_version` (`group/version`), from discovery.
    pub async fn serves(&self, api_version: &str, plural: &str) -> Result<bool, ApiError> {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let doc = if group.is_empty() {
            self.get(&ObjectRef::new("/api".to_owned(), version)).await?
        } else {
            self.get(&ObjectRef::new(format!("/apis/{group}"), version)).await?
        };
        Ok(doc.is_some_and(|d| {
            d["resources"]
                .as_array()
                .is_some_and(|rs| rs.iter().any(|r| r["name"].as_str() == Some(plural)))
        }))
    }

    /// PATCHes an object (`dryRun=All` when `dry_run`) as field manager `psa-migrate`.
    pub async fn patch(
        &self,
        obj: &ObjectRef,
        kind: PatchKind,
        body: &Value,
        dry_run: bool,
    ) -> Result<Answer, ApiError> {
        self.send(request::patch(obj, kind, body, dry_run, FIELD_MANAGER)?).await
    }

    /// POSTs an object to its collection.
    pub async fn create(
        &self,
        collection: &str,
        body: &Value,
        dry_run: bool,
    ) -> Result<Answer, ApiError> {
        self.send(request::create(collection, body, dry_run, FIELD_MANAGER)?).await
    }

    /// DELETEs an object, on condition that it is still the version read (uid and
    /// resourceVersion preconditions, when given).
    pub async fn delete(
        &self,
        obj: &ObjectRef,
        live: Option<&Value>,
        dry_run: bool,
    ) -> Result<Answer, ApiError> {
        self.send(request::delete(obj, live, dry_run)?).await
    }

    /// The namespaces (or only `only`), with their labels and resourceVersions.
    pub async fn namespaces(
        &self,
        only: Option<&str>,
        chunk_size: u32,
    ) -> Result<BTreeMap<String, LiveNamespace>, ApiError> {
        let mut out = BTreeMap::new();
        if let Some(name) = only {
            if let Some(v) = self.get(&ObjectRef::namespace(name)).await? {
                out.insert(name.to_owned(), LiveNamespace::from_object(&v));
            }
            return Ok(out);
        }
        self.list(&collection("v1", "namespaces", None)?, chunk_size, |first, items| {
            if first {
                out.clear();
            }
            for item in items {
                if let Some(name) = item.pointer("/metadata/name").and_then(Value::as_str) {
                    out.insert(name.to_owned(), LiveNamespace::from_object(&item));
                }
            }
        })
        .await?;
        Ok(out)
    }

    /// The pods of a namespace.
    pub async fn pods(&self, namespace: &str, chunk_size: u32) -> Result<Vec<Value>, ApiError> {
        let mut pods = Vec::new();
        let path = collection("v1", "pods", Some(namespace))?;
        self.list(&path, chunk_size, |first, p| {
            if first {
                pods.clear();
            }
            pods.extend(p);
        })
        .await?;
        Ok(pods)
    }

    /// The workloads with pod templates of a namespace (Deployments, ReplicaSets, StatefulSets,
    /// DaemonSets, ReplicationControllers, Jobs, CronJobs), each with `kind` and `apiVersion`
    /// set (list items carry none). CronJobs are read from `batch/v1`, else `batch/v1beta1`.
    pub async fn workloads(
        &self,
        namespace: &str,
        chunk_size: u32,
    ) -> Result<Vec<Value>, ApiError> {
        const LISTS: [(&str, &str, &str); 7] = [
            ("apps/v1", "deployments", "Deployment"),
            ("apps/v1", "replicasets", "ReplicaSet"),
            ("apps/v1", "statefulsets", "StatefulSet"),
            ("apps/v1", "daemonsets", "DaemonSet"),
            ("v1", "replicationcontrollers", "ReplicationController"),
            ("batch/v1", "jobs", "Job"),
            ("batch/v1", "cronjobs", "CronJob"),
        ];
        let mut out = Vec::new();
        for (api_version, plural, kind) in LISTS {
            let mut versions = vec![api_version];
            if plural == "cronjobs" {
                versions.push("batch/v1beta1");
            }
            for (i, version) in versions.iter().enumerate() {
                let path = collection(version, plural, Some(namespace))?;
                let mut items = Vec::new();
                let listed = self
                    .list(&path, chunk_size, |first, page| {
                        if first {
                            items.clear();
                        }
                        for mut item in page {
                            if let Some(o) = item.as_object_mut() {
                                o.entry("kind").or_insert_with(|| kind.into());
                                o.entry("apiVersion").or_insert_with(|| (*version).into());
                            }
                            items.push(item);
                        }
                    })
                    .await;
                match listed {
                    Ok(()) => {
                        out.extend(items);
                        break;
                    }
                    Err(e) if e.code() == Some(404) && i + 1 < versions.len() => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(out)
    }

    /// Running (and pending) pods per admitting PSP (`kubernetes.io/psp` annotation), cluster-wide.
    pub async fn running_pods_by_psp(
        &self,
        chunk_size: u32,
    ) -> Result<BTreeMap<String, usize>, ApiError> {
        let mut out: BTreeMap<String, usize> = BTreeMap::new();
        self.list(&collection("v1", "pods", None)?, chunk_size, |first, pods| {
            if first {
                out.clear();
            }
            for pod in &pods {
                count_pod(&mut out, pod);
            }
        })
        .await?;
        Ok(out)
    }

    /// Lists a collection page by page, handing each page's items to `each` (with `true` for
    /// the first page of a list or of its restart after an expired continue token).
    async fn list(
        &self,
        collection: &str,
        chunk_size: u32,
        mut each: impl FnMut(bool, Vec<Value>),
    ) -> Result<(), ApiError> {
        self.api
            .list_pages(collection, chunk_size, MAX_RESTARTS, |page| {
                let decoded: ListPage =
                    serde_json::from_slice(page.body).map_err(|e| e.to_string())?;
                each(page.first, decoded.items);
                Ok(decoded.metadata.token)
            })
            .await
            .map(|_| ())
            .map_err(|f| f.error)
    }
}

/// Counts a running (or pending) pod under its admitting PSP.
fn count_pod(out: &mut BTreeMap<String, usize>, pod: &Value) {
    let phase = pod.pointer("/status/phase").and_then(Value::as_str).unwrap_or("Pending");
    if !matches!(phase, "Pending" | "Running" | "Unknown") {
        return;
    }
    if let Some(psp) = pod
        .pointer("/metadata/annotations")
        .and_then(|a| a.get("kubernetes.io/psp"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        *out.entry(psp.to_owned()).or_default() += 1;
    }
}

/// A collection path; a namespace that cannot be one is a request that cannot be built.
fn collection(
    api_version: &str,
    plural: &str,
    namespace: Option<&str>,
) -> Result<String, ApiError> {
    kube_api::resource_path(api_version, plural, namespace).map_err(|message| ApiError::Invalid {
        method: "GET",
        path: format!("{plural} in {}", namespace.unwrap_or("the cluster")),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_pages_decode() {
        let page: ListPage =
            serde_json::from_str(r#"{"items":[{"a":1}],"metadata":{"continue":"t"}}"#).unwrap();
        assert_eq!((page.items.len(), page.metadata.token.as_deref()), (1, Some("t")));
        let page: ListPage = serde_json::from_str(r#"{"kind":"List"}"#).unwrap();
        assert!(page.items.is_empty() && page.metadata.token.is_none());
        assert!(collection("v1", "pods", Some("a/b")).is_err());
    }
}
