//! The HTTP side: connection handling (plain or TLS), routing, discovery, lists, reads, writes,
//! API `Status` errors, warnings and fault injection.

use std::collections::{BTreeMap, HashSet};
use std::net::TcpListener as StdListener;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio_rustls::TlsAcceptor;

use super::patch::{self, FieldError};
use super::psa::{self, Decision, PodDoc};
use super::selector::{parse_field_selector, parse_label_selector};
use super::store::{self, ListQuery, Obj, ResourceDef, Store};
use super::table::{self, Include};
use super::util::{b64_decode, b64url_encode, go_quote, now_secs, parse_query, path_decode};
use super::{ContinueExpiry, CrashMode, RequestRecord, State};

const PSP_WARNING: &str =
    "policy/v1beta1 PodSecurityPolicy is deprecated in v1.21+, unavailable in v1.25+";
const EXPIRED_MESSAGE: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.";

pub(super) async fn serve(
    listener: StdListener,
    state: Arc<State>,
    acceptor: Option<TlsAcceptor>,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let Ok((tcp, _)) = accepted else { continue };
                let _ = tcp.set_nodelay(true);
                let state = state.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match acceptor {
                        None => serve_conn(TokioIo::new(tcp), state, false).await,
                        Some(a) => {
                            let Ok(tls) = a.accept(tcp).await else { return };
                            let cert = tls.get_ref().1.peer_certificates().is_some_and(|c| !c.is_empty());
                            serve_conn(TokioIo::new(tls), state, cert).await;
                        }
                    }
                });
            }
        }
    }
}

async fn serve_conn<I>(io: I, state: Arc<State>, cert: bool)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let svc = service_fn(move |req| {
        let state = state.clone();
        async move { handle(state, req, cert).await }
    });
    let _ = http1::Builder::new().keep_alive(true).serve_connection(io, svc).await;
}

/// Returned to hyper to close the connection without an answer.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

/// A buffered request.
struct Req {
    method: String,
    path: String,
    query: String,
    params: Vec<(String, String)>,
    content_type: Option<String>,
    accept: Option<String>,
    user_agent: Option<String>,
    authorization: Option<String>,
    body: Bytes,
    cert: bool,
}

impl Req {
    fn param(&self, k: &str) -> Option<&str> {
        self.params.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
    }
    fn params_all(&self, k: &str) -> Vec<&str> {
        self.params.iter().filter(|(key, _)| key == k).map(|(_, v)| v.as_str()).collect()
    }
    /// `dryRun=All` in the query, or (for a DELETE) `"dryRun": ["All"]` in its DeleteOptions
    /// body, as a real API server accepts either.
    fn dry_run(&self) -> bool {
        if self.params_all("dryRun").contains(&"All") {
            return true;
        }
        self.method == "DELETE"
            && serde_json::from_slice::<Value>(&self.body).ok().is_some_and(|v| {
                v.get("dryRun")
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|d| d.as_str() == Some("All")))
            })
    }
    /// The field manager of a non-apply write: the parameter, else the user agent's prefix.
    fn update_manager(&self) -> String {
        if let Some(m) = self.param("fieldManager").filter(|m| !m.is_empty()) {
            return m.to_owned();
        }
        let ua = self.user_agent.as_deref().unwrap_or("unknown");
        ua.split('/').next().unwrap_or(ua).to_owned()
    }
}

/// An answer before it becomes an HTTP response.
struct Reply {
    status: u16,
    body: Vec<u8>,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    warnings: Vec<String>,
    drop: bool,
}

impl Reply {
    fn json(status: u16, body: Vec<u8>) -> Reply {
        Reply {
            status,
            body,
            content_type: "application/json",
            headers: Vec::new(),
            warnings: Vec::new(),
            drop: false,
        }
    }
    fn value(status: u16, v: &Value) -> Reply {
        Reply::json(status, serde_json::to_vec(v).expect("serialize"))
    }
    fn with_warnings(mut self, w: Vec<String>) -> Reply {
        self.warnings.extend(w);
        self
    }
}

/// A failure `Status`.
fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Reply {
    let mut m = Map::new();
    m.insert("kind".into(), "Status".into());
    m.insert("apiVersion".into(), "v1".into());
    m.insert("metadata".into(), json!({}));
    m.insert("status".into(), "Failure".into());
    m.insert("message".into(), message.into());
    m.insert("reason".into(), reason.into());
    if let Some(d) = details {
        m.insert("details".into(), d);
    }
    m.insert("code".into(), code.into());
    Reply::value(code, &Value::Object(m))
}

fn details(def: &ResourceDef, name: &str) -> Value {
    let mut d = Map::new();
    if !name.is_empty() {
        d.insert("name".into(), name.into());
    }
    if !def.group.is_empty() {
        d.insert("group".into(), def.group.clone().into());
    }
    d.insert("kind".into(), def.plural.clone().into());
    Value::Object(d)
}

fn not_found(def: &ResourceDef, name: &str) -> Reply {
    status(
        404,
        "NotFound",
        &format!("{} {} not found", def.group_resource(), go_quote(name)),
        Some(details(def, name)),
    )
}

fn conflict(def: &ResourceDef, name: &str) -> Reply {
    status(
        409,
        "Conflict",
        &format!(
            "Operation cannot be fulfilled on {} {}: the object has been modified; please apply your changes to the latest version and try again",
            def.group_resource(),
            go_quote(name)
        ),
        Some(details(def, name)),
    )
}

fn bad_request(msg: &str) -> Reply {
    status(400, "BadRequest", msg, None)
}

fn unknown_path() -> Reply {
    status(404, "NotFound", "the server could not find the requested resource", Some(json!({})))
}

/// `field.ErrorList.ToAggregate()` text.
fn aggregate(msgs: Vec<String>) -> String {
    let mut seen = HashSet::new();
    let uniq: Vec<String> = msgs.into_iter().filter(|m| seen.insert(m.clone())).collect();
    if uniq.len() == 1 { uniq[0].clone() } else { format!("[{}]", uniq.join(", ")) }
}

