//! Spend-request create and update rules.

use crate::error::{Error, ErrorCode, Result};
use serde_json::Value;

pub fn validate_create(_input: &Value, _now_s: i64) -> Result<Value> {
    Err(Error::new(ErrorCode::Unknown, "not implemented yet"))
}

pub fn validate_create_body(_body: &Value, _now_s: i64) -> Result<Value> {
    Err(Error::new(ErrorCode::Unknown, "not implemented yet"))
}

pub fn validate_update(_input: &Value) -> Result<Value> {
    Err(Error::new(ErrorCode::Unknown, "not implemented yet"))
}
