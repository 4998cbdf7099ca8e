//! The host contract: everything with side effects that the one driver (`client.rs`) needs.
//!
//! The core never touches the network, disk, clock or randomness itself. In the npm package the
//! host is JavaScript (`globalThis.fetch`, a 0600 file, `chrome.storage`, …); in the component it
//! is the WASI runtime (`wasi:http/outgoing-handler`, the `linkpay:core/storage` interface,
//! WASI clocks and random); natively it can be anything, e.g. a test double in `tests/`.

use crate::error::Result;
// The request and response types are data, on the ground floor (`crate::http`), so the domain
// modules that build requests need not reach up to the driver's layer; re-exported here.
pub use crate::http::{
    DEFAULT_REQUEST_TIMEOUT_MS, HttpRequest, HttpResponse, MAX_REQUEST_TIMEOUT_MS,
};

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
