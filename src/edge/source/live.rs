//! The live source: reads a cluster through the API server named by the kubeconfig, as kubectl
//! would, into the same [`Inventory`] the offline source builds from files.
//!
//! Steps:
//! 1. Discovery: `/version`, `/apis` (which group/versions are served) and
//!    `/apis/policy/v1beta1` (whether PodSecurityPolicies can still be read; they cannot on
//!    Kubernetes 1.25+, which is reported as an `api-not-served` entry, not as an error).
//! 2. One paginated list per resource kind ([`KINDS`]; Secrets are never read), a few kinds at
//!    a time. Each page's body is decoded as soon as it arrives through the offline decoder
//!    ([`crate::decode`]), so memory holds compact records plus at most one raw page per kind
//!    being read.
//! 3. Faults are per kind: 429 and 5xx are retried (bounded, see [`RetryPolicy`]), an
//!    expired continue token (410) restarts that kind's list, and anything else (403, timeouts,
//!    exhausted retries) marks the kind in `inventory.unavailable` and the run goes on.
//!
//! Requests go through the API layer shared with `apply` ([`crate::kube_api`]). This module,
//! that layer and `apply` are the only async code in the crate; it prints nothing itself
//! (progress bars aside), and returns notices and errors for the app layer to print.

pub use crate::kube_api::kubeconfig;

use crate::decode::{ItemDefaults, JsonDocumentSeed};
use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use crate::edge::progress::{self, Progress, Task};
use std::time::Duration;

use kube::{Client, Config};

use crate::decode::add_to_inventory;
use crate::model::inventory::{
    Inventory, Listed, ListedResource, Provenance, ServerVersion, Unavailable,
};

use crate::kube_api::paginate::ListFailure;
use crate::kube_api::{self, ApiClient, ConnectError, ConnectOptions, ObjectRef, request};

/// How a request failed: the API layer's one error type.
pub use crate::kube_api::ApiError as Failure;
pub use crate::kube_api::{RetryPolicy, format_duration};

/// Stable codes of [`Unavailable`] entries written by the live source (`api-*` in the one
/// catalogue, [`crate::findings::Code`]).
pub mod code {
    use crate::findings::Code;

    /// The server does not serve the resource's API group/version (404): e.g. PSPs on 1.25+.
    /// Nothing exists to read, so this is a notice, not an error.
    pub const API_NOT_SERVED: Code = Code::ApiNotServed;
    /// 403: the kubeconfig user may not list the resource.
    pub const FORBIDDEN: Code = Code::ApiForbidden;
    /// 401: the server did not accept the credentials.
    pub const UNAUTHORIZED: Code = Code::ApiUnauthorized;
    /// No complete answer within `--request-timeout`.
    pub const TIMEOUT: Code = Code::ApiTimeout;
    /// 429 or 5xx on every attempt.
    pub const SERVER_ERROR: Code = Code::ApiServerError;
    /// Connection or TLS failure on every attempt.
    pub const UNREACHABLE: Code = Code::ApiUnreachable;
    /// The list's continue token expired (410) more often than the restart budget allows.
    pub const EXPIRED: Code = Code::ApiExpired;
    /// A 2xx answer that is not a Kubernetes list.
    pub const INVALID_RESPONSE: Code = Code::ApiInvalidResponse;
    /// Any other HTTP error.
    pub const REQUEST_FAILED: Code = Code::ApiRequestFailed;
}

/// Whether an unavailable kind is an error (exit code 2) rather than a fact about the server.
pub fn is_error(u: &Unavailable) -> bool {
    u.code != code::API_NOT_SERVED
}

/// One resource kind the live source reads.
#[derive(Clone, Copy, Debug)]
pub struct KindSpec {
    /// Plural resource name, as in the URL.
    pub resource: &'static str,
    /// `kind` of the objects (items of a list carry none on the wire).
    pub kind: &'static str,
    pub namespaced: bool,
    /// Group/versions to try in order (`v1` is the core group). A 404 moves on to the next,
    /// e.g. CronJobs are `batch/v1` from Kubernetes 1.21 and `batch/v1beta1` before.
    pub versions: &'static [&'static str],
}

