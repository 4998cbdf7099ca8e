//! `mpp pay` input: the merchant request (URL, method, headers, data) and how to get the SPT.

use super::{field, finish, index_path, int_in, non_blank, trimmed_id, unknown_key_message};
use crate::error::{FieldErrors, Result};
use crate::http::HttpRequest;
use serde_json::{Map, Value};

/// Keys of the `mpp pay` input.
pub const PAY_KEYS: [&str; 13] = [
    "url",
    "method",
    "headers",
    "data",
    "spend_request_id",
    "context",
    "amount",
    "payment_method_id",
    "test",
    "interval",
    "timeout",
    "wait",
    "max_body_bytes",
];

/// A validated `mpp pay` request.
#[derive(Clone, Debug, PartialEq)]
pub struct PayRequest {
    pub url: String,
    /// `GET`, or `POST` when `data` is given (unless `method` says otherwise).
    pub method: String,
    /// `Name: Value` pairs in the order given.
    pub headers: Vec<(String, String)>,
    pub data: Option<String>,
    /// Pay with this approved SPT spend request instead of creating one.
    pub spend_request_id: Option<String>,
    /// Why the agent pays, for the person approving (≥ 100 characters); required to create.
    pub context: Option<String>,
    /// Cents; defaults to the challenge's amount.
    pub amount: Option<u64>,
    pub payment_method_id: Option<String>,
    pub test: bool,
    /// Seconds between approval polls (default 2).
    pub interval: f64,
    /// Seconds to wait for approval (default 600).
    pub timeout: f64,
    /// Wait for approval and pay (default); `false` returns the created spend request at once
    /// (the reference's agent mode: the agent shows the approval URL, then pays with
    /// `spend_request_id`).
    pub wait: bool,
    /// The most of the merchant's answer to read (default 4 MiB): memory stays bounded by it.
    pub max_body_bytes: u64,
}

impl PayRequest {
    /// The request to the merchant, with the credential header when paying. `Content-Type:
    /// application/json` is added for `data` unless a header sets it; a credential sent in
    /// `Authorization` replaces a user `Authorization`.
    pub fn merchant_request(&self, credential: Option<(&str, String)>) -> HttpRequest {
        let mut request = HttpRequest::new(&self.method, self.url.clone());
        request.max_body_bytes = self.max_body_bytes;
        for (name, value) in &self.headers {
            let replaced = credential
                .as_ref()
                .is_some_and(|(header, _)| header.eq_ignore_ascii_case(name));
            if !replaced {
                request.headers.push((name.clone(), value.clone()));
            }
        }
        if let Some(data) = &self.data {
            if request.header_value("content-type").is_none() {
                request
                    .headers
                    .push(("Content-Type".into(), "application/json".into()));
            }
            request.body = Some(data.clone());
        }
        if let Some((header, value)) = credential {
            request.headers.push((header.to_string(), value));
        }
        request
    }
}

/// A header given as `"Name: Value"`; lines without `:` are rejected (the reference skips them
/// silently, which hides typos). Names must be HTTP tokens and values free of CR/LF.
fn header_pair(text: &str) -> Result<(String, String), String> {
    let Some((name, value)) = text.split_once(':') else {
        return Err("must be \"Name: Value\"".into());
    };
    let name = name.trim();
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token) {
        return Err("header name must be an HTTP token".into());
    }
    if value.contains(['\r', '\n']) {
        return Err("header value must not contain CR or LF".into());
    }
    Ok((name.to_string(), value.trim().to_string()))
}