/// `apierrors.NewInvalid`.
fn invalid(group: &str, kind: &str, name: &str, errs: &[FieldError]) -> Reply {
    let qualified = if group.is_empty() { kind.to_owned() } else { format!("{kind}.{group}") };
    let msg = format!(
        "{qualified} {} is invalid: {}",
        go_quote(name),
        aggregate(errs.iter().map(FieldError::message).collect())
    );
    let causes: Vec<Value> = errs
        .iter()
        .map(|e| json!({"reason": "FieldValueInvalid", "message": e.body(), "field": e.field}))
        .collect();
    let mut d = Map::new();
    d.insert("name".into(), name.into());
    if !group.is_empty() {
        d.insert("group".into(), group.into());
    }
    d.insert("kind".into(), kind.into());
    d.insert("causes".into(), causes.into());
    status(422, "Invalid", &msg, Some(Value::Object(d)))
}

fn options_invalid(kind: &str, field: &str, reason: &str, body: &str) -> Reply {
    status(
        422,
        "Invalid",
        &format!("{kind}.meta.k8s.io \"\" is invalid: {field}: {body}"),
        Some(
            json!({"group": "meta.k8s.io", "kind": kind, "causes": [{"reason": reason, "message": body, "field": field}]}),
        ),
    )
}

/// `Warning` header values for texts, deduplicated and truncated like the API server's recorder
/// (4096 runes in total; beyond that every message is cut to 256 runes).
pub fn warning_headers(texts: &[String]) -> Vec<(String, String)> {
    const TOTAL: usize = 4 * 1024;
    const ITEM: usize = 256;
    fn header(text: &str) -> Option<String> {
        if text.chars().any(char::is_control) {
            return None;
        }
        Some(format!("299 - \"{}\"", text.replace('\\', "\\\\").replace('"', "\\\"")))
    }
    fn cut(text: &str) -> (String, usize) {
        let n = text.chars().count();
        if n > ITEM { (text.chars().take(ITEM).collect(), ITEM) } else { (text.to_owned(), n) }
    }
    let mut recorded = HashSet::new();
    let mut ordered: Vec<&str> = Vec::new();
    let mut out: Vec<(String, String)> = Vec::new();
    let mut written = 0;
    let mut truncating = false;
    for text in texts {
        if text.is_empty() || (written >= TOTAL && truncating) {
            continue;
        }
        if !recorded.insert(text.as_str()) {
            continue;
        }
        ordered.push(text);
        let (t, n) = if truncating { cut(text) } else { (text.clone(), text.chars().count()) };
        let Some(h) = header(&t) else { continue };
        if written + n <= TOTAL || truncating {
            written += n;
            out.push((t, h));
            continue;
        }
        truncating = true;
        written = 0;
        out.clear();
        for w in &ordered {
            let (t, n) = cut(w);
            if let Some(h) = header(&t) {
                written += n;
                out.push((t, h));
            }
        }
    }
    out
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
    cert: bool,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let header = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let query = parts.uri.query().unwrap_or("").to_owned();
    let req = Req {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        params: parse_query(&query),
        query,
        content_type: header("content-type"),
        accept: header("accept"),
        user_agent: header("user-agent"),
        authorization: header("authorization"),
        body,
        cert,
    };
    let latency = state.faults.lock().unwrap().faults.latency_ms;
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let reply = dispatch(&state, &req);
    let warnings = warning_headers(&reply.warnings);
    state.log.lock().unwrap().push(RequestRecord {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        params: req.params.clone(),
        content_type: req.content_type.clone(),
        accept: req.accept.clone(),
        user_agent: req.user_agent.clone(),
        dry_run: req.dry_run(),
        body: String::from_utf8_lossy(&req.body).into_owned(),
        status: if reply.drop { 0 } else { reply.status },
        warnings: warnings.iter().map(|(t, _)| t.clone()).collect(),
    });
    if reply.drop {
        return Err(Dropped);
    }
    let mut resp =
        Response::builder().status(reply.status).header("content-type", reply.content_type);
    resp = resp.header("cache-control", "no-cache, private");
    for (k, v) in &reply.headers {
        resp = resp.header(*k, v.as_str());
    }
    for (_, h) in &warnings {
        resp = resp.header("warning", h.as_str());
    }
    Ok(resp.body(Full::new(Bytes::from(reply.body))).expect("response"))
}

/// Where a request goes.
enum Route {
    Version,
    Api,
    Apis,
    Group(String),
    GroupVersion(String, String),
    Resource(Box<Target>),
    OpenApi,
    OpenApiV3Root,
    OpenApiV3(String, String),
    Health,
    NotFound,
}

struct Target {
    idx: usize,
    def: ResourceDef,
    ns: Option<String>,
    name: Option<String>,
    sub: Option<String>,
}

fn route(store: &Store, path: &str) -> Route {
    let segs: Vec<String> =
        path.trim_end_matches('/').split('/').skip(1).map(path_decode).collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    match s.as_slice() {
        ["healthz" | "livez" | "readyz", ..] => Route::Health,
        ["version"] => Route::Version,
        ["api"] => Route::Api,
        ["api", "v1"] => Route::GroupVersion(String::new(), "v1".into()),
        ["api", "v1", rest @ ..] => resource_route(store, "", "v1", rest),
        ["apis"] => Route::Apis,
        ["apis", g] => Route::Group((*g).to_owned()),
        ["apis", g, v] => Route::GroupVersion((*g).to_owned(), (*v).to_owned()),
        ["apis", g, v, rest @ ..] => resource_route(store, g, v, rest),
        ["openapi", "v3"] => Route::OpenApiV3Root,
        ["openapi", "v3", "api", "v1"] => Route::OpenApiV3(String::new(), "v1".into()),
        ["openapi", "v3", "apis", g, v] => Route::OpenApiV3((*g).to_owned(), (*v).to_owned()),
        ["openapi", ..] => Route::OpenApi,
        _ => Route::NotFound,
    }
}

fn resource_route(store: &Store, g: &str, v: &str, rest: &[&str]) -> Route {
    let find = |plural: &str| store.find(g, v, plural);
    let target = |idx: usize, ns: Option<&str>, tail: &[&str]| {
        let def = store.collections[idx].def.clone();
        if def.namespaced != ns.is_some() && !(ns.is_none() && tail.is_empty()) {
            return Route::NotFound;
        }
        Route::Resource(Box::new(Target {
            idx,
            def,
            ns: ns.map(str::to_owned),
            name: tail.first().map(|s| s.to_string()),
            sub: tail.get(1).map(|s| s.to_string()),
        }))
    };
    match rest {
        ["namespaces", ns, plural, tail @ ..]
            if tail.len() <= 2
                && find(plural).is_some_and(|i| store.collections[i].def.namespaced) =>
        {
            target(find(plural).expect("found"), Some(ns), tail)
        }
        [plural, tail @ ..] if tail.len() <= 2 => match find(plural) {
            Some(i) => target(i, None, tail),
            None => Route::NotFound,
        },
        _ => Route::NotFound,
    }
}

