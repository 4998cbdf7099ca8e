//! The OAuth device-authorization flow (RFC 8628) and the token lifecycle, without I/O.
//!
//! The driver sends the form bodies built here to `login.link.com`, hands the answers back
//! (HTTP status and body text) and stores what comes out: a [`PendingDeviceAuth`] while the
//! person approves on their phone, then a [`TokenSet`]. Which token to send, when to refresh
//! and what to do on a 401 are decided by [`TokenSource`]. Record shapes match the reference
//! client's credential file, so a file written by either can be read by the other.
//!
//! One deliberate difference from the reference: `slow_down` adds 5 s to the poll interval,
//! as RFC 8628 §3.5 asks, instead of being treated like `authorization_pending`.

use crate::error::{Error, ErrorCode, Result};
use crate::record::{
    Decode, Secret, ToJson, decode_as_object, decode_root, js_number, record, serialize_as_json,
};
use serde_json::Value;
use std::fmt::Write as _;

/// The Link CLI's public OAuth client id, which linkpay shares.
pub const CLIENT_ID: &str = "lwlpk_U7Qy7ThG69STZk";
/// The scope asked for when the caller names none.
pub const DEFAULT_SCOPE: &str = "userinfo:read payment_methods.agentic";
/// The auth server; `LINK_AUTH_BASE_URL` overrides it.
pub const DEFAULT_AUTH_BASE_URL: &str = "https://login.link.com";
/// Starts the device flow.
pub const DEVICE_CODE_PATH: &str = "/device/code";
/// Polled for tokens, and used for refreshing them.
pub const DEVICE_TOKEN_PATH: &str = "/device/token";
/// Revokes a refresh token.
pub const DEVICE_REVOKE_PATH: &str = "/device/revoke";
/// Tokens are refreshed this long before they expire, so a request never races the expiry.
pub const REFRESH_MARGIN_MS: i64 = 60_000;
/// What `slow_down` adds to the poll interval (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP_S: u64 = 5;
/// The poll interval when the device-code answer names none (RFC 8628 §3.2).
pub const DEFAULT_INTERVAL_S: u64 = 5;

const GRANT_DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// An `application/x-www-form-urlencoded` body as ordered pairs; [`encode_form`] serialises it.
pub type Form = Vec<(String, String)>;

fn pair(key: &str, value: &str) -> (String, String) {
    (key.to_string(), value.to_string())
}

/// What a login asks for. `hostname` is the host's (the core cannot know it); it only labels
/// the connection in the person's Link account.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeviceCodeRequest {
    /// Shown to the person: `connection_label` is `"<client_name> on <hostname>"`.
    pub client_name: String,
    /// The host's name (`os.hostname()` in Node); the core cannot look it up.
    pub hostname: String,
    /// Space-separated scopes; [`DEFAULT_SCOPE`] when `None`.
    pub scope: Option<String>,
    /// Financial-insights source actions (`read_balances`, …), sent first as one
    /// `{type: "source", actions}` authorization detail; duplicates are dropped.
    pub source_actions: Vec<String>,
    /// Free-form authorization details, sent after the source detail.
    pub authorization_details: Vec<Value>,
}

impl DeviceCodeRequest {
    /// The `/device/code` form, field for field and in the reference client's order.
    pub fn form(&self) -> Form {
        let mut form = vec![
            pair("client_id", CLIENT_ID),
            pair("scope", self.scope.as_deref().unwrap_or(DEFAULT_SCOPE)),
            pair(
                "connection_label",
                &format!("{} on {}", self.client_name, self.hostname),
            ),
            pair("client_hint", &self.client_name),
        ];
        let mut actions: Vec<&String> = Vec::new();
        for action in &self.source_actions {
            if !actions.contains(&action) {
                actions.push(action);
            }
        }
        if !actions.is_empty() {
            let actions: Vec<Value> = actions.iter().map(|a| Value::from(a.as_str())).collect();
            let source = object!({ "type": "source", "actions": actions });
            flatten(&mut form, "authorization_details[]", &source);
        }
        for detail in &self.authorization_details {
            flatten(&mut form, "authorization_details[]", detail);
        }
        form
    }
}

/// `auth upgrade`'s warnings, when there is no session to extend (the new one has only the
/// requested access).
pub const UPGRADE_NO_SESSION: &str =
    "warning: no active session to upgrade; continuing with only the requested access.";
/// …or when the session could not be refreshed (it is forgotten).
pub const UPGRADE_REFRESH_FAILED: &str =
    "warning: could not refresh the existing session; continuing with only the requested access.";

