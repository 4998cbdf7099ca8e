//! The stripe method: `charge` and the Link `session` extension (mpp.md §2).
//!
//! [`decode`] is the reference client's `mpp decode` (`decodeStripeChallenge`) made stricter
//! and safer:
//!
//! - it reads every challenge of every value and picks the first stripe challenge with intent
//!   `charge` or `session` that validates; malformed challenges and other methods are skipped.
//!   Among the valid ones it prefers one that can be paid (not expired, supported `header`);
//!   only if there is none does it return the first valid one, with warnings;
//! - the output has the reference fields (`id, realm, method, intent, description?, digest?,
//!   expires?, network_id, request_json`) plus `amount` (an integer number of the currency's
//!   smallest unit, parsed from the string `^(0|[1-9][0-9]*)$` and at most 2^53 − 1 so it is
//!   exact in JavaScript), `currency` (lower-cased 3-letter code), `payment_method_types`,
//!   `external_id?`, `warnings` and `challenge_index` (the position of the chosen challenge in
//!   `decodeChallenges`' list, to build its credential from the raw challenge);
//! - every string of the output, object keys included, is sanitized: it is safe to print.
//!
//! Warnings (`{code, message}`): `expired`, `expiring_soon` (within 30 s), `realm_mismatch`
//! (realm is neither the request URL's host nor a parent domain of it — a parent must contain
//! a dot), `unsupported_header`. An expired challenge still decodes; paying it is refused by
//! [`super::credential::build_credential`].

use super::challenge::{self, Challenge, decode_request, malformed, parse_challenges};
use super::json::{Kind, Raw};
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::sanitize::{one_line, sanitize_map};
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write as _;

/// Expiry closer than this (ms) gives an `expiring_soon` warning.
pub const EXPIRY_WARNING_MS: i64 = 30_000;

/// The largest amount accepted: `Number.MAX_SAFE_INTEGER`, so JavaScript reads it exactly.
pub const MAX_AMOUNT: u64 = (1 << 53) - 1;

const NO_STRIPE: &str =
    "WWW-Authenticate header does not include a stripe charge or session challenge";
const PREFIX: &str = "Invalid stripe challenge request: ";

/// Something a person should know before paying; the challenge still decodes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// `expired`, `expiring_soon`, `realm_mismatch` or `unsupported_header`.
    pub code: &'static str,
    pub message: String,
}

/// A decoded stripe charge/session challenge. The fields hold raw (unsanitized) values; the
/// `Serialize` impl produces the sanitized `decodeStripeChallenge` shape.
#[derive(Clone, Debug, PartialEq)]
pub struct StripeChallenge {
    /// The challenge itself, raw, for [`super::credential::build_credential`].
    pub challenge: Challenge,
    /// Its position among all parsed `Payment` challenges.
    pub index: usize,
    /// The sanitized request when sanitizing changes its text (else the text is shown as is).
    sanitized: Option<Value>,
    /// Smallest currency unit (cents).
    pub amount: u64,
    /// Lower-cased ISO 4217 code.
    pub currency: String,
    pub network_id: String,
    pub payment_method_types: Vec<String>,
    pub external_id: Option<String>,
    pub warnings: Vec<Warning>,
}

