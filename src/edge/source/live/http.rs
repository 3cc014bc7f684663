//! One GET against the API server, the way the live source needs it: a per-request timeout,
//! bounded retries with exponential backoff for 429 (honouring `Retry-After`) and 5xx, `Warning`
//! headers collected, and the body handed to a decoder while it is still the only copy.
//!
//! kube 5 has its own retry layer (`Config::default_retry`, on by default: 429/503/504, up to 15
//! retries, `Retry-After` honoured without a cap). The live source turns it off and retries
//! here instead, so the number of attempts and the longest wait are ours, apply to 500 and 502
//! too, and are covered by tests.

use std::collections::BTreeSet;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::{Request, StatusCode, header};
use kube::Client;
use kube::client::Body;

/// How requests are retried.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts per request, the first one included (at least 1).
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubled for each further one.
    pub base_delay: Duration,
    /// Longest backoff between two attempts.
    pub max_delay: Duration,
    /// Longest `Retry-After` honoured; longer requests are cut to this.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Backoff after failed attempt `attempt` (1-based).
    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.saturating_sub(1)).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Why a request did not produce a usable body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// No complete answer within the request timeout.
    Timeout { path: String, after: Duration },
    /// An HTTP error status (after retries, for retryable ones).
    Status { path: String, code: u16, message: String, attempts: u32 },
    /// Connection, TLS or protocol failure (after retries).
    Transport { path: String, message: String, attempts: u32 },
    /// A 2xx answer whose body could not be decoded.
    Decode { path: String, message: String },
}

impl Failure {
    pub fn status_code(&self) -> Option<u16> {
        match self {
            Failure::Status { code, .. } => Some(*code),
            _ => None,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Timeout { path, after } => write!(
                f,
                "GET {path}: no answer within {} (--request-timeout)",
                super::format_duration(*after)
            ),
            Failure::Status { path, code, message, attempts } => {
                let reason = StatusCode::from_u16(*code)
                    .ok()
                    .and_then(|c| c.canonical_reason())
                    .unwrap_or("error");
                write!(f, "GET {path}: {code} {reason}")?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                if *attempts > 1 {
                    write!(f, " (after {attempts} attempts)")?;
                }
                Ok(())
            }
            Failure::Transport { path, message, attempts } => {
                write!(f, "GET {path}: {message}")?;
                if *attempts > 1 {
                    write!(f, " (after {attempts} attempts)")?;
                }
                Ok(())
            }
            Failure::Decode { path, message } => {
                write!(f, "GET {path}: invalid response: {message}")
            }
        }
    }
}

/// Status, `Retry-After` and body of one answer.
type Answer<B> = (StatusCode, Option<Duration>, B);

/// Sends GET requests for the live source.
pub struct Fetcher {
    client: Client,
    timeout: Option<Duration>,
    retry: RetryPolicy,
    warnings: Mutex<BTreeSet<String>>,
    requests: AtomicU64,
}

impl Fetcher {
    pub fn new(client: Client, timeout: Option<Duration>, retry: RetryPolicy) -> Fetcher {
        Fetcher { client, timeout, retry, warnings: Mutex::default(), requests: AtomicU64::new(0) }
    }

    /// HTTP requests sent so far (retries included).
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// `Warning` header texts seen so far, deduplicated and sorted.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.lock().map(|w| w.iter().cloned().collect()).unwrap_or_default()
    }

    /// GETs `path` (with query) and decodes the body with `decode`. The body of one response is
    /// the only raw data held at a time, and it is dropped as soon as `decode` returns.
    pub async fn get<T>(
        &self,
        path: &str,
        decode: impl FnOnce(&[u8]) -> Result<T, String>,
    ) -> Result<T, Failure> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.retry.max_attempts.max(1);
            match self.once(path).await? {
                Ok((status, _, body)) if status.is_success() => {
                    return decode(body.as_ref())
                        .map_err(|message| Failure::Decode { path: path.to_owned(), message });
                }
                Ok((status, retry_after, body)) => {
                    let retryable = status == StatusCode::TOO_MANY_REQUESTS
                        || (status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED);
                    if retryable && !last {
                        let wait = retry_after
                            .map(|d| d.min(self.retry.max_retry_after))
                            .unwrap_or_else(|| self.retry.backoff(attempt));
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(Failure::Status {
                        path: path.to_owned(),
                        code: status.as_u16(),
                        message: status_message(body.as_ref()),
                        attempts: attempt,
                    });
                }
                Err(message) => {
                    if !last {
                        tokio::time::sleep(self.retry.backoff(attempt)).await;
                        continue;
                    }
                    return Err(Failure::Transport {
                        path: path.to_owned(),
                        message,
                        attempts: attempt,
                    });
                }
            }
        }
    }

    /// One attempt. The outer `Err` is a timeout (never retried: a server too slow for the
    /// timeout once is likely to be slow again, and the user asked for a bound); the inner
    /// `Err` a transport failure.
    async fn once(&self, path: &str) -> Result<Result<Answer<impl AsRef<[u8]>>, String>, Failure> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let request = Request::get(path)
            .header(header::ACCEPT, "application/json")
            .body(Body::empty())
            .map_err(|e| Failure::Transport {
                path: path.to_owned(),
                message: e.to_string(),
                attempts: 1,
            })?;
        let exchange = async {
            let response = self.client.send(request).await.map_err(|e| error_chain(&e))?;
            let (parts, body) = response.into_parts();
            self.record_warnings(&parts.headers);
            let retry_after = parts
                .headers
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let bytes = body.collect_bytes().await.map_err(|e| error_chain(&e))?;
            Ok((parts.status, retry_after, bytes))
        };
        match self.timeout {
            Some(limit) => tokio::time::timeout(limit, exchange)
                .await
                .map_err(|_| Failure::Timeout { path: path.to_owned(), after: limit }),
            None => Ok(exchange.await),
        }
    }

    fn record_warnings(&self, headers: &http::HeaderMap) {
        let texts: Vec<String> = headers
            .get_all(header::WARNING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(warning_text)
            .collect();
        if texts.is_empty() {
            return;
        }
        if let Ok(mut w) = self.warnings.lock() {
            w.extend(texts);
        }
    }
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

/// The `message` of a `Status` body, or the start of a non-JSON body.
fn status_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Status {
        #[serde(default)]
        message: String,
    }
    if let Ok(s) = serde_json::from_slice::<Status>(body)
        && !s.message.is_empty()
    {
        return s.message;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// An error and its sources on one line (`error sending request: connection refused`), without
/// repeating a source that its parent already printed.
/// Errors of kube's authentication layer are reduced to what they are about: their text can
/// hold an exec plugin's whole output, token included.
pub(crate) fn error_chain(e: &(dyn StdError + 'static)) -> String {
    let mut link = Some(e);
    while let Some(s) = link {
        if s.downcast_ref::<kube::client::AuthError>().is_some() {
            return super::kubeconfig::safe_chain(e);
        }
        link = s.source();
    }
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
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

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1), Duration::from_millis(250));
        assert_eq!(p.backoff(2), Duration::from_millis(500));
        assert_eq!(p.backoff(10), Duration::from_secs(8));
        assert_eq!(p.backoff(100), Duration::from_secs(8));
    }

    #[test]
    fn status_messages() {
        assert_eq!(status_message(br#"{"kind":"Status","message":"nope"}"#), "nope");
        assert_eq!(status_message(b"  plain text \n"), "plain text");
    }
}
