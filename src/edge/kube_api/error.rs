//! The one error type of the API layer: what a request ended with when it did not succeed.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use http::StatusCode;

use super::format_duration;

/// A request that did not produce a usable answer (after the retries its verb allows).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// An HTTP error status. `message` is the `Status` body's message, parsed once (or the start
    /// of a body that is not a `Status`).
    Status {
        method: &'static str,
        path: String,
        code: u16,
        reason: &'static str,
        message: String,
        attempts: u32,
    },
    /// No complete answer within `--request-timeout`.
    Timeout { method: &'static str, path: String, after: Duration },
    /// Connection, TLS or protocol failure.
    Transport { method: &'static str, path: String, message: String, attempts: u32 },
    /// A 2xx answer whose body could not be decoded.
    Decode { method: &'static str, path: String, message: String },
    /// The request could not be built (e.g. a name that cannot be a path segment); nothing was
    /// sent.
    Invalid { method: &'static str, path: String, message: String },
}

impl ApiError {
    /// An error status as read from an answer.
    pub fn status(
        method: &'static str,
        path: &str,
        status: StatusCode,
        body: &[u8],
        attempts: u32,
    ) -> Self {
        ApiError::Status {
            method,
            path: path.to_owned(),
            code: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("error"),
            message: status_message(body),
            attempts,
        }
    }

    /// The HTTP status code, for error statuses.
    pub fn code(&self) -> Option<u16> {
        match self {
            ApiError::Status { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Same as [`ApiError::code`] (the live source's name for it).
    pub fn status_code(&self) -> Option<u16> {
        self.code()
    }

    /// Errors that say the cluster (or the connection to it) is in trouble, rather than
    /// something about one object: a run of writes stops instead of going on with the next item.
    pub fn is_fatal(&self) -> bool {
        match self {
            ApiError::Status { code, .. } => *code >= 500 || *code == 401 || *code == 429,
            ApiError::Timeout { .. } | ApiError::Transport { .. } | ApiError::Decode { .. } => true,
            ApiError::Invalid { .. } => false,
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

fn attempts_suffix(f: &mut fmt::Formatter<'_>, attempts: u32) -> fmt::Result {
    if attempts > 1 { write!(f, " (after {attempts} attempts)") } else { Ok(()) }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Status { method, path, code, reason, message, attempts } => {
                write!(f, "{method} {path}: {code} {reason}")?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                attempts_suffix(f, *attempts)
            }
            ApiError::Timeout { method, path, after } => write!(
                f,
                "{method} {path}: no answer within {} (--request-timeout)",
                format_duration(*after)
            ),
            ApiError::Transport { method, path, message, attempts } => {
                write!(f, "{method} {path}: {message}")?;
                attempts_suffix(f, *attempts)
            }
            ApiError::Decode { method, path, message } => {
                write!(f, "{method} {path}: invalid response: {message}")
            }
            ApiError::Invalid { method, path, message } => {
                write!(f, "{method} {path}: cannot build the request: {message}")
            }
        }
    }
}

impl StdError for ApiError {}

/// The `message` of a `Status` body, or the start of a body that is not one.
pub fn status_message(body: &[u8]) -> String {
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
pub fn error_chain(e: &(dyn StdError + 'static)) -> String {
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

    fn status(code: u16, attempts: u32) -> ApiError {
        ApiError::Status {
            method: "PATCH",
            path: "/p".into(),
            code,
            reason: "r",
            message: "m".into(),
            attempts,
        }
    }

    #[test]
    fn messages_and_fatality() {
        assert!(status(503, 1).is_fatal());
        assert!(status(429, 1).is_fatal());
        assert!(!status(409, 1).is_fatal());
        assert!(!status(422, 1).is_fatal());
        assert_eq!(status(409, 1).to_string(), "PATCH /p: 409 r: m");
        assert_eq!(status(500, 5).to_string(), "PATCH /p: 500 r: m (after 5 attempts)");
        assert_eq!(status(409, 1).message(), "m");
        let t = ApiError::Timeout {
            method: "GET",
            path: "/version".into(),
            after: Duration::from_millis(200),
        };
        assert_eq!(t.to_string(), "GET /version: no answer within 200ms (--request-timeout)");
        assert!(t.is_fatal());
    }

    #[test]
    fn status_messages_are_parsed_once_here() {
        assert_eq!(status_message(br#"{"kind":"Status","message":"nope"}"#), "nope");
        assert_eq!(status_message(b"  plain text \n"), "plain text");
        let long = "x".repeat(300);
        assert_eq!(status_message(long.as_bytes()).chars().count(), 201);
        let e = ApiError::status("GET", "/x", StatusCode::FORBIDDEN, br#"{"message":"no"}"#, 1);
        assert_eq!(e.to_string(), "GET /x: 403 Forbidden: no");
    }
}
