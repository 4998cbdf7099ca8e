//! The host contract: everything with side effects that the one driver (`client.rs`) needs.
//!
//! The core never touches the network, disk, clock or randomness itself. In the npm package the
//! host is JavaScript (`globalThis.fetch`, a 0600 file, `chrome.storage`, …); in the component it
//! is the WASI runtime (`wasi:http/outgoing-handler`, the `linkpay:core/storage` interface,
//! WASI clocks and random); natively it can be anything, e.g. a test double in `tests/`.

use crate::error::Result;

/// An HTTP request as data: built by `api.rs`, sent by [`Host::fetch`].
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
    /// gives up with `TRANSPORT_ERROR`. The driver sets it from [`crate::client::Config`], so
    /// hosts never pick their own.
    pub timeout_ms: u32,
}

impl HttpRequest {
    /// A request without headers or body.
    pub fn new(method: &str, url: impl Into<String>) -> Self {
        HttpRequest {
            method: method.to_string(),
            url: url.into(),
            headers: Vec::new(),
            body: None,
            timeout_ms: crate::client::DEFAULT_REQUEST_TIMEOUT_MS,
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
    /// The body decoded as UTF-8 text.
    pub body: String,
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

/// What the driver needs from its environment. Implementations must not log secrets; the
/// driver only ever hands [`Host::log`] redacted lines.
///
/// The futures are not `Send`: every host we serve (JS, WASI) is single-threaded.
#[allow(async_fn_in_trait)]
pub trait Host {
    /// Sends a request. A network failure is `TRANSPORT_ERROR`; any HTTP status is `Ok`.
    async fn fetch(&self, request: &HttpRequest) -> Result<HttpResponse>;
    /// Reads a stored value (`STORAGE_ERROR` when storage is unreadable or corrupt).
    async fn storage_get(&self, key: &str) -> Result<Option<String>>;
    /// Writes a value; durable and atomic when this resolves.
    async fn storage_set(&self, key: &str, value: &str) -> Result<()>;
    /// Deletes a value; deleting a missing key is not an error.
    async fn storage_delete(&self, key: &str) -> Result<()>;
    /// Wall-clock time, unix milliseconds.
    fn now_ms(&self) -> i64;
    /// Waits `ms` milliseconds.
    async fn sleep(&self, ms: u64);
    /// `len` cryptographically random bytes (idempotency keys).
    fn random(&self, len: usize) -> Vec<u8>;
    /// A verbose log line, already redacted (no tokens, card numbers or CVCs).
    fn log(&self, _line: &str) {}
    /// Writes `contents` (a card: a secret) to a new file at `path`, mode 0600, atomically;
    /// an existing file is `OUTPUT_FILE_EXISTS` unless `replace`. Hosts without files (a
    /// browser, a WASI component) keep this default: `--output-file` is refused there.
    async fn write_file(&self, path: &str, _contents: &str, _replace: bool) -> Result<()> {
        Err(crate::Error::new(
            crate::ErrorCode::InvalidInput,
            format!("outputFile ({path}) cannot be written by this host: it has no file system"),
        ))
    }
}
