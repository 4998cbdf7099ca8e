//! Retrieve/poll options and login options.

use super::{
    MAX_SAFE_INTEGER, coerce_number, field, finish, index_path, int_in, unknown_key_message,
};
use crate::error::{FieldErrors, Result};
use crate::record::{ToJson, serialize_as_json};
use serde_json::{Map, Value};

/// Keys of the retrieve/poll options.
pub const RETRIEVE_KEYS: [&str; 4] = ["interval", "max_attempts", "timeout", "include"];
/// Keys of the login options.
pub const LOGIN_KEYS: [&str; 4] = [
    "client_name",
    "scope",
    "source_actions",
    "authorization_details",
];
/// What `include` may ask the API to expand.
pub const INCLUDE_VALUES: [&str; 3] = ["card", "shared_payment_token", "link_pay_token"];
/// The financial-insight source actions a login may request.
pub const SOURCE_ACTIONS: [&str; 4] = [
    "read_balances",
    "read_external_transactions",
    "read_link_transactions",
    "read_source_details",
];
/// The retrieve poll's default timeout: longer than the server-side spend-request expiry.
pub const DEFAULT_TIMEOUT_SECS: u32 = 600;
/// The OAuth client name shown on the Link consent screen when none is given.
pub const DEFAULT_CLIENT_NAME: &str = "linkpay";

/// A duration in seconds (fractions allowed). Serialises whole values as integers so that JSON
/// consumers in every runtime see `2`, not `2.0`.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Seconds(pub f64);

impl Seconds {
    /// Milliseconds, rounded down and saturating (what a host's `sleep` takes).
    pub fn as_millis(self) -> u64 {
        // `as` saturates: negative and NaN become 0, huge values `u64::MAX`.
        (self.0 * 1000.0) as u64
    }
}

impl ToJson for Seconds {
    fn to_json(&self) -> Value {
        let f = self.0;
        if f.fract() == 0.0 && f.abs() <= MAX_SAFE_INTEGER as f64 {
            Value::from(f as i64)
        } else {
            Value::from(f)
        }
    }
}

/// Something `spend-request retrieve` can ask the API to include.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Include {
    /// The card's number, CVC and billing address (after approval).
    Card,
    /// The Shared Payment Token.
    SharedPaymentToken,
    /// The Link Pay Token (valid up to 30 minutes).
    LinkPayToken,
}

impl Include {
    /// The query-string spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Include::Card => "card",
            Include::SharedPaymentToken => "shared_payment_token",
            Include::LinkPayToken => "link_pay_token",
        }
    }

    fn parse(s: &str) -> Option<Include> {
        match s {
            "card" => Some(Include::Card),
            "shared_payment_token" => Some(Include::SharedPaymentToken),
            "link_pay_token" => Some(Include::LinkPayToken),
            _ => None,
        }
    }
}

/// Validated retrieve/poll options, defaults applied.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RetrieveOptions {
    /// Seconds between polls; 0 means a single fetch.
    pub interval: Seconds,
    /// 0 means unlimited.
    pub max_attempts: u64,
    /// Seconds before giving up.
    pub timeout: Seconds,
    /// Deduplicated, in the order first given.
    pub include: Vec<Include>,
}

impl RetrieveOptions {
    /// The `include` query value (`card,shared_payment_token`), or `None` when empty.
    pub fn include_query(&self) -> Option<String> {
        if self.include.is_empty() {
            return None;
        }
        Some(
            self.include
                .iter()
                .map(|i| i.as_str())
                .collect::<Vec<_>>()
                .join(","),
        )
    }
}

/// A financial-insight action a login may request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceAction {
    /// `balances list`.
    ReadBalances,
    /// `transactions list` for external accounts.
    ReadExternalTransactions,
    /// `transactions list` for Link transactions.
    ReadLinkTransactions,
    /// `sources list`.
    ReadSourceDetails,
}

impl SourceAction {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceAction::ReadBalances => "read_balances",
            SourceAction::ReadExternalTransactions => "read_external_transactions",
            SourceAction::ReadLinkTransactions => "read_link_transactions",
            SourceAction::ReadSourceDetails => "read_source_details",
        }
    }

    fn parse(s: &str) -> Option<SourceAction> {
        match s {
            "read_balances" => Some(SourceAction::ReadBalances),
            "read_external_transactions" => Some(SourceAction::ReadExternalTransactions),
            "read_link_transactions" => Some(SourceAction::ReadLinkTransactions),
            "read_source_details" => Some(SourceAction::ReadSourceDetails),
            _ => None,
        }
    }
}

