//! The OAuth device-authorization flow (RFC 8628) and the token lifecycle.

use crate::error::{Error, ErrorCode, Result};
use serde_json::Value;

pub fn handle_token_response(
    _pending: &Value,
    _status: u16,
    _body: &str,
    _now_ms: i64,
) -> Result<Value> {
    Err(Error::new(ErrorCode::Unknown, "not implemented yet"))
}

pub fn needs_refresh(_tokens: &Value, _now_ms: i64) -> Result<bool> {
    Err(Error::new(ErrorCode::Unknown, "not implemented yet"))
}
