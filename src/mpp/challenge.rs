//! `WWW-Authenticate: Payment …` challenges.

use serde_json::Value;

pub fn decode_all_results(_values: &[String]) -> Vec<Value> {
    Vec::new()
}
