//! linkpay's core: one-time payment credentials from a Link wallet for AI agents.
//!
//! This crate performs **no I/O**: no network, no files, no clocks, no randomness. Like
//! quinn-proto and rustls, its state machines take inputs (events, `now`) and return outputs
//! (a request to send, a value to store, a time to wake). The one async driver that runs them
//! against a host-supplied fetch and storage lives in `client.rs` (behind the `Host`
//! trait), so the same logic runs natively, in the npm package (wasm-bindgen) and in a WASI
//! Preview 2 component.
//!
//! - [`validate`]: every input rule, reporting all field errors at once.
//! - [`spend_request`]: the spend-request model and its lifecycle state machine.
//! - [`auth`]: the OAuth device-authorization flow (RFC 8628) and the token lifecycle.
//! - [`poll`]: the polling policy.
//! - [`mpp`]: the Machine Payments Protocol: challenges, credentials, receipts.
//! - [`sanitize`]: display-safe text from untrusted strings.
//! - [`codec`]: the JSON-level API the bindings and the shared test vectors call.

pub mod api;
pub mod auth;
pub mod client;
pub mod codec;
pub mod error;
pub mod host;
pub mod mpp;
pub mod poll;
pub mod sanitize;
pub mod spend_request;
pub mod validate;

#[cfg(any(feature = "js", feature = "component"))]
mod bind;

pub use error::{Error, ErrorCode, FieldError, Result};

/// The crate version, shared by Cargo.toml, npm/package.json and the WIT package.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
