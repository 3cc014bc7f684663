//! A fake Kubernetes API server for tests and benchmarks: it serves an offline cluster directory
//! over loopback HTTP(S) so that the tool (kube-rs) and the real `kubectl` can talk to it.
//!
//! ```ignore
//! let api = FakeApi::start(FakeConfig::new().dir("testdata/clusters/ml-platform").version("1.24"));
//! api.kubeconfig(&path)?;                       // for kubectl / the CLI
//! let client = api.kube_client().await;         // for in-process tests
//! api.faults().update(|f| f.throttle_every = 3); // change faults at runtime
//! assert!(api.requests().iter().any(|r| r.param("limit") == Some("500")));
//! ```
//!
//! What it emulates: discovery (`/version`, `/api`, `/apis`, group versions; `policy/v1beta1`
//! PodSecurityPolicy only below 1.25; `admissionregistration.k8s.io` ValidatingAdmissionPolicy
//! and binding `v1beta1` on 1.28–1.33 and `v1` from 1.30, stored but never evaluated), lists with `limit`/`continue`/`remainingItemCount`, label
//! and field selectors, `Table` and `PartialObjectMetadata` responses, get/create/update/patch
//! (merge, strategic, JSON patch, server-side apply with label ownership), `dryRun=All`,
//! resourceVersion preconditions, API `Status` errors, PodSecurity admission for namespaces
//! (label validation and warnings for existing pods) and pods, the PSP deprecation warning, Secrets
//! as forbidden, bearer-token and client-certificate auth, and injected faults.
//!
//! Known differences from a real API server (deliberate, or not needed so far):
//! * `/openapi/v3` serves minimal per-group-version documents (paths, PATCH parameters, no
//!   schemas) for every version, because `kubectl apply` needs them; `/openapi/v2` is 404.
//!   `fieldValidation` is accepted and ignored.
//! * No watch (405) and no `deletecollection`. `resourceVersion=0` lists ignore `limit` (as the
//!   watch cache does); other resourceVersion parameters are ignored.
//! * List items keep `apiVersion`/`kind` unless `list_items_type_meta(false)`.
//! * Namespaces referenced by objects but absent from the data are created (`implicit_namespaces`).
//! * Server-side apply tracks ownership of `metadata.labels`/`annotations` only; other fields of an
//!   applied object are merged like a merge patch. Strategic merge patch merges maps like a JSON
//!   merge patch and replaces lists.
//! * PodSecurity: `latest` (and newer pinned versions) are evaluated at the server's minor version
//!   (`PsaConfig::latest_is_server_minor`); the namespace pod check has no time budget; workload
//!   (template) warnings are not emitted. PodSecurity is on from 1.23 (`PsaConfig::enabled`).
//! * Table columns: pods, namespaces, PSPs, roles and bindings as kubectl shows them (pod STATUS
//!   simplified); other kinds get NAME and AGE.

#![allow(dead_code)]

#[path = "fake_api/load.rs"]
pub mod load;
#[path = "fake_api/patch.rs"]
pub mod patch;
#[path = "fake_api/psa.rs"]
pub mod psa;
#[path = "fake_api/selector.rs"]
pub mod selector;
#[path = "fake_api/server.rs"]
mod server;
#[path = "fake_api/store.rs"]
pub mod store;
#[path = "fake_api/table.rs"]
mod table;
#[cfg(test)]
#[path = "fake_api/tests.rs"]
mod tests;
#[path = "fake_api/tls.rs"]
pub mod tls;
#[path = "fake_api/util.rs"]
pub mod util;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use serde_json::{Value, json};

#[allow(unused_imports)]
pub use psa::{LevelVersion, Policy, PsaConfig};
#[allow(unused_imports)]
pub use tls::TlsMaterial;

use store::{Collection, Obj, ResourceDef, Store};

