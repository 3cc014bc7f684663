//! Raw requests through the kube client, for the writes of `apply` and `rollback` and the few
//! reads they need. Raw, because kube 5's typed API does not surface response headers and the
//! PodSecurity warnings of a dry run arrive as `Warning` headers.
//!
//! Reads are retried (429, 5xx, transport errors; bounded); writes only on 429, which the server
//! sends before doing anything. Every request has the `--request-timeout` limit.

use std::collections::BTreeMap;
use std::time::Duration;

use http::{Method, Request, StatusCode, header};
use kube::Client;
use kube::client::Body;
use serde_json::Value;

use crate::apply::FIELD_MANAGER;
use crate::apply::labels::{is_psp_deprecation, labels_of};
use crate::apply::objects::{encode, resource_version};
use crate::source::live::http::{error_chain, warning_text};
use crate::source::live::{self, LiveError, LiveOptions, format_duration};

/// A request that did not succeed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("{method} {path}: {code} {reason}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Status { method: String, path: String, code: u16, reason: String, message: String },
    #[error("{method} {path}: no answer within {} (--request-timeout)", format_duration(*after))]
    Timeout { method: String, path: String, after: Duration },
    #[error("{method} {path}: {message}")]
    Transport { method: String, path: String, message: String },
    #[error("{method} {path}: invalid response: {message}")]
    Decode { method: String, path: String, message: String },
}

