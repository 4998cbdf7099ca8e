//! Pure server-side pieces, for the sandbox merchant (feature `merchant`): challenge-id binding
//! (mpp.md §1.6, HMAC-SHA256 from RustCrypto's `hmac` + `sha2`), challenge serialization,
//! credential verification and RFC 9457 problem types. The JCS request encoding is
//! [`super::jcs`] (re-exported here), which credential decoding shares.
//!
//! # Challenge id
//!
//! `base64url-nopad(HMAC-SHA256(secret, realm|method|intent|request|expires|digest|[header|]opaque))`
//! with absent optional fields as empty slots and `description` excluded. `request` and `opaque`
//! are the base64url strings as sent. The `header` slot follows the conformance vectors and
//! mpp 0.18.2, not the draft-02 text: it is inserted before `opaque` and only for
//! `Payment-Authorization` (an explicit `Authorization` is the default and adds no slot).
//! Secrets shorter than 32 bytes are refused, as by mppx and mpp-rs.

use super::b64;
use super::challenge::{Challenge, CredentialHeader};
use crate::error::{Error, ErrorCode, FieldError, Result};
use hmac::{KeyInit, Mac};
use serde_json::{Map, Value};
use std::fmt::Write as _;
use subtle::ConstantTimeEq;

pub use super::jcs::{encode_json_object, encode_request, jcs};

/// The shortest HMAC secret accepted, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// `\\uXXXX` with lower-case hex.
fn push_u16_escape(out: &mut String, unit: u16) {
    let _ = write!(out, "\\u{unit:04x}");
}

/// The string the challenge id is the HMAC of (see the module docs).
#[allow(clippy::too_many_arguments)]
pub fn binding_input(
    realm: &str,
    method: &str,
    intent: &str,
    request: &str,
    expires: Option<&str>,
    digest: Option<&str>,
    opaque: Option<&str>,
    header: Option<&str>,
) -> String {
    let mut slots = vec![
        realm,
        method,
        intent,
        request,
        expires.unwrap_or(""),
        digest.unwrap_or(""),
    ];
    if let Some(h) = header.filter(|h| h.eq_ignore_ascii_case("Payment-Authorization")) {
        slots.push(h);
    }
    slots.push(opaque.unwrap_or(""));
    slots.join("|")
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key` (RustCrypto `hmac` + `sha2`).
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(key) else {
        return [0; 32];
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

fn check_secret(secret: &[u8]) -> Result<()> {
    if secret.len() < MIN_SECRET_LEN {
        return Err(Error::validation(vec![FieldError::new(
            "secret",
            format!("must be at least {MIN_SECRET_LEN} bytes"),
        )]));
    }
    Ok(())
}

/// The HMAC-bound id for a challenge's fields (its `id` is ignored).
pub fn challenge_id(secret: &[u8], c: &Challenge) -> Result<String> {
    check_secret(secret)?;
    let input = binding_input(
        &c.realm,
        &c.method,
        &c.intent,
        &c.request,
        c.expires.as_deref(),
        c.digest.as_deref(),
        c.opaque.as_deref(),
        c.header.as_deref(),
    );
    Ok(b64::encode(&hmac_sha256(secret, input.as_bytes())))
}

/// Whether `c.id` is the HMAC of its fields under `secret` (constant-time comparison).
pub fn verify_challenge_id(secret: &[u8], c: &Challenge) -> bool {
    // `subtle` compares in time that depends only on the lengths (the id's length is public).
    challenge_id(secret, c).is_ok_and(|id| bool::from(id.as_bytes().ct_eq(c.id.as_bytes())))
}

/// What a server fills in to issue a challenge.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChallengeSpec {
    pub realm: String,
    pub method: String,
    pub intent: String,
    /// Encoded with JCS + base64url.
    pub request: Map<String, Value>,
    pub description: Option<String>,
    pub digest: Option<String>,
    pub expires: Option<String>,
    /// A string map, encoded like `request` (mppx `meta`).
    pub opaque: Option<Map<String, Value>>,
    /// `Some("Payment-Authorization")` to ask for that header.
    pub header: Option<String>,
}

/// Builds a challenge with an HMAC-bound id, validated by the parser's rules.
pub fn issue_challenge(secret: &[u8], spec: &ChallengeSpec) -> Result<Challenge> {
    check_secret(secret)?;
    let request = encode_json_object(&spec.request);
    let opaque = spec.opaque.as_ref().map(encode_json_object);
    let unbound = Challenge::from_parts(
        "unbound",
        &spec.realm,
        &spec.method,
        &spec.intent,
        &request,
        spec.description.as_deref(),
        spec.digest.as_deref(),
        spec.expires.as_deref(),
        opaque.as_deref(),
        spec.header.as_deref(),
    )?;
    unbound.credential_header()?;
    let mut c = unbound;
    c.id = challenge_id(secret, &c)?;
    Ok(c)
}

/// Appends `s` as a quoted-string: `\` and `"` escaped, characters above U+00FF and controls
/// other than HTAB as `\uXXXX` (UTF-16 units), U+0080–U+00FF raw (sent as one Latin-1 byte,
/// as mppx does). CR and LF are refused: they would split the header.
fn push_quoted(s: &str, out: &mut String) -> Result<()> {
    if s.contains(['\r', '\n']) {
        return Err(Error::validation(vec![FieldError::new(
            "challenge",
            "Invalid quoted-string value: CR/LF",
        )]));
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' | ' '..='~' | '\u{a0}'..='\u{ff}' => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    push_u16_escape(out, *unit);
                }
            }
        }
    }
    out.push('"');
    Ok(())
}

