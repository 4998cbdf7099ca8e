//! `Authorization: Payment …` credentials.

use crate::error::{Error, ErrorCode, Result};
use serde_json::Value;

pub fn build(
    _challenge: &Value,
    _payload: &Value,
    _source: Option<&str>,
    _now_ms: i64,
) -> Result<Value> {
    Err(Error::new(ErrorCode::Unknown, "not implemented yet"))
}
