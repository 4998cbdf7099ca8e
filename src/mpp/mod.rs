//! The Machine Payments Protocol (HTTP 402, `WWW-Authenticate: Payment`): challenges, the stripe
//! method, credentials and receipts.

pub mod challenge;
pub mod credential;
pub mod receipt;
pub mod stripe;