/// Serializes a challenge as a `WWW-Authenticate` value:
/// `Payment id="…", realm="…", method="…", intent="…", request="…"[, description=…]
/// [, digest=…][, expires=…][, opaque=…][, header=…][, unknown params]`. The result holds only
/// characters up to U+00FF (a valid ByteString for fetch).
pub fn format_challenge(c: &Challenge) -> Result<String> {
    let mut out = String::with_capacity(c.request.len() + 128);
    out.push_str("Payment ");
    let mut first = true;
    let mut param = |name: &str, value: &str, out: &mut String| -> Result<()> {
        if !first {
            out.push_str(", ");
        }
        first = false;
        out.push_str(name);
        out.push('=');
        push_quoted(value, out)
    };
    param("id", &c.id, &mut out)?;
    param("realm", &c.realm, &mut out)?;
    param("method", &c.method, &mut out)?;
    param("intent", &c.intent, &mut out)?;
    param("request", &c.request, &mut out)?;
    for (name, value) in [
        ("description", &c.description),
        ("digest", &c.digest),
        ("expires", &c.expires),
        ("opaque", &c.opaque),
        ("header", &c.header),
    ] {
        if let Some(v) = value {
            param(name, v, &mut out)?;
        }
    }
    for (name, value) in &c.params {
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
        {
            return Err(Error::validation(vec![FieldError::new(
                "params",
                "parameter names must be tokens",
            )]));
        }
        param(name, value, &mut out)?;
    }
    Ok(out)
}

/// The RFC 9457 problem types of the Payment scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    PaymentRequired,
    PaymentInsufficient,
    PaymentExpired,
    VerificationFailed,
    MethodUnsupported,
    MalformedCredential,
    InvalidChallenge,
}

impl Problem {
    pub const ALL: [Problem; 7] = [
        Problem::PaymentRequired,
        Problem::PaymentInsufficient,
        Problem::PaymentExpired,
        Problem::VerificationFailed,
        Problem::MethodUnsupported,
        Problem::MalformedCredential,
        Problem::InvalidChallenge,
    ];

    fn slug(self) -> &'static str {
        match self {
            Problem::PaymentRequired => "payment-required",
            Problem::PaymentInsufficient => "payment-insufficient",
            Problem::PaymentExpired => "payment-expired",
            Problem::VerificationFailed => "verification-failed",
            Problem::MethodUnsupported => "method-unsupported",
            Problem::MalformedCredential => "malformed-credential",
            Problem::InvalidChallenge => "invalid-challenge",
        }
    }

    /// `https://paymentauth.org/problems/<slug>`.
    pub fn type_uri(self) -> String {
        format!("https://paymentauth.org/problems/{}", self.slug())
    }

    /// The title mppx and mpp-rs use.
    pub fn title(self) -> &'static str {
        match self {
            Problem::PaymentRequired => "PaymentRequiredError",
            Problem::PaymentInsufficient => "PaymentInsufficientError",
            Problem::PaymentExpired => "PaymentExpiredError",
            Problem::VerificationFailed => "VerificationFailedError",
            Problem::MethodUnsupported => "PaymentMethodUnsupportedError",
            Problem::MalformedCredential => "MalformedCredentialError",
            Problem::InvalidChallenge => "InvalidChallengeError",
        }
    }

    /// HTTP status: 400 for `method-unsupported`, else 402 (a fresh challenge goes with it).
    pub fn status(self) -> u16 {
        match self {
            Problem::MethodUnsupported => 400,
            _ => 402,
        }
    }

    /// The problem for a decoding error of ours.
    pub fn for_error(code: ErrorCode) -> Problem {
        match code {
            ErrorCode::MppMalformedCredential => Problem::MalformedCredential,
            ErrorCode::MppChallengeExpired => Problem::PaymentExpired,
            ErrorCode::MppMalformedChallenge | ErrorCode::MppUnsupportedChallenge => {
                Problem::InvalidChallenge
            }
            _ => Problem::VerificationFailed,
        }
    }

    /// `{type, title, status, detail, challengeId?}` (`application/problem+json`).
    pub fn details(self, detail: &str, challenge_id: Option<&str>) -> Value {
        let mut v = object!({
            "type": self.type_uri(),
            "title": self.title(),
            "status": self.status(),
            "detail": detail,
        });
        if let (Some(id), Some(m)) = (challenge_id, v.as_object_mut()) {
            m.insert("challengeId".into(), id.into());
        }
        v
    }
}

