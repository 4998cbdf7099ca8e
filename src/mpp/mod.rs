//! The Machine Payments Protocol (HTTP 402, `WWW-Authenticate: Payment`): challenges, the stripe
//! method, credentials and receipts, plus the pure server-side pieces the sandbox merchant
//! needs (challenge ids, challenge serialization, problem types: `server`, feature
//! `merchant`).
//!
//! Everything here is total on hostile input: every decoder returns an [`crate::Error`] with an
//! `MPP_*` code instead of panicking, and never reads unbounded input (16 KiB `request`, 64 KiB
//! header values, JSON depth 32).

pub(crate) mod b64;
pub mod challenge;
pub mod credential;
pub mod guard;
pub mod jcs;
pub(crate) mod json;
pub mod mcp;
pub mod receipt;
#[cfg(feature = "merchant")]
pub mod server;
pub mod stripe;
pub mod timestamp;

pub use challenge::{Challenge, CredentialHeader, parse_challenges, parse_challenges_bytes};
pub use credential::{Credential, CredentialHeaderValue, build_credential, parse_credential};
pub use receipt::{Receipt, encode_receipt, parse_receipt};
pub use stripe::{StripeChallenge, StripePayload, Warning};
