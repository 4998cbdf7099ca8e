//! One error type for the whole core, with a stable machine-readable code.
//!
//! Codes are API: they are added, never renamed. Where the reference Link CLI has a code we use
//! its spelling (`VALIDATION_ERROR`, `spend_request_rate_limited`, …); the rest are ours.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Declares the code table once: variant, wire string, WIT case name (kebab-case of the variant).
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident => $wire:literal,)*) => {
        /// A stable error code. `as_str` is what JSON, JS `.code` and the CLI print.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in table order (the WIT `error-code` enum has the same order).
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The wire spelling of the code.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $wire,)*
                }
            }

            /// Parses a wire spelling; unknown strings give `None`.
            pub fn from_wire(s: &str) -> Option<ErrorCode> {
                ErrorCode::ALL.iter().copied().find(|c| c.as_str() == s)
            }
        }
    };
}

error_codes! {
    /// Input broke one or more rules; `field_errors` lists every one of them.
    ValidationError => "VALIDATION_ERROR",
    /// Input that is well-formed but not usable (kept for reference-client compatibility).
    InvalidInput => "INVALID_INPUT",
    /// No stored session and no `LINK_ACCESS_TOKEN`.
    NotAuthenticated => "NOT_AUTHENTICATED",
    /// A poll ran out of attempts or time before reaching a terminal state.
    PollingTimeout => "POLLING_TIMEOUT",
    /// The resource does not exist (HTTP 404).
    NotFound => "NOT_FOUND",
    /// `--output-file` names an existing file and `--force` was not given.
    OutputFileExists => "OUTPUT_FILE_EXISTS",
    /// The credential file could not be written (symlink, permissions, …).
    OutputFileWriteError => "OUTPUT_FILE_WRITE_ERROR",
    /// The server answered with a body we cannot use.
    InvalidResponse => "INVALID_RESPONSE",
    /// The wallet has no usable payment method.
    NoPaymentMethod => "NO_PAYMENT_METHOD",
    /// An interactive-only command was run without a terminal.
    RequiresTty => "REQUIRES_TTY",
    /// The Link API refused a duplicate or too-frequent spend request (HTTP 429).
    SpendRequestRateLimited => "spend_request_rate_limited",
    /// Any other error answer of the Link API; `details` holds the parsed body.
    ApiError => "API_ERROR",
    /// The spend request ended in another status than `approved` (denied, expired, …).
    SpendRequestNotApproved => "SPEND_REQUEST_NOT_APPROVED",
    /// The event is not allowed in the spend request's current status.
    IllegalTransition => "ILLEGAL_TRANSITION",
    /// The person denied the device authorization.
    AuthorizationDenied => "AUTHORIZATION_DENIED",
    /// The device code expired before it was approved.
    DeviceCodeExpired => "DEVICE_CODE_EXPIRED",
    /// The account is not eligible for the requested scopes.
    AuthorizationDeclined => "AUTHORIZATION_DECLINED",
    /// The access token expired and refreshing is not allowed or not possible.
    TokenExpired => "TOKEN_EXPIRED",
    /// The `WWW-Authenticate` value holds no `Payment` challenge.
    MppNoPaymentChallenge => "MPP_NO_PAYMENT_CHALLENGE",
    /// There are `Payment` challenges but none for the stripe method with a supported intent.
    MppNoStripeChallenge => "MPP_NO_STRIPE_CHALLENGE",
    /// A challenge breaks the grammar or a parameter rule; the message names offset and reason.
    MppMalformedChallenge => "MPP_MALFORMED_CHALLENGE",
    /// The challenge's `expires` is in the past: paying it is refused.
    MppChallengeExpired => "MPP_CHALLENGE_EXPIRED",
    /// The challenge asks for a credential header we must not use.
    MppUnsupportedChallenge => "MPP_UNSUPPORTED_CHALLENGE",
    /// A `Payment` credential cannot be decoded.
    MppMalformedCredential => "MPP_MALFORMED_CREDENTIAL",
    /// A `Payment-Receipt` cannot be decoded.
    MppMalformedReceipt => "MPP_MALFORMED_RECEIPT",
    /// The network failed before an HTTP answer arrived.
    TransportError => "TRANSPORT_ERROR",
    /// The host's storage failed or holds a corrupt value.
    StorageError => "STORAGE_ERROR",
    /// Anything else; a bug if it reaches a user.
    Unknown => "UNKNOWN",
    /// No command of that name (`linkpay spend-request frobnicate`), as the reference says it.
    CommandNotFound => "COMMAND_NOT_FOUND",
    /// A payment that agent code started (`link.fetch`, the mppx method, WIT `client.fetch`)
    /// broke a guardrail (`details.reason`: `max_amount`, `max_total`, `realm_mismatch`,
    /// `expired`, `already_paid`); no spend request was created.
    PaymentGuardrail => "PAYMENT_GUARDRAIL",
}