impl StripeChallenge {
    /// Validates a stripe challenge's request (`index` is only reported back).
    pub fn from_challenge(
        challenge: Challenge,
        index: usize,
        now_ms: i64,
        request_url: Option<&str>,
    ) -> Result<StripeChallenge> {
        // The fields are read in place; a map is only built when sanitizing must rewrite the
        // request for display (escapes, or characters `for_display` strips).
        let text = challenge.request_text();
        let sanitized = if text.contains('\\') || crate::sanitize::needs_stripping(text) {
            Some(Value::Object(sanitize_map(&challenge.request_json()?)))
        } else {
            None
        };
        let request = Raw::new(text);
        // The members read, found in one pass over the request (and one over methodDetails).
        let mut top = [None; 6];
        request.get_all(
            &[
                "amount",
                "currency",
                "methodDetails",
                "networkId",
                "paymentMethodTypes",
                "externalId",
            ],
            &mut top,
        );
        let [
            amount_v,
            currency_v,
            details_v,
            network_v,
            types_v,
            external_v,
        ] = top;
        let amount = amount(amount_v)?;
        let currency = currency(currency_v)?;
        let details = match details_v {
            None => None,
            Some(m) if m.kind() == Kind::Null => None,
            Some(m) if m.kind() == Kind::Object => Some(m),
            Some(_) => return Err(invalid("methodDetails: expected object")),
        };
        let mut inner = [None; 3];
        if let Some(m) = details {
            m.get_all(&["networkId", "paymentMethodTypes", "metadata"], &mut inner);
        }
        let [network_d, types_d, metadata] = inner;
        let network_id = match lookup(network_d, network_v).and_then(Raw::str) {
            Some(s) if !s.is_empty() => s.into_owned(),
            _ => return Err(invalid("methodDetails.networkId: missing")),
        };
        let Some(types) = lookup(types_d, types_v) else {
            return Err(invalid("methodDetails.paymentMethodTypes: missing"));
        };
        let items = types.items();
        if items.is_empty() {
            // Also any non-array.
            return Err(invalid(
                "methodDetails.paymentMethodTypes: expected a non-empty array of strings",
            ));
        }
        let mut payment_method_types = Vec::with_capacity(items.len());
        for item in items {
            let Some(t) = item.str() else {
                return Err(invalid(
                    "methodDetails.paymentMethodTypes: expected an array of strings",
                ));
            };
            payment_method_types.push(t.into_owned());
        }
        if metadata
            .filter(|m| m.kind() == Kind::Object)
            .is_some_and(|m| m.get("externalId").is_some())
        {
            return Err(invalid("methodDetails.metadata.externalId: reserved"));
        }
        let external_id = match external_v {
            None => None,
            Some(e) => match e.kind() {
                Kind::Null => None,
                Kind::String => e.str().map(std::borrow::Cow::into_owned),
                other => {
                    return Err(invalid(format!(
                        "externalId: expected string, received {}",
                        kind_name(other)
                    )));
                }
            },
        };
        let warnings = warnings(&challenge, now_ms, request_url);
        Ok(StripeChallenge {
            challenge,
            index,
            sanitized,
            amount,
            currency,
            network_id,
            payment_method_types,
            external_id,
            warnings,
        })
    }

    /// Whether no warning forbids paying (expired, unsupported header).
    pub fn payable(&self) -> bool {
        !self
            .warnings
            .iter()
            .any(|w| matches!(w.code, "expired" | "unsupported_header"))
    }

    /// The credential payload for this challenge and an SPT.
    pub fn payload(&self, spt: &str) -> Result<StripePayload> {
        StripePayload::new(&self.challenge.intent, spt, self.external_id.as_deref())
    }

    /// The sanitized `decodeStripeChallenge` JSON.
    pub fn to_json(&self) -> Value {
        // One writer: the value is read back from the text the npm package parses. The text is
        // valid JSON that serde_json reads (`request_json` either passed its parse, or is the
        // map it made written out), so the fallback is unreachable in practice.
        serde_json::from_str(&self.json_text()).unwrap_or_default()
    }

    /// [`StripeChallenge::to_json`] as JSON text, written directly. `request_json` is the
    /// decoded request's own text when sanitizing would not change it (no escapes, nothing
    /// [`for_display`] strips), which is the common case; otherwise the sanitized map.
    pub fn json_text(&self) -> String {
        use crate::json::write_string;
        let c = &self.challenge;
        let mut out = String::with_capacity(c.request_text().len() + 256);
        let member = |out: &mut String, key: &str, value: &str| {
            out.push_str(key);
            // Every member here is one line of text (ids, names, codes, the description).
            write_string(&one_line(value), out);
        };
        member(&mut out, "{\"id\":", &c.id);
        member(&mut out, ",\"realm\":", &c.realm);
        member(&mut out, ",\"method\":", &c.method);
        member(&mut out, ",\"intent\":", &c.intent);
        for (key, value) in [
            (",\"description\":", &c.description),
            (",\"digest\":", &c.digest),
            (",\"expires\":", &c.expires),
        ] {
            if let Some(v) = value {
                member(&mut out, key, v);
            }
        }
        member(&mut out, ",\"network_id\":", &self.network_id);
        out.push_str(",\"request_json\":");
        match &self.sanitized {
            None => out.push_str(c.request_text()),
            Some(map) => out.push_str(&crate::json_text(map)),
        }
        let _ = write!(out, ",\"amount\":{}", self.amount);
        member(&mut out, ",\"currency\":", &self.currency);
        let mut sep = ",\"payment_method_types\":[";
        for t in &self.payment_method_types {
            member(&mut out, sep, t);
            sep = ",";
        }
        if self.payment_method_types.is_empty() {
            out.push_str(sep);
        }
        out.push(']');
        if let Some(e) = &self.external_id {
            member(&mut out, ",\"external_id\":", e);
        }
        let mut sep = ",\"warnings\":[";
        for w in &self.warnings {
            out.push_str(sep);
            member(&mut out, "{\"code\":", w.code);
            member(&mut out, ",\"message\":", &w.message);
            out.push('}');
            sep = ",";
        }
        if self.warnings.is_empty() {
            out.push_str(sep);
        }
        let _ = write!(out, "],\"challenge_index\":{}}}", self.index);
        out
    }
}