/// How to start a fake. Build with the chained setters.
#[derive(Clone, Debug)]
pub struct FakeConfig {
    /// Cluster directory to load (recursively).
    pub dir: Option<PathBuf>,
    /// Extra objects (added after the directory's).
    pub objects: Vec<Value>,
    /// Server version override: `1.24`, `v1.24.17`, `1.25.3-eks-1`. Otherwise `version.yaml` in the
    /// directory, otherwise v1.24.17.
    pub version: Option<String>,
    /// Serve HTTPS with a generated CA.
    pub tls: bool,
    /// Require a client certificate signed by the CA (implies `tls`).
    pub require_client_cert: bool,
    /// Require `Authorization: Bearer <token>` (a valid client certificate also authenticates).
    pub token: Option<String>,
    /// The user named in RBAC Forbidden messages.
    pub user: String,
    pub faults: Faults,
    pub psa: PsaConfig,
    /// Put `apiVersion`/`kind` on list items (the real server omits them). Default true.
    pub list_items_type_meta: bool,
    /// Create Namespace objects for namespaces that objects live in but the data lacks.
    pub implicit_namespaces: bool,
    /// Port to bind on 127.0.0.1 (0 = any).
    pub port: u16,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            dir: None,
            objects: Vec::new(),
            version: None,
            tls: false,
            require_client_cert: false,
            token: None,
            user: "system:anonymous".into(),
            faults: Faults::default(),
            psa: PsaConfig::default(),
            list_items_type_meta: true,
            implicit_namespaces: true,
            port: 0,
        }
    }
}

impl FakeConfig {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }
    pub fn object(mut self, obj: Value) -> Self {
        self.objects.push(obj);
        self
    }
    pub fn objects(mut self, objs: impl IntoIterator<Item = Value>) -> Self {
        self.objects.extend(objs);
        self
    }
    /// Adds the objects of a YAML/JSON text (multi-document, lists unwrapped).
    pub fn yaml(mut self, text: &str) -> Self {
        let docs = load::parse_documents(text, false).expect("fake_api: bad YAML");
        for d in docs {
            load::unwrap_lists(d, &mut self.objects);
        }
        self
    }
    pub fn version(mut self, v: impl Into<String>) -> Self {
        self.version = Some(v.into());
        self
    }
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }
    pub fn require_client_cert(mut self) -> Self {
        self.tls = true;
        self.require_client_cert = true;
        self
    }
    pub fn token(mut self, t: impl Into<String>) -> Self {
        self.token = Some(t.into());
        self
    }
    pub fn user(mut self, u: impl Into<String>) -> Self {
        self.user = u.into();
        self
    }
    pub fn faults(mut self, f: Faults) -> Self {
        self.faults = f;
        self
    }
    pub fn psa(mut self, p: PsaConfig) -> Self {
        self.psa = p;
        self
    }
    pub fn list_items_type_meta(mut self, on: bool) -> Self {
        self.list_items_type_meta = on;
        self
    }
    pub fn implicit_namespaces(mut self, on: bool) -> Self {
        self.implicit_namespaces = on;
        self
    }
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
}

/// When continue tokens expire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ContinueExpiry {
    #[default]
    Never,
    /// The next request carrying a continue token gets 410 Expired; then tokens work again.
    Once,
    /// Every request carrying a continue token gets 410 Expired.
    Always,
}

/// What a write beyond `writes_before_crash` gets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CrashMode {
    /// 503 ServiceUnavailable Status.
    #[default]
    ServiceUnavailable,
    /// The connection is closed without a response.
    DropConnection,
}

/// Injected faults. All counters are per server; `*_every = 0` disables a fault.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// The first N requests (of any kind) are never faulted by throttle/error.
    pub skip_first: u64,
    /// Count (and fault) only requests for this resource plural (e.g. "pods"), for
    /// `throttle_every`/`error_every`.
    pub only_resource: Option<String>,
    /// Every Nth counted request answers 429 TooManyRequests with `Retry-After`.
    pub throttle_every: u64,
    pub retry_after_secs: u64,
    /// Every Nth counted request answers 500 InternalError.
    pub error_every: u64,
    /// Continue tokens expire (410 Expired).
    pub expire_continue: ContinueExpiry,
    /// Restrict continue expiry to one resource plural.
    pub expire_resource: Option<String>,
    /// Resource plurals answered with 403 Forbidden (Secrets always are).
    pub forbidden: BTreeSet<String>,
    /// Added latency per request, in milliseconds.
    pub latency_ms: u64,
    /// Non-dry-run writes (PATCH/PUT/POST/DELETE) beyond this many fail as `crash` says.
    pub writes_before_crash: Option<u64>,
    pub crash: CrashMode,
}