impl KindSpec {
    pub fn group(&self) -> &'static str {
        self.versions[0].rsplit_once('/').map_or("", |(g, _)| g)
    }

    /// `pods`, `deployments.apps`, `podsecuritypolicies.policy`.
    pub fn qualified(&self) -> String {
        match self.group() {
            "" => self.resource.to_owned(),
            g => format!("{}.{g}", self.resource),
        }
    }
}

/// A kind as the live source lists it: one of [`KINDS`], a custom resource kind of the
/// registry, or another custom resource kind found by discovery.
#[derive(Clone, Debug)]
struct Listing {
    resource: String,
    kind: String,
    namespaced: bool,
    versions: Vec<String>,
}

impl Listing {
    fn of(spec: &KindSpec) -> Listing {
        Listing {
            resource: spec.resource.to_owned(),
            kind: spec.kind.to_owned(),
            namespaced: spec.namespaced,
            versions: spec.versions.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    fn group(&self) -> &str {
        self.versions[0].rsplit_once('/').map_or("", |(g, _)| g)
    }

    fn qualified(&self) -> String {
        match self.group() {
            "" => self.resource.clone(),
            g => format!("{}.{g}", self.resource),
        }
    }
}

const RBAC: &[&str] = &["rbac.authorization.k8s.io/v1", "rbac.authorization.k8s.io/v1beta1"];

/// Everything the live source reads, biggest first so the long lists start early. Secrets are
/// deliberately absent: the tool never needs them and must not be the reason they are read.
pub const KINDS: &[KindSpec] = &[
    KindSpec { resource: "pods", kind: "Pod", namespaced: true, versions: &["v1"] },
    KindSpec {
        resource: "replicasets",
        kind: "ReplicaSet",
        namespaced: true,
        versions: &["apps/v1"],
    },
    KindSpec {
        resource: "deployments",
        kind: "Deployment",
        namespaced: true,
        versions: &["apps/v1"],
    },
    KindSpec {
        resource: "statefulsets",
        kind: "StatefulSet",
        namespaced: true,
        versions: &["apps/v1"],
    },
    KindSpec {
        resource: "daemonsets",
        kind: "DaemonSet",
        namespaced: true,
        versions: &["apps/v1"],
    },
    KindSpec {
        resource: "replicationcontrollers",
        kind: "ReplicationController",
        namespaced: true,
        versions: &["v1"],
    },
    KindSpec { resource: "jobs", kind: "Job", namespaced: true, versions: &["batch/v1"] },
    KindSpec {
        resource: "cronjobs",
        kind: "CronJob",
        namespaced: true,
        versions: &["batch/v1", "batch/v1beta1"],
    },
    KindSpec { resource: "podtemplates", kind: "PodTemplate", namespaced: true, versions: &["v1"] },
    KindSpec { resource: "namespaces", kind: "Namespace", namespaced: false, versions: &["v1"] },
    KindSpec {
        resource: "serviceaccounts",
        kind: "ServiceAccount",
        namespaced: true,
        versions: &["v1"],
    },
    KindSpec {
        resource: "podsecuritypolicies",
        kind: "PodSecurityPolicy",
        namespaced: false,
        versions: &["policy/v1beta1"],
    },
    KindSpec { resource: "roles", kind: "Role", namespaced: true, versions: RBAC },
    KindSpec { resource: "clusterroles", kind: "ClusterRole", namespaced: false, versions: RBAC },
    KindSpec { resource: "rolebindings", kind: "RoleBinding", namespaced: true, versions: RBAC },
    KindSpec {
        resource: "clusterrolebindings",
        kind: "ClusterRoleBinding",
        namespaced: false,
        versions: RBAC,
    },
];

/// `--request-timeout`: kubectl's syntax (`0` = none, a bare number = seconds, otherwise a Go
/// duration such as `30s`, `1m30s`, `500ms`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestTimeout(pub Option<Duration>);

impl FromStr for RequestTimeout {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_duration(s).map(|d| RequestTimeout((!d.is_zero()).then_some(d)))
    }
}

impl fmt::Display for RequestTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(d) => f.write_str(&format_duration(d)),
            None => f.write_str("0"),
        }
    }
}