impl crate::spend_request::ToJson for StripeChallenge {
    fn to_json(&self) -> Value {
        StripeChallenge::to_json(self)
    }
}

impl Serialize for StripeChallenge {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

fn invalid(what: impl AsRef<str>) -> Error {
    malformed(format!("{PREFIX}{}", what.as_ref()))
}

fn js_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `methodDetails.x ?? request.x`, as the reference client reads it.
fn lookup<'a>(details: Option<Raw<'a>>, request: Option<Raw<'a>>) -> Option<Raw<'a>> {
    let present = |v: &Raw<'_>| v.kind() != Kind::Null;
    details.filter(present).or_else(|| request.filter(present))
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Null => "null",
        Kind::Boolean => "boolean",
        Kind::Number => "number",
        Kind::String => "string",
        Kind::Array => "array",
        Kind::Object => "object",
    }
}

/// The string `value` of the request's member `key`.
fn required_string<'a>(value: Option<Raw<'a>>, key: &str) -> Result<std::borrow::Cow<'a, str>> {
    match value {
        None => Err(invalid(format!("{key}: missing"))),
        Some(v) => v.str().ok_or_else(|| {
            invalid(format!(
                "{key}: expected string, received {}",
                kind_name(v.kind())
            ))
        }),
    }
}

fn amount(value: Option<Raw<'_>>) -> Result<u64> {
    let raw = required_string(value, "amount")?;
    let canonical = !raw.is_empty()
        && raw.bytes().all(|b| b.is_ascii_digit())
        && (raw == "0" || !raw.starts_with('0'));
    if !canonical {
        return Err(invalid(
            "amount: expected an integer string in the smallest currency unit",
        ));
    }
    match raw.parse::<u64>() {
        Ok(n) if n <= MAX_AMOUNT => Ok(n),
        _ => Err(invalid(format!("amount: exceeds {MAX_AMOUNT}"))),
    }
}

fn currency(value: Option<Raw<'_>>) -> Result<String> {
    let raw = required_string(value, "currency")?;
    if raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(raw.to_ascii_lowercase())
    } else {
        Err(invalid("currency: expected a 3-letter ISO 4217 code"))
    }
}

fn warnings(c: &Challenge, now_ms: i64, request_url: Option<&str>) -> Vec<Warning> {
    let mut out = Vec::new();
    if let (Some(at), Some(raw)) = (c.expires_at_ms(), c.expires.as_deref()) {
        if at <= now_ms {
            out.push(Warning {
                code: "expired",
                message: format!("The challenge expired at {raw}; paying it will be refused"),
            });
        } else if at.saturating_sub(now_ms) < EXPIRY_WARNING_MS {
            // Saturating: `now_ms` comes from the caller (a JS number, a WIT s64) and may be far
            // from any real clock; `at - now_ms` overflowed for e.g. i64::MIN.
            out.push(Warning {
                code: "expiring_soon",
                message: format!(
                    "The challenge expires at {raw}, in less than {} s",
                    EXPIRY_WARNING_MS / 1000
                ),
            });
        }
    }
    if let Some(url) = request_url {
        match url_host(url) {
            None => out.push(Warning {
                code: "realm_mismatch",
                message: "The realm could not be checked: the request URL has no host".into(),
            }),
            Some((host, port)) if !realm_matches(&c.realm, &host, port) => out.push(Warning {
                code: "realm_mismatch",
                message: format!(
                    "The realm {} is not the request host {} or a parent domain of it",
                    challenge::quoted(&c.realm),
                    challenge::quoted(&host)
                ),
            }),
            Some(_) => {}
        }
    }
    if let Err(e) = c.credential_header() {
        out.push(Warning {
            code: "unsupported_header",
            message: e.message,
        });
    }
    out
}