impl Faults {
    pub fn none() -> Self {
        Self::default()
    }
    pub fn throttle_every(mut self, n: u64, retry_after_secs: u64) -> Self {
        self.throttle_every = n;
        self.retry_after_secs = retry_after_secs;
        self
    }
    pub fn error_every(mut self, n: u64) -> Self {
        self.error_every = n;
        self
    }
    pub fn skip_first(mut self, n: u64) -> Self {
        self.skip_first = n;
        self
    }
    pub fn only_resource(mut self, plural: &str) -> Self {
        self.only_resource = Some(plural.into());
        self
    }
    pub fn expire_continue(mut self, e: ContinueExpiry, resource: Option<&str>) -> Self {
        self.expire_continue = e;
        self.expire_resource = resource.map(str::to_owned);
        self
    }
    pub fn forbid(mut self, plural: &str) -> Self {
        self.forbidden.insert(plural.into());
        self
    }
    pub fn latency_ms(mut self, ms: u64) -> Self {
        self.latency_ms = ms;
        self
    }
    pub fn crash_after_writes(mut self, n: u64, mode: CrashMode) -> Self {
        self.writes_before_crash = Some(n);
        self.crash = mode;
        self
    }
}

/// Faults plus the count of requests they have seen (reset whenever the faults change).
#[derive(Debug, Default)]
pub(crate) struct FaultCell {
    faults: Faults,
    counted: u64,
}

/// Shared, runtime-changeable faults of a running fake. Changing them restarts the
/// `throttle_every`/`error_every` counting.
#[derive(Clone, Debug)]
pub struct FaultsHandle(Arc<Mutex<FaultCell>>);

impl FaultsHandle {
    pub fn get(&self) -> Faults {
        self.0.lock().unwrap().faults.clone()
    }
    pub fn set(&self, f: Faults) {
        let mut cell = self.0.lock().unwrap();
        cell.faults = f;
        cell.counted = 0;
    }
    pub fn update(&self, f: impl FnOnce(&mut Faults)) {
        let mut cell = self.0.lock().unwrap();
        f(&mut cell.faults);
        cell.counted = 0;
    }
    pub fn clear(&self) {
        self.set(Faults::default());
    }
}

/// One request as the fake saw it, with the answer's status and warnings.
#[derive(Clone, Debug)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    /// Raw query string.
    pub query: String,
    /// Decoded query parameters, in order.
    pub params: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub accept: Option<String>,
    pub user_agent: Option<String>,
    /// `dryRun=All` was present (in the query, or in a DELETE's DeleteOptions body).
    pub dry_run: bool,
    /// Request body (UTF-8, lossy).
    pub body: String,
    /// Response status; 0 when the connection was dropped.
    pub status: u16,
    pub warnings: Vec<String>,
}

impl RequestRecord {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Default)]
struct Counters {
    requests: u64,
    writes: u64,
}

/// State shared by the server tasks and the handle.
pub(crate) struct State {
    minor: u32,
    version_json: Value,
    store: RwLock<Store>,
    faults: Arc<Mutex<FaultCell>>,
    log: Mutex<Vec<RequestRecord>>,
    counters: Mutex<Counters>,
    token: Option<String>,
    user: String,
    psa: PsaConfig,
    psa_enabled: bool,
    list_items_type_meta: bool,
    addr: Mutex<Option<SocketAddr>>,
}