fn dispatch(state: &State, req: &Req) -> Reply {
    let n = {
        let mut c = state.counters.lock().unwrap();
        c.requests += 1;
        c.requests
    };
    let route = {
        let store = state.store.read().unwrap();
        route(&store, &req.path)
    };
    if matches!(route, Route::Health) {
        return Reply {
            content_type: "text/plain; charset=utf-8",
            ..Reply::json(200, b"ok".to_vec())
        };
    }
    if let Some(tok) = &state.token {
        let expected = format!("Bearer {tok}");
        if !req.cert && req.authorization.as_deref() != Some(expected.as_str()) {
            return status(401, "Unauthorized", "Unauthorized", None);
        }
    }
    let plural = match &route {
        Route::Resource(t) => Some(t.def.plural.as_str()),
        _ => None,
    };
    let (faults, counted) = {
        let mut cell = state.faults.lock().unwrap();
        let f = &cell.faults;
        let counts =
            n > f.skip_first && f.only_resource.as_deref().is_none_or(|r| Some(r) == plural);
        if counts {
            cell.counted += 1;
        }
        (cell.faults.clone(), counts.then_some(cell.counted))
    };
    if let Some(c) = counted {
        if faults.throttle_every > 0 && c % faults.throttle_every == 0 {
            let mut r = status(
                429,
                "TooManyRequests",
                "Too many requests, please try again later.",
                Some(json!({"retryAfterSeconds": faults.retry_after_secs})),
            );
            r.headers.push(("retry-after", faults.retry_after_secs.to_string()));
            return r;
        }
        if faults.error_every > 0 && c % faults.error_every == 0 {
            return status(
                500,
                "InternalError",
                "Internal error occurred: fake apiserver: injected internal error",
                Some(json!({"causes": [{"message": "fake apiserver: injected internal error"}]})),
            );
        }
    }
    match route {
        Route::Health => unreachable!(),
        Route::Version => Reply::value(200, &state.version_json),
        Route::Api => {
            let addr = state.addr.lock().unwrap().map(|a| a.to_string()).unwrap_or_default();
            Reply::value(
                200,
                &json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": addr}]}),
            )
        }
        Route::Apis => Reply::value(200, &api_group_list(&state.store.read().unwrap())),
        Route::Group(g) => match api_group(&state.store.read().unwrap(), &g) {
            Some(v) => Reply::value(200, &v),
            None => unknown_path(),
        },
        Route::GroupVersion(g, v) => {
            let store = state.store.read().unwrap();
            let defs: Vec<&ResourceDef> = store
                .collections
                .iter()
                .map(|c| &c.def)
                .filter(|d| d.group == g && d.version == v)
                .collect();
            if defs.is_empty() {
                return unknown_path();
            }
            let gv = if g.is_empty() { v.clone() } else { format!("{g}/{v}") };
            let mut resources: Vec<Value> = defs.iter().map(|d| d.discovery_json()).collect();
            resources.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
            Reply::value(
                200,
                &json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
            )
        }
        Route::OpenApiV3Root => Reply::value(200, &openapi_v3_root(&state.store.read().unwrap())),
        Route::OpenApiV3(g, v) => {
            match openapi_v3_gv(&state.store.read().unwrap(), &g, &v, &state.version_json) {
                Some(doc) => Reply::value(200, &doc),
                None => unknown_path(),
            }
        }
        Route::OpenApi | Route::NotFound => unknown_path(),
        Route::Resource(t) => resource(state, req, *t, &faults),
    }
}

fn groups(store: &Store) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in &store.collections {
        if c.def.group.is_empty() {
            continue;
        }
        let versions = m.entry(c.def.group.clone()).or_default();
        if !versions.contains(&c.def.version) {
            versions.push(c.def.version.clone());
        }
    }
    // Preferred (GA) versions first.
    for v in m.values_mut() {
        v.sort_by_key(|x| (x.contains("alpha"), x.contains("beta"), std::cmp::Reverse(x.clone())));
    }
    m
}

fn group_json(g: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
        .collect();
    json!({"name": g, "versions": vs, "preferredVersion": vs[0].clone()})
}

fn api_group_list(store: &Store) -> Value {
    let groups: Vec<Value> = groups(store).iter().map(|(g, v)| group_json(g, v)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn api_group(store: &Store, g: &str) -> Option<Value> {
    let groups = groups(store);
    let v = groups.get(g)?;
    let mut j = group_json(g, v);
    j["kind"] = "APIGroup".into();
    j["apiVersion"] = "v1".into();
    Some(j)
}

/// `/openapi/v3`: one entry per served group version.
fn openapi_v3_root(store: &Store) -> Value {
    let mut paths = Map::new();
    for c in &store.collections {
        let d = &c.def;
        let key = if d.group.is_empty() {
            format!("api/{}", d.version)
        } else {
            format!("apis/{}/{}", d.group, d.version)
        };
        let hash = super::util::uid_for(&key).replace('-', "").to_ascii_uppercase();
        paths.insert(
            key.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={hash}")}),
        );
    }
    json!({"paths": paths})
}

/// A minimal OpenAPI v3 document for a group version: the object paths with their PATCH operation
/// (GVK extension) and query parameters, which is what kubectl checks before it relies on
/// server-side field validation. Schemas are not described.
fn openapi_v3_gv(store: &Store, g: &str, v: &str, version: &Value) -> Option<Value> {
    let defs: Vec<&ResourceDef> = store
        .collections
        .iter()
        .map(|c| &c.def)
        .filter(|d| d.group == g && d.version == v)
        .collect();
    if defs.is_empty() {
        return None;
    }
    let prefix = if g.is_empty() { format!("/api/{v}") } else { format!("/apis/{g}/{v}") };
    let q = |name: &&str| json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}});
    let mut paths = Map::new();
    for d in defs {
        let path = if d.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", d.plural)
        } else {
            format!("{prefix}/{}/{{name}}", d.plural)
        };
        let gvk = json!({"group": d.group, "version": d.version, "kind": d.kind});
        // Query parameters belong to the operation (kubectl looks there).
        let op = |verb: &str, action: &str, query: &[&str]| {
            json!({
                "operationId": format!("{verb}{}", d.kind),
                "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": gvk,
                "parameters": query.iter().map(q).collect::<Vec<_>>(),
                "responses": {"200": {"description": "OK"}}
            })
        };
        let mut params = vec![
            json!({"name": "name", "in": "path", "required": true, "schema": {"type": "string", "uniqueItems": true}}),
        ];
        if d.namespaced {
            params.push(json!({"name": "namespace", "in": "path", "required": true, "schema": {"type": "string", "uniqueItems": true}}));
        }
        let write = ["dryRun", "fieldManager", "fieldValidation"];
        paths.insert(
            path,
            json!({
                "get": op("read", "get", &[]),
                "put": op("replace", "put", &write),
                "patch": op("patch", "patch", &["dryRun", "fieldManager", "fieldValidation", "force"]),
                "delete": op("delete", "delete", &["dryRun"]),
                "parameters": params,
            }),
        );
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": version["gitVersion"].clone()},
        "paths": paths,
        "components": {"schemas": {}}
    }))
}

