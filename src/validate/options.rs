//! Retrieve/poll and login options.

use crate::error::{Error, ErrorCode, Result};
use serde_json::Value;

pub fn validate_retrieve(_input: &Value) -> Result<Value> {
    Err(Error::new(ErrorCode::Unknown, "not implemented yet"))
}

pub fn validate_login(_input: &Value) -> Result<Value> {
    Err(Error::new(ErrorCode::Unknown, "not implemented yet"))
}