/// Parses `1.24`, `v1.24.17`, `1.25.3-eks-1` into a `serverVersion` map.
fn version_json(v: &str) -> Result<Value, String> {
    let s = v.trim().trim_start_matches('v');
    let mut parts = s.splitn(3, '.');
    let major = parts.next().unwrap_or_default();
    let minor = parts.next().ok_or_else(|| format!("bad version {v}"))?;
    let rest = parts.next();
    if major.parse::<u32>().is_err() || minor.trim_end_matches('+').parse::<u32>().is_err() {
        return Err(format!("bad version {v}"));
    }
    let git = match rest {
        Some(r) => format!("v{major}.{minor}.{r}"),
        None => format!("v{major}.{minor}.0"),
    };
    Ok(json!({
        "major": major,
        "minor": minor,
        "gitVersion": git,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2024-01-01T00:00:00Z",
        "goVersion": "go1.22.0",
        "compiler": "gc",
        "platform": "linux/amd64"
    }))
}

fn minor_of(version: &Value) -> Result<u32, String> {
    let m = version["minor"].as_str().unwrap_or_default();
    let digits: String = m.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().map_err(|_| format!("bad server minor version {m:?}"))
}

/// Builds the store one object at a time (objects stream in from the loader).
struct StoreBuilder {
    store: Store,
    minor: u32,
    now: i64,
    max_rv: u64,
    /// Objects that came without a resourceVersion; they get one after loading, above every
    /// existing one.
    missing_rv: Vec<(usize, (String, String))>,
    namespaces_seen: BTreeSet<String>,
}

impl StoreBuilder {
    fn new(minor: u32) -> Self {
        let mut store = Store::default();
        for def in store::builtin_defs(minor) {
            store.collections.push(Collection::new(def));
        }
        StoreBuilder {
            store,
            minor,
            now: util::now_secs(),
            max_rv: 0,
            missing_rv: Vec::new(),
            namespaces_seen: BTreeSet::new(),
        }
    }

    fn add(&mut self, mut obj: Value) -> Result<(), String> {
        let api_version = obj["apiVersion"].as_str().unwrap_or_default().to_owned();
        let kind = obj["kind"].as_str().unwrap_or_default().to_owned();
        if kind.is_empty() {
            return Ok(());
        }
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g.to_owned(), v.to_owned()),
            None => (String::new(), api_version.clone()),
        };
        if group.is_empty() && kind == "Secret" {
            return Ok(()); // never served
        }
        if group == "psa-migrate.io" {
            return Ok(()); // the tool's own files (the export record): not cluster objects
        }
        let group = store::canonical_group(&group, &kind).to_owned();
        let idx = match self.store.find_kind(&group, &kind) {
            Some(i) => i,
            None if kind == "PodSecurityPolicy" => return Ok(()), // 1.25+: gone
            None => {
                let namespaced =
                    obj["metadata"]["namespace"].as_str().is_some_and(|s| !s.is_empty());
                let gv =
                    if group.is_empty() { version.clone() } else { format!("{group}/{version}") };
                let plural = store::guess_plural(&kind);
                let def = ResourceDef::new(&gv, &plural, &kind, namespaced, &[]);
                self.store.collections.push(Collection::new(def));
                self.store.collections.len() - 1
            }
        };
        let def = &self.store.collections[idx].def;
        match obj["metadata"]["resourceVersion"].as_str() {
            Some(rv) if !rv.is_empty() => {
                if let Ok(n) = rv.parse::<u64>() {
                    self.max_rv = self.max_rv.max(n);
                }
            }
            _ => {}
        }
        let mut missing = false;
        let mut next = || {
            missing = true;
            0
        };
        if let Err(e) = store::normalize(def, &mut obj, &mut next, self.now, self.minor) {
            return Err(format!("{kind} {}: {e}", obj["metadata"]["name"]));
        }
        let o = Obj::from_value(&obj);
        drop(obj);
        if def.namespaced {
            self.namespaces_seen.insert(o.ns.clone());
        }
        if missing {
            self.missing_rv.push((idx, o.key()));
        }
        self.store.collections[idx].items.insert(o.key(), o);
        Ok(())
    }

    fn finish(mut self, implicit_namespaces: bool) -> Result<Store, String> {
        if implicit_namespaces {
            let ns_idx = self.store.find("", "v1", "namespaces").expect("namespaces");
            let def = self.store.collections[ns_idx].def.clone();
            for ns in std::mem::take(&mut self.namespaces_seen) {
                let key = (String::new(), ns.clone());
                if self.store.collections[ns_idx].items.contains_key(&key) {
                    continue;
                }
                let mut obj =
                    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
                store::normalize(&def, &mut obj, &mut || 0, self.now, self.minor)?;
                let o = Obj::from_value(&obj);
                self.store.collections[ns_idx].items.insert(key.clone(), o);
                self.missing_rv.push((ns_idx, key));
            }
        }
        let mut rv = self.max_rv;
        for (idx, key) in std::mem::take(&mut self.missing_rv) {
            let Some(o) = self.store.collections[idx].items.get_mut(&key) else { continue };
            if o.rv != "0" {
                continue; // replaced by a later object that had its own
            }
            rv += 1;
            let mut v = o.value();
            v["metadata"]["resourceVersion"] = rv.to_string().into();
            *o = Obj::from_value(&v);
        }
        self.store.rv = rv.max(1);
        Ok(self.store)
    }
}

