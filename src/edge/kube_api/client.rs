//! Sending requests: the one `send`, with the per-request timeout, the retry policy of
//! [`super::retry`] and the `Warning` headers collected.
//!
//! kube 5 has its own retry layer (`Config::default_retry`, on by default: 429/503/504, up to 15
//! retries, `Retry-After` honoured without a cap). [`super::connect`] turns it off and requests
//! are retried here instead, so the number of attempts, what is retried per verb and the longest
//! wait are ours and are covered by tests.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{StatusCode, header};
use kube::Client;
use kube::client::Body;

use super::ApiError;
use super::request::Prepared;
use super::retry::{Failed, RetryPolicy, parse_retry_after};

/// A successful (2xx) answer.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    /// The body as received; the only raw copy.
    pub body: Bytes,
    /// `Warning` header texts of this answer, in order.
    pub warnings: Vec<String>,
}

/// The API server of a kubeconfig, as one client with one retry policy.
pub struct ApiClient {
    client: Client,
    /// The server URL, for messages.
    pub server: String,
    timeout: Option<Duration>,
    retry: RetryPolicy,
    warnings: Mutex<BTreeSet<String>>,
    requests: AtomicU64,
}

/// How one attempt ended: an answer (any status) with its `Retry-After`, or a failure before one.
enum Attempt {
    Answer(http::response::Parts, Bytes),
    Transport(String),
    Timeout(Duration),
}

impl ApiClient {
    pub fn new(
        client: Client,
        server: String,
        timeout: Option<Duration>,
        retry: RetryPolicy,
    ) -> ApiClient {
        ApiClient {
            client,
            server,
            timeout,
            retry,
            warnings: Mutex::default(),
            requests: AtomicU64::new(0),
        }
    }

    /// HTTP requests sent so far (retries included).
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// `Warning` header texts seen so far, deduplicated and sorted.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.lock().map(|w| w.iter().cloned().collect()).unwrap_or_default()
    }

    /// Sends a request, retrying what its verb allows. `Ok` for 2xx answers only.
    pub async fn send(&self, prepared: &Prepared) -> Result<Response, ApiError> {
        let method = prepared.call.verb.method();
        let path = prepared.path();
        let mut attempt = 0;
        let mut timeouts = 0;
        loop {
            attempt += 1;
            let (failed, retry_after, error) = match self.once(&prepared.request).await {
                Attempt::Answer(parts, body) if parts.status.is_success() => {
                    let warnings = warning_texts(&parts.headers);
                    return Ok(Response { status: parts.status, body, warnings });
                }
                Attempt::Answer(parts, body) => (
                    Failed::Status(parts.status.as_u16()),
                    parts
                        .headers
                        .get(header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(parse_retry_after),
                    ApiError::status(method, &path, parts.status, &body, attempt),
                ),
                Attempt::Transport(message) => (
                    Failed::Transport,
                    None,
                    ApiError::Transport { method, path: path.clone(), message, attempts: attempt },
                ),
                Attempt::Timeout(after) => {
                    timeouts += 1;
                    (Failed::Timeout, None, ApiError::Timeout { method, path: path.clone(), after })
                }
            };
            if !self.retry.again(prepared.call, failed, attempt, timeouts) {
                return Err(error);
            }
            tokio::time::sleep(self.retry.wait(attempt, retry_after)).await;
        }
    }

    /// Sends a request and decodes the body of its answer with `decode`, while that body is the
    /// only copy; it is dropped as soon as `decode` returns.
    pub async fn send_decoded<T>(
        &self,
        prepared: &Prepared,
        decode: impl FnOnce(&[u8]) -> Result<T, String>,
    ) -> Result<T, ApiError> {
        let response = self.send(prepared).await?;
        decode(response.body.as_ref()).map_err(|message| ApiError::Decode {
            method: prepared.call.verb.method(),
            path: prepared.path(),
            message,
        })
    }

    /// One attempt, within the request timeout.
    async fn once(&self, request: &http::Request<Vec<u8>>) -> Attempt {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut copy = http::Request::new(Body::from(request.body().clone()));
        *copy.method_mut() = request.method().clone();
        *copy.uri_mut() = request.uri().clone();
        *copy.headers_mut() = request.headers().clone();
        let exchange = async {
            let response = match self.client.send(copy).await {
                Ok(r) => r,
                Err(e) => return Attempt::Transport(super::error_chain(&e)),
            };
            let (parts, body) = response.into_parts();
            self.record_warnings(&parts.headers);
            match body.collect_bytes().await {
                Ok(bytes) => Attempt::Answer(parts, bytes),
                Err(e) => Attempt::Transport(super::error_chain(&e)),
            }
        };
        match self.timeout {
            Some(limit) => {
                tokio::time::timeout(limit, exchange).await.unwrap_or(Attempt::Timeout(limit))
            }
            None => exchange.await,
        }
    }

    fn record_warnings(&self, headers: &http::HeaderMap) {
        let texts = warning_texts(headers);
        if texts.is_empty() {
            return;
        }
        if let Ok(mut w) = self.warnings.lock() {
            w.extend(texts);
        }
    }
}

fn warning_texts(headers: &http::HeaderMap) -> Vec<String> {
    headers
        .get_all(header::WARNING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(warning_text)
        .collect()
}

/// The text of an RFC 7234 `Warning` header value: `299 - "text"` → `text`.
pub fn warning_text(value: &str) -> String {
    let rest = value.trim();
    let rest = rest.split_once(' ').map_or(rest, |(code, r)| {
        if code.chars().all(|c| c.is_ascii_digit()) { r.trim_start() } else { rest }
    });
    let rest = rest
        .split_once(' ')
        .map_or(rest, |(agent, r)| if agent == "-" { r.trim_start() } else { rest });
    match rest.strip_prefix('"') {
        Some(quoted) => {
            let mut out = String::new();
            let mut chars = quoted.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => out.extend(chars.next()),
                    '"' => break,
                    c => out.push(c),
                }
            }
            out
        }
        None => rest.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warning_header_texts() {
        assert_eq!(
            warning_text(r#"299 - "policy/v1beta1 PodSecurityPolicy is deprecated in v1.21+""#),
            "policy/v1beta1 PodSecurityPolicy is deprecated in v1.21+"
        );
        assert_eq!(warning_text(r#"299 - "say \"hi\"""#), r#"say "hi""#);
        assert_eq!(warning_text("plain"), "plain");
    }
}