/// `auth upgrade`: the access to ask for so that the new session is a superset of the current
/// one. Scopes: the requested tokens first, then the session's not already asked for (tokens
/// split on whitespace or commas, as the token endpoint echoes them comma-separated; an empty
/// side counts as [`DEFAULT_SCOPE`]). Authorization details: `{type, actions[]}` ones unioned
/// per type (first seen first, requested before existing); any other kept once (by its JSON).
/// `requested` already has its source actions folded in as a `source` detail.
pub fn merged_access(
    requested_scope: Option<&str>,
    requested_details: &[Value],
    existing_scope: Option<&str>,
    existing_details: &[Value],
) -> (String, Vec<Value>) {
    let tokens = |scope: Option<&str>| -> Vec<String> {
        let split: Vec<String> = scope
            .unwrap_or("")
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        if split.is_empty() {
            DEFAULT_SCOPE.split(' ').map(str::to_string).collect()
        } else {
            split
        }
    };
    let mut scope = tokens(requested_scope);
    for token in tokens(existing_scope) {
        if !scope.contains(&token) {
            scope.push(token);
        }
    }
    let mut details: Vec<Value> = Vec::new();
    let mut seen_other: Vec<String> = Vec::new();
    for detail in requested_details.iter().chain(existing_details) {
        let typed = detail
            .get("type")
            .and_then(Value::as_str)
            .zip(detail.get("actions").and_then(Value::as_array))
            .filter(|_| detail.as_object().is_some_and(|o| o.len() == 2));
        match typed {
            Some((kind, actions)) => {
                let existing = details.iter_mut().find(|d| {
                    d.get("type").and_then(Value::as_str) == Some(kind)
                        && d.get("actions").is_some_and(Value::is_array)
                });
                match existing
                    .and_then(|d| d.get_mut("actions"))
                    .and_then(Value::as_array_mut)
                {
                    Some(merged) => {
                        for action in actions {
                            if !merged.contains(action) {
                                merged.push(action.clone());
                            }
                        }
                    }
                    None => {
                        let mut unique: Vec<Value> = Vec::new();
                        for action in actions {
                            if !unique.contains(action) {
                                unique.push(action.clone());
                            }
                        }
                        details.push(object!({ "type": kind, "actions": unique }));
                    }
                }
            }
            None => {
                let text = crate::json_text(detail);
                if !seen_other.contains(&text) {
                    seen_other.push(text);
                    details.push(detail.clone());
                }
            }
        }
    }
    (scope.join(" "), details)
}

/// The `source` detail that `--source-actions` stand for (`None` without actions).
pub fn source_detail(actions: &[String]) -> Option<Value> {
    let mut unique: Vec<Value> = Vec::new();
    for action in actions {
        let action = Value::from(action.as_str());
        if !unique.contains(&action) {
            unique.push(action);
        }
    }
    (!unique.is_empty()).then(|| object!({ "type": "source", "actions": unique }))
}

/// Bracket-encodes a JSON value the way the reference client does: objects as `key[sub]`,
/// arrays as `key[]` per element, primitives as JavaScript's `String(v)`.
fn flatten(form: &mut Form, key: &str, value: &Value) {
    match value {
        Value::Array(items) => {
            for item in items {
                flatten(form, &format!("{key}[]"), item);
            }
        }
        Value::Object(object) => {
            for (k, v) in js_entry_order(object) {
                flatten(form, &format!("{key}[{k}]"), v);
            }
        }
        primitive => form.push((key.to_string(), js_string(primitive))),
    }
}

/// `Object.entries` order: integer-like keys ascending first, then the rest as inserted.
fn js_entry_order(object: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let index = |k: &str| -> Option<u32> {
        let canonical = k == "0" || (!k.starts_with('0') && k.bytes().all(|b| b.is_ascii_digit()));
        if canonical && !k.is_empty() {
            k.parse::<u32>().ok().filter(|n| *n < u32::MAX)
        } else {
            None
        }
    };
    let mut indexed: Vec<(u32, (&String, &Value))> = object
        .iter()
        .filter_map(|(k, v)| index(k).map(|n| (n, (k, v))))
        .collect();
    indexed.sort_by_key(|(n, _)| *n);
    let mut entries: Vec<(&String, &Value)> = indexed.into_iter().map(|(_, e)| e).collect();
    entries.extend(object.iter().filter(|(k, _)| index(k).is_none()));
    entries
}

/// JavaScript's `String(v)` for JSON primitives (and compact JSON for anything else).
fn js_string(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) => js_number(f),
            _ => n.to_string(),
        },
        other => crate::json_text(other),
    }
}

/// The `/device/token` form that polls for the person's approval.
pub fn device_token_form(device_code: &Secret) -> Form {
    vec![
        pair("grant_type", GRANT_DEVICE_CODE),
        pair("device_code", device_code.expose()),
        pair("client_id", CLIENT_ID),
    ]
}

/// The `/device/token` form that trades a refresh token for new tokens.
pub fn refresh_form(refresh_token: &Secret) -> Form {
    vec![
        pair("grant_type", "refresh_token"),
        pair("refresh_token", refresh_token.expose()),
        pair("client_id", CLIENT_ID),
    ]
}

/// The `/device/revoke` form; Link revokes sessions by their **refresh** token.
pub fn revoke_form(refresh_token: &Secret) -> Form {
    vec![
        pair("client_id", CLIENT_ID),
        pair("token", refresh_token.expose()),
    ]
}

/// Serialises a form like `URLSearchParams.toString()`: UTF-8, space as `+`, alphanumerics and
/// `*-._` kept, every other byte `%XX` (upper case).
pub fn encode_form(form: &[(String, String)]) -> String {
    fn push_encoded(out: &mut String, s: &str) {
        for b in s.bytes() {
            match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                    out.push(char::from(b));
                }
                b' ' => out.push('+'),
                _ => {
                    let _ = write!(out, "%{b:02X}");
                }
            }
        }
    }
    let mut out = String::new();
    for (i, (key, value)) in form.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        push_encoded(&mut out, key);
        out.push('=');
        push_encoded(&mut out, value);
    }
    out
}

record! {
    /// A device authorization waiting for the person, stored between polls (the reference's
    /// `pendingDeviceAuth`). `Debug` hides `device_code`.
    #[derive(Debug)]
    pub struct PendingDeviceAuth {
        pub device_code: Secret,
        /// Seconds between polls; grows by 5 on each `slow_down`.
        pub interval: u64,
        /// Epoch milliseconds after which the device code is dead.
        pub expires_at: i64,
        /// The complete verification URI (with the code): what the person opens.
        pub verification_url: String,
        /// The user code, which the person checks against their screen.
        pub phrase: String,
        /// Set by `auth upgrade`: the new grant replaces a live session, whose refresh token
        /// is revoked once the new tokens arrive.
        pub replaces_existing_session: Option<bool>,
        /// When `/device/token` was last polled for this code, epoch milliseconds, so that no
        /// caller polls again before [`PendingDeviceAuth::next_poll_at_ms`]. Absent before the
        /// first poll and in records written by the reference client or older linkpay versions
        /// (which keep it as an unknown member).
        pub polled_at_ms: Option<i64>,
    }
}

