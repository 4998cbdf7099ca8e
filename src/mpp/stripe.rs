//! The stripe method: charge and session.

use crate::error::{Error, ErrorCode, Result};
use serde_json::Value;

pub fn decode(_values: &[String], _now_ms: i64, _request_url: Option<&str>) -> Result<Value> {
    Err(Error::new(ErrorCode::Unknown, "not implemented yet"))
}

pub fn payload(_challenge: &Value, _spt: &str) -> Result<Value> {
    Err(Error::new(ErrorCode::Unknown, "not implemented yet"))
}