/// What the client asked the body to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Plain,
    Table(&'static str),
    Metadata(&'static str),
}

fn negotiate(accept: Option<&str>) -> Format {
    let Some(accept) = accept else { return Format::Plain };
    for entry in accept.split(',') {
        let mut parts = entry.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default();
        if !matches!(media, "application/json" | "*/*" | "application/*") {
            continue;
        }
        let params: BTreeMap<&str, &str> = parts.filter_map(|p| p.split_once('=')).collect();
        let version = if params.get("v") == Some(&"v1beta1") { "v1beta1" } else { "v1" };
        match params.get("as").copied() {
            None => return Format::Plain,
            Some("Table") if params.get("g") == Some(&"meta.k8s.io") => {
                return Format::Table(version);
            }
            Some("PartialObjectMetadataList" | "PartialObjectMetadata")
                if params.get("g") == Some(&"meta.k8s.io") =>
            {
                return Format::Metadata(version);
            }
            _ => continue,
        }
    }
    Format::Plain
}

fn forbidden(
    state: &State,
    def: &ResourceDef,
    verb: &str,
    ns: Option<&str>,
    name: Option<&str>,
) -> Reply {
    let scope = match ns {
        Some(ns) => format!("in the namespace {}", go_quote(ns)),
        None => "at the cluster scope".to_owned(),
    };
    let subject = match name {
        Some(n) => format!("{} {}", def.group_resource(), go_quote(n)),
        None => def.group_resource(),
    };
    let msg = format!(
        "{subject} is forbidden: User {} cannot {verb} resource {} in API group {} {scope}",
        go_quote(&state.user),
        go_quote(&def.plural),
        go_quote(&def.group)
    );
    status(403, "Forbidden", &msg, Some(details(def, name.unwrap_or_default())))
}

fn resource(state: &State, req: &Req, t: Target, faults: &super::Faults) -> Reply {
    let watch = req.param("watch").is_some_and(|w| w == "true" || w == "1");
    let verb = match (req.method.as_str(), t.name.is_some()) {
        ("GET", false) if watch => "watch",
        ("GET", false) => "list",
        ("GET", true) => "get",
        ("PATCH", true) => "patch",
        ("PUT", true) => "update",
        ("POST", false) => "create",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => {
            return status(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
                Some(json!({})),
            );
        }
    };
    let is_secret = t.def.group.is_empty() && t.def.plural == "secrets";
    if is_secret || faults.forbidden.contains(&t.def.plural) {
        return forbidden(state, &t.def, verb, t.ns.as_deref(), t.name.as_deref());
    }
    let mut warnings = Vec::new();
    if t.def.kind == "PodSecurityPolicy" && t.def.version == "v1beta1" {
        warnings.push(PSP_WARNING.to_owned());
    }
    let write = matches!(verb, "patch" | "update" | "create" | "delete" | "deletecollection");
    if write && !req.dry_run() {
        let writes = {
            let mut c = state.counters.lock().unwrap();
            c.writes += 1;
            c.writes
        };
        if faults.writes_before_crash.is_some_and(|n| writes > n) {
            return match faults.crash {
                CrashMode::DropConnection => Reply { drop: true, ..Reply::json(0, Vec::new()) },
                CrashMode::ServiceUnavailable => status(
                    503,
                    "ServiceUnavailable",
                    "the server is currently unable to handle the request",
                    Some(json!({})),
                ),
            }
            .with_warnings(warnings);
        }
    }
    if t.sub.is_some() && verb != "get" && verb != "patch" && verb != "update" {
        return unknown_path();
    }
    let reply = match verb {
        "watch" => status(
            405,
            "MethodNotAllowed",
            "watch is not supported by the fake API server",
            Some(json!({})),
        ),
        "list" => list(state, req, &t, faults),
        "get" => get(state, req, &t),
        "patch" | "update" | "create" => write_object(state, req, &t, verb),
        "delete" => delete(state, req, &t),
        _ => status(
            405,
            "MethodNotAllowed",
            "deletecollection is not supported by the fake API server",
            Some(json!({})),
        ),
    };
    reply.with_warnings(warnings)
}

#[derive(Deserialize)]
struct Token {
    #[serde(default)]
    rv: u64,
    #[serde(default)]
    start: String,
}

fn encode_token(rv: u64, key: &(String, String), namespaced: bool) -> String {
    let start =
        if namespaced { format!("{}/{}\u{0}", key.0, key.1) } else { format!("{}\u{0}", key.1) };
    let j = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": start});
    b64url_encode(j.to_string().as_bytes())
}

fn decode_token(tok: &str, namespaced: bool) -> Result<(u64, (String, String)), String> {
    let bytes = b64_decode(tok).ok_or("continue key is not valid: illegal base64 data")?;
    let t: Token =
        serde_json::from_slice(&bytes).map_err(|e| format!("continue key is not valid: {e}"))?;
    let start = t.start.trim_end_matches('\u{0}');
    let key = if namespaced {
        let (ns, name) = start.split_once('/').ok_or("continue key is not valid: bad start key")?;
        (ns.to_owned(), name.to_owned())
    } else {
        (String::new(), start.to_owned())
    };
    Ok((t.rv, key))
}

fn list(state: &State, req: &Req, t: &Target, faults: &super::Faults) -> Reply {
    let def = &t.def;
    let limit = req.param("limit").and_then(|l| l.parse::<i64>().ok()).unwrap_or(0).max(0) as usize;
    let labels = match req.param("labelSelector").map(parse_label_selector).transpose() {
        Ok(l) => l.unwrap_or_default(),
        Err(e) => return bad_request(&e),
    };
    let fields = match req.param("fieldSelector").map(parse_field_selector).transpose() {
        Ok(f) => f.unwrap_or_default(),
        Err(e) => return bad_request(&e),
    };
    for f in &fields {
        let ok = f.field == "metadata.name"
            || f.field == "metadata.namespace"
            || def.extra_selectable_fields().contains(&f.field.as_str());
        if !ok {
            return bad_request(&format!("field label not supported: {}", f.field));
        }
    }
    let cont = req.param("continue").filter(|c| !c.is_empty());
    // `resourceVersion=0` is served from the watch cache, which ignores `limit` (the pagination
    // pitfall clients must avoid).
    let limit = if req.param("resourceVersion") == Some("0") && cont.is_none() { 0 } else { limit };
    let mut start_after = None;
    let mut token_rv = None;
    if let Some(c) = cont {
        let expire = faults.expire_continue != ContinueExpiry::Never
            && faults.expire_resource.as_deref().is_none_or(|r| r == def.plural);
        if expire {
            if faults.expire_continue == ContinueExpiry::Once {
                state.faults.lock().unwrap().faults.expire_continue = ContinueExpiry::Never;
            }
            return status(410, "Expired", EXPIRED_MESSAGE, None);
        }
        match decode_token(c, def.namespaced) {
            Ok((rv, key)) => {
                token_rv = Some(rv);
                start_after = Some(key);
            }
            Err(e) => return bad_request(&e),
        }
    }
    let q = ListQuery { namespace: t.ns.clone(), labels, fields, limit, start_after };
    let store = state.store.read().unwrap();
    let page = store.collections[t.idx].list(&q);
    let rv = token_rv.unwrap_or(store.rv);
    let mut meta = Map::new();
    meta.insert("resourceVersion".into(), rv.to_string().into());
    if let Some(k) = &page.next {
        meta.insert("continue".into(), encode_token(rv, k, def.namespaced).into());
    }
    if let Some(r) = page.remaining {
        meta.insert("remainingItemCount".into(), r.into());
    }
    match negotiate(req.accept.as_deref()) {
        Format::Table(v) => {
            let include = Include::from_param(req.param("includeObject"));
            Reply::json(
                200,
                table::render(def, &page.items, Value::Object(meta), v, include, now_secs()),
            )
        }
        Format::Metadata(v) => {
            let items: Vec<Value> =
                page.items.iter().map(|o| table::partial_metadata(&o.value(), v)).collect();
            Reply::value(
                200,
                &json!({"kind": "PartialObjectMetadataList", "apiVersion": format!("meta.k8s.io/{v}"), "metadata": meta, "items": items}),
            )
        }
        Format::Plain => {
            let mut out = Vec::with_capacity(
                page.items.iter().map(|o| o.bytes.len() + 1).sum::<usize>() + 256,
            );
            out.extend_from_slice(b"{\"kind\":");
            serde_json::to_writer(&mut out, &format!("{}List", def.kind)).expect("serialize");
            out.extend_from_slice(b",\"apiVersion\":");
            serde_json::to_writer(&mut out, &def.api_version()).expect("serialize");
            out.extend_from_slice(b",\"metadata\":");
            serde_json::to_writer(&mut out, &meta).expect("serialize");
            out.extend_from_slice(b",\"items\":[");
            for (i, o) in page.items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                o.write_to(&mut out, state.list_items_type_meta);
            }
            out.extend_from_slice(b"]}");
            Reply::json(200, out)
        }
    }
}