/// Validated login options, defaults applied.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct LoginOptions {
    /// Trimmed; shown on the consent screen.
    pub client_name: String,
    /// Whitespace collapsed to single spaces (omitted from JSON when `None`).
    pub scope: Option<String>,
    /// Deduplicated, in the order first given.
    pub source_actions: Vec<SourceAction>,
    /// RFC 9396 authorization details, parsed.
    pub authorization_details: Vec<Value>,
}

impl ToJson for Include {
    fn to_json(&self) -> Value {
        Value::from(self.as_str())
    }
}

impl ToJson for SourceAction {
    fn to_json(&self) -> Value {
        Value::from(self.as_str())
    }
}

impl ToJson for RetrieveOptions {
    fn to_json(&self) -> Value {
        object!({
            "interval": self.interval.to_json(),
            "max_attempts": self.max_attempts,
            "timeout": self.timeout.to_json(),
            "include": self.include.to_json(),
        })
    }
}

impl ToJson for LoginOptions {
    fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("client_name".into(), self.client_name.clone().into());
        if let Some(scope) = &self.scope {
            map.insert("scope".into(), scope.clone().into());
        }
        map.insert("source_actions".into(), self.source_actions.to_json());
        map.insert(
            "authorization_details".into(),
            Value::Array(self.authorization_details.clone()),
        );
        Value::Object(map)
    }
}

serialize_as_json!(
    Seconds,
    Include,
    SourceAction,
    RetrieveOptions,
    LoginOptions
);

/// Validates retrieve/poll options: `interval` 0 to [`MAX_INTERVAL_S`] s (default 0),
/// `max_attempts` ≥ 0 (default 0, unlimited), `timeout` 0 to [`MAX_TIMEOUT_S`] s (default 600), `include` from [`INCLUDE_VALUES`] as an array
/// or comma-separated string, deduplicated.
pub fn validate_retrieve(input: &Value) -> Result<RetrieveOptions> {
    let mut errs = FieldErrors::new();
    let Some(obj) = root_object(input, &RETRIEVE_KEYS, &mut errs) else {
        return finish(None, errs, "input");
    };
    let interval = field(obj, "interval").map_or(Some(Seconds(0.0)), |v| {
        poll_seconds(v, MAX_INTERVAL_S)
            .map_err(|m| errs.push("interval", m))
            .ok()
    });
    let max_attempts = field(obj, "max_attempts").map_or(Some(0), |v| {
        int_in(v, 0, MAX_SAFE_INTEGER)
            .map(|n| u64::try_from(n).unwrap_or_default())
            .map_err(|m| errs.push("max_attempts", m))
            .ok()
    });
    let timeout =
        field(obj, "timeout").map_or(Some(Seconds(f64::from(DEFAULT_TIMEOUT_SECS))), |v| {
            poll_seconds(v, MAX_TIMEOUT_S)
                .map_err(|m| errs.push("timeout", m))
                .ok()
        });
    let include = field(obj, "include").map_or(Some(Vec::new()), |v| {
        enum_list(v, "include", &INCLUDE_VALUES, Include::parse, &mut errs)
    });
    let built = match (interval, max_attempts, timeout, include) {
        (Some(interval), Some(max_attempts), Some(timeout), Some(include)) => {
            Some(RetrieveOptions {
                interval,
                max_attempts,
                timeout,
                include,
            })
        }
        _ => None,
    };
    finish(built, errs, "input")
}

/// Validates login options: `client_name` trimmed and non-empty (default `linkpay`), `scope`
/// with whitespace collapsed and non-empty when given, `source_actions` from
/// [`SOURCE_ACTIONS`] (deduplicated), `authorization_details` as JSON objects or JSON strings.
pub fn validate_login(input: &Value) -> Result<LoginOptions> {
    let mut errs = FieldErrors::new();
    let Some(obj) = root_object(input, &LOGIN_KEYS, &mut errs) else {
        return finish(None, errs, "input");
    };
    let client_name = match field(obj, "client_name") {
        None => Some(DEFAULT_CLIENT_NAME.to_string()),
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::String(_)) => {
            errs.push("client_name", "client-name must be a non-empty string");
            None
        }
        Some(_) => {
            errs.push("client_name", "must be a string");
            None
        }
    };
    let scope = match field(obj, "scope") {
        None => Some(None),
        Some(Value::String(s)) => {
            let collapsed = s.split_whitespace().collect::<Vec<_>>().join(" ");
            if collapsed.is_empty() {
                errs.push("scope", "scope must be a non-empty string when provided");
                None
            } else {
                Some(Some(collapsed))
            }
        }
        Some(_) => {
            errs.push("scope", "must be a string");
            None
        }
    };
    let source_actions = field(obj, "source_actions").map_or(Some(Vec::new()), |v| {
        enum_list(
            v,
            "source_actions",
            &SOURCE_ACTIONS,
            SourceAction::parse,
            &mut errs,
        )
    });
    let authorization_details = field(obj, "authorization_details")
        .map_or(Some(Vec::new()), |v| authorization_details(v, &mut errs));
    let built = match (client_name, scope, source_actions, authorization_details) {
        (Some(client_name), Some(scope), Some(source_actions), Some(authorization_details)) => {
            Some(LoginOptions {
                client_name,
                scope,
                source_actions,
                authorization_details,
            })
        }
        _ => None,
    };
    finish(built, errs, "input")
}