/// Validates the `mpp pay` input, reporting every problem at once.
pub fn validate_pay(input: &Value) -> Result<PayRequest> {
    let mut errs = FieldErrors::new();
    let Some(obj) = input.as_object() else {
        errs.push("input", "must be an object");
        return finish(None, errs, "input");
    };
    for key in obj.keys() {
        if !PAY_KEYS.contains(&key.as_str()) {
            errs.push(key.clone(), unknown_key_message("", key, &PAY_KEYS));
        }
    }
    let take = |key: &str, check: &dyn Fn(&Value) -> Result<(), String>, errs: &mut FieldErrors| {
        if let Some(v) = field(obj, key)
            && let Err(m) = check(v)
        {
            errs.push(key, m);
        }
    };
    let url = match field(obj, "url") {
        None => {
            errs.push("url", "is required");
            None
        }
        Some(v) => match super::request_url(v) {
            Ok(u) => Some(u),
            Err(m) => {
                errs.push("url", m);
                None
            }
        },
    };
    take(
        "method",
        &|v| {
            let m = non_blank(v)?;
            if m.bytes().all(|b| b.is_ascii_alphabetic()) {
                Ok(())
            } else {
                Err("must be an HTTP method such as GET or POST".into())
            }
        },
        &mut errs,
    );
    take(
        "data",
        &|v| {
            v.as_str()
                .map(|_| ())
                .ok_or_else(|| "must be a string".into())
        },
        &mut errs,
    );
    take(
        "spend_request_id",
        &|v| trimmed_id(v).map(|_| ()),
        &mut errs,
    );
    take(
        "payment_method_id",
        &|v| trimmed_id(v).map(|_| ()),
        &mut errs,
    );
    take(
        "context",
        &|v| {
            super::spend_request::context(v).map(|_| ()).map_err(|m| {
                if m.starts_with("must be at least") {
                    format!("{m}: explain the purchase to the person approving it")
                } else {
                    m
                }
            })
        },
        &mut errs,
    );
    take("amount", &|v| int_in(v, 1, 50_000).map(|_| ()), &mut errs);
    use crate::http::{DEFAULT_MAX_BODY_BYTES, MAX_BODY_BYTES_LIMIT};
    let max_body_limit = i64::try_from(MAX_BODY_BYTES_LIMIT).unwrap_or(i64::MAX);
    take(
        "max_body_bytes",
        &|v| int_in(v, 1, max_body_limit).map(|_| ()),
        &mut errs,
    );
    // Checked here, before the merchant is contacted: paying without an approved spend request
    // means creating one, which needs the person-facing context.
    if field(obj, "spend_request_id").is_none() && field(obj, "context").is_none() {
        errs.push(
            "context",
            "is required to create the spend request (at least 100 characters): explain the purchase to the person approving it, or pass spend_request_id",
        );
    }
    for key in ["test", "wait"] {
        take(
            key,
            &|v| {
                v.as_bool()
                    .map(|_| ())
                    .ok_or_else(|| "must be a boolean".into())
            },
            &mut errs,
        );
    }
    use super::options::{MAX_INTERVAL_S, MAX_TIMEOUT_S, poll_seconds};
    take(
        "interval",
        &|v| poll_seconds(v, MAX_INTERVAL_S).map(|_| ()),
        &mut errs,
    );
    take(
        "timeout",
        &|v| poll_seconds(v, MAX_TIMEOUT_S).map(|_| ()),
        &mut errs,
    );
    let mut headers = Vec::new();
    match field(obj, "headers") {
        None => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item.as_str().map(header_pair) {
                    Some(Ok(pair)) => headers.push(pair),
                    Some(Err(m)) => errs.push(index_path("headers", i), m),
                    None => errs.push(index_path("headers", i), "must be a \"Name: Value\" string"),
                }
            }
        }
        Some(Value::Object(map)) => {
            for (name, value) in map {
                match value.as_str().map(|v| header_pair(&format!("{name}: {v}"))) {
                    Some(Ok(pair)) => headers.push(pair),
                    Some(Err(m)) => errs.push(format!("headers.{name}"), m),
                    None => errs.push(format!("headers.{name}"), "must be a string"),
                }
            }
        }
        Some(_) => errs.push(
            "headers",
            "must be an array of \"Name: Value\" strings or an object",
        ),
    }
    let text = |k: &str| {
        field(obj, k)
            .and_then(Value::as_str)
            .map(|s| s.trim().to_string())
    };
    let data = field(obj, "data")
        .and_then(Value::as_str)
        .map(str::to_string);
    let method = text("method")
        .map(|m| m.to_ascii_uppercase())
        .unwrap_or_else(|| if data.is_some() { "POST" } else { "GET" }.to_string());
    let num = |k: &str, default: f64| {
        field(obj, k)
            .and_then(super::coerce_number)
            .unwrap_or(default)
    };
    let request = url.map(|url| PayRequest {
        url,
        method,
        headers,
        data,
        spend_request_id: text("spend_request_id"),
        context: field(obj, "context")
            .and_then(Value::as_str)
            .map(str::to_string),
        amount: field(obj, "amount")
            .and_then(super::coerce_int)
            .and_then(|n| u64::try_from(n).ok()),
        payment_method_id: text("payment_method_id"),
        test: field(obj, "test").and_then(Value::as_bool).unwrap_or(false),
        interval: num("interval", 2.0),
        timeout: num("timeout", 600.0),
        max_body_bytes: field(obj, "max_body_bytes")
            .and_then(super::coerce_int)
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(DEFAULT_MAX_BODY_BYTES),
        wait: field(obj, "wait").and_then(Value::as_bool).unwrap_or(true),
    });
    finish(request, errs, "input")
}

/// Keys of the options of a payment agent code starts (`link.fetch`, the mppx method, WIT
/// `client.fetch`).
pub const FETCH_KEYS: [&str; 8] = [
    "context",
    "max_amount",
    "max_total",
    "allow_realms",
    "payment_method_id",
    "interval",
    "timeout",
    "test",
];

/// Validated options of `link.fetch`, the mppx method and WIT `client.fetch`.
#[derive(Clone, Debug, PartialEq)]
pub struct FetchOptions {
    pub limits: crate::mpp::guard::Limits,
    /// For the person approving (≥ 100 characters); when absent, the binding's function of the
    /// decoded challenge gives it.
    pub context: Option<String>,
    pub payment_method_id: Option<String>,
    pub test: bool,
    /// Seconds between approval polls (default 2).
    pub interval: f64,
    /// Seconds to wait for approval (default 600).
    pub timeout: f64,
}

