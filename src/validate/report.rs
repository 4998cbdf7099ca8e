//! `report` input: the outcome of an agent's purchase attempt on a domain, for Link's
//! `POST /agent_observations` (what the reference calls after every attempt).

use super::{field, finish, index_path, non_blank, unknown_key_message};
use crate::error::{FieldErrors, Result};
use crate::record::ToJson;
use serde_json::{Map, Value};

/// Keys of the `report` input, in the wire body's order.
pub const REPORT_KEYS: [&str; 6] = [
    "domain",
    "outcome",
    "spend_request_id",
    "tags",
    "step",
    "freeform_context",
];

/// How the attempt ended.
pub const OUTCOMES: [&str; 3] = ["success", "blocked", "abandoned"];

/// What stood in the way (or helped): the reference's tag vocabulary.
pub const TAGS: [&str; 14] = [
    "stripe_checkout",
    "captcha",
    "anti_bot_script",
    "cdn_block",
    "waf_block",
    "dns_block",
    "rate_limited",
    "login_required",
    "3ds_challenge",
    "page_inaccessible",
    "timeout",
    "site_error",
    "payment_declined",
    "other",
];

/// The most characters of `step` and of `freeform_context`.
pub const MAX_REPORT_TEXT_CHARS: usize = 500;

/// A validated report: every value passed every rule.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Report {
    pub domain: String,
    /// One of [`OUTCOMES`].
    pub outcome: String,
    pub spend_request_id: String,
    /// Each one of [`TAGS`], in the order given.
    pub tags: Option<Vec<String>>,
    /// At most 500 characters.
    pub step: Option<String>,
    /// At most 500 characters.
    pub freeform_context: Option<String>,
}

/// The wire body: `{domain, outcome, spend_request_id, tags?, step?, freeform_context?}`.
impl ToJson for Report {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("domain".into(), self.domain.clone().into());
        m.insert("outcome".into(), self.outcome.clone().into());
        m.insert(
            "spend_request_id".into(),
            self.spend_request_id.clone().into(),
        );
        if let Some(tags) = &self.tags {
            m.insert("tags".into(), tags.clone().into());
        }
        if let Some(step) = &self.step {
            m.insert("step".into(), step.clone().into());
        }
        if let Some(text) = &self.freeform_context {
            m.insert("freeform_context".into(), text.clone().into());
        }
        Value::Object(m)
    }
}

/// Validates a report (the CLI's, the MCP tool's, or the wire body the sandbox receives: the
/// keys are the same): every problem at once, paths named by key.
pub fn validate_report(input: &Value) -> Result<Report> {
    let mut errs = FieldErrors::new();
    let Some(obj) = input.as_object() else {
        errs.push("input", "must be an object");
        return finish(None, errs, "input");
    };
    for key in obj.keys() {
        if !REPORT_KEYS.contains(&key.as_str()) {
            errs.push(key.clone(), unknown_key_message("", key, &REPORT_KEYS));
        }
    }
    let mut required =
        |key: &str, check: &dyn Fn(&Value) -> Result<String, String>| match field(obj, key) {
            None => {
                errs.push(key, "is required");
                None
            }
            Some(v) => check(v).map_err(|m| errs.push(key, m)).ok(),
        };
    let domain = required("domain", &|v| non_blank(v).map(|s| s.trim().to_string()));
    let outcome = required("outcome", &|v| one_of(v, &OUTCOMES));
    let spend_request_id = required("spend_request_id", &|v| {
        let s = non_blank(v)?.trim();
        if super::is_spend_request_id(s) {
            Ok(s.to_string())
        } else {
            Err("must be a spend request id (letters, digits, _ and -)".to_string())
        }
    });
    let tags = match field(obj, "tags") {
        None => None,
        Some(Value::Array(items)) => {
            let mut tags = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match one_of(item, &TAGS) {
                    Ok(tag) => tags.push(tag),
                    Err(m) => errs.push(index_path("tags", i), m),
                }
            }
            Some(tags)
        }
        Some(v) => match one_of(v, &TAGS) {
            Ok(tag) => Some(vec![tag]),
            Err(m) => {
                errs.push("tags", m);
                None
            }
        },
    };
    let mut text = |key: &str| {
        let v = field(obj, key)?;
        match v.as_str() {
            None => {
                errs.push(key, "must be a string");
                None
            }
            Some(s) if s.chars().count() > MAX_REPORT_TEXT_CHARS => {
                errs.push(
                    key,
                    format!("must be at most {MAX_REPORT_TEXT_CHARS} characters"),
                );
                None
            }
            Some(s) => Some(s.to_string()),
        }
    };
    let step = text("step");
    let freeform_context = text("freeform_context");
    let report = match (domain, outcome, spend_request_id) {
        (Some(domain), Some(outcome), Some(spend_request_id)) => Some(Report {
            domain,
            outcome,
            spend_request_id,
            tags,
            step,
            freeform_context,
        }),
        _ => None,
    };
    finish(report, errs, "input")
}

fn one_of(v: &Value, allowed: &[&'static str]) -> Result<String, String> {
    super::one_of(v, allowed).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_report_goes_out_in_the_wire_order() {
        let r = validate_report(&json!({
            "freeform_context": "the card was declined once, then accepted",
            "tags": ["3ds_challenge"],
            "spend_request_id": "lsrq_1",
            "outcome": "success",
            "domain": " shop.example ",
        }))
        .unwrap();
        assert_eq!(
            crate::json_text(&r.to_json()),
            r#"{"domain":"shop.example","outcome":"success","spend_request_id":"lsrq_1","tags":["3ds_challenge"],"freeform_context":"the card was declined once, then accepted"}"#
        );
    }

    #[test]
    fn every_problem_at_once() {
        let e = validate_report(&json!({
            "outcome": "maybe",
            "spend_request_id": "lsrq/../x",
            "tags": ["captcha", "nope"],
            "step": "s".repeat(501),
            "colour": 1,
        }))
        .unwrap_err();
        let paths: Vec<&str> = e.field_errors.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "colour",
                "domain",
                "outcome",
                "spend_request_id",
                "tags[1]",
                "step"
            ]
        );
    }
}