/// Host (lower-cased, no trailing dot, IPv6 without brackets) and port of an absolute URL.
fn url_host(url: &str) -> Option<(String, Option<&str>)> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        (h, after.strip_prefix(':'))
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then_some((host, port))
}

fn realm_matches(realm: &str, host: &str, port: Option<&str>) -> bool {
    let realm = realm.trim_end_matches('.').to_ascii_lowercase();
    if realm == host {
        return true;
    }
    if let Some(p) = port
        && realm == format!("{host}:{p}")
    {
        return true;
    }
    realm.contains('.')
        && host.len() > realm.len()
        && host.ends_with(&realm)
        && host.as_bytes().get(host.len() - realm.len() - 1) == Some(&b'.')
}

/// `{index, code, message}` of a challenge `select` skipped.
fn error_entry(index: usize, e: &Error) -> Value {
    object!({ "index": index, "code": e.code.as_str(), "message": e.message.clone() })
}

/// Picks the stripe challenge from parse results (see the module docs for the order).
pub fn select(
    results: Vec<Result<Challenge>>,
    now_ms: i64,
    request_url: Option<&str>,
) -> Result<StripeChallenge> {
    if results.is_empty() {
        return Err(challenge::no_payment_challenge());
    }
    let mut fallback: Option<StripeChallenge> = None;
    let mut first_invalid: Option<Error> = None;
    let mut first_malformed: Option<Error> = None;
    let mut skipped = Vec::new();
    let mut any_valid = false;
    for (index, result) in results.into_iter().enumerate() {
        let c = match result {
            Ok(c) => c,
            Err(e) => {
                skipped.push(error_entry(index, &e));
                first_malformed.get_or_insert(e);
                continue;
            }
        };
        any_valid = true;
        if !candidate(&c.method, &c.intent) {
            continue;
        }
        match StripeChallenge::from_challenge(c, index, now_ms, request_url) {
            Ok(sc) if sc.payable() => return Ok(sc),
            Ok(sc) => {
                fallback.get_or_insert(sc);
            }
            Err(e) => {
                skipped.push(error_entry(index, &e));
                first_invalid.get_or_insert(e);
            }
        }
    }
    if let Some(sc) = fallback {
        return Ok(sc);
    }
    if let Some(e) = first_invalid {
        return Err(e);
    }
    match first_malformed {
        Some(e) if !any_valid => Err(e),
        _ => Err(Error::new(ErrorCode::MppNoStripeChallenge, NO_STRIPE)
            .with_details(object!({ "skipped": skipped }))),
    }
}

/// `decodeStripeChallenge`: parses the values and selects the stripe challenge.
///
/// At first only the stripe charge/session challenges' requests are decoded: once one of them
/// is chosen the others do not matter. Only when none is — an error that reports on every
/// challenge — is everything parsed in full, so the result is [`select`]'s either way.
pub fn decode(
    values: &[String],
    now_ms: i64,
    request_url: Option<&str>,
) -> Result<StripeChallenge> {
    let lazy = challenge::parse_challenges_for(values, &candidate);
    // Which challenge is chosen depends on the candidates alone; the errors may not.
    select(lazy, now_ms, request_url)
        .or_else(|_| select(parse_challenges(values), now_ms, request_url))
}

/// Whether a challenge's method and intent are ones this module decodes.
fn candidate(method: &str, intent: &str) -> bool {
    method == "stripe" && matches!(intent, "charge" | "session")
}

/// A stripe credential payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StripePayload {
    /// `{spt, externalId?}`: the request's `externalId` echoed (mppx servers reject a
    /// credential without it).
    Charge {
        spt: String,
        external_id: Option<String>,
    },
    /// `{action: "open", grantedToken}` (link-cli's session credential).
    Session { granted_token: String },
}

impl StripePayload {
    /// The payload for `intent` (`charge` or `session`).
    pub fn new(intent: &str, spt: &str, external_id: Option<&str>) -> Result<StripePayload> {
        if spt.is_empty() {
            return Err(Error::validation(vec![FieldError::new(
                "spt",
                "must not be empty",
            )]));
        }
        match intent {
            "charge" => Ok(StripePayload::Charge {
                spt: spt.to_string(),
                external_id: external_id.map(str::to_string),
            }),
            "session" => Ok(StripePayload::Session {
                granted_token: spt.to_string(),
            }),
            other => Err(Error::new(
                ErrorCode::MppUnsupportedChallenge,
                format!(
                    "Unsupported stripe intent {}: expected charge or session",
                    challenge::quoted(other)
                ),
            )),
        }
    }

