//! The spend-request model and its lifecycle state machine.

use crate::error::{Error, ErrorCode, Result};
use serde::Serialize;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Created,
}

impl Status {
    pub fn parse(_s: &str) -> Result<Status> {
        Err(Error::new(ErrorCode::Unknown, "not implemented yet"))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Approve,
}

impl Event {
    pub fn parse(_s: &str) -> Result<Event> {
        Err(Error::new(ErrorCode::Unknown, "not implemented yet"))
    }
}

pub fn transition(_status: Status, _event: Event) -> Result<Status> {
    Err(Error::new(ErrorCode::Unknown, "not implemented yet"))
}

pub fn next_action(_spend_request: &Value) -> Result<Value> {
    Err(Error::new(ErrorCode::Unknown, "not implemented yet"))
}

pub fn normalize(_spend_request: &Value) -> Result<Value> {
    Err(Error::new(ErrorCode::Unknown, "not implemented yet"))
}
