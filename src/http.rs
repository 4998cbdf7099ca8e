//! HTTP requests and responses as data: built by the sans-IO modules (`api.rs`, the MPP
//! merchant request in `validate::mpp`), sent by the host (`host.rs`) for the driver.

/// 30 s, as the npm host's `fetch` always had: long enough for a slow Link API answer, short
/// enough that an agent is told about a dead network instead of hanging.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u32 = 30_000;
/// Ten minutes: beyond it a stalled request is indistinguishable from a hang.
pub const MAX_REQUEST_TIMEOUT_MS: u32 = 600_000;
/// 4 MiB: the most of a response body a host reads by default. A Link API answer is a few KB;
/// a merchant's (`mpp pay`) can be anything, and reading it whole once took 3 GB for 300 MB.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 4 << 20;
/// 256 MiB: the most `mpp pay --max-body-bytes` may ask for.
pub const MAX_BODY_BYTES_LIMIT: u64 = 256 << 20;

/// An HTTP request as data: built by `api.rs`, sent by [`crate::host::Host::fetch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET` or `POST` (upper case).
    pub method: String,
    /// Absolute URL, query included.
    pub url: String,
    /// Header name/value pairs in sending order.
    pub headers: Vec<(String, String)>,
    /// The body as text (JSON or form-encoded), if any.
    pub body: Option<String>,
    /// How long the whole exchange (connect, send, headers, body) may take; past it the host
    /// gives up with `TRANSPORT_ERROR`. The driver sets it from its configuration, so hosts
    /// never pick their own.
    pub timeout_ms: u32,
    /// The most of the response body the host reads: past it, it stops reading (memory stays
    /// bounded by this) and sets [`HttpResponse::body_truncated`].
    pub max_body_bytes: u64,
    /// It goes to Link (the API or the auth server), not to a merchant: a host may route it
    /// differently (the CLI sends only these through `LINK_HTTP_PROXY`, as the reference).
    /// The driver sets it.
    pub link: bool,
}

impl HttpRequest {
    /// A request without headers or body.
    pub fn new(method: &str, url: impl Into<String>) -> Self {
        HttpRequest {
            method: method.to_string(),
            url: url.into(),
            headers: Vec::new(),
            body: None,
            timeout_ms: DEFAULT_REQUEST_TIMEOUT_MS,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            link: false,
        }
    }

    /// Adds a header (builder style).
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Sets the body and its content type.
    pub fn body(mut self, content_type: &str, body: String) -> Self {
        self.headers
            .push(("Content-Type".to_string(), content_type.to_string()));
        self.body = Some(body);
        self
    }

    /// The first value of a header, compared case-insensitively.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An HTTP response as data. Repeated headers stay separate entries (several
/// `WWW-Authenticate` lines must all reach the MPP decoder).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// Header name/value pairs as received (names in any case).
    pub headers: Vec<(String, String)>,
    /// The body decoded as UTF-8 text (invalid sequences replaced), at most the request's
    /// `max_body_bytes` of it.
    pub body: String,
    /// The body was longer than the request's `max_body_bytes`: `body` is its start.
    pub body_truncated: bool,
}

impl HttpResponse {
    /// Every value of a header, compared case-insensitively.
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The first value of a header.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}
