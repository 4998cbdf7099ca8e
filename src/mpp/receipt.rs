//! `Payment-Receipt` headers.

use crate::error::{Error, ErrorCode, Result};
use serde_json::Value;

pub fn parse(_value: &str) -> Result<Value> {
    Err(Error::new(ErrorCode::Unknown, "not implemented yet"))
}