/// Verifies a credential against the server's secret, as the sandbox merchant does: parses it,
/// checks the echoed challenge's HMAC id, that it has not expired, and that it was sent in the
/// header the challenge asked for. Returns the credential; errors map to a [`Problem`] with
/// [`Problem::for_error`] (`VerificationFailed` for a wrong id, as `VALIDATION_ERROR` is not
/// used here).
pub fn verify_credential(
    secret: &[u8],
    header_name: &str,
    header_value: &str,
    now_ms: i64,
) -> Result<super::credential::Credential> {
    let credential = super::credential::parse_credential(header_value)?;
    let c = &credential.challenge;
    if !verify_challenge_id(secret, c) {
        return Err(Error::new(
            ErrorCode::MppMalformedCredential,
            "Challenge id does not match its parameters",
        )
        .with_details(object!({ "problem": Problem::InvalidChallenge.type_uri() })));
    }
    if c.is_expired(now_ms) {
        return Err(Error::new(
            ErrorCode::MppChallengeExpired,
            "Challenge expired",
        ));
    }
    let expected = c
        .credential_header()
        .unwrap_or(CredentialHeader::Authorization);
    if !header_name.eq_ignore_ascii_case(expected.as_str()) {
        return Err(Error::new(
            ErrorCode::MppMalformedCredential,
            format!("Credential must be sent in {}", expected.as_str()),
        ));
    }
    Ok(credential)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::too_many_arguments)]
    fn id(
        secret: &str,
        realm: &str,
        method: &str,
        intent: &str,
        request: Value,
        expires: Option<&str>,
        digest: Option<&str>,
        opaque: Option<&str>,
        header: Option<&str>,
    ) -> String {
        let req = encode_request(&request).unwrap();
        let input = binding_input(realm, method, intent, &req, expires, digest, opaque, header);
        b64::encode(&hmac_sha256(secret.as_bytes(), input.as_bytes()))
    }

    #[test]
    fn v13_golden_hmac_ids() {
        let s = "test-vector-secret";
        let r = || serde_json::json!({"amount": "1000000"});
        let base = |e, d, o| id(s, "api.example.com", "tempo", "charge", r(), e, d, o, None);
        assert_eq!(
            base(None, None, None),
            "X6v1eo7fJ76gAxqY0xN9Jd__4lUyDDYmriryOM-5FO4"
        );
        assert_eq!(
            base(Some("2025-01-06T12:00:00Z"), None, None),
            "ChPX33RkKSZoSUyZcu8ai4hhkvjZJFkZVnvWs5s0iXI"
        );
        // Each row adds one field to the base case.
        let digest = "sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE";
        assert_eq!(
            base(None, Some(digest), None),
            "JHB7EFsPVb-xsYCo8LHcOzeX1gfXWVoUSzQsZhKAfKM"
        );
        let opaque = encode_request(&serde_json::json!({"pi": "pi_3abc123XYZ"})).unwrap();
        assert_eq!(opaque, "eyJwaSI6InBpXzNhYmMxMjNYWVoifQ");
        assert_eq!(
            base(None, None, Some(&opaque)),
            "rxzKZ2qjXvinqCH96RORTZEPs1KXsA-0AUjrCAPFOWc"
        );
        assert_eq!(
            id(
                s,
                "api.example.com",
                "tempo",
                "charge",
                serde_json::json!({}),
                None,
                None,
                None,
                None
            ),
            "yLN7yChAejW9WNmb54HpJIWpdb1WWXeA3_aCx4dxmkU"
        );
    }

    #[test]
    fn short_secrets_are_refused() {
        let c = Challenge::from_parts(
            "x", "r", "tempo", "charge", "e30", None, None, None, None, None,
        )
        .unwrap();
        assert!(challenge_id(b"short", &c).is_err());
        assert!(challenge_id(&[7u8; 32], &c).is_ok());
    }
}