fn get(state: &State, req: &Req, t: &Target) -> Reply {
    let name = t.name.as_deref().unwrap_or_default();
    let store = state.store.read().unwrap();
    let key = (t.ns.clone().unwrap_or_default(), name.to_owned());
    let Some(obj) = store.collections[t.idx].items.get(&key) else {
        return not_found(&t.def, name);
    };
    if t.sub.as_deref().is_some_and(|s| s != "status") {
        return unknown_path();
    }
    match negotiate(req.accept.as_deref()) {
        Format::Table(v) => {
            let include = Include::from_param(req.param("includeObject"));
            let meta = json!({"resourceVersion": obj.rv});
            Reply::json(200, table::render(&t.def, &[obj], meta, v, include, now_secs()))
        }
        Format::Metadata(v) => Reply::value(200, &table::partial_metadata(&obj.value(), v)),
        Format::Plain => Reply::json(200, obj.bytes.to_vec()),
    }
}

/// Patch types a PATCH may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PatchType {
    Json,
    Merge,
    Strategic,
    Apply,
}

fn patch_type(ct: Option<&str>) -> Option<PatchType> {
    let media = ct?.split(';').next()?.trim();
    match media {
        "application/json-patch+json" => Some(PatchType::Json),
        "application/merge-patch+json" => Some(PatchType::Merge),
        "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
        "application/apply-patch+yaml" | "application/apply-patch+cbor" => Some(PatchType::Apply),
        _ => None,
    }
}

fn parse_body(req: &Req, yaml: bool) -> Result<Value, Reply> {
    if let Ok(v) = serde_json::from_slice::<Value>(&req.body) {
        return Ok(v);
    }
    if yaml {
        let text = String::from_utf8_lossy(&req.body);
        if let Ok(v) = serde_saphyr::from_str::<Value>(&text) {
            return Ok(v);
        }
    }
    Err(bad_request("the object provided is unrecognized (must be of type Patch)"))
}

fn str_at<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or_default()
}

/// Removes `managedFields[*].time` so no-op writes can be detected.
fn without_times(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(a) = v.pointer_mut("/metadata/managedFields").and_then(Value::as_array_mut) {
        for e in a {
            if let Some(m) = e.as_object_mut() {
                m.remove("time");
            }
        }
    }
    v
}