impl ApiError {
    pub fn code(&self) -> Option<u16> {
        match self {
            ApiError::Status { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Errors that say the cluster (or the connection to it) is in trouble, rather than
    /// something about one object: the run stops instead of going on with the next namespace.
    pub fn is_fatal(&self) -> bool {
        match self {
            ApiError::Status { code, .. } => *code >= 500 || *code == 401 || *code == 429,
            ApiError::Timeout { .. } | ApiError::Transport { .. } | ApiError::Decode { .. } => true,
        }
    }

    /// The server's `Status` message, or the error text.
    pub fn message(&self) -> String {
        match self {
            ApiError::Status { message, .. } if !message.is_empty() => message.clone(),
            other => other.to_string(),
        }
    }
}

/// A successful answer: the body as JSON (`Null` when empty) and the `Warning` header texts
/// (the PSP deprecation warning removed).
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
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

/// How a PATCH body is to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchKind {
    /// `application/merge-patch+json`.
    Merge,
    /// Server-side apply (`application/apply-patch+yaml`, JSON body), field manager
    /// `psa-migrate`, never forced.
    Apply,
}

/// The cluster of the kubeconfig.
pub struct Cluster {
    client: Client,
    timeout: Option<Duration>,
    /// The server URL, for messages.
    pub server: String,
    /// Attempts for reads (and for writes answered 429).
    attempts: u32,
    backoff: Duration,
}

impl Cluster {
    /// Connects with the kubeconfig options of the live source.
    pub async fn connect(opts: &LiveOptions) -> Result<Cluster, LiveError> {
        let config = live::load_config(opts).await?;
        let server = live::server_url(&config);
        let client = Client::try_from(config).map_err(|e| LiveError::Client {
            server: server.clone(),
            message: live::kubeconfig::safe_chain(&e),
        })?;
        Ok(Cluster::with_client(client, server, opts.request_timeout))
    }

    /// A cluster behind an existing client (tests).
    pub fn with_client(client: Client, server: String, timeout: Option<Duration>) -> Cluster {
        Cluster { client, timeout, server, attempts: 4, backoff: Duration::from_millis(200) }
    }

    async fn once(
        &self,
        method: &Method,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(StatusCode, Vec<String>, Vec<u8>), ApiError> {
        let err_method = method.as_str().to_owned();
        let mut builder = Request::builder()
            .method(method.clone())
            .uri(path)
            .header(header::ACCEPT, "application/json");
        if let Some(ct) = content_type {
            builder = builder.header(header::CONTENT_TYPE, ct);
        }
        let request = builder.body(Body::from(body.to_vec())).map_err(|e| ApiError::Transport {
            method: err_method.clone(),
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let exchange = async {
            let response = self.client.send(request).await.map_err(|e| ApiError::Transport {
                method: err_method.clone(),
                path: path.to_owned(),
                message: error_chain(&e),
            })?;
            let (parts, body) = response.into_parts();
            let warnings = parts
                .headers
                .get_all(header::WARNING)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(warning_text)
                .filter(|w| !is_psp_deprecation(w))
                .collect();
            let bytes = body.collect_bytes().await.map_err(|e| ApiError::Transport {
                method: err_method.clone(),
                path: path.to_owned(),
                message: error_chain(&e),
            })?;
            Ok((parts.status, warnings, bytes.to_vec()))
        };
        match self.timeout {
            Some(after) => tokio::time::timeout(after, exchange).await.map_err(|_| {
                ApiError::Timeout { method: err_method.clone(), path: path.to_owned(), after }
            })?,
            None => exchange.await,
        }
    }

    /// Sends one request; reads are retried on 429, 5xx and transport errors, writes on 429.
    async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Answer, ApiError> {
        let read = method == Method::GET;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.attempts;
            let wait = self.backoff.saturating_mul(1 << (attempt - 1).min(5));
            match self.once(&method, path, content_type, body).await {
                Ok((status, warnings, bytes)) if status.is_success() => {
                    let body = if bytes.is_empty() {
                        Value::Null
                    } else {
                        serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode {
                            method: method.as_str().to_owned(),
                            path: path.to_owned(),
                            message: e.to_string(),
                        })?
                    };
                    return Ok(Answer { status: status.as_u16(), body, warnings });
                }
                Ok((status, _, bytes)) => {
                    let retry = status == StatusCode::TOO_MANY_REQUESTS
                        || (read && status.is_server_error());
                    if retry && !last {
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(ApiError::Status {
                        method: method.as_str().to_owned(),
                        path: path.to_owned(),
                        code: status.as_u16(),
                        reason: status.canonical_reason().unwrap_or("error").to_owned(),
                        message: status_message(&bytes),
                    });
                }
                Err(ApiError::Transport { .. }) if read && !last => {
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// GETs an object; `None` when it does not exist (404).
    pub async fn get(&self, path: &str) -> Result<Option<Value>, ApiError> {
        match self.send(Method::GET, path, None, &[]).await {
            Ok(a) => Ok(Some(a.body)),
            Err(e) if e.code() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// PATCHes an object (`dryRun=All` when `dry_run`).
    pub async fn patch(
        &self,
        path: &str,
        kind: PatchKind,
        body: &Value,
        dry_run: bool,
    ) -> Result<Answer, ApiError> {
        let content_type = match kind {
            PatchKind::Merge => "application/merge-patch+json",
            PatchKind::Apply => "application/apply-patch+yaml",
        };
        let url = with_query(path, dry_run, true);
        self.send(Method::PATCH, &url, Some(content_type), body.to_string().as_bytes()).await
    }

    /// POSTs an object to its collection.
    pub async fn create(
        &self,
        collection: &str,
        body: &Value,
        dry_run: bool,
    ) -> Result<Answer, ApiError> {
        let url = with_query(collection, dry_run, true);
        self.send(Method::POST, &url, Some("application/json"), body.to_string().as_bytes()).await
    }

    /// DELETEs an object, on condition that it is still the version read (uid and
    /// resourceVersion preconditions, when given).
    pub async fn delete(
        &self,
        path: &str,
        live: Option<&Value>,
        dry_run: bool,
    ) -> Result<Answer, ApiError> {
        let url = with_query(path, dry_run, false);
        let mut preconditions = serde_json::Map::new();
        if let Some(v) = live {
            if let Some(uid) = v.pointer("/metadata/uid").and_then(Value::as_str) {
                preconditions.insert("uid".into(), uid.into());
            }
            if let Some(rv) = resource_version(v) {
                preconditions.insert("resourceVersion".into(), rv.into());
            }
        }
        let body = serde_json::json!({"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": preconditions});
        self.send(Method::DELETE, &url, Some("application/json"), body.to_string().as_bytes()).await
    }

    /// The namespaces (or only `only`), with their labels and resourceVersions.
    pub async fn namespaces(
        &self,
        only: Option<&str>,
        chunk_size: u32,
    ) -> Result<BTreeMap<String, LiveNamespace>, ApiError> {
        let mut out = BTreeMap::new();
        if let Some(name) = only {
            if let Some(v) = self.get(&format!("/api/v1/namespaces/{}", encode(name))).await? {
                out.insert(name.to_owned(), LiveNamespace::from_object(&v));
            }
            return Ok(out);
        }
        self.list("/api/v1/namespaces", chunk_size, |item| {
            if let Some(name) = item.pointer("/metadata/name").and_then(Value::as_str) {
                out.insert(name.to_owned(), LiveNamespace::from_object(item));
            }
        })
        .await?;
        Ok(out)
    }

    /// The pods of a namespace.
    pub async fn pods(&self, namespace: &str, chunk_size: u32) -> Result<Vec<Value>, ApiError> {
        let mut pods = Vec::new();
        let path = format!("/api/v1/namespaces/{}/pods", encode(namespace));
        self.list(&path, chunk_size, |p| pods.push(p.clone())).await?;
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
                let root = if version.contains('/') { "/apis" } else { "/api" };
                let path = format!("{root}/{version}/namespaces/{}/{plural}", encode(namespace));
                let mut items = Vec::new();
                let listed = self
                    .list(&path, chunk_size, |item| {
                        let mut item = item.clone();
                        if let Some(o) = item.as_object_mut() {
                            o.entry("kind").or_insert_with(|| kind.into());
                            o.entry("apiVersion").or_insert_with(|| (*version).into());
                        }
                        items.push(item);
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
        self.list("/api/v1/pods", chunk_size, |pod| {
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
        })
        .await?;
        Ok(out)
    }

    /// Lists a collection page by page, handing each item to `each`.
    async fn list(
        &self,
        path: &str,
        chunk_size: u32,
        mut each: impl FnMut(&Value),
    ) -> Result<(), ApiError> {
        let mut token: Option<String> = None;
        loop {
            let mut url = path.to_owned();
            let mut sep = '?';
            if chunk_size > 0 {
                url.push_str(&format!("{sep}limit={chunk_size}"));
                sep = '&';
            }
            if let Some(t) = &token {
                url.push_str(&format!("{sep}continue={}", encode(t)));
            }
            let page = self.send(Method::GET, &url, None, &[]).await?.body;
            for item in page.get("items").and_then(Value::as_array).into_iter().flatten() {
                each(item);
            }
            match page
                .pointer("/metadata/continue")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                Some(next) if token.as_deref() != Some(next) => token = Some(next.to_owned()),
                _ => return Ok(()),
            }
        }
    }
}

/// `path?dryRun=All&fieldManager=psa-migrate` as asked.
fn with_query(path: &str, dry_run: bool, field_manager: bool) -> String {
    let mut params = Vec::new();
    if dry_run {
        params.push("dryRun=All".to_owned());
    }
    if field_manager {
        params.push(format!("fieldManager={FIELD_MANAGER}"));
    }
    if params.is_empty() { path.to_owned() } else { format!("{path}?{}", params.join("&")) }
}

/// The `message` of a `Status` body, or the start of a non-JSON body.
fn status_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body)
        && let Some(m) = v.get("message").and_then(Value::as_str)
        && !m.is_empty()
    {
        return m.to_owned();
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries() {
        assert_eq!(
            with_query("/api/v1/namespaces/a", true, true),
            "/api/v1/namespaces/a?dryRun=All&fieldManager=psa-migrate"
        );
        assert_eq!(with_query("/x", false, false), "/x");
        assert_eq!(with_query("/x", true, false), "/x?dryRun=All");
    }

    #[test]
    fn fatal_errors() {
        let s = |code| ApiError::Status {
            method: "PATCH".into(),
            path: "/p".into(),
            code,
            reason: "r".into(),
            message: "m".into(),
        };
        assert!(s(503).is_fatal());
        assert!(!s(409).is_fatal());
        assert!(!s(422).is_fatal());
        assert_eq!(s(409).to_string(), "PATCH /p: 409 r: m");
        assert_eq!(s(409).message(), "m");
        assert_eq!(status_message(br#"{"kind":"Status","message":"nope"}"#), "nope");
    }
}