/// Parses a Go-style duration (`1h2m3.5s`, `250ms`, `1us`); a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    let bad = || format!("invalid duration {text:?}: use e.g. 30s, 1m, 1m30s, 500ms or 0 for none");
    if s.is_empty() || s.starts_with('-') {
        return Err(bad());
    }
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut rest = s.strip_prefix('+').unwrap_or(s);
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let nanos_per = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total += number * nanos_per;
    }
    if !total.is_finite() || total > u64::MAX as f64 {
        return Err(bad());
    }
    Ok(Duration::from_nanos(total as u64))
}

/// Options of the live source (resolved from the command line).
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// `--kubeconfig`; without it `KUBECONFIG` (a list of files, merged) or `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`; without it the kubeconfig's current context.
    pub context: Option<String>,
    /// `-n`: read namespaced kinds of this namespace only (cluster-scoped kinds are read whole).
    pub namespace: Option<String>,
    /// Per-request timeout; `None` waits forever.
    pub request_timeout: Option<Duration>,
    /// `limit` per list page; 0 asks for everything at once.
    pub chunk_size: u32,
    /// Kinds listed at the same time.
    pub concurrency: usize,
    pub retry: RetryPolicy,
    /// Times one kind's list may restart after its continue token expired (410).
    pub max_restarts: u32,
    /// Progress of each kind's listing (the app decides how, or whether, to show it).
    pub progress: Arc<dyn Progress>,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            kubeconfig: None,
            context: None,
            namespace: None,
            request_timeout: Some(Duration::from_secs(30)),
            chunk_size: 500,
            concurrency: 4,
            retry: RetryPolicy::default(),
            max_restarts: 3,
            progress: progress::silent(),
        }
    }
}

/// What a live read produced.
#[derive(Debug)]
pub struct LiveRead {
    /// Sorted; kinds that could not be read are in `inventory.unavailable`.
    pub inventory: Inventory,
    /// The cluster's server URL (also every object's provenance).
    pub server: String,
    /// Things the user should know that are not errors (e.g. the server version is unknown).
    pub notices: Vec<String>,
    /// Objects that could not be decoded: `GET <path>: items[i].<field>: <message>`.
    pub errors: Vec<String>,
    /// `Warning` headers the server sent (the PSP deprecation warning filtered out).
    pub warnings: Vec<String>,
    /// Times a kind's list restarted after an expired continue token.
    pub restarts: u32,
    /// HTTP requests sent, retries included.
    pub requests: u64,
}

impl LiveRead {
    /// Whether the run should end with exit code 2: undecodable objects, or kinds that could not
    /// be read for a reason other than the server not serving them.
    pub fn had_errors(&self) -> bool {
        !self.errors.is_empty() || self.inventory.unavailable.iter().any(is_error)
    }
}

/// A failure that stops the live read as a whole.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// No client: the kubeconfig or the client could not be set up.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("cannot reach the cluster at {server}: {failure}")]
    Unreachable { server: String, failure: Failure },
    #[error("the cluster at {server} rejected the credentials of the kubeconfig user: {failure}")]
    Unauthorized { server: String, failure: Failure },
}

impl LiveOptions {
    /// The options that pick the cluster and bound each request.
    pub fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            request_timeout: self.request_timeout,
        }
    }
}

/// The kube client configuration for these options (see [`kube_api::connect::load_config`]).
pub async fn load_config(opts: &LiveOptions) -> Result<Config, LiveError> {
    Ok(kube_api::connect::load_config(&opts.connect_options()).await?)
}