record! {
    /// Stored tokens (the reference's `auth` record). `Debug` hides both tokens.
    #[derive(Debug)]
    pub struct TokenSet {
        pub access_token: Secret,
        pub refresh_token: Option<Secret>,
        /// Lifetime in seconds, as the token endpoint said.
        pub expires_in: Option<i64>,
        pub token_type: Option<String>,
        /// Granted scopes, as echoed (comma- or space-separated).
        pub scope: Option<String>,
        pub authorization_details: Option<Vec<Value>>,
        /// Epoch milliseconds: `now + expires_in * 1000` when received.
        pub expires_at: Option<i64>,
    }
}

record! {
    /// The `/device/code` answer.
    #[derive(Debug)]
    struct DeviceCodeResponse {
        pub device_code: Secret,
        pub user_code: String,
        pub verification_uri: Option<String>,
        pub verification_uri_complete: Option<String>,
        pub expires_in: i64,
        pub interval: Option<u64>,
    }
}

record! {
    /// A `/device/token` success answer.
    #[derive(Debug)]
    struct TokenResponse {
        pub access_token: Secret,
        pub refresh_token: Option<Secret>,
        pub token_type: Option<String>,
        pub expires_in: Option<i64>,
        pub scope: Option<String>,
        pub authorization_details: Option<Vec<Value>>,
    }
}

decode_as_object!(
    PendingDeviceAuth,
    TokenSet,
    DeviceCodeResponse,
    TokenResponse
);

/// A parsed answer: the JSON value when the body is JSON (`None` otherwise) and the raw text.
struct Answer<'a> {
    status: u16,
    data: Option<Value>,
    raw: &'a str,
}

impl<'a> Answer<'a> {
    fn new(status: u16, raw: &'a str) -> Self {
        Answer {
            status,
            data: serde_json::from_str(raw).ok(),
            raw,
        }
    }

    fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `error` when it is a string: the OAuth error code.
    fn oauth_code(&self) -> Option<&str> {
        self.data.as_ref()?.get("error")?.as_str()
    }

    /// The OAuth message precedence of the reference: `error_description` (even `""`), `error`
    /// as a string, `error.message`, `error` as JSON, the raw body, "unknown error".
    fn message(&self) -> String {
        if let Some(Value::Object(object)) = &self.data {
            if let Some(description) = object.get("error_description").filter(|v| !v.is_null()) {
                return js_string(description);
            }
            match object.get("error") {
                Some(Value::String(code)) => return code.clone(),
                Some(error @ (Value::Object(_) | Value::Array(_))) => {
                    return match error.get("message").filter(|m| !m.is_null()) {
                        Some(message) => js_string(message),
                        None => crate::json_text(error),
                    };
                }
                _ => {}
            }
        }
        if self.raw.is_empty() {
            "unknown error".to_string()
        } else {
            self.raw.to_string()
        }
    }

    /// `{status, body}`: the parsed body, or the raw text when it is not JSON.
    fn details(&self) -> Value {
        let body = match &self.data {
            Some(data) => data.clone(),
            None => Value::String(self.raw.to_string()),
        };
        object!({ "status": self.status, "body": body })
    }

    fn error(&self, code: ErrorCode, message: impl Into<String>) -> Error {
        Error::new(code, message).with_details(self.details())
    }

    fn api_error(&self, prefix: &str) -> Error {
        self.error(
            ErrorCode::ApiError,
            format!("{prefix} ({}): {}", u32::from(self.status), self.message()),
        )
    }

    /// Decodes a 2xx body; `INVALID_RESPONSE` with the broken fields otherwise.
    fn decode<T: Decode>(&self, what: &str) -> Result<T> {
        let data = self.data.as_ref().unwrap_or(&Value::Null);
        decode_root(data, "").map_err(|e| self.unusable(what, e))
    }

    /// `INVALID_RESPONSE` "<what> returned an unusable body: <path> <message>, …".
    fn unusable(&self, what: &str, e: Error) -> Error {
        let mut message = format!("{what} returned an unusable body: ");
        for (i, f) in e.field_errors.iter().enumerate() {
            if i > 0 {
                message.push_str(", ");
            }
            message.push_str(if f.path.is_empty() { "body" } else { &f.path });
            message.push(' ');
            message.push_str(&f.message);
        }
        Error {
            code: ErrorCode::InvalidResponse,
            message,
            field_errors: e.field_errors,
            details: Some(Box::new(self.details())),
        }
    }
}

impl PendingDeviceAuth {
    /// Decodes a stored pending record; `VALIDATION_ERROR` paths are prefixed `pending.`.
    pub fn decode(value: &Value) -> Result<PendingDeviceAuth> {
        decode_root(value, "pending")
    }

    /// The earliest time `/device/token` may be polled again: `interval` seconds (or
    /// `min_gap_ms`, the caller's own poll interval, if longer) after the last poll; `now_ms`
    /// when it was never polled. A last poll later than `now_ms` (the clock went back) counts
    /// as now, so a wrong clock delays the next poll by one interval at most.
    pub fn next_poll_at_ms(&self, now_ms: i64, min_gap_ms: i64) -> i64 {
        let Some(polled_at_ms) = self.polled_at_ms else {
            return now_ms;
        };
        let interval_ms = i64::try_from(self.interval.saturating_mul(1000)).unwrap_or(i64::MAX);
        polled_at_ms
            .min(now_ms)
            .saturating_add(interval_ms.max(min_gap_ms))
    }

