//! The polling policy: interval, max attempts, timeout.

use crate::error::{Error, ErrorCode, Result};
use serde_json::Value;

pub fn decide(_policy: &Value, _state: &Value, _now_ms: i64, _terminal: bool) -> Result<Value> {
    Err(Error::new(ErrorCode::Unknown, "not implemented yet"))
}
