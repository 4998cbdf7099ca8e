//! The `key:value,key:value` syntax of `--line-item`, `--total` and `--metadata`.

use crate::error::{Error, ErrorCode, Result};
use serde_json::Value;

pub fn parse_key_value_flag(_kind: &str, _value: &str) -> Result<Value> {
    Err(Error::new(ErrorCode::Unknown, "not implemented yet"))
}