fn build_state(cfg: &FakeConfig) -> Result<State, String> {
    let found = match (&cfg.version, &cfg.dir) {
        (None, Some(d)) => load::find_version(d)?,
        _ => None,
    };
    let version = match (&cfg.version, found) {
        (Some(v), _) => version_json(v)?,
        (None, Some(v)) => v,
        (None, None) => version_json("1.24.17")?,
    };
    let minor = minor_of(&version)?;
    let mut builder = StoreBuilder::new(minor);
    if let Some(d) = &cfg.dir {
        load::stream_dir(d, &mut |obj| builder.add(obj))?;
    }
    for obj in &cfg.objects {
        builder.add(obj.clone())?;
    }
    let store = builder.finish(cfg.implicit_namespaces)?;
    let psa_enabled = cfg.psa.enabled.unwrap_or(minor >= 23);
    Ok(State {
        minor,
        version_json: version,
        store: RwLock::new(store),
        faults: Arc::new(Mutex::new(FaultCell { faults: cfg.faults.clone(), counted: 0 })),
        log: Mutex::new(Vec::new()),
        counters: Mutex::new(Counters::default()),
        token: cfg.token.clone(),
        user: cfg.user.clone(),
        psa: cfg.psa.clone(),
        psa_enabled,
        list_items_type_meta: cfg.list_items_type_meta,
        addr: Mutex::new(None),
    })
}

/// Entry point: `FakeApi::start(config)`.
pub struct FakeApi;

impl FakeApi {
    /// Loads the data, binds 127.0.0.1 and serves on a dedicated thread with its own tokio
    /// runtime, so it works from sync tests and from any async runtime. Panics on bad data.
    pub fn start(config: FakeConfig) -> FakeApiHandle {
        Self::try_start(config).unwrap_or_else(|e| panic!("fake_api: {e}"))
    }

    pub fn try_start(config: FakeConfig) -> Result<FakeApiHandle, String> {
        let state = Arc::new(build_state(&config)?);
        let listener = TcpListener::bind(("127.0.0.1", config.port)).map_err(|e| e.to_string())?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        *state.addr.lock().unwrap() = Some(addr);
        let tls = config.tls.then(TlsMaterial::generate);
        let acceptor = tls.as_ref().map(|t| t.acceptor(config.require_client_cert));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let st = state.clone();
        let thread = std::thread::Builder::new()
            .name(format!("fake-apiserver-{}", addr.port()))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(4)
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(server::serve(listener, st, acceptor, rx));
                rt.shutdown_background();
            })
            .map_err(|e| e.to_string())?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        Ok(FakeApiHandle {
            url: format!("{scheme}://{addr}"),
            addr,
            state,
            tls,
            token: config.token,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }
}