/// Restores what a write may not change and re-applies server defaults.
fn restore_server_fields(def: &ResourceDef, current: &Value, new: &mut Value, minor: u32) {
    if !new.is_object() {
        *new = Value::Object(Map::new());
    }
    new["apiVersion"] = def.api_version().into();
    new["kind"] = def.kind.clone().into();
    if !new["metadata"].is_object() {
        new["metadata"] = Value::Object(Map::new());
    }
    for k in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "resourceVersion",
        "generation",
        "deletionTimestamp",
    ] {
        match current["metadata"].get(k) {
            Some(v) => new["metadata"][k] = v.clone(),
            None => {
                if let Some(m) = new["metadata"].as_object_mut() {
                    m.remove(k);
                }
            }
        }
    }
    let is_namespace = def.group.is_empty() && def.kind == "Namespace";
    let keep: &[&str] = if is_namespace { &["status", "spec"] } else { &["status"] };
    for k in keep {
        match current.get(*k) {
            Some(v) => new[*k] = v.clone(),
            None => {
                if let Some(m) = new.as_object_mut() {
                    m.remove(*k);
                }
            }
        }
    }
    if is_namespace && minor >= 21 {
        let name = str_at(current, "/metadata/name").to_owned();
        let mut labels = patch::string_map(new, "labels");
        labels.insert("kubernetes.io/metadata.name".into(), name);
        patch::set_string_map(new, "labels", &labels);
    }
}

fn namespace_pods(store: &Store, ns: &str) -> Vec<PodDoc> {
    let Some(i) = store.find("", "v1", "pods") else { return Vec::new() };
    let q = ListQuery { namespace: Some(ns.to_owned()), ..ListQuery::default() };
    store.collections[i]
        .list(&q)
        .items
        .iter()
        .filter_map(|o| serde_json::from_slice::<PodDoc>(&o.bytes).ok())
        .collect()
}

/// PodSecurity admission for a namespace write: `Err` is the 422 to answer.
fn admit_namespace(
    state: &State,
    store: &Store,
    current: Option<&Value>,
    new: &Value,
) -> Result<Vec<String>, Reply> {
    if !state.psa_enabled {
        return Ok(Vec::new());
    }
    let name = str_at(new, "/metadata/name").to_owned();
    let new_labels = patch::string_map(new, "labels");
    let decision = match current {
        None => state.psa.validate_create(&name, &new_labels),
        Some(cur) => {
            let old_labels = patch::string_map(cur, "labels");
            state.psa.validate_update(&name, &old_labels, &new_labels, state.minor, || {
                namespace_pods(store, &name)
            })
        }
    };
    match decision {
        Decision::Allowed(w) => Ok(w),
        Decision::Invalid(errs) => Err(invalid("", "Namespace", &name, &errs)),
    }
}

/// PodSecurity admission for a pod create: enforce (403) and warn.
fn admit_pod(state: &State, store: &Store, pod: &Value) -> Result<Vec<String>, Reply> {
    if !state.psa_enabled {
        return Ok(Vec::new());
    }
    let ns = str_at(pod, "/metadata/namespace");
    if state.psa.exempt_namespaces.iter().any(|e| e == ns) {
        return Ok(Vec::new());
    }
    let Some(ni) = store.find("", "v1", "namespaces") else { return Ok(Vec::new()) };
    let labels = store.collections[ni]
        .items
        .get(&(String::new(), ns.to_owned()))
        .map(|o| o.labels.iter().cloned().collect())
        .unwrap_or_default();
    let (policy, _) = psa::policy_to_evaluate(&labels, &state.psa.defaults);
    let Ok(doc) = serde_json::from_value::<PodDoc>(pod.clone()) else { return Ok(Vec::new()) };
    if doc
        .spec
        .runtime_class_name
        .as_deref()
        .is_some_and(|rc| state.psa.exempt_runtime_classes.iter().any(|e| e == rc))
    {
        return Ok(Vec::new());
    }
    let view =
        psa_migrate::pss::PodView { annotations: &doc.metadata.annotations, spec: &doc.spec };
    let eval = |lv: psa::LevelVersion| {
        let version = match lv.version {
            psa_migrate::model::level::Version::Latest if state.psa.latest_is_server_minor => {
                psa_migrate::model::level::Version::Minor(state.minor)
            }
            psa_migrate::model::level::Version::Minor(m) if state.psa.latest_is_server_minor => {
                psa_migrate::model::level::Version::Minor(m.min(state.minor))
            }
            v => v,
        };
        psa_migrate::pss::evaluate(lv.level, version, &view)
    };
    let enforce = eval(policy.enforce);
    let name = str_at(pod, "/metadata/name");
    if !enforce.is_empty() {
        let msg = format!(
            "pods {} is forbidden: violates PodSecurity {}: {}",
            go_quote(name),
            go_quote(&policy.enforce.text()),
            psa_migrate::pss::long_form(&enforce)
        );
        return Err(status(403, "Forbidden", &msg, Some(json!({"name": name, "kind": "pods"}))));
    }
    let warn = eval(policy.warn);
    if warn.is_empty() {
        Ok(Vec::new())
    } else {
        Ok(vec![format!(
            "would violate PodSecurity {}: {}",
            go_quote(&policy.warn.text()),
            psa_migrate::pss::long_form(&warn)
        )])
    }
}