fn root_object<'a>(
    input: &'a Value,
    allowed: &[&str],
    errs: &mut FieldErrors,
) -> Option<&'a Map<String, Value>> {
    let Some(obj) = input.as_object() else {
        errs.push("input", "must be a JSON object");
        return None;
    };
    for key in obj.keys() {
        if !allowed.contains(&key.as_str()) {
            errs.push(
                super::key_path("", key),
                unknown_key_message("", key, allowed),
            );
        }
    }
    Some(obj)
}

/// The longest `interval` between polls: 5 minutes. The reference polls every 2 s (spend
/// requests) or 5 s (logins); beyond a few minutes an approval on the phone goes unnoticed, and
/// a host timer (JS `setTimeout` wraps past 2^31 ms) is never asked for a wait it cannot keep.
pub const MAX_INTERVAL_S: u32 = 300;
/// The longest `timeout` of a poll: one hour (the reference waits 300 s for a login, 600 s for
/// an approval). A caller blocked longer is indistinguishable from a hang.
pub const MAX_TIMEOUT_S: u32 = 3600;

/// A poll's `interval` or `timeout`: a number of seconds from 0 to `max` (`0` is one fetch for
/// an interval; for a timeout, one fetch and then `POLLING_TIMEOUT`, as the reference does).
pub(crate) fn poll_seconds(v: &Value, max: u32) -> Result<Seconds, String> {
    match coerce_number(v) {
        Some(f) if (0.0..=f64::from(max)).contains(&f) => Ok(Seconds(f)),
        _ => Err(["must be a number of seconds from 0 to ", &max.to_string()].concat()),
    }
}

/// An array of enum strings, or one comma-separated string (repeatable CLI flags may arrive
/// either way; elements may hold commas too). Blank pieces are skipped; duplicates dropped.
fn enum_list<T: PartialEq>(
    v: &Value,
    path: &str,
    allowed: &[&str],
    parse: fn(&str) -> Option<T>,
    errs: &mut FieldErrors,
) -> Option<Vec<T>> {
    let parts: Vec<(String, &Value)> = match v {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| (index_path(path, i), item))
            .collect(),
        Value::String(_) => vec![(path.to_string(), v)],
        _ => {
            errs.push(
                path,
                "must be an array of strings or a comma-separated string",
            );
            return None;
        }
    };
    let mut out = Vec::new();
    let mut ok = true;
    for (item_path, item) in parts {
        let Some(s) = item.as_str() else {
            errs.push(item_path, format!("must be one of: {}", allowed.join(", ")));
            ok = false;
            continue;
        };
        for piece in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match parse(piece) {
                Some(t) if !out.contains(&t) => out.push(t),
                Some(_) => {}
                None => {
                    errs.push(
                        &item_path,
                        format!("\"{piece}\" must be one of: {}", allowed.join(", ")),
                    );
                    ok = false;
                }
            }
        }
    }
    ok.then_some(out)
}

/// Each element a JSON object, or a string holding one (`--authorization-detail '{…}'`).
fn authorization_details(v: &Value, errs: &mut FieldErrors) -> Option<Vec<Value>> {
    const PATH: &str = "authorization_details";
    let Some(items) = v.as_array() else {
        errs.push(PATH, "must be an array");
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let parsed = match item {
            Value::String(s) => match serde_json::from_str::<Value>(s) {
                Ok(v) => v,
                Err(_) => {
                    errs.push(
                        index_path(PATH, i),
                        "authorization-detail must be valid JSON",
                    );
                    ok = false;
                    continue;
                }
            },
            other => other.clone(),
        };
        if parsed.is_object() {
            out.push(parsed);
        } else {
            errs.push(
                index_path(PATH, i),
                "authorization-detail must be a JSON object",
            );
            ok = false;
        }
    }
    ok.then_some(out)
}