    /// The device code can no longer be approved: stop polling and start over.
    pub fn is_expired(&self, now_ms: i64) -> bool {
        now_ms >= self.expires_at
    }

    /// Steps the flow with the answer to one `/device/token` poll (see [`LoginState`]).
    ///
    /// A still-pending answer after `expires_at` is `DEVICE_CODE_EXPIRED`; tokens, a denial
    /// or a decline are believed whenever they arrive.
    pub fn handle_token_response(
        &self,
        status: u16,
        body: &str,
        now_ms: i64,
    ) -> Result<LoginState> {
        let answer = Answer::new(status, body);
        if answer.is_success() {
            return Ok(LoginState::Authenticated {
                tokens: token_set(&answer, now_ms, "Token poll")?,
            });
        }
        if status == 400 {
            match answer.oauth_code() {
                Some(code @ ("authorization_pending" | "slow_down")) => {
                    if self.is_expired(now_ms) {
                        return Err(device_code_expired().with_details(answer.details()));
                    }
                    let mut pending = self.clone();
                    pending.polled_at_ms = Some(now_ms);
                    if code == "slow_down" {
                        pending.interval = pending.interval.saturating_add(SLOW_DOWN_STEP_S);
                    }
                    return Ok(LoginState::Pending {
                        next_poll_at_ms: pending.next_poll_at_ms(now_ms, 0),
                        pending,
                    });
                }
                Some("expired_token") => {
                    return Err(device_code_expired().with_details(answer.details()));
                }
                Some("access_denied") => {
                    return Err(answer.error(
                        ErrorCode::AuthorizationDenied,
                        "Authorization denied by user.",
                    ));
                }
                Some("authorization_failed") => {
                    let eligibility = answer
                        .data
                        .as_ref()
                        .and_then(|d| d.get("scope_eligibility"))
                        .cloned()
                        .unwrap_or_else(|| object!({}));
                    return Err(Error::new(
                        ErrorCode::AuthorizationDeclined,
                        "Authorization declined: account is not eligible for requested scopes",
                    )
                    .with_details(object!({ "scope_eligibility": eligibility })));
                }
                _ => {}
            }
        }
        Err(answer.api_error("Token poll failed"))
    }
}

fn device_code_expired() -> Error {
    Error::new(
        ErrorCode::DeviceCodeExpired,
        "Device code expired. Please restart the login flow.",
    )
}

/// Where a device authorization stands after one poll.
#[derive(Clone, Debug, PartialEq)]
pub enum LoginState {
    /// Not approved yet: store `pending` (its interval may have grown) and poll again at
    /// `next_poll_at_ms` (give it to the poll as `poll::State::not_before_ms`, so that a
    /// `slow_down` outlasts a shorter `--interval`).
    Pending {
        /// The record to store in place of the old one.
        pending: PendingDeviceAuth,
        /// Epoch milliseconds before which the server must not be asked again.
        next_poll_at_ms: i64,
    },
    /// Approved: store `tokens`, delete the pending record, and if it
    /// `replaces_existing_session`, revoke the old refresh token.
    Authenticated {
        /// The new session, `expires_at` stamped.
        tokens: TokenSet,
    },
}

impl ToJson for LoginState {
    fn to_json(&self) -> Value {
        match self {
            LoginState::Pending {
                pending,
                next_poll_at_ms,
            } => object!({
                "state": "pending",
                "pending": pending.to_json(),
                "next_poll_at_ms": *next_poll_at_ms,
            }),
            LoginState::Authenticated { tokens } => object!({
                "state": "authenticated",
                "tokens": tokens.to_json(),
            }),
        }
    }
}

serialize_as_json!(LoginState);

/// Starts the device flow from the `/device/code` answer: the record to store and show
/// (`verification_url`, `phrase`). `API_ERROR` `"Device auth initiation failed (<status>): …"`
/// for an error answer.
pub fn handle_device_code_response(
    status: u16,
    body: &str,
    now_ms: i64,
    replaces_existing_session: bool,
) -> Result<PendingDeviceAuth> {
    let answer = Answer::new(status, body);
    if !answer.is_success() {
        return Err(answer.api_error("Device auth initiation failed"));
    }
    let code: DeviceCodeResponse = answer.decode("Device auth initiation")?;
    let Some(verification_url) = code.verification_uri_complete.or(code.verification_uri) else {
        return Err(Error {
            field_errors: vec![crate::error::FieldError::new(
                "verification_uri_complete",
                "is required",
            )],
            ..answer.error(
                ErrorCode::InvalidResponse,
                "Device auth initiation returned no verification URI",
            )
        });
    };
    Ok(PendingDeviceAuth {
        device_code: code.device_code,
        interval: code.interval.unwrap_or(DEFAULT_INTERVAL_S),
        expires_at: now_ms.saturating_add(code.expires_in.saturating_mul(1000)),
        verification_url,
        phrase: code.user_code,
        replaces_existing_session: replaces_existing_session.then_some(true),
        polled_at_ms: None,
        extra: serde_json::Map::new(),
    })
}

/// Steps the device flow with a `/device/token` answer; `pending` is the stored record.
///
/// Errors: `DEVICE_CODE_EXPIRED`, `AUTHORIZATION_DENIED`, `AUTHORIZATION_DECLINED` (with
/// `details.scope_eligibility`), `INVALID_RESPONSE` for an unusable 2xx body, `API_ERROR`
/// `"Token poll failed (<status>): <message>"` for anything else.
pub fn handle_token_response(
    pending: &Value,
    status: u16,
    body: &str,
    now_ms: i64,
) -> Result<LoginState> {
    PendingDeviceAuth::decode(pending)?.handle_token_response(status, body, now_ms)
}

