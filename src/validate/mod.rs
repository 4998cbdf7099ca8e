//! Every input rule, client-side, so that bad input never costs an HTTP request. Each validator
//! reports every broken rule at once as one `VALIDATION_ERROR` with field paths.

pub mod flag;
pub mod options;
pub mod spend_request;