/// A running fake. Dropping it shuts the server down.
pub struct FakeApiHandle {
    url: String,
    addr: SocketAddr,
    state: Arc<State>,
    tls: Option<TlsMaterial>,
    token: Option<String>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeApiHandle {
    /// `http://127.0.0.1:<port>` or `https://…`.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The generated PKI (when started with TLS).
    pub fn tls(&self) -> Option<&TlsMaterial> {
        self.tls.as_ref()
    }

    /// The served minor version (e.g. 24).
    pub fn minor(&self) -> u32 {
        self.state.minor
    }

    /// A kubeconfig (cluster/user/context `fake`) with the CA, the token and, with TLS, the
    /// client certificate.
    pub fn kubeconfig_yaml(&self) -> String {
        let mut cluster = format!("    server: {}\n", self.url);
        if let Some(t) = &self.tls {
            cluster.push_str(&format!(
                "    certificate-authority-data: {}\n",
                util::b64_encode(t.ca_cert_pem.as_bytes())
            ));
        }
        let mut user = String::new();
        if let Some(tok) = &self.token {
            user.push_str(&format!("    token: \"{tok}\"\n"));
        }
        if let Some(t) = &self.tls {
            user.push_str(&format!(
                "    client-certificate-data: {}\n    client-key-data: {}\n",
                util::b64_encode(t.client_cert_pem.as_bytes()),
                util::b64_encode(t.client_key_pem.as_bytes())
            ));
        }
        if user.is_empty() {
            user.push_str("    {}\n");
        }
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n{cluster}contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: default\ncurrent-context: fake\nusers:\n- name: fake\n  user:\n{user}preferences: {{}}\n"
        )
    }

    /// Writes [`kubeconfig_yaml`](Self::kubeconfig_yaml) to `path`.
    pub fn kubeconfig(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig_yaml())
    }

    /// A kube client configured from the kubeconfig (token, CA, client certificate).
    pub async fn kube_client(&self) -> kube::Client {
        let kc = kube::config::Kubeconfig::from_yaml(&self.kubeconfig_yaml()).expect("kubeconfig");
        let config =
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .expect("kube config");
        kube::Client::try_from(config).expect("kube client")
    }

    /// The faults, changeable while the server runs.
    pub fn faults(&self) -> FaultsHandle {
        FaultsHandle(self.state.faults.clone())
    }

    /// Every request so far, in arrival order of completion.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.state.log.lock().unwrap().clone()
    }

    pub fn clear_requests(&self) {
        self.state.log.lock().unwrap().clear();
    }

    /// Requests whose path ends with `suffix` (e.g. "/pods").
    pub fn requests_to(&self, suffix: &str) -> Vec<RequestRecord> {
        self.requests().into_iter().filter(|r| r.path.ends_with(suffix)).collect()
    }

    /// Number of non-dry-run writes received (including ones that failed).
    pub fn writes(&self) -> u64 {
        self.state.counters.lock().unwrap().writes
    }

    /// The cluster-wide resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.state.store.read().unwrap().rv
    }

    /// Labels of a stored namespace.
    pub fn namespace_labels(&self, name: &str) -> Option<BTreeMap<String, String>> {
        self.object("v1", "namespaces", None, name).map(|o| patch::string_map(&o, "labels"))
    }

    /// A stored object (e.g. `object("v1", "pods", Some("ns"), "p")`).
    pub fn object(
        &self,
        api_version: &str,
        plural: &str,
        ns: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let (g, v) = api_version.split_once('/').unwrap_or(("", api_version));
        let store = self.state.store.read().unwrap();
        let c = &store.collections[store.find(g, v, plural)?];
        c.items.get(&(ns.unwrap_or_default().to_owned(), name.to_owned())).map(Obj::value)
    }

    /// Names (`ns/name` or `name`) of the stored objects of a resource, in list order.
    pub fn names(&self, api_version: &str, plural: &str) -> Vec<String> {
        let (g, v) = api_version.split_once('/').unwrap_or(("", api_version));
        let store = self.state.store.read().unwrap();
        let Some(i) = store.find(g, v, plural) else { return Vec::new() };
        store.collections[i]
            .items
            .keys()
            .map(|(ns, n)| if ns.is_empty() { n.clone() } else { format!("{ns}/{n}") })
            .collect()
    }

    /// Adds or replaces an object (normalized like loaded ones; bumps the resourceVersion).
    pub fn insert(&self, obj: Value) -> Result<(), String> {
        server::insert_object(&self.state, obj)
    }

    /// Stops the server and waits for its thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for FakeApiHandle {
    fn drop(&mut self) {
        self.stop();
    }
}