fn token_set(answer: &Answer<'_>, now_ms: i64, what: &str) -> Result<TokenSet> {
    let response: TokenResponse = answer.decode(what)?;
    Ok(TokenSet {
        access_token: response.access_token,
        refresh_token: response.refresh_token,
        expires_at: response
            .expires_in
            .map(|s| now_ms.saturating_add(s.saturating_mul(1000))),
        expires_in: response.expires_in,
        token_type: response.token_type,
        // The reference drops an empty scope rather than storing "".
        scope: response.scope.filter(|s| !s.is_empty()),
        authorization_details: response.authorization_details,
        extra: serde_json::Map::new(),
    })
}

/// Reads the tokens of a 2xx `/device/token` body, stamping `expires_at` from `now_ms`.
/// `INVALID_RESPONSE` when there is no usable `access_token`.
pub fn tokens_from_response(body: &str, now_ms: i64) -> Result<TokenSet> {
    token_set(&Answer::new(200, body), now_ms, "Token endpoint")
}

/// Reads a refresh answer. When the server does not rotate the refresh token, the one that
/// was `used` stays valid and is kept (RFC 6749 §6).
pub fn handle_refresh_response(
    status: u16,
    body: &str,
    now_ms: i64,
    used: &Secret,
) -> Result<TokenSet> {
    let answer = Answer::new(status, body);
    if !answer.is_success() {
        return Err(answer.api_error("Token refresh failed"));
    }
    let mut tokens = token_set(&answer, now_ms, "Token refresh")?;
    if tokens.refresh_token.is_none() {
        tokens.refresh_token = Some(used.clone());
    }
    Ok(tokens)
}

/// Reads a revoke answer. Callers treat revocation as best effort and ignore the error, as
/// the reference does; it exists so that it can be logged.
pub fn handle_revoke_response(status: u16, body: &str) -> Result<()> {
    let answer = Answer::new(status, body);
    if answer.is_success() {
        Ok(())
    } else {
        Err(answer.api_error("Token revocation failed"))
    }
}

impl TokenSet {
    /// Decodes stored tokens; `VALIDATION_ERROR` paths are relative to the record.
    pub fn decode(value: &Value) -> Result<TokenSet> {
        decode_root(value, "")
    }

    /// Refresh before use: within [`REFRESH_MARGIN_MS`] of `expires_at`. Tokens without
    /// `expires_at` are used until a 401 says otherwise.
    pub fn needs_refresh(&self, now_ms: i64) -> bool {
        self.expires_at
            .is_some_and(|at| now_ms >= at.saturating_sub(REFRESH_MARGIN_MS))
    }
}

/// Whether stored tokens must be refreshed before use (see [`TokenSet::needs_refresh`]).
pub fn needs_refresh(tokens: &Value, now_ms: i64) -> Result<bool> {
    Ok(TokenSet::decode(tokens)?.needs_refresh(now_ms))
}

/// Where the access token comes from, which decides refreshing and 401 handling.
#[derive(Clone, Debug, PartialEq)]
pub enum TokenSource {
    /// Tokens from storage: refreshed when near expiry, rotated tokens stored again.
    Stored(TokenSet),
    /// `LINK_ACCESS_TOKEN` (and optionally `LINK_REFRESH_TOKEN`): used as is, with no expiry
    /// check; a 401 may refresh once with the env refresh token, and nothing is stored.
    Env {
        /// `LINK_ACCESS_TOKEN`.
        access_token: Secret,
        /// `LINK_REFRESH_TOKEN`, if set.
        refresh_token: Option<Secret>,
    },
}

/// A refresh the driver must perform: POST [`refresh_form`] and read it with
/// [`handle_refresh_response`]; store the result only when `persist`.
#[derive(Clone, Debug, PartialEq)]
pub struct Refresh {
    /// The token to put in [`refresh_form`].
    pub refresh_token: Secret,
    /// Store the new tokens (stored sessions); env-token mode uses them for one retry only.
    pub persist: bool,
}

/// What to do before sending an API request.
#[derive(Clone, Debug, PartialEq)]
pub enum TokenStep {
    /// Send this bearer token.
    Use(Secret),
    /// Refresh first, then send the new access token.
    Refresh(Refresh),
}

impl TokenSource {
    /// The token to send now. `no_refresh` is `LINK_NO_REFRESH`: an expired stored token is
    /// then `TOKEN_EXPIRED` instead of a refresh.
    pub fn before_request(&self, now_ms: i64, no_refresh: bool) -> Result<TokenStep> {
        match self {
            TokenSource::Env { access_token, .. } => Ok(TokenStep::Use(access_token.clone())),
            TokenSource::Stored(tokens) if !tokens.needs_refresh(now_ms) => {
                Ok(TokenStep::Use(tokens.access_token.clone()))
            }
            TokenSource::Stored(_) => self.forced_refresh(no_refresh).map(TokenStep::Refresh),
        }
    }

    /// A request came back 401. The first time: refresh once, then retry once (`Some`).
    /// After that retry (`retried`): `None`, report the 401 as the API error it is.
    /// `TOKEN_EXPIRED` when refreshing is off or impossible.
    pub fn on_unauthorized(&self, retried: bool, no_refresh: bool) -> Result<Option<Refresh>> {
        if retried {
            return Ok(None);
        }
        self.forced_refresh(no_refresh).map(Some)
    }

    fn forced_refresh(&self, no_refresh: bool) -> Result<Refresh> {
        match self {
            TokenSource::Env {
                refresh_token: Some(refresh_token),
                ..
            } if !no_refresh => Ok(Refresh {
                refresh_token: refresh_token.clone(),
                persist: false,
            }),
            TokenSource::Env { .. } => Err(Error::new(
                ErrorCode::TokenExpired,
                "Access token expired. Update LINK_ACCESS_TOKEN and retry.",
            )),
            TokenSource::Stored(TokenSet {
                refresh_token: Some(refresh_token),
                ..
            }) if !no_refresh => Ok(Refresh {
                refresh_token: refresh_token.clone(),
                persist: true,
            }),
            TokenSource::Stored(_) => Err(Error::new(
                ErrorCode::TokenExpired,
                "Access token expired. Re-authenticate with \"linkpay auth login\".",
            )),
        }
    }
}

