//! linkpay's core: one-time payment credentials from a Link wallet for AI agents.
//!
//! This crate performs **no I/O**: no network, no files, no clocks, no randomness. Like
//! quinn-proto and rustls, its state machines take inputs (events, `now`) and return outputs
//! (a request to send, a value to store, a time to wake). The one async driver that runs them
//! against a host-supplied fetch and storage lives in `client.rs` (behind the `Host`
//! trait), so the same logic runs natively, in the npm package (wasm-bindgen) and in a WASI
//! Preview 2 component.
//!
//! # Layers
//!
//! Bottom to top; each module uses only its own layer and the layers below it, and no two
//! modules use each other (`tests/layers.rs` reads the `use crate::…` paths and fails on a
//! cycle or on a use that goes up):
//!
//! 1. **Primitives**: [`error`] (the `Error` type and its codes), `record` (path-aware JSON
//!    records: `Decode`/`ToJson`, `Secret`, `Timestamp`), `json` (JSON text), [`sanitize`]
//!    (display-safe text from untrusted strings), [`http`] (requests and responses as data).
//! 2. **Domain**, sans-IO: [`validate`] (every input rule, all field errors at once),
//!    [`spend_request`] (the model and its lifecycle state machine), [`auth`] (the OAuth
//!    device-authorization flow, RFC 8628, and the token lifecycle), [`poll`] (the polling
//!    policy), [`mpp`] (the Machine Payments Protocol: challenges, credentials, receipts; the
//!    merchant's server side behind the `merchant` feature), [`api`] (Link API requests as
//!    data, responses parsed), [`update`] (the CLI's update notice: versions compared, the
//!    registry's answer read, the cache's schedule).
//! 3. **Driver**: [`host`] (the `Host` contract: fetch, storage, clock, sleep, random) and
//!    [`client`] (the one async driver that runs the domain against a `Host`).
//! 4. **Command runner**: [`runner`] (a typed command in, what the agent sees out),
//!    [`commands`] (the command table of the CLI and MCP) and [`codec`] (the JSON-level API the
//!    bindings and the shared test vectors call).
//! 5. **Bindings** (`bind/`, features `js` and `component`): they only convert values.

/// `{"key": value, …}` as a JSON object, each value converted with `Value::from`: serde_json's
/// `json!` serializes every value through `to_value(…).unwrap()`, a generic call (and a panic
/// path) per value type.
macro_rules! object {
    ({ $($key:literal : $value:expr),* $(,)? }) => {{
        #[allow(unused_mut)]
        let mut map = serde_json::Map::new();
        $(crate::json::insert(&mut map, $key, serde_json::Value::from($value));)*
        serde_json::Value::Object(map)
    }};
}

/// The agent hosts of `mcp add` and `skills add`: the CLI's (feature `cli`) and native builds only.
#[cfg(any(feature = "cli", not(target_arch = "wasm32")))]
pub mod agent_host;
pub mod api;
pub mod auth;
pub mod client;
pub mod codec;
pub mod commands;
pub mod error;
pub mod host;
pub mod http;
mod json;
pub mod mpp;
pub mod poll;
mod record;
pub mod runner;
pub mod sanitize;
pub mod spend_request;
pub mod update;
pub mod validate;

#[cfg(any(feature = "js", feature = "component"))]
mod bind;

pub use error::{Error, ErrorCode, FieldError, Result};

/// Compact JSON text of a value (`serde_json::to_string`), written without serde's serializer.
pub(crate) use json::text as json_text;

/// The wasm allocator: talc instead of std's dlmalloc, 7 KB smaller (about 3 KB of the gzipped
/// npm module) and faster. Single-threaded wasm (no atomics: the npm module and the WASI
/// components) is what this talc configuration requires. Realloc is alloc-copy-free (no in-place
/// growth), which keeps it small.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// The crate version, shared by Cargo.toml, npm/package.json and the WIT package.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