/// Validates the options of a payment agent code starts, every problem at once. `null` is
/// every default (`maxAmount` 5000, `maxTotal` 20000 cents).
pub fn validate_fetch_options(input: &Value) -> Result<FetchOptions> {
    use crate::mpp::guard::{DEFAULT_MAX_AMOUNT, DEFAULT_MAX_TOTAL, Limits};
    let mut errs = FieldErrors::new();
    let empty = Map::new();
    let obj = match input {
        Value::Null => &empty,
        Value::Object(obj) => obj,
        _ => {
            errs.push("options", "must be an object");
            return finish(None, errs, "options");
        }
    };
    for key in obj.keys() {
        if !FETCH_KEYS.contains(&key.as_str()) {
            errs.push(key.clone(), unknown_key_message("", key, &FETCH_KEYS));
        }
    }
    let cents = |key: &str, default: u64, errs: &mut FieldErrors| match field(obj, key) {
        None => default,
        Some(v) => match int_in(v, 0, i64::MAX) {
            Ok(n) => u64::try_from(n).unwrap_or(default),
            Err(m) => {
                errs.push(key, m);
                default
            }
        },
    };
    let max_amount = cents("max_amount", DEFAULT_MAX_AMOUNT, &mut errs);
    let max_total = cents("max_total", DEFAULT_MAX_TOTAL, &mut errs);
    let mut allow_realms = Vec::new();
    match field(obj, "allow_realms") {
        None => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item.as_str().map(str::trim).filter(|s| !s.is_empty()) {
                    Some(realm) => {
                        allow_realms.push(realm.trim_end_matches('.').to_ascii_lowercase())
                    }
                    None => errs.push(
                        index_path("allow_realms", i),
                        "must be a realm (a host name)",
                    ),
                }
            }
        }
        Some(_) => errs.push("allow_realms", "must be an array of realms"),
    }
    let context = match field(obj, "context") {
        None => None,
        Some(v) => match super::spend_request::context(v) {
            Ok(_) => v.as_str().map(str::to_string),
            Err(m) => {
                errs.push(
                    "context",
                    format!("{m}: explain the purchase to the person approving it"),
                );
                None
            }
        },
    };
    let payment_method_id = match field(obj, "payment_method_id").map(trimmed_id) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(m)) => {
            errs.push("payment_method_id", m);
            None
        }
    };
    let test = match field(obj, "test").map(super::boolean) {
        None => false,
        Some(Ok(b)) => b,
        Some(Err(m)) => {
            errs.push("test", m);
            false
        }
    };
    use super::options::{MAX_INTERVAL_S, MAX_TIMEOUT_S, poll_seconds};
    let seconds = |key: &str, max: u32, default: f64, errs: &mut FieldErrors| match field(obj, key)
    {
        None => default,
        Some(v) => match poll_seconds(v, max) {
            Ok(s) => s.0,
            Err(m) => {
                errs.push(key, m);
                default
            }
        },
    };
    let interval = seconds("interval", MAX_INTERVAL_S, 2.0, &mut errs);
    let timeout = seconds("timeout", MAX_TIMEOUT_S, 600.0, &mut errs);
    let options = FetchOptions {
        limits: Limits {
            max_amount,
            max_total,
            allow_realms,
        },
        context,
        payment_method_id,
        test,
        interval,
        timeout,
    };
    finish(Some(options), errs, "options")
}

/// The JSON form of a validated pay request (for the shared vectors).
pub fn describe(request: &PayRequest) -> Value {
    let headers: Vec<Value> = request
        .headers
        .iter()
        .map(|(n, v)| Value::String(format!("{n}: {v}")))
        .collect();
    let mut out = Map::new();
    out.insert("url".into(), request.url.clone().into());
    out.insert("method".into(), request.method.clone().into());
    out.insert("headers".into(), Value::Array(headers));
    if let Some(d) = &request.data {
        out.insert("data".into(), d.clone().into());
    }
    if let Some(id) = &request.spend_request_id {
        out.insert("spend_request_id".into(), id.clone().into());
    }
    if let Some(a) = request.amount {
        out.insert("amount".into(), a.into());
    }
    if let Some(p) = &request.payment_method_id {
        out.insert("payment_method_id".into(), p.clone().into());
    }
    out.insert("test".into(), request.test.into());
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::spend_request::MAX_CONTEXT_CHARS;
    use serde_json::json;

    fn context_errors(context: &str) -> Vec<String> {
        match validate_pay(&json!({"url": "https://shop.example/api", "context": context})) {
            Ok(_) => Vec::new(),
            Err(e) => e
                .field_errors
                .into_iter()
                .map(|f| format!("{}: {}", f.path, f.message))
                .collect(),
        }
    }

    #[test]
    fn context_has_the_create_rules_bounds() {
        assert_eq!(
            context_errors(&"x".repeat(MAX_CONTEXT_CHARS)),
            Vec::<String>::new()
        );
        assert_eq!(
            context_errors(&"x".repeat(131_000)),
            [
                "context: must be at most 5000 characters (got 131000): the person approving reads it on their phone"
            ]
        );
        assert_eq!(
            context_errors("short"),
            [
                "context: must be at least 100 characters (got 5): explain the purchase to the person approving it"
            ]
        );
    }
}