// ------------------------------------------------------------------ one refresh, many callers

/// How long a [`RefreshLease`] holds when its owner never releases it (a killed process): a
/// refresh is one request, bounded by the request timeout, so other callers wait at most this.
pub const LEASE_TTL_MS: i64 = 15_000;
/// How long a claim is left to settle before it is read back (see [`RefreshLease`]).
pub const LEASE_SETTLE_MS: u64 = 60;
/// How often a caller waiting for someone else's refresh looks at storage again.
pub const LEASE_POLL_MS: u64 = 50;
/// After a refused refresh (`invalid_grant`), how long the stored tokens are watched for the
/// ones another process rotated to, before the refusal is reported.
pub const ROTATION_WAIT_MS: i64 = 3_000;

/// A claim on the one refresh of a stored session, kept in storage next to the tokens, so
/// that the processes sharing that storage (parallel CLI calls, `serve`, components) send one
/// refresh between them and the others wait for the rotated tokens: the server rotates the
/// refresh token on every use and refuses the old one (`invalid_grant`).
///
/// Storage offers no compare-and-set, so a claim is written, left [`LEASE_SETTLE_MS`] to
/// settle, and read back: whoever's claim is still there refreshes (Fischer's mutual
/// exclusion). Should two claims cross anyway (a storage write slower than the settle time),
/// the second refresh is refused and [`refresh_refused`] has the driver re-read the tokens the
/// first one stored; the lease only saves that round trip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshLease {
    /// Random, per claim.
    pub owner: String,
    /// Epoch ms after which the claim is void.
    pub expires_at: i64,
}

impl RefreshLease {
    /// A claim by `owner` from `now_ms`, for [`LEASE_TTL_MS`].
    pub fn new(owner: String, now_ms: i64) -> Self {
        RefreshLease {
            owner,
            expires_at: now_ms.saturating_add(LEASE_TTL_MS),
        }
    }

    /// A stored claim; anything unreadable is no claim (`None`): a lease is advisory.
    pub fn decode(value: &Value) -> Option<Self> {
        Some(RefreshLease {
            owner: value.get("owner")?.as_str()?.to_string(),
            expires_at: value.get("expires_at")?.as_i64()?,
        })
    }

    pub fn to_json(&self) -> Value {
        object!({ "owner": self.owner.clone(), "expires_at": self.expires_at })
    }

    /// Whether the claim still holds at `now_ms` (one from a clock far ahead does not hold
    /// longer than [`LEASE_TTL_MS`] from now).
    pub fn is_live(&self, now_ms: i64) -> bool {
        now_ms < self.expires_at && self.expires_at <= now_ms.saturating_add(LEASE_TTL_MS)
    }
}

/// Whether a refresh answer refuses the refresh token itself (`invalid_grant`, RFC 6749 §5.2):
/// used already (Link rotates refresh tokens on every refresh, so a second process refreshing
/// with the same token gets this), revoked or expired. The driver then looks for tokens
/// another process stored ([`TokenSet::is_rotation_of`]) before reporting the refusal.
pub fn refresh_refused(status: u16, body: &str) -> bool {
    matches!(status, 400 | 401) && Answer::new(status, body).oauth_code() == Some("invalid_grant")
}

