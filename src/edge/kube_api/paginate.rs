//! Lists, page by page: each page is handed to a callback as it arrives (so memory holds one
//! raw page at a time), and a list whose continue token expired (410) starts again from the
//! first page, a bounded number of times.

use super::request::{self, Prepared};
use super::{ApiClient, ApiError};

/// One page of a list, as received.
pub struct Page<'a> {
    /// The request's path and query, for messages.
    pub path: &'a str,
    pub body: &'a [u8],
    /// The first page of the list, or of a restart of it: what earlier pages gave is void.
    pub first: bool,
}

/// A list that did not complete, with the restarts it made before failing.
#[derive(Debug)]
pub struct ListFailure {
    pub error: ApiError,
    pub restarts: u32,
}

/// Where one list stands; [`Paginator::next_request`] and [`Paginator::answered`] are the
/// whole protocol, so that the restart rules are tested without a server.
#[derive(Debug)]
pub struct Paginator {
    collection: String,
    limit: u32,
    max_restarts: u32,
    token: Option<String>,
    restarts: u32,
    first: bool,
}

/// What to do after a page.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    More,
    Done,
}

impl Paginator {
    pub fn new(collection: &str, limit: u32, max_restarts: u32) -> Paginator {
        Paginator {
            collection: collection.to_owned(),
            limit,
            max_restarts,
            token: None,
            restarts: 0,
            first: true,
        }
    }

    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    pub fn next_request(&self) -> Result<Prepared, ApiError> {
        request::list(&self.collection, self.limit, self.token.as_deref())
    }

    /// Whether the coming page is the first of a (re)started list.
    pub fn first(&self) -> bool {
        self.first
    }

    /// A page came with `next` as its continue token.
    pub fn answered(&mut self, path: &str, next: Option<String>) -> Result<Next, ApiError> {
        self.first = false;
        match next.filter(|t| !t.is_empty()) {
            None => Ok(Next::Done),
            Some(t) if self.token.as_deref() == Some(t.as_str()) => Err(ApiError::Decode {
                method: "GET",
                path: path.to_owned(),
                message: "the server returned the same continue token twice".to_owned(),
            }),
            Some(t) => {
                self.token = Some(t);
                Ok(Next::More)
            }
        }
    }

    /// A page failed with `error`: `Ok` when the list starts again (410 Expired, within the
    /// restart budget), else the failure.
    pub fn failed(&mut self, error: ApiError) -> Result<(), ListFailure> {
        if error.code() == Some(410) && self.restarts < self.max_restarts {
            self.restarts += 1;
            self.token = None;
            self.first = true;
            return Ok(());
        }
        Err(ListFailure { error, restarts: self.restarts })
    }
}

impl ApiClient {
    /// Lists `collection` (`limit` items a page, 0: all at once), handing each page to `page`,
    /// which decodes it and returns its continue token. Returns the restarts made.
    pub async fn list_pages(
        &self,
        collection: &str,
        limit: u32,
        max_restarts: u32,
        mut page: impl FnMut(Page<'_>) -> Result<Option<String>, String>,
    ) -> Result<u32, ListFailure> {
        let mut pager = Paginator::new(collection, limit, max_restarts);
        loop {
            let fail = |error, pager: &Paginator| ListFailure { error, restarts: pager.restarts };
            let prepared = pager.next_request().map_err(|e| fail(e, &pager))?;
            let path = prepared.path();
            let response = match self.send(&prepared).await {
                Ok(r) => r,
                Err(e) => {
                    pager.failed(e)?;
                    continue;
                }
            };
            let next = page(Page { path: &path, body: &response.body, first: pager.first() })
                .map_err(|message| {
                    fail(ApiError::Decode { method: "GET", path: path.clone(), message }, &pager)
                })?;
            drop(response);
            match pager.answered(&path, next).map_err(|e| fail(e, &pager))? {
                Next::Done => return Ok(pager.restarts),
                Next::More => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expired() -> ApiError {
        ApiError::Status {
            method: "GET",
            path: "/api/v1/pods".into(),
            code: 410,
            reason: "Gone",
            message: "The provided continue parameter is too old".into(),
            attempts: 1,
        }
    }

    #[test]
    fn pages_follow_the_continue_token() {
        let mut p = Paginator::new("/api/v1/pods", 2, 3);
        assert!(p.first());
        assert_eq!(p.next_request().unwrap().path(), "/api/v1/pods?limit=2");
        assert_eq!(p.answered("x", Some("t1".into())).unwrap(), Next::More);
        assert!(!p.first());
        assert_eq!(p.next_request().unwrap().path(), "/api/v1/pods?limit=2&continue=t1");
        assert!(p.answered("x", Some("t1".into())).is_err(), "same token twice");
        assert_eq!(p.answered("x", Some(String::new())).unwrap(), Next::Done);
    }

    #[test]
    fn expired_tokens_restart_from_the_first_page_a_bounded_number_of_times() {
        let mut p = Paginator::new("/api/v1/pods", 2, 2);
        p.answered("x", Some("t1".into())).unwrap();
        p.failed(expired()).unwrap();
        assert!(p.first());
        assert_eq!(p.restarts(), 1);
        assert_eq!(p.next_request().unwrap().path(), "/api/v1/pods?limit=2");
        p.answered("x", Some("t2".into())).unwrap();
        p.failed(expired()).unwrap();
        let f = p.failed(expired()).unwrap_err();
        assert_eq!((f.restarts, f.error.code()), (2, Some(410)));
    }

    #[test]
    fn other_failures_end_the_list() {
        let mut p = Paginator::new("/api/v1/pods", 0, 3);
        let mut forbidden = expired();
        if let ApiError::Status { code, .. } = &mut forbidden {
            *code = 403;
        }
        let f = p.failed(forbidden).unwrap_err();
        assert_eq!((f.restarts, f.error.code()), (0, Some(403)));
    }
}