/// [`crate::sanitize::sanitize_json`] plus [`crate::sanitize::redact_secrets`] on every string.
fn printable(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(
            crate::sanitize::redact_secrets(&crate::sanitize::for_display(s)).into_owned(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(printable).collect()),
        Value::Object(map) => Value::Object(
            crate::sanitize::sanitize_map(map)
                .into_iter()
                .map(|(k, v)| {
                    let v = printable(&v);
                    (k, v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(ErrorCode::from_wire(&s).unwrap_or(ErrorCode::Unknown))
    }
}

/// One broken rule: where (`line_items[0].quantity`) and why.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

impl FieldError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            path: path.into(),
            message: message.into(),
        }
    }

    /// `{path, message}`.
    pub fn to_json(&self) -> serde_json::Value {
        object!({ "path": self.path.clone(), "message": self.message.clone() })
    }
}

/// The error of every fallible function in the core.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub field_errors: Vec<FieldError>,
    /// Structured context: the API's error body, a duplicate spend request, retryability, ….
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Box<serde_json::Value>>,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            field_errors: Vec::new(),
            details: None,
        }
    }

    /// A `VALIDATION_ERROR` listing every field error; the message summarises them.
    pub fn validation(field_errors: Vec<FieldError>) -> Self {
        let describe = |f: &FieldError| {
            if f.path.is_empty() {
                f.message.clone()
            } else {
                format!("{}: {}", f.path, f.message)
            }
        };
        let message = match field_errors.as_slice() {
            [] => "Invalid input".to_string(),
            [one] => format!("Invalid input: {}", describe(one)),
            [first, rest @ ..] => format!(
                "Invalid input: {} (and {} more)",
                describe(first),
                rest.len()
            ),
        };
        Error {
            code: ErrorCode::ValidationError,
            message,
            field_errors,
            details: None,
        }
    }

    /// Attaches details, made safe to print: they reach the CLI's and MCP's output, so every
    /// string is sanitized for display and has its secrets redacted by value.
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(Box::new(printable(&details)));
        self
    }

    /// The JSON shape the CLI and MCP print: `{code, message, fieldErrors?, details?}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        map.insert("code".into(), self.code.as_str().into());
        map.insert("message".into(), self.message.clone().into());
        if !self.field_errors.is_empty() {
            let items = self.field_errors.iter().map(FieldError::to_json).collect();
            map.insert("fieldErrors".into(), serde_json::Value::Array(items));
        }
        if let Some(details) = &self.details {
            map.insert("details".into(), (**details).clone());
        }
        serde_json::Value::Object(map)
    }
}

// `Serialize` is the JSON form above, so the two can never disagree (as `record`'s
// `serialize_as_json!` does for the records; this module sits below that machinery).
impl Serialize for FieldError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

/// Short alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Collects field errors so a validator can report every problem at once.
#[derive(Default, Debug)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        FieldErrors(Vec::new())
    }

    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(path, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn extend(&mut self, other: FieldErrors) {
        self.0.extend(other.0);
    }

    /// `Ok(value)` when nothing was pushed, else one `VALIDATION_ERROR` with all of them.
    pub fn finish<T>(self, value: T) -> Result<T> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(Error::validation(self.0))
        }
    }

    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {}", code.as_str());
            assert_eq!(ErrorCode::from_wire(code.as_str()), Some(*code));
        }
    }

    /// The WIT `error-code` enum lists the same codes in the same order (kebab-case).
    #[test]
    fn wit_error_codes_match_the_table() {
        let wit = include_str!("../wit/linkpay.wit");
        let start = wit.find("enum error-code {").expect("enum in WIT");
        let body = &wit[start..];
        let body = &body[..body.find('}').expect("end of enum")];
        let wit_cases: Vec<String> = body
            .lines()
            .skip(1)
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("//"))
            .map(|l| l.trim_end_matches(',').to_string())
            .collect();
        let ours: Vec<String> = ErrorCode::ALL
            .iter()
            .map(|c| format!("{c:?}"))
            .map(|name| {
                let mut out = String::new();
                for (i, ch) in name.chars().enumerate() {
                    if ch.is_ascii_uppercase() && i > 0 {
                        out.push('-');
                    }
                    out.push(ch.to_ascii_lowercase());
                }
                out
            })
            .collect();
        assert_eq!(wit_cases, ours);
        // Each case's doc comment gives its wire spelling (npm/scripts read it from there: the
        // `linkpay/component` helper's codes).
        let documented: Vec<&str> = body
            .lines()
            .map(str::trim)
            .filter_map(|l| l.strip_prefix("/// `")?.strip_suffix('`'))
            .collect();
        let wire: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(documented, wire);
    }

    #[test]
    fn validation_error_serializes_field_errors() {
        let e = Error::validation(vec![FieldError::new("amount", "must be at least 1")]);
        let v = e.to_json();
        assert_eq!(v["code"], "VALIDATION_ERROR");
        assert_eq!(v["fieldErrors"][0]["path"], "amount");
    }
}