impl TokenSet {
    /// Whether these stored tokens replace `used` (someone refreshed or logged in since
    /// `used` was read): then they are used instead of refreshing again.
    pub fn is_rotation_of(&self, used: &TokenSet) -> bool {
        self.access_token != used.access_token || self.refresh_token != used.refresh_token
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(form: &Form) -> String {
        encode_form(form)
    }

    #[test]
    fn upgrade_asks_for_a_superset() {
        let (scope, details) = merged_access(
            Some("userinfo:read"),
            &[
                json!({"type": "source", "actions": ["read_balances"]}),
                json!({"x": 1}),
            ],
            Some("payment_methods.agentic,userinfo:read"),
            &[
                json!({"type": "source", "actions": ["read_balances", "read_link_transactions"]}),
                json!({"x": 1}),
                json!({"type": "account", "actions": ["read"]}),
            ],
        );
        assert_eq!(scope, "userinfo:read payment_methods.agentic");
        assert_eq!(
            details,
            vec![
                json!({"type": "source", "actions": ["read_balances", "read_link_transactions"]}),
                json!({"x": 1}),
                json!({"type": "account", "actions": ["read"]}),
            ]
        );
        let (scope, details) = merged_access(None, &[], None, &[]);
        assert_eq!(scope, DEFAULT_SCOPE);
        assert!(details.is_empty());
    }

    #[test]
    fn device_code_form_matches_the_reference_byte_for_byte() {
        let request = DeviceCodeRequest {
            client_name: "Link CLI".into(),
            hostname: "vm".into(),
            ..DeviceCodeRequest::default()
        };
        assert_eq!(
            body(&request.form()),
            "client_id=lwlpk_U7Qy7ThG69STZk&scope=userinfo%3Aread+payment_methods.agentic&connection_label=Link+CLI+on+vm&client_hint=Link+CLI"
        );
    }

    #[test]
    fn source_actions_are_bracket_encoded_first() {
        let request = DeviceCodeRequest {
            client_name: "Link CLI".into(),
            hostname: "vm".into(),
            source_actions: vec!["read_balances".into()],
            ..DeviceCodeRequest::default()
        };
        assert_eq!(
            body(&request.form()),
            "client_id=lwlpk_U7Qy7ThG69STZk&scope=userinfo%3Aread+payment_methods.agentic&connection_label=Link+CLI+on+vm&client_hint=Link+CLI&authorization_details%5B%5D%5Btype%5D=source&authorization_details%5B%5D%5Bactions%5D%5B%5D=read_balances"
        );
    }

    #[test]
    fn free_form_details_follow_source_actions_with_nested_brackets() {
        let request = DeviceCodeRequest {
            client_name: "My Agent".into(),
            hostname: "box".into(),
            scope: Some("userinfo:read".into()),
            source_actions: vec![
                "read_link_transactions".into(),
                "read_balances".into(),
                "read_link_transactions".into(),
            ],
            authorization_details: vec![
                json!({"type": "account", "filters": ["current", {"include_inactive": true}]}),
                json!(true),
                json!({"b": 1.5, "10": null, "2": "x"}),
            ],
        };
        let form = request.form();
        let pairs: Vec<(&str, &str)> = form
            .iter()
            .skip(4)
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("authorization_details[][type]", "source"),
                (
                    "authorization_details[][actions][]",
                    "read_link_transactions"
                ),
                ("authorization_details[][actions][]", "read_balances"),
                ("authorization_details[][type]", "account"),
                ("authorization_details[][filters][]", "current"),
                (
                    "authorization_details[][filters][][include_inactive]",
                    "true"
                ),
                ("authorization_details[]", "true"),
                ("authorization_details[][2]", "x"),
                ("authorization_details[][10]", "null"),
                ("authorization_details[][b]", "1.5"),
            ]
        );
        assert!(body(&request.form()).contains(
            "connection_label=My+Agent+on+box&client_hint=My+Agent&authorization_details%5B%5D%5Btype%5D=source"
        ));
    }

    #[test]
    fn token_poll_refresh_and_revoke_forms_match_the_reference() {
        assert_eq!(
            body(&device_token_form(&Secret::new("dc_mock_123"))),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=dc_mock_123&client_id=lwlpk_U7Qy7ThG69STZk"
        );
        assert_eq!(
            body(&refresh_form(&Secret::new("rt_env"))),
            "grant_type=refresh_token&refresh_token=rt_env&client_id=lwlpk_U7Qy7ThG69STZk"
        );
        assert_eq!(
            body(&revoke_form(&Secret::new("rt_mock_1"))),
            "client_id=lwlpk_U7Qy7ThG69STZk&token=rt_mock_1"
        );
    }

    #[test]
    fn encoder_follows_url_search_params() {
        let form = vec![(
            "k y".to_string(),
            "a*b-c.d_e~f!g'h(i)j/k?l@m+n=o&p é€😀".to_string(),
        )];
        assert_eq!(
            encode_form(&form),
            "k+y=a*b-c.d_e%7Ef%21g%27h%28i%29j%2Fk%3Fl%40m%2Bn%3Do%26p+%C3%A9%E2%82%AC%F0%9F%98%80"
        );
        assert_eq!(encode_form(&[]), "");
    }

    #[test]
    fn token_set_debug_redacts_tokens() {
        let tokens = tokens_from_response(
            r#"{"access_token":"at_secret_1","refresh_token":"rt_secret_2","token_type":"Bearer","expires_in":3600}"#,
            1_000,
        )
        .unwrap();
        let shown = format!("{tokens:?}");
        assert!(
            !shown.contains("at_secret_1") && !shown.contains("rt_secret_2"),
            "{shown}"
        );
        assert_eq!(tokens.expires_at, Some(3_601_000));
        let pending = PendingDeviceAuth::decode(&json!({
            "device_code": "dc_secret", "interval": 5, "expires_at": 1,
            "verification_url": "https://x", "phrase": "a-b-c"
        }))
        .unwrap();
        assert!(!format!("{pending:?}").contains("dc_secret"));
    }

    #[test]
    fn device_code_response_becomes_the_pending_record() {
        let pending = handle_device_code_response(
            200,
            r#"{"device_code":"dc_mock_123","user_code":"apple-banana-cherry","verification_uri":"http://b/device","verification_uri_complete":"http://b/device?code=apple-banana-cherry","expires_in":300,"interval":1}"#,
            1_000,
            false,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&pending).unwrap(),
            json!({"device_code":"dc_mock_123","interval":1,"expires_at":301_000,
                   "verification_url":"http://b/device?code=apple-banana-cherry",
                   "phrase":"apple-banana-cherry"})
        );
        let err = handle_device_code_response(400, r#"{"error":{"message":"bad scope"}}"#, 0, true)
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::ApiError);
        assert_eq!(
            err.message,
            "Device auth initiation failed (400): bad scope"
        );
        let err = handle_device_code_response(
            400,
            r#"{"error":"invalid_scope","error_description":""}"#,
            0,
            true,
        )
        .unwrap_err();
        assert_eq!(err.message, "Device auth initiation failed (400): ");
    }

    #[test]
    fn unusable_success_bodies_are_invalid_responses() {
        let err = tokens_from_response("<html>", 0).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidResponse);
        assert_eq!(
            err.message,
            "Token endpoint returned an unusable body: body expected an object"
        );
        let err = tokens_from_response(r#"{"access_token":5}"#, 0).unwrap_err();
        assert_eq!(
            err.message,
            "Token endpoint returned an unusable body: access_token expected a string"
        );
    }

    #[test]
    fn a_refused_refresh_token_and_a_rotation_are_recognised() {
        let used = r#"{"error":"invalid_grant","error_description":"Refresh token already used"}"#;
        assert!(refresh_refused(400, used));
        assert!(refresh_refused(401, r#"{"error":"invalid_grant"}"#));
        assert!(!refresh_refused(400, r#"{"error":"invalid_client"}"#));
        assert!(!refresh_refused(500, r#"{"error":"invalid_grant"}"#));
        assert!(!refresh_refused(400, "invalid_grant"));
        let stored = |at: &str, rt: &str| {
            TokenSet::decode(&json!({"access_token": at, "refresh_token": rt})).unwrap()
        };
        assert!(!stored("at_1", "rt_1").is_rotation_of(&stored("at_1", "rt_1")));
        assert!(stored("at_2", "rt_2").is_rotation_of(&stored("at_1", "rt_1")));
        assert!(stored("at_2", "rt_1").is_rotation_of(&stored("at_1", "rt_1")));
    }

    #[test]
    fn a_lease_holds_for_its_lifetime_and_no_longer() {
        let lease = RefreshLease::new("me".into(), 1_000);
        assert_eq!(RefreshLease::decode(&lease.to_json()), Some(lease.clone()));
        assert!(lease.is_live(1_000));
        assert!(lease.is_live(1_000 + LEASE_TTL_MS - 1));
        assert!(!lease.is_live(1_000 + LEASE_TTL_MS));
        // One stamped by a clock far ahead is void, not held for a day.
        assert!(!RefreshLease::new("ahead".into(), 86_400_000).is_live(0));
        assert_eq!(RefreshLease::decode(&json!({"owner": 1})), None);
    }

    #[test]
    fn refresh_keeps_the_used_token_when_not_rotated() {
        let used = Secret::new("rt_old");
        let tokens = handle_refresh_response(
            200,
            r#"{"access_token":"at_new","token_type":"Bearer","expires_in":60}"#,
            0,
            &used,
        )
        .unwrap();
        assert_eq!(tokens.refresh_token, Some(used.clone()));
        let err = handle_refresh_response(
            401,
            r#"{"error":"invalid_grant","error_description":"Refresh token expired"}"#,
            0,
            &used,
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "Token refresh failed (401): Refresh token expired"
        );
        assert!(handle_revoke_response(200, "{}").is_ok());
        assert_eq!(
            handle_revoke_response(500, "").unwrap_err().message,
            "Token revocation failed (500): unknown error"
        );
    }

    fn stored(expires_at: Option<i64>, refresh: Option<&str>) -> TokenSource {
        TokenSource::Stored(TokenSet {
            access_token: Secret::new("at"),
            refresh_token: refresh.map(Secret::new),
            expires_in: Some(3600),
            token_type: Some("Bearer".into()),
            scope: None,
            authorization_details: None,
            expires_at,
            extra: serde_json::Map::new(),
        })
    }

    #[test]
    fn token_source_decisions() {
        let fresh = stored(Some(1_000_000), Some("rt"));
        assert_eq!(
            fresh.before_request(0, false).unwrap(),
            TokenStep::Use(Secret::new("at"))
        );
        assert_eq!(
            fresh.before_request(940_000, false).unwrap(),
            TokenStep::Refresh(Refresh {
                refresh_token: Secret::new("rt"),
                persist: true
            })
        );
        assert_eq!(
            fresh.before_request(940_000, true).unwrap_err().code,
            ErrorCode::TokenExpired
        );
        // One forced refresh on the first 401, none after the retry.
        assert_eq!(
            fresh.on_unauthorized(false, false).unwrap(),
            Some(Refresh {
                refresh_token: Secret::new("rt"),
                persist: true
            })
        );
        assert_eq!(fresh.on_unauthorized(true, false).unwrap(), None);
        assert_eq!(
            stored(None, None)
                .on_unauthorized(false, false)
                .unwrap_err()
                .code,
            ErrorCode::TokenExpired
        );

        let env = TokenSource::Env {
            access_token: Secret::new("tok"),
            refresh_token: None,
        };
        assert_eq!(
            env.before_request(i64::MAX, false).unwrap(),
            TokenStep::Use(Secret::new("tok"))
        );
        let err = env.on_unauthorized(false, false).unwrap_err();
        assert_eq!(err.code, ErrorCode::TokenExpired);
        assert_eq!(
            err.message,
            "Access token expired. Update LINK_ACCESS_TOKEN and retry."
        );
        let env = TokenSource::Env {
            access_token: Secret::new("tok"),
            refresh_token: Some(Secret::new("rt_env")),
        };
        assert_eq!(
            env.on_unauthorized(false, false).unwrap(),
            Some(Refresh {
                refresh_token: Secret::new("rt_env"),
                persist: false
            })
        );
        assert_eq!(
            env.on_unauthorized(false, true).unwrap_err().code,
            ErrorCode::TokenExpired
        );
    }

    proptest::proptest! {
        #[test]
        fn answers_never_panic(
            status in proptest::prelude::any::<u16>(),
            body in ".*",
            interval in proptest::prelude::any::<u64>(),
            expires_at in proptest::prelude::any::<i64>(),
            now in proptest::prelude::any::<i64>(),
        ) {
            let pending = json!({"device_code": "dc", "interval": interval, "expires_at": expires_at,
                                 "verification_url": "u", "phrase": "p"});
            let _ = handle_token_response(&pending, status, &body, now);
            for body in [body.as_str(), r#"{"error":"slow_down"}"#, r#"{"access_token":"a","token_type":"Bearer","expires_in":9223372036854775807}"#] {
                let _ = handle_token_response(&pending, 400, body, now);
                let _ = handle_token_response(&pending, 200, body, now);
                let _ = handle_device_code_response(status, body, now, false);
                let _ = handle_refresh_response(status, body, now, &Secret::new("rt"));
            }
            let _ = needs_refresh(&json!({"access_token": "a", "expires_at": expires_at}), now);
        }
    }
}