/// The server URL as users wrote it (without kube's trailing slash).
pub fn server_url(config: &Config) -> String {
    kube_api::connect::server_url(config)
}

/// Reads the cluster of the kubeconfig.
pub async fn read_cluster(opts: &LiveOptions) -> Result<LiveRead, LiveError> {
    let api = kube_api::connect(&opts.connect_options(), opts.retry.clone()).await?;
    read_with_api(api, opts).await
}

/// Reads the cluster behind `client` (tests may pass a client over a mock service).
pub async fn read_with_client(
    client: Client,
    server: String,
    opts: &LiveOptions,
) -> Result<LiveRead, LiveError> {
    read_with_api(ApiClient::new(client, server, opts.request_timeout, opts.retry.clone()), opts)
        .await
}

/// Reads the cluster behind `api`.
pub async fn read_with_api(api: ApiClient, opts: &LiveOptions) -> Result<LiveRead, LiveError> {
    let server = api.server.clone();
    let fetcher = api;
    let mut notices = Vec::new();
    let mut inv = Inventory::default();

    // Discovery.
    let version = match fetcher
        .send_decoded(&request::discovery("/version"), |b| {
            serde_json::from_slice::<ServerVersion>(b).map_err(|e| e.to_string())
        })
        .await
    {
        Ok(v) => Some(v),
        Err(f @ (Failure::Timeout { .. } | Failure::Transport { .. })) => {
            return Err(LiveError::Unreachable { server, failure: f });
        }
        Err(f) if f.status_code() == Some(401) => {
            return Err(LiveError::Unauthorized { server, failure: f });
        }
        Err(f) => {
            notices.push(format!(
                "server version unknown ({f}); assuming PodSecurityPolicies may be served"
            ));
            None
        }
    };
    let discovered = served_group_versions(&fetcher).await;
    let served = discovered.as_ref().map(|d| d.served.clone());
    let psp_served = psp_served(&fetcher, served.as_ref()).await;
    inv.server_version = version.clone();

    let ctx = Arc::new(Ctx {
        fetcher,
        provenance: Provenance::Live { server: server.clone() },
        namespace: opts.namespace.clone(),
        chunk_size: opts.chunk_size,
        max_restarts: opts.max_restarts,
        served,
    });

    // The custom resources the server serves (by discovery): listed like built-in kinds.
    // Without discovery they are not tried (each would be a 404 notice).
    let mut kinds: Vec<Listing> = KINDS.iter().map(Listing::of).collect();
    let mut custom = custom_kinds(&ctx.fetcher, discovered.as_ref()).await;
    // With -n, the templates of cluster-scoped custom resources belong to no namespace read.
    custom.retain(|k| k.namespaced || opts.namespace.is_none());
    kinds.extend(custom);
    if ctx.served.is_none() {
        notices.push(
            "the served API groups are unknown (/apis failed): custom resources are not read"
                .to_owned(),
        );
    }
    let kinds = Arc::new(kinds);
    let semaphore = Arc::new(tokio::sync::Semaphore::new(opts.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let mut outcomes: Vec<Option<KindOutcome>> = (0..kinds.len()).map(|_| None).collect();
    for (index, spec) in kinds.iter().cloned().enumerate() {
        if spec.resource == "podsecuritypolicies" && !psp_served {
            outcomes[index] = Some(KindOutcome::unavailable(Unavailable {
                resource: spec.qualified(),
                code: code::API_NOT_SERVED,
                message: psp_not_served_message(version.as_ref()),
            }));
            continue;
        }
        let bar = opts.progress.task(&spec.qualified());
        let ctx = Arc::clone(&ctx);
        let semaphore = Arc::clone(&semaphore);
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            bar.set_message("");
            let outcome = read_kind(&ctx, &spec, bar.as_ref()).await;
            match &outcome.unavailable {
                None => bar.finish("done"),
                Some(u) => bar.abandon(u.code.reason()),
            }
            (index, outcome)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, outcome)) => outcomes[index] = Some(outcome),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    opts.progress.clear();

    let mut errors = Vec::new();
    let mut restarts = 0;
    // Every kind that was listed to the end is complete in the scope it was listed in; a kind
    // the server does not serve has nothing to miss.
    let mut listed = Listed::default();
    for (spec, outcome) in kinds.iter().zip(&outcomes) {
        let read = outcome
            .as_ref()
            .is_some_and(|o| o.unavailable.as_ref().is_none_or(|u| u.code == code::API_NOT_SERVED));
        if read {
            listed.resources.push(ListedResource {
                resource: spec.qualified(),
                namespace: if spec.namespaced { opts.namespace.clone() } else { None },
            });
        }
    }
    listed.resources.sort();
    for outcome in outcomes.into_iter().flatten() {
        inv.extend(outcome.inventory);
        inv.unavailable.extend(outcome.unavailable);
        errors.extend(outcome.errors);
        restarts += outcome.restarts;
    }
    inv.listed = Some(listed);
    crate::custom::resolve(&mut inv);
    let warnings = ctx
        .fetcher
        .warnings()
        .into_iter()
        .filter(|w| !w.contains("PodSecurityPolicy is deprecated"))
        .collect();
    Ok(LiveRead {
        inventory: inv,
        server,
        notices,
        errors,
        warnings,
        restarts,
        requests: ctx.fetcher.requests_sent(),
    })
}

/// The custom resource kinds the server serves, as kinds to list: those of the registry (at
/// the versions its CRDs serve, from the resource list of each served group/version of a
/// registry group), then every other listable custom resource kind (at its group's preferred
/// version), whose objects are scanned for pod templates. A resource list that cannot be read
/// keeps the registry's kinds (their list then reports why).
async fn custom_kinds(fetcher: &ApiClient, discovered: Option<&Discovered>) -> Vec<Listing> {
    let Some(d) = discovered else { return Vec::new() };
    let mut lists: std::collections::BTreeMap<String, Option<Vec<ApiResource>>> =
        std::collections::BTreeMap::new();
    let registry_gvs = crate::custom::REGISTRY.iter().flat_map(|e| e.api_versions.iter());
    let custom_gvs = d.preferred.iter().filter(|gv| crate::custom::is_custom_api_version(gv));
    for gv in registry_gvs.map(|v| (*v).to_owned()).chain(custom_gvs.cloned()) {
        if d.served.contains(&gv) && !lists.contains_key(&gv) {
            let list = resource_list(fetcher, &gv).await;
            lists.insert(gv, list);
        }
    }
    let mut out: Vec<Listing> = crate::custom::REGISTRY
        .iter()
        .filter(|e| {
            e.api_versions.iter().any(|gv| match lists.get(*gv) {
                Some(Some(resources)) => resources.iter().any(|r| r.name == e.plural),
                Some(None) => true,
                None => false,
            })
        })
        .map(|e| Listing {
            resource: e.plural.to_owned(),
            kind: e.kind.to_owned(),
            namespaced: e.namespaced,
            versions: e.api_versions.iter().map(|v| (*v).to_owned()).collect(),
        })
        .collect();
    for gv in d.preferred.iter().filter(|gv| crate::custom::is_custom_api_version(gv)) {
        let group = gv.rsplit_once('/').map_or("", |(g, _)| g);
        for r in lists.get(gv).cloned().flatten().unwrap_or_default() {
            let registered =
                crate::custom::REGISTRY.iter().any(|e| e.group == group && e.kind == r.kind);
            if registered || r.name.contains('/') || !r.verbs.iter().any(|v| v == "list") {
                continue;
            }
            out.push(Listing {
                resource: r.name,
                kind: r.kind,
                namespaced: r.namespaced,
                versions: vec![gv.clone()],
            });
        }
    }
    out
}

/// One entry of a group/version's resource list.
#[derive(Clone, Debug, serde::Deserialize)]
struct ApiResource {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    namespaced: bool,
    #[serde(default)]
    verbs: Vec<String>,
}

/// The resources a group/version serves (`None`: discovery could not say).
async fn resource_list(fetcher: &ApiClient, gv: &str) -> Option<Vec<ApiResource>> {
    #[derive(serde::Deserialize)]
    struct ResourceList {
        #[serde(default)]
        resources: Vec<ApiResource>,
    }
    let list = fetcher
        .send_decoded(&request::discovery(&format!("/apis/{gv}")), |b| {
            serde_json::from_slice::<ResourceList>(b).map_err(|e| e.to_string())
        })
        .await
        .ok()?;
    Some(list.resources)
}

/// The notice for a cluster that no longer serves PSPs.
pub fn psp_not_served_message(version: Option<&ServerVersion>) -> String {
    let cluster = match version {
        Some(v) if !v.git_version.is_empty() => format!("this cluster ({})", v.git_version),
        _ => "this cluster".to_owned(),
    };
    format!(
        "{cluster} does not serve policy/v1beta1 PodSecurityPolicy (the API was removed in \
         Kubernetes 1.25), so PSPs cannot be read live. Read them from an offline export \
         instead: run `psa-migrate export --out DIR` against the cluster before upgrading it, or \
         pass -f with a saved `kubectl get psp -o yaml`. Continuing with pods, workloads and RBAC."
    )
}

struct Ctx {
    fetcher: ApiClient,
    provenance: Provenance,
    namespace: Option<String>,
    chunk_size: u32,
    max_restarts: u32,
    /// Group/versions listed by `/apis` (plus `v1`), when discovery worked.
    served: Option<BTreeSet<String>>,
}

#[derive(Default)]
struct KindOutcome {
    inventory: Inventory,
    unavailable: Option<Unavailable>,
    errors: Vec<String>,
    restarts: u32,
}

impl KindOutcome {
    fn unavailable(u: Unavailable) -> KindOutcome {
        KindOutcome { unavailable: Some(u), ..KindOutcome::default() }
    }
}

/// What `/apis` says: every group/version served (plus `v1`), and each group's preferred one.
struct Discovered {
    served: BTreeSet<String>,
    preferred: Vec<String>,
}

/// `/apis`; `None` when it cannot say.
async fn served_group_versions(fetcher: &ApiClient) -> Option<Discovered> {
    #[derive(serde::Deserialize)]
    struct GroupList {
        #[serde(default)]
        groups: Vec<Group>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Group {
        #[serde(default)]
        versions: Vec<GroupVersion>,
        #[serde(default)]
        preferred_version: Option<GroupVersion>,
    }
    #[derive(serde::Deserialize)]
    struct GroupVersion {
        #[serde(default, rename = "groupVersion")]
        group_version: String,
    }
    let list = fetcher
        .send_decoded(&request::discovery("/apis"), |b| {
            serde_json::from_slice::<GroupList>(b).map_err(|e| e.to_string())
        })
        .await
        .ok()?;
    let mut preferred = Vec::new();
    let mut served = BTreeSet::from(["v1".to_owned()]);
    for g in list.groups {
        let first = g.versions.first().map(|v| v.group_version.clone());
        if let Some(p) = g.preferred_version.map(|v| v.group_version).or(first) {
            preferred.push(p);
        }
        served.extend(g.versions.into_iter().map(|v| v.group_version));
    }
    Some(Discovered { served, preferred })
}

/// Whether `policy/v1beta1` serves `podsecuritypolicies`. Only a definite "no" (absent from
/// `/apis`, a 404, or a resource list without it) counts as not served; when discovery cannot
/// tell, the list itself is tried and reports its own failure.
async fn psp_served(fetcher: &ApiClient, served: Option<&BTreeSet<String>>) -> bool {
    #[derive(serde::Deserialize)]
    struct ResourceList {
        #[serde(default)]
        resources: Vec<Resource>,
    }
    #[derive(serde::Deserialize)]
    struct Resource {
        #[serde(default)]
        name: String,
    }
    if served.is_some_and(|s| !s.contains("policy/v1beta1")) {
        return false;
    }
    match fetcher
        .send_decoded(&request::discovery("/apis/policy/v1beta1"), |b| {
            serde_json::from_slice::<ResourceList>(b).map_err(|e| e.to_string())
        })
        .await
    {
        Ok(list) => list.resources.iter().any(|r| r.name == "podsecuritypolicies"),
        Err(f) => f.status_code() != Some(404),
    }
}

/// Reads one kind, trying its group/versions in order.
async fn read_kind(ctx: &Ctx, spec: &Listing, bar: &dyn Task) -> KindOutcome {
    let candidates: Vec<&str> = spec
        .versions
        .iter()
        .map(String::as_str)
        .filter(|gv| ctx.served.as_ref().is_none_or(|s| s.contains(*gv)))
        .collect();
    for gv in &candidates {
        match list_kind(ctx, spec, gv, bar).await {
            Ok(outcome) => return outcome,
            Err(f) if f.error.status_code() == Some(404) => continue,
            Err(ListFailure { error: failure, restarts }) => {
                let mut outcome =
                    KindOutcome::unavailable(unavailable(ctx, spec, gv, &failure, restarts));
                outcome.restarts = restarts;
                return outcome;
            }
        }
    }
    KindOutcome::unavailable(Unavailable {
        resource: spec.qualified(),
        code: code::API_NOT_SERVED,
        message: format!(
            "the server does not serve {} in {}",
            spec.resource,
            spec.versions.join(" or ")
        ),
    })
}

/// Lists one kind at one group/version, page by page, restarting from the first page when a
/// continue token expires (what has been read of the kind so far is dropped).
async fn list_kind(
    ctx: &Ctx,
    spec: &Listing,
    gv: &str,
    bar: &dyn Task,
) -> Result<KindOutcome, ListFailure> {
    let seed = JsonDocumentSeed {
        defaults: ItemDefaults { kind: Some(&spec.kind), api_version: Some(gv) },
    };
    let failed = |error| ListFailure { error, restarts: 0 };
    let namespace = ctx.namespace.as_deref().filter(|_| spec.namespaced);
    let collection = kube_api::resource_path(gv, &spec.resource, namespace).map_err(|message| {
        failed(Failure::Invalid { method: "GET", path: spec.qualified(), message })
    })?;
    let mut outcome = KindOutcome::default();
    // `-n` limits namespaces to the one named: a GET of that object (404: it does not exist).
    if !spec.namespaced
        && spec.resource == "namespaces"
        && let Some(ns) = ctx.namespace.as_deref()
    {
        let prepared = request::get(&ObjectRef::new(collection, ns)).map_err(failed)?;
        let path = prepared.path();
        match ctx
            .fetcher
            .send_decoded(&prepared, |b| seed.decode_slice(b).map_err(|e| e.to_string()))
            .await
        {
            Ok(doc) => add_objects(ctx, &mut outcome, &path, doc.into_objects(), bar),
            Err(f) if f.status_code() == Some(404) => {}
            Err(f) => return Err(failed(f)),
        }
        return Ok(outcome);
    }
    let restarts = ctx
        .fetcher
        .list_pages(&collection, ctx.chunk_size, ctx.max_restarts, |page| {
            if page.first {
                outcome = KindOutcome::default();
                bar.reset();
            }
            let doc = seed.decode_slice(page.body).map_err(|e| e.to_string())?;
            let next = doc.continue_token().map(str::to_owned);
            add_objects(ctx, &mut outcome, page.path, doc.into_objects(), bar);
            Ok(next)
        })
        .await?;
    outcome.restarts = restarts;
    Ok(outcome)
}

/// Adds the objects of one answer to the kind's inventory; undecodable ones become errors.
fn add_objects(
    ctx: &Ctx,
    outcome: &mut KindOutcome,
    path: &str,
    objects: Vec<crate::decode::Object>,
    bar: &dyn Task,
) {
    bar.inc(objects.len() as u64);
    for object in objects {
        match object.decoded {
            Ok(decoded) => {
                add_to_inventory(&mut outcome.inventory, decoded, ctx.provenance.clone(), "default")
            }
            Err(e) => outcome.errors.push(format!("GET {path}: {e}")),
        }
    }
}

/// The inventory entry for a kind whose list failed.
fn unavailable(
    ctx: &Ctx,
    spec: &Listing,
    gv: &str,
    failure: &Failure,
    restarts: u32,
) -> Unavailable {
    let group = gv.rsplit_once('/').map_or("", |(g, _)| g);
    let (verb, resource) =
        if !spec.namespaced && spec.resource == "namespaces" && ctx.namespace.is_some() {
            ("get", "namespaces")
        } else {
            ("list", spec.resource.as_str())
        };
    let scope = match ctx.namespace.as_deref().filter(|_| spec.namespaced) {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_owned(),
    };
    let (code, message) = match failure {
        Failure::Status { code: 403, message, .. } => (
            code::FORBIDDEN,
            format!(
                "cannot {verb} {resource} in API group \"{group}\" {scope}: the kubeconfig user \
                 lacks the \"{verb}\" permission ({message})"
            ),
        ),
        Failure::Status { code: 401, .. } => (code::UNAUTHORIZED, failure.to_string()),
        Failure::Status { code: 410, .. } => (
            code::EXPIRED,
            format!(
                "{failure}: the list's continue token expired {} times; giving up",
                restarts + 1
            ),
        ),
        Failure::Status { code: 429 | 500..=599, .. } => (code::SERVER_ERROR, failure.to_string()),
        Failure::Status { .. } | Failure::Invalid { .. } => {
            (code::REQUEST_FAILED, failure.to_string())
        }
        Failure::Timeout { .. } => (code::TIMEOUT, failure.to_string()),
        Failure::Transport { .. } => (code::UNREACHABLE, failure.to_string()),
        Failure::Decode { .. } => (code::INVALID_RESPONSE, failure.to_string()),
    };
    Unavailable { resource: spec.qualified(), code, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_like_kubectl() {
        let d = |s: &str| parse_duration(s).unwrap();
        assert_eq!(d("30s"), Duration::from_secs(30));
        assert_eq!(d("1m"), Duration::from_secs(60));
        assert_eq!(d("1m30s"), Duration::from_secs(90));
        assert_eq!(d("500ms"), Duration::from_millis(500));
        assert_eq!(d("1.5h"), Duration::from_secs(5400));
        assert_eq!(d("7"), Duration::from_secs(7));
        assert_eq!(d("0"), Duration::ZERO);
        for bad in ["", "s", "1x", "-1s", "1m-2s", "abc"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!("0".parse::<RequestTimeout>().unwrap(), RequestTimeout(None));
        assert_eq!(format_duration(Duration::from_millis(200)), "200ms");
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_duration(Duration::from_secs(30)), "30s");
        assert_eq!(format_duration(Duration::from_secs(120)), "2m");
    }

    #[test]
    fn kind_collections() {
        let pods = &KINDS[0];
        assert_eq!(kube_api::resource_path("v1", pods.resource, None).unwrap(), "/api/v1/pods");
        let crb = KINDS.iter().find(|k| k.resource == "clusterrolebindings").unwrap();
        assert_eq!(crb.qualified(), "clusterrolebindings.rbac.authorization.k8s.io");
    }

    #[test]
    fn never_reads_secrets() {
        assert!(KINDS.iter().all(|k| !k.resource.contains("secret")));
        let names: BTreeSet<&str> = KINDS.iter().map(|k| k.resource).collect();
        assert_eq!(names.len(), 16);
    }
}