fn write_object(state: &State, req: &Req, t: &Target, verb: &str) -> Reply {
    let def = &t.def;
    let options_kind = match verb {
        "patch" => "PatchOptions",
        "update" => "UpdateOptions",
        _ => "CreateOptions",
    };
    for d in req.params_all("dryRun") {
        if d != "All" {
            return options_invalid(
                options_kind,
                "dryRun",
                "FieldValueNotSupported",
                &format!("Unsupported value: {}: supported values: \"All\"", go_quote(d)),
            );
        }
    }
    let dry_run = req.dry_run();
    let ptype = if verb == "patch" {
        match patch_type(req.content_type.as_deref()) {
            Some(p) => Some(p),
            None => {
                return status(
                    415,
                    "UnsupportedMediaType",
                    &format!(
                        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml{}",
                        if def.group.is_empty()
                            || !def.group.contains('.')
                            || def.group.ends_with("k8s.io")
                        {
                            ", application/strategic-merge-patch+json"
                        } else {
                            ""
                        }
                    ),
                    Some(json!({})),
                );
            }
        }
    } else {
        None
    };
    let apply = ptype == Some(PatchType::Apply);
    let field_manager = req.param("fieldManager").unwrap_or_default().to_owned();
    if apply && field_manager.is_empty() {
        return options_invalid(
            "PatchOptions",
            "fieldManager",
            "FieldValueRequired",
            "Required value: is required for apply patch",
        );
    }
    let force = req.param("force").is_some_and(|f| f == "true");
    if !apply && req.param("force").is_some() {
        return options_invalid(
            options_kind,
            "force",
            "FieldValueForbidden",
            "Forbidden: may not be specified for non-apply patch",
        );
    }
    let body = match parse_body(req, apply) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let now = now_secs();
    let mut store = state.store.write().unwrap();
    let ns = t.ns.clone().unwrap_or_default();
    let url_name = t.name.clone().unwrap_or_default();
    let current: Option<Value> = if verb == "create" {
        None
    } else {
        store.collections[t.idx].items.get(&(ns.clone(), url_name.clone())).map(Obj::value)
    };
    let api_version = def.api_version();
    let manager = if apply { field_manager.clone() } else { req.update_manager() };

    // Compute the new object.
    let mut created = false;
    let mut new = match (verb, ptype, &current) {
        ("patch", Some(PatchType::Apply), cur) => {
            if body["apiVersion"].as_str() != Some(api_version.as_str()) {
                return bad_request(&format!(
                    "the API version in the data ({}) does not match the expected API version ({api_version})",
                    str_at(&body, "/apiVersion")
                ));
            }
            if body["kind"].as_str() != Some(def.kind.as_str()) {
                return bad_request(&format!(
                    "the kind in the data ({}) does not match the expected kind ({})",
                    str_at(&body, "/kind"),
                    def.kind
                ));
            }
            if str_at(&body, "/metadata/name") != url_name {
                return bad_request(&format!(
                    "the name of the object ({}) does not match the name on the URL ({url_name})",
                    str_at(&body, "/metadata/name")
                ));
            }
            let want_rv = str_at(&body, "/metadata/resourceVersion");
            if let Some(c) = cur
                && !want_rv.is_empty()
                && want_rv != str_at(c, "/metadata/resourceVersion")
            {
                return conflict(def, &url_name);
            }
            let mut live = match cur {
                Some(c) => c.clone(),
                None => {
                    created = true;
                    let mut m = json!({"apiVersion": api_version, "kind": def.kind, "metadata": {"name": url_name}});
                    if def.namespaced {
                        m["metadata"]["namespace"] = ns.clone().into();
                    }
                    m
                }
            };
            // Non-metadata fields merge like a merge patch; label/annotation ownership is tracked.
            let mut rest = body.clone();
            if let Some(m) = rest.as_object_mut() {
                m.remove("metadata");
                m.remove("status");
            }
            patch::merge_patch(&mut live, &rest, false);
            if let Err(conflicts) =
                patch::apply(&mut live, &body, &field_manager, &api_version, force, now)
            {
                let causes: Vec<Value> = conflicts
                    .iter()
                    .map(|(m, p)| json!({"reason": "FieldManagerConflict", "message": format!("conflict with {m}"), "field": p}))
                    .collect();
                return status(
                    409,
                    "Conflict",
                    &patch::conflict_message(&conflicts),
                    Some(json!({"causes": causes})),
                );
            }
            live
        }
        ("patch", Some(p), Some(cur)) => {
            let mut new = cur.clone();
            match p {
                PatchType::Json => {
                    if let Err(_e) = patch::json_patch(&mut new, &body) {
                        return status(
                            422,
                            "Invalid",
                            "the server rejected our request due to an error in our request",
                            Some(json!({})),
                        );
                    }
                }
                PatchType::Merge | PatchType::Strategic => {
                    if !body.is_object() {
                        return bad_request(
                            "the object provided is unrecognized (must be of type Patch)",
                        );
                    }
                    patch::merge_patch(&mut new, &body, p == PatchType::Strategic);
                }
                PatchType::Apply => unreachable!(),
            }
            let want_rv = str_at(&new, "/metadata/resourceVersion");
            if !want_rv.is_empty() && want_rv != str_at(cur, "/metadata/resourceVersion") {
                return conflict(def, &url_name);
            }
            let new_name = str_at(&new, "/metadata/name");
            if new_name != url_name {
                return bad_request(&format!(
                    "the name of the object ({new_name}) does not match the name on the URL ({url_name})"
                ));
            }
            new
        }
        ("update", _, Some(cur)) => {
            let new = body.clone();
            let new_name = str_at(&new, "/metadata/name");
            if new_name != url_name {
                return bad_request(&format!(
                    "the name of the object ({new_name}) does not match the name on the URL ({url_name})"
                ));
            }
            let want_rv = str_at(&new, "/metadata/resourceVersion");
            if !want_rv.is_empty() && want_rv != str_at(cur, "/metadata/resourceVersion") {
                return conflict(def, &url_name);
            }
            new
        }
        ("create", _, _) => {
            let mut new = body.clone();
            if !new.is_object() {
                return bad_request("the object provided is unrecognized");
            }
            if def.namespaced {
                let body_ns = str_at(&new, "/metadata/namespace");
                if !body_ns.is_empty() && body_ns != ns {
                    return bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    );
                }
            }
            let mut name = str_at(&new, "/metadata/name").to_owned();
            if name.is_empty() {
                let gen_name = str_at(&new, "/metadata/generateName").to_owned();
                if gen_name.is_empty() {
                    return invalid(
                        &def.group,
                        &def.kind,
                        "",
                        &[FieldError {
                            field: "metadata.name".into(),
                            value: String::new(),
                            detail: "name or generateName is required".into(),
                        }],
                    );
                }
                let suffix = super::util::uid_for(&format!("{gen_name}{}", store.rv));
                name = format!("{gen_name}{}", &suffix[..5]);
            }
            if store.collections[t.idx].items.contains_key(&(ns.clone(), name.clone())) {
                return status(
                    409,
                    "AlreadyExists",
                    &format!("{} {} already exists", def.group_resource(), go_quote(&name)),
                    Some(details(def, &name)),
                );
            }
            new["metadata"]["name"] = name.into();
            created = true;
            new
        }
        (_, _, None) => return not_found(def, &url_name),
        _ => return bad_request("unsupported request"),
    };

    if def.namespaced && created {
        let exists = store.namespace_names().contains(&ns);
        if !exists {
            let ns_def = ResourceDef::new("v1", "namespaces", "Namespace", false, &[]);
            return not_found(&ns_def, &ns);
        }
    }

    // Server-owned fields and defaults.
    let minor = state.minor;
    if created {
        if let Some(m) = new["metadata"].as_object_mut() {
            for k in ["uid", "resourceVersion", "creationTimestamp"] {
                m.remove(k);
            }
        }
        if def.namespaced {
            new["metadata"]["namespace"] = ns.clone().into();
        }
        let mut next = || if dry_run { 0 } else { store.rv + 1 };
        if let Err(e) = store::normalize(def, &mut new, &mut next, now, minor) {
            return bad_request(&e);
        }
        if dry_run && let Some(m) = new["metadata"].as_object_mut() {
            m.remove("resourceVersion");
        }
        if !apply {
            // Creates are tracked (the object then has managedFields).
            let seed = json!({"metadata": {"managedFields": [{"manager": manager, "operation": "Update", "apiVersion": api_version, "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {}}}]}});
            patch::track_update(&seed, &mut new, &manager, &api_version, now);
        }
    } else if let Some(cur) = &current {
        restore_server_fields(def, cur, &mut new, minor);
        if !apply {
            patch::track_update(cur, &mut new, &manager, &api_version, now);
        }
    }

    let errs = patch::validate_metadata(&new);
    if !errs.is_empty() {
        return invalid(&def.group, &def.kind, str_at(&new, "/metadata/name"), &errs);
    }

    // Admission.
    let mut warnings = Vec::new();
    if def.group.is_empty() && def.kind == "Namespace" {
        match admit_namespace(state, &store, current.as_ref().filter(|_| !created), &new) {
            Ok(w) => warnings = w,
            Err(r) => return r,
        }
    }
    if def.group.is_empty() && def.kind == "Pod" && created {
        match admit_pod(state, &store, &new) {
            Ok(w) => warnings = w,
            Err(r) => return r,
        }
    }

    let code = if created { 201 } else { 200 };
    if dry_run {
        return Reply::value(code, &new).with_warnings(warnings);
    }
    if let Some(cur) = &current
        && without_times(cur) == without_times(&new)
    {
        return Reply::value(200, cur).with_warnings(warnings);
    }
    let rv = store.next_rv();
    new["metadata"]["resourceVersion"] = rv.to_string().into();
    let obj = Obj::from_value(&new);
    let reply = Reply::json(code, obj.bytes.to_vec()).with_warnings(warnings);
    store.collections[t.idx].items.insert(obj.key(), obj);
    reply
}

fn delete(state: &State, req: &Req, t: &Target) -> Reply {
    let name = t.name.clone().unwrap_or_default();
    let key = (t.ns.clone().unwrap_or_default(), name.clone());
    let mut store = state.store.write().unwrap();
    let Some(obj) = store.collections[t.idx].items.get(&key).cloned() else {
        return not_found(&t.def, &name);
    };
    if req.dry_run() {
        return Reply::json(200, obj.bytes.to_vec());
    }
    store.collections[t.idx].items.remove(&key);
    if t.def.group.is_empty() && t.def.kind == "Namespace" {
        for c in store.collections.iter_mut().filter(|c| c.def.namespaced) {
            c.items.retain(|k, _| k.0 != name);
        }
    }
    store.next_rv();
    Reply::json(200, obj.bytes.to_vec())
}

/// Adds or replaces an object from the handle (normalized like loaded objects).
pub(super) fn insert_object(state: &State, mut obj: Value) -> Result<(), String> {
    let api_version = str_at(&obj, "/apiVersion").to_owned();
    let kind = str_at(&obj, "/kind").to_owned();
    let (g, _) = api_version.split_once('/').unwrap_or(("", &api_version));
    let g = store::canonical_group(g, &kind).to_owned();
    let mut store = state.store.write().unwrap();
    let idx = store
        .find_kind(&g, &kind)
        .ok_or_else(|| format!("kind {kind} in group {g:?} is not served"))?;
    let def = store.collections[idx].def.clone();
    if let Some(m) = obj["metadata"].as_object_mut() {
        m.remove("resourceVersion");
    }
    let rv = store.next_rv();
    let mut next = || rv;
    store::normalize(&def, &mut obj, &mut next, now_secs(), state.minor)?;
    let o = Obj::from_value(&obj);
    store.collections[idx].items.insert(o.key(), o);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warning_header_escaping_and_dedup() {
        let h = warning_headers(&["a \"b\" \\c".into(), "a \"b\" \\c".into(), "x".into()]);
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].1, "299 - \"a \\\"b\\\" \\\\c\"");
    }

    #[test]
    fn warning_truncation() {
        let long = "y".repeat(300);
        let texts: Vec<String> = (0..20).map(|i| format!("{i}{long}")).collect();
        let h = warning_headers(&texts);
        assert!(h.iter().all(|(t, _)| t.chars().count() <= 256));
        assert!(h.len() < 20);
    }

    #[test]
    fn accept_negotiation() {
        assert_eq!(negotiate(None), Format::Plain);
        assert_eq!(
            negotiate(Some(
                "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
            )),
            Format::Table("v1")
        );
        assert_eq!(
            negotiate(Some("application/vnd.kubernetes.protobuf,application/json")),
            Format::Plain
        );
        assert_eq!(
            negotiate(Some(
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
            )),
            Format::Plain
        );
        assert_eq!(
            negotiate(Some("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1")),
            Format::Metadata("v1")
        );
    }

    #[test]
    fn continue_tokens_round_trip() {
        let t = encode_token(42, &("ns".into(), "pod-1".into()), true);
        assert_eq!(decode_token(&t, true).unwrap(), (42, ("ns".into(), "pod-1".into())));
        let t = encode_token(7, &(String::new(), "psp".into()), false);
        assert_eq!(decode_token(&t, false).unwrap(), (7, (String::new(), "psp".into())));
        assert!(decode_token("!!!", true).is_err());
    }
}