    pub fn to_json(&self) -> Value {
        match self {
            StripePayload::Charge {
                spt,
                external_id: None,
            } => object!({ "spt": spt.as_str() }),
            StripePayload::Charge {
                spt,
                external_id: Some(e),
            } => object!({ "spt": spt.as_str(), "externalId": e.as_str() }),
            StripePayload::Session { granted_token } => {
                object!({ "action": "open", "grantedToken": granted_token.as_str() })
            }
        }
    }
}

/// `buildStripePayload`: the payload for a challenge object (the `decodeChallenges` shape; the
/// `decodeStripeChallenge` output works too) and an SPT. `externalId` is read from the raw
/// `request` when present, else from `request_json`.
pub fn payload(challenge: &Value, spt: &str) -> Result<Value> {
    let Some(obj) = challenge.as_object() else {
        return Err(malformed("challenge: expected object"));
    };
    if let Some(method) = obj.get("method")
        && method.as_str() != Some("stripe")
    {
        return Err(Error::new(
            ErrorCode::MppUnsupportedChallenge,
            "buildStripePayload needs a stripe challenge",
        ));
    }
    let Some(intent) = obj.get("intent").and_then(Value::as_str) else {
        return Err(malformed("challenge.intent: expected string"));
    };
    let request = match obj.get("request") {
        Some(Value::String(raw)) => Some(
            super::json::parse_object(&decode_request(raw)?)
                .map_err(|e| malformed(format!("Invalid request: {e}")))?,
        ),
        _ => obj.get("request_json").and_then(Value::as_object).cloned(),
    };
    let external_id = match request.as_ref().and_then(|r| r.get("externalId")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(other) => {
            return Err(invalid(format!(
                "externalId: expected string, received {}",
                js_type(other)
            )));
        }
    };
    Ok(StripePayload::new(intent, spt, external_id)?.to_json())
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &str = "eyJhbW91bnQiOiIxMDAwIiwiY3VycmVuY3kiOiJ1c2QiLCJtZXRob2REZXRhaWxzIjp7Im5ldHdvcmtJZCI6Im5ldF8xMjMiLCJwYXltZW50TWV0aG9kVHlwZXMiOlsiY2FyZCJdfX0";

    fn warning_codes(expires: &str, now_ms: i64) -> Vec<&'static str> {
        let header = format!(
            r#"Payment id="x", realm="r.example", method="stripe", intent="charge", request="{REQUEST}", expires="{expires}""#
        );
        decode(&[header], now_ms, None)
            .unwrap()
            .warnings
            .iter()
            .map(|w| w.code)
            .collect()
    }

    /// Regression: `at - now_ms` overflowed (a panic with overflow checks, a wrong
    /// `expiring_soon` without) when `now_ms` was far below `expires`.
    #[test]
    fn expiry_warnings_at_extreme_clocks() {
        assert!(warning_codes("9999-12-31T23:59:59Z", i64::MIN).is_empty());
        assert!(warning_codes("0001-01-01T00:00:00Z", i64::MIN + 1).is_empty());
        assert_eq!(warning_codes("0001-01-01T00:00:00Z", i64::MAX), ["expired"]);
        assert_eq!(warning_codes("2026-01-01T00:00:00Z", i64::MAX), ["expired"]);
        assert_eq!(
            warning_codes("2026-01-01T00:00:10Z", 1_767_225_600_000),
            ["expiring_soon"]
        );
    }

    #[test]
    fn realm_rules() {
        assert!(realm_matches("example.com", "api.example.com", None));
        assert!(realm_matches("api.example.com", "api.example.com", None));
        assert!(realm_matches("API.example.com.", "api.example.com", None));
        assert!(realm_matches("localhost:3000", "localhost", Some("3000")));
        assert!(!realm_matches("com", "example.com", None));
        assert!(!realm_matches("ample.com", "example.com", None));
        assert!(!realm_matches("evil.com", "example.com", None));
        assert_eq!(
            url_host("https://user@API.Example.com.:8443/x?y"),
            Some(("api.example.com".into(), Some("8443")))
        );
        assert_eq!(
            url_host("http://[::1]:80/"),
            Some(("::1".into(), Some("80")))
        );
        assert_eq!(url_host("not a url"), None);
    }
}
