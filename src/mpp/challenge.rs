//! `WWW-Authenticate: Payment …` challenges.
//!
//! # Grammar
//!
//! RFC 9110 §11 auth-params, read the way mppx and mpp 0.18.2 read them (mpp.md §1.1):
//!
//! - A field value is a comma-separated list. A challenge starts where a list element (the start
//!   of the value, or after a comma outside quotes) is a token followed by SP or HTAB; the
//!   scheme `Payment` is matched case-insensitively. Other schemes (`Bearer`, `Digest`, …) and
//!   their parameters are skipped; `Payment` inside a quoted value is never a boundary.
//! - An auth-param is `token BWS "=" BWS ( token / quoted-string )`. Names are
//!   case-insensitive; a name given twice is an error. Unknown names are kept in
//!   [`Challenge::params`]. An empty name (`="x"`) is an error.
//! - A quoted-string ends at the first unescaped `"`. `\x` stands for `x`; `\uXXXX` is a UTF-16
//!   code unit as mppx emits it for characters above U+00FF (surrogate pairs are joined; a lone
//!   surrogate is an error); `\u` without four hex digits is a literal `u`.
//! - A token value runs to the next comma, SP or HTAB.
//! - Tolerated like the peers do: empty list elements (`,,`), any ASCII whitespace between
//!   elements, a missing comma between two auth-params (`id="a" realm="b"`), and text after a
//!   value that is neither a comma nor a parameter — such as the rest of a description with
//!   stray quotes (`description="Payment for "Premium" service"`, conformance
//!   `unescaped_quotes_in_description`).
//! - Only a parameter value opens a quoted-string. Elsewhere a `"` is an ordinary character, so
//!   a stray quote can neither swallow the next challenge nor hide the parameters after it: in
//!   `description="say "hi" now", expires="…"` the description is `say `, the words `hi"` and
//!   `now"` are skipped and `expires` is still read (mpp 0.18.2 stops the challenge at the stray
//!   text, which is the mpp-go #155 failure: a client that misses `expires` or `header`).
//!   Inside a challenge such text is skipped; the only words that are errors are a first
//!   element that is not an auth-param (`Payment abc`) and an empty name (`="x"`).
//! - A token at the start of a list element followed by SP/HTAB starts the next challenge;
//!   so does a token standing alone (`Negotiate`).

//! # Parameters
//!
//! Required: `id` (non-empty), `realm`, `method` (`^[a-z][a-z0-9:_-]*$`), `intent`
//! (`[A-Za-z0-9_-]+`, as mpp 0.18.2) and `request`. `request` is at most 16 KiB (checked before
//! decoding), base64 in either alphabet with optional padding (see [`super::b64`]), UTF-8, and a
//! JSON object nested at most [`super::json::MAX_DEPTH`] deep. `expires` is RFC 3339 (see
//! [`super::timestamp`]); `digest` must start with `sha-256=` (mppx; the rest is opaque);
//! `opaque` and `description` are free strings.
//!
//! `header` is kept as received. Only `Payment-Authorization` (case-insensitive, as a field
//! name) is supported; any other value — `Authorization` included — makes the challenge
//! *unsupported*, not malformed: it parses, but [`Challenge::credential_header`] and
//! credential building refuse it with `MPP_UNSUPPORTED_CHALLENGE` (draft-02).
//!
//! Every raw value (`id`, `realm`, `request`, `opaque`, `digest`, `expires`, …) is kept exactly
//! as received (after quoted-string unescaping) so a credential echoes it byte for byte.

use super::{b64, json, timestamp};
use crate::error::{Error, ErrorCode, Result};
use crate::json::find_special_quotes;
use crate::sanitize;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// The largest `request` parameter accepted, in bytes, checked before decoding (mppx, mpp-rs).
pub const MAX_REQUEST_LEN: usize = 16 * 1024;

/// The largest `WWW-Authenticate` field value parsed, in bytes.
pub const MAX_VALUE_LEN: usize = 64 * 1024;

/// One `Payment` challenge: its wire values (after quoted-string unescaping), exactly as
/// received, for the credential echo; and its decoded `request`. The strings are untrusted:
/// sanitize them before display. A `Challenge` is always valid: it is only made by the parser,
/// [`Challenge::from_json`] or [`Challenge::from_parts`], which apply the same rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub(crate) id: String,
    pub(crate) realm: String,
    pub(crate) method: String,
    pub(crate) intent: String,
    pub(crate) request: String,
    pub(crate) description: Option<String>,
    pub(crate) digest: Option<String>,
    pub(crate) expires: Option<String>,
    pub(crate) opaque: Option<String>,
    pub(crate) header: Option<String>,
    pub(crate) params: Vec<(String, String)>,
    /// The decoded `request`: validated JSON object text.
    request_text: String,
    expires_ms: Option<i64>,
}

/// Where the credential for a challenge goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialHeader {
    Authorization,
    PaymentAuthorization,
}

impl CredentialHeader {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialHeader::Authorization => "Authorization",
            CredentialHeader::PaymentAuthorization => "Payment-Authorization",
        }
    }
}

impl Challenge {
    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn realm(&self) -> &str {
        &self.realm
    }
    pub fn method(&self) -> &str {
        &self.method
    }
    pub fn intent(&self) -> &str {
        &self.intent
    }
    /// The `request` parameter exactly as received (base64, not re-encoded).
    pub fn request(&self) -> &str {
        &self.request
    }
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }
    pub fn expires(&self) -> Option<&str> {
        self.expires.as_deref()
    }
    pub fn opaque(&self) -> Option<&str> {
        self.opaque.as_deref()
    }
    pub fn header(&self) -> Option<&str> {
        self.header.as_deref()
    }
    /// Parameters this crate does not know, names lower-cased, in wire order (not echoed in
    /// credentials).
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    /// The decoded `request` as JSON text (valid, an object).
    pub fn request_text(&self) -> &str {
        &self.request_text
    }

    /// The decoded `request` as a JSON object.
    pub fn request_json(&self) -> Result<Map<String, Value>> {
        json::parse_object(&self.request_text)
            .map_err(|e| malformed(format!("Invalid request: {e}")))
    }

    /// `expires` in Unix milliseconds.
    pub fn expires_at_ms(&self) -> Option<i64> {
        self.expires_ms
    }

    /// Whether `expires` is at or before `now_ms`. A challenge without `expires` never expires.
    pub fn is_expired(&self, now_ms: i64) -> bool {
        self.expires_ms.is_some_and(|at| at <= now_ms)
    }

    /// The header the credential must go in; `MPP_UNSUPPORTED_CHALLENGE` when `header` names
    /// anything but `Payment-Authorization`.
    pub fn credential_header(&self) -> Result<CredentialHeader> {
        match self.header.as_deref() {
            None => Ok(CredentialHeader::Authorization),
            Some(h) if h.eq_ignore_ascii_case("Payment-Authorization") => {
                Ok(CredentialHeader::PaymentAuthorization)
            }
            Some(h) => Err(Error::new(
                ErrorCode::MppUnsupportedChallenge,
                format!(
                    "Unsupported credential header {}: must be Payment-Authorization",
                    quoted(h)
                ),
            )),
        }
    }

    /// The JSON shape `decodeChallenges` returns for a challenge:
    ///
    /// `{id, realm, method, intent, request, description?, digest?, expires?, opaque?, header?,
    /// params?, request_json}` — raw wire strings (untrusted; sanitize before display) plus the
    /// decoded request. `params` (unknown parameters) appears only when there are some.
    pub fn to_json(&self) -> Result<Value> {
        let mut text = String::new();
        self.write_json(&mut text);
        serde_json::from_str(&text).map_err(|_| malformed("Invalid request: invalid JSON"))
    }

    /// Writes [`Challenge::to_json`] as JSON text. `request_json` is the decoded request's own
    /// text, which the parser validated, so it is copied, not parsed and written again.
    pub fn write_json(&self, out: &mut String) {
        use crate::json::write_string;
        out.reserve(self.request.len() + self.request_text.len() + 128);
        fn member(out: &mut String, key: &str, value: &str) {
            out.push_str(key);
            write_string(value, out);
        }
        member(out, "{\"id\":", &self.id);
        member(out, ",\"realm\":", &self.realm);
        member(out, ",\"method\":", &self.method);
        member(out, ",\"intent\":", &self.intent);
        // `request` decoded as base64, so it is all base64 characters: nothing to escape.
        out.push_str(",\"request\":\"");
        out.push_str(&self.request);
        out.push('"');
        for (key, value) in [
            (",\"description\":", &self.description),
            (",\"digest\":", &self.digest),
            (",\"expires\":", &self.expires),
            (",\"opaque\":", &self.opaque),
            (",\"header\":", &self.header),
        ] {
            if let Some(v) = value {
                member(out, key, v);
            }
        }
        if !self.params.is_empty() {
            let mut sep = ",\"params\":{";
            for (k, v) in &self.params {
                out.push_str(sep);
                write_string(k, out);
                out.push(':');
                write_string(v, out);
                sep = ",";
            }
            out.push('}');
        }
        out.push_str(",\"request_json\":");
        out.push_str(&self.request_text);
        out.push('}');
    }

    /// Reads the object [`Challenge::to_json`] produces (what `buildCredential` takes) and
    /// validates it with the parser's rules. `request_json` and `params` are ignored: the raw
    /// `request` is the source of truth.
    pub fn from_json(value: &Value) -> Result<Challenge> {
        let Some(obj) = value.as_object() else {
            return Err(malformed("challenge: expected object"));
        };
        let field = |key: &str| -> Result<Option<Cow<'_, str>>> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(Cow::Borrowed(s.as_str()))),
                Some(_) => Err(malformed(format!("challenge.{key}: expected string"))),
            }
        };
        Fields {
            id: field("id")?,
            realm: field("realm")?,
            method: field("method")?,
            intent: field("intent")?,
            request: field("request")?,
            description: field("description")?,
            digest: field("digest")?,
            expires: field("expires")?,
            opaque: field("opaque")?,
            header: field("header")?,
            params: Vec::new(),
        }
        .finish()
    }

    /// Builds a challenge from its wire values, validating them as the parser does.
    #[allow(clippy::too_many_arguments)]
    pub fn from_parts(
        id: &str,
        realm: &str,
        method: &str,
        intent: &str,
        request: &str,
        description: Option<&str>,
        digest: Option<&str>,
        expires: Option<&str>,
        opaque: Option<&str>,
        header: Option<&str>,
    ) -> Result<Challenge> {
        Fields {
            id: Some(id.into()),
            realm: Some(realm.into()),
            method: Some(method.into()),
            intent: Some(intent.into()),
            request: Some(request.into()),
            description: description.map(Cow::Borrowed),
            digest: digest.map(Cow::Borrowed),
            expires: expires.map(Cow::Borrowed),
            opaque: opaque.map(Cow::Borrowed),
            header: header.map(Cow::Borrowed),
            params: Vec::new(),
        }
        .finish()
    }
}

pub(crate) fn malformed(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::MppMalformedChallenge, message)
}

/// An untrusted value for an error message: sanitized, at most 64 characters, in quotes (`"`
/// and `\\` escaped, a newline shown as `\\n`).
pub(crate) fn quoted(s: &str) -> String {
    let clean = sanitize::one_line(s);
    let mut out = String::with_capacity(clean.len().min(64) + 4);
    out.push('"');
    for (i, c) in clean.chars().enumerate() {
        if i == 64 {
            out.push_str("\"…");
            return out;
        }
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The parameters of one challenge while it is being read; values borrow the header where no
/// unescaping was needed.
#[derive(Default)]
struct Fields<'a> {
    id: Option<Cow<'a, str>>,
    realm: Option<Cow<'a, str>>,
    method: Option<Cow<'a, str>>,
    intent: Option<Cow<'a, str>>,
    request: Option<Cow<'a, str>>,
    description: Option<Cow<'a, str>>,
    digest: Option<Cow<'a, str>>,
    expires: Option<Cow<'a, str>>,
    opaque: Option<Cow<'a, str>>,
    header: Option<Cow<'a, str>>,
    params: Vec<(&'a str, Cow<'a, str>)>,
}

impl<'a> Fields<'a> {
    fn slot(&mut self, name: &str) -> Option<&mut Option<Cow<'a, str>>> {
        let is = |known: &str| name.eq_ignore_ascii_case(known);
        let first = name.as_bytes().first().map_or(0, u8::to_ascii_lowercase);
        Some(match (name.len(), first) {
            (2, b'i') if is("id") => &mut self.id,
            (5, b'r') if is("realm") => &mut self.realm,
            (6, b'm') if is("method") => &mut self.method,
            (6, b'i') if is("intent") => &mut self.intent,
            (7, b'r') if is("request") => &mut self.request,
            (11, b'd') if is("description") => &mut self.description,
            (6, b'd') if is("digest") => &mut self.digest,
            (7, b'e') if is("expires") => &mut self.expires,
            (6, b'o') if is("opaque") => &mut self.opaque,
            (6, b'h') if is("header") => &mut self.header,
            _ => return None,
        })
    }

    fn set(&mut self, name: &'a str, value: Cow<'a, str>) -> Result<()> {
        let duplicate = || {
            malformed(format!(
                "Duplicate parameter: {}",
                name.to_ascii_lowercase()
            ))
        };
        if let Some(slot) = self.slot(name) {
            if slot.is_some() {
                return Err(duplicate());
            }
            *slot = Some(value);
        } else if self
            .params
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            return Err(duplicate());
        } else {
            self.params.push((name, value));
        }
        Ok(())
    }

    fn finish(self) -> Result<Challenge> {
        self.finish_if(&|_, _| true)
    }

    /// [`Fields::finish`], but the `request` is only decoded when `decode(method, intent)`;
    /// otherwise `request_text` stays empty (see [`parse_challenges_for`]).
    fn finish_if(self, decode: &dyn Fn(&str, &str) -> bool) -> Result<Challenge> {
        let require = |v: Option<Cow<'a, str>>, name: &str| {
            v.ok_or_else(|| malformed(format!("Missing {name} parameter")))
        };
        let id = require(self.id, "id")?;
        let realm = require(self.realm, "realm")?;
        let method = require(self.method, "method")?;
        let intent = require(self.intent, "intent")?;
        let request = require(self.request, "request")?;
        if id.is_empty() {
            return Err(malformed("Empty id parameter"));
        }
        if !valid_method(&method) {
            return Err(malformed(format!(
                "Invalid method {}: must match ^[a-z][a-z0-9:_-]*$ (lowercase per spec)",
                quoted(&method)
            )));
        }
        if !valid_intent(&intent) {
            return Err(malformed(format!(
                "Invalid intent {}: must match ^[A-Za-z0-9_-]+$",
                quoted(&intent)
            )));
        }
        let request_text = if decode(&method, &intent) {
            decode_request(&request)?
        } else {
            String::new()
        };
        let expires_ms = match &self.expires {
            None => None,
            Some(e) => Some(timestamp::parse_rfc3339_ms(e).ok_or_else(|| {
                malformed(format!("Invalid expires {}: expected RFC 3339", quoted(e)))
            })?),
        };
        if let Some(d) = &self.digest
            && !d.starts_with("sha-256=")
        {
            return Err(malformed(format!(
                "Invalid digest {}: expected sha-256=…",
                quoted(d)
            )));
        }
        let own = |v: Option<Cow<'a, str>>| v.map(Cow::into_owned);
        Ok(Challenge {
            id: id.into_owned(),
            realm: realm.into_owned(),
            method: method.into_owned(),
            intent: intent.into_owned(),
            request: request.into_owned(),
            description: own(self.description),
            digest: own(self.digest),
            expires: own(self.expires),
            opaque: own(self.opaque),
            header: own(self.header),
            params: self
                .params
                .into_iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v.into_owned()))
                .collect(),
            request_text,
            expires_ms,
        })
    }
}

fn valid_method(m: &str) -> bool {
    let mut bytes = m.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b":_-".contains(&b))
}

fn valid_intent(i: &str) -> bool {
    !i.is_empty()
        && i.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Decodes and validates a `request` value; returns the JSON text.
pub(crate) fn decode_request(raw: &str) -> Result<String> {
    if raw.len() > MAX_REQUEST_LEN {
        return Err(malformed(format!(
            "Request parameter too large: {} bytes (the limit is {MAX_REQUEST_LEN})",
            raw.len()
        )));
    }
    let bytes = b64::decode(raw.as_bytes())
        .map_err(|e| malformed(format!("Invalid request: {}", e.describe())))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| malformed("Invalid request: decoded bytes are not UTF-8"))?;
    json::validate_object(&text)
        .map_err(|e| malformed(format!("Invalid request: {}", e.describe())))?;
    Ok(text)
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

/// RFC 9110 `tchar`, as a table (built at compile time).
#[allow(clippy::indexing_slicing)]
static TCHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        i += 1;
    }
    t
};

#[inline]
fn is_tchar(b: u8) -> bool {
    TCHAR.get(usize::from(b)).copied().unwrap_or(false)
}

/// Whitespace between elements: any ASCII whitespace (as mpp 0.18.2; fetch never delivers CR
/// or LF). A scheme must be followed by SP or HTAB specifically.
#[inline]
fn is_ws(b: u8) -> bool {
    b.is_ascii_whitespace()
}

fn skip_while(b: &[u8], from: usize, f: impl Fn(u8) -> bool) -> usize {
    b.get(from..)
        .and_then(|rest| rest.iter().position(|c| !f(*c)))
        .map_or(b.len(), |n| from + n)
}

/// The index after the quoted-string opening at `open`, or `None` if it is unterminated.
fn quoted_end(b: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    loop {
        let n = b.get(i..).and_then(find_special_quotes)?;
        i += n;
        if b.get(i) == Some(&b'"') {
            return Some(i + 1);
        }
        i += 2;
    }
}

/// Reads a UTF-16 code unit `uXXXX` at `at` (the `u`).
fn escaped_unit(b: &[u8], at: usize) -> Option<u16> {
    if b.get(at) != Some(&b'u') {
        return None;
    }
    let hex = b.get(at + 1..at + 5)?;
    hex.iter().try_fold(0u16, |acc, h| {
        let d = char::from(*h).to_digit(16)?;
        Some((acc << 4) | d as u16)
    })
}

/// Unescapes the quoted-string opening at `open`; returns the value and the index after it.
fn unquote(s: &str, open: usize) -> Result<(Cow<'_, str>, usize)> {
    let b = s.as_bytes();
    let unterminated = || malformed(format!("Unterminated quoted-string at offset {open}"));
    let mut i = open + 1;
    let mut segment = i;
    let mut owned: Option<String> = None;
    loop {
        let n = b
            .get(i..)
            .and_then(find_special_quotes)
            .ok_or_else(unterminated)?;
        i += n;
        let piece = s.get(segment..i).unwrap_or_default();
        if b.get(i) == Some(&b'"') {
            let value = match owned {
                None => Cow::Borrowed(piece),
                Some(mut o) => {
                    o.push_str(piece);
                    Cow::Owned(o)
                }
            };
            return Ok((value, i + 1));
        }
        let out = owned.get_or_insert_with(|| String::with_capacity(i - segment + 16));
        out.push_str(piece);
        i += 1; // the backslash
        if let Some(unit) = escaped_unit(b, i) {
            let at = i - 1;
            let lone = || malformed(format!("Lone surrogate in \\u escape at offset {at}"));
            let c = match unit {
                0xD800..=0xDBFF => {
                    let low = (b.get(i + 5) == Some(&b'\\'))
                        .then(|| escaped_unit(b, i + 6))
                        .flatten()
                        .filter(|low| (0xDC00..=0xDFFF).contains(low))
                        .ok_or_else(lone)?;
                    i += 6;
                    let code =
                        0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
                    char::from_u32(code).ok_or_else(lone)?
                }
                0xDC00..=0xDFFF => return Err(lone()),
                _ => char::from_u32(u32::from(unit)).ok_or_else(lone)?,
            };
            out.push(c);
            i += 5;
        } else {
            let c = s
                .get(i..)
                .and_then(|rest| rest.chars().next())
                .ok_or_else(unterminated)?;
            out.push(c);
            i += c.len_utf8();
        }
        segment = i;
    }
}

/// A lexical element of a field value.
enum Token<'a> {
    /// A token at the start of a list element followed by SP/HTAB (`true`), or standing
    /// alone before a comma or the end (`false`).
    Scheme(&'a str, bool),
    /// `name = value`, the value unescaped; `Err` for a bad quoted-string.
    Param(&'a str, Result<Cow<'a, str>>),
    /// Anything else, up to whitespace or a comma. Quotes are ordinary characters here: only a
    /// parameter value can open a quoted-string, so a stray quote never swallows what follows.
    Word(&'a str, usize),
}

struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn next(&mut self) -> Option<Token<'a>> {
        let b = self.s.as_bytes();
        let first = self.pos == 0;
        let mut element_start = first;
        while let Some(&c) = b.get(self.pos) {
            if c == b',' {
                element_start = true;
            } else if !is_ws(c) {
                break;
            }
            self.pos += 1;
        }
        let start = self.pos;
        if start >= b.len() {
            return None;
        }
        let name_end = skip_while(b, start, is_tchar);
        let after = skip_while(b, name_end, is_ws);
        let sep = matches!(b.get(name_end), Some(b' ' | b'\t'));
        let name = self.s.get(start..name_end).unwrap_or_default();
        if name_end > start && b.get(after) == Some(&b'=') && !(first && sep) {
            let v = skip_while(b, after + 1, is_ws);
            if b.get(v) == Some(&b'"') {
                let value = unquote(self.s, v);
                self.pos = match &value {
                    Ok((_, end)) => *end,
                    // After a bad escape go on past the string; unterminated: nothing is left.
                    Err(_) => quoted_end(b, v).unwrap_or(b.len()),
                };
                return Some(Token::Param(name, value.map(|(v, _)| v)));
            }
            let end = skip_while(b, v, |c| c != b',' && !is_ws(c));
            self.pos = end;
            return Some(Token::Param(
                name,
                Ok(Cow::Borrowed(self.s.get(v..end).unwrap_or_default())),
            ));
        }
        if element_start
            && name_end > start
            && (sep || matches!(b.get(name_end), None | Some(b',')))
        {
            self.pos = name_end;
            return Some(Token::Scheme(name, sep));
        }
        let end = skip_while(b, start + 1, |c| c != b',' && !is_ws(c));
        self.pos = end;
        Some(Token::Word(
            self.s.get(start..end).unwrap_or_default(),
            start,
        ))
    }
}

/// A `Payment` challenge being read.
struct Pending<'a> {
    fields: Fields<'a>,
    count: usize,
    error: Option<Error>,
}

impl Pending<'_> {
    fn fail(&mut self, e: Error) {
        self.error.get_or_insert(e);
    }

    fn finish(self, decode: &dyn Fn(&str, &str) -> bool) -> Result<Challenge> {
        match self.error {
            Some(e) => Err(e),
            None => self.fields.finish_if(decode),
        }
    }
}

/// Parses one field value, appending one result per `Payment` challenge.
fn parse_value(s: &str, out: &mut Vec<Result<Challenge>>, decode: &dyn Fn(&str, &str) -> bool) {
    if s.len() > MAX_VALUE_LEN {
        out.push(Err(malformed(format!(
            "WWW-Authenticate value too large: {} bytes (the limit is {MAX_VALUE_LEN})",
            s.len()
        ))));
        return;
    }
    let mut lexer = Lexer { s, pos: 0 };
    let mut current: Option<Pending<'_>> = None;
    while let Some(token) = lexer.next() {
        match token {
            Token::Scheme(name, sep) => {
                if let Some(done) = current.take() {
                    out.push(done.finish(decode));
                }
                if sep && name.eq_ignore_ascii_case("payment") {
                    current = Some(Pending {
                        fields: Fields::default(),
                        count: 0,
                        error: None,
                    });
                }
            }
            Token::Param(name, value) => {
                if let Some(p) = current.as_mut() {
                    p.count += 1;
                    match value {
                        Ok(v) => {
                            if let Err(e) = p.fields.set(name, v) {
                                p.fail(e);
                            }
                        }
                        Err(e) => p.fail(e),
                    }
                }
            }
            Token::Word(word, offset) => {
                if let Some(p) = current.as_mut() {
                    if word.starts_with('=') {
                        p.fail(malformed(format!(
                            "Malformed auth-param at offset {offset}: empty name"
                        )));
                    } else if p.count == 0 {
                        p.fail(malformed(format!(
                            "Expected auth-param after Payment at offset {offset}"
                        )));
                    }
                    // Otherwise: text after a value (stray quotes, a missing comma), skipped.
                }
            }
        }
    }
    if let Some(done) = current {
        out.push(done.finish(decode));
    }
}

/// Parses every `Payment` challenge of one or more `WWW-Authenticate` field values (separate
/// header lines, or lines joined with `", "` as fetch does); one result per challenge, in
/// order, so one malformed challenge never hides a good one. Other schemes are skipped; no
/// `Payment` challenge gives an empty vector.
pub fn parse_challenges<S: AsRef<str>>(values: &[S]) -> Vec<Result<Challenge>> {
    parse_challenges_for(values, &|_, _| true)
}

/// [`parse_challenges`] that decodes and validates the `request` only of the challenges for
/// which `decode(method, intent)` holds. The others, when their parameters are valid, come back
/// `Ok` with an empty [`Challenge::request_text`]: they are not valid challenges and must not
/// leave the caller (the stripe selection skips them by method and intent, and parses again
/// in full when it needs to report on them).
pub(crate) fn parse_challenges_for<S: AsRef<str>>(
    values: &[S],
    decode: &dyn Fn(&str, &str) -> bool,
) -> Vec<Result<Challenge>> {
    let mut out = Vec::new();
    for v in values {
        parse_value(v.as_ref(), &mut out, decode);
    }
    out
}

/// [`parse_challenges`] for raw header bytes, decoded as ISO-8859-1 (RFC 9110 §5.5): mppx
/// sends U+0080–U+00FF as single bytes.
pub fn parse_challenges_bytes(values: &[&[u8]]) -> Vec<Result<Challenge>> {
    let mut out = Vec::new();
    for v in values {
        parse_value(&latin1(v), &mut out, &|_, _| true);
    }
    out
}

/// Decodes bytes as ISO-8859-1; borrows when they are ASCII.
pub fn latin1(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) if s.is_ascii() => Cow::Borrowed(s),
        _ => Cow::Owned(bytes.iter().map(|b| char::from(*b)).collect()),
    }
}

/// The `decodeChallenges` result: one entry per challenge, `{ok: true, challenge}` (the shape
/// of [`Challenge::to_json`]) or `{ok: false, error: {code, message}}`.
///
/// When the values hold no `Payment` challenge at all, the list has exactly one entry,
/// `{ok: false, error: {code: "MPP_NO_PAYMENT_CHALLENGE"}}`, so callers never have to tell
/// "empty" apart from "failed".
pub fn decode_all_results(values: &[String]) -> Vec<Value> {
    let results = parse_challenges(values);
    if results.is_empty() {
        return vec![error_entry(&no_payment_challenge())];
    }
    results
        .into_iter()
        .map(|r| match r.and_then(|c| c.to_json()) {
            Ok(challenge) => object!({ "ok": true, "challenge": challenge }),
            Err(e) => error_entry(&e),
        })
        .collect()
}

/// [`decode_all_results`] as JSON text, written directly (each request's own text is copied):
/// what the npm package hands to `JSON.parse`, the one parse of the result.
pub fn decode_all_text(values: &[String]) -> String {
    let results = parse_challenges(values);
    let mut out = String::from("[");
    if results.is_empty() {
        out.push_str(&crate::json_text(&error_entry(&no_payment_challenge())));
    }
    for (i, result) in results.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match result {
            Ok(c) => {
                out.push_str("{\"ok\":true,\"challenge\":");
                c.write_json(&mut out);
                out.push('}');
            }
            Err(e) => out.push_str(&crate::json_text(&error_entry(e))),
        }
    }
    out.push(']');
    out
}

fn error_entry(e: &Error) -> Value {
    object!({ "ok": false, "error": e.to_json() })
}

pub(crate) fn no_payment_challenge() -> Error {
    Error::new(
        ErrorCode::MppNoPaymentChallenge,
        "No Payment schemes found.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"Payment id="abc123", realm="api.example.com", method="tempo", intent="charge", request="eyJhbW91bnQiOiIxMDAwMDAwIiwiY3VycmVuY3kiOiJVU0QifQ""#;

    fn one(h: &str) -> Result<Challenge> {
        let mut all = parse_challenges(&[h]);
        assert_eq!(all.len(), 1, "{h}: {all:?}");
        all.remove(0)
    }

    #[test]
    fn base_challenge() {
        let c = one(BASE).unwrap();
        assert_eq!(c.id, "abc123");
        assert_eq!(c.realm, "api.example.com");
        assert_eq!(c.request_text(), r#"{"amount":"1000000","currency":"USD"}"#);
    }

    #[test]
    fn escapes() {
        let d = |raw: &str| {
            one(&format!("{BASE}, description=\"{raw}\""))
                .map(|c| c.description.unwrap_or_default())
        };
        assert_eq!(d(r#"premium \"access\""#).unwrap(), "premium \"access\"");
        assert_eq!(d(r"tier\,premium").unwrap(), "tier,premium");
        assert_eq!(d(r"Ends with slash \\").unwrap(), "Ends with slash \\");
        assert_eq!(d(r"1 × C \u2014 G").unwrap(), "1 × C — G");
        assert_eq!(
            d(r#"T \ud83c\udf9f\ufe0f \"VIP\""#).unwrap(),
            "T 🎟\u{fe0f} \"VIP\""
        );
        assert_eq!(d(r"x\u001b[2J\u000d\u000ay").unwrap(), "x\u{1b}[2J\r\ny");
        assert_eq!(d(r"x\u00zzy").unwrap(), "xu00zzy");
        assert!(d(r"x\ud800y").is_err());
        assert!(d(r"x\udc00y").is_err());
        assert!(d(r"x\ud800\u0041y").is_err());
    }

    #[test]
    fn stray_quotes_do_not_hide_params() {
        let h = format!(r#"{BASE}, description="say "hi" now", expires="2020-01-01T00:00:00Z""#);
        let c = one(&h).unwrap();
        assert_eq!(c.description.as_deref(), Some("say "));
        assert_eq!(c.expires.as_deref(), Some("2020-01-01T00:00:00Z"));
        let h = format!(r#"{BASE}, description="5" screen", expires="2020-01-01T00:00:00Z""#);
        assert_eq!(
            one(&h).unwrap().expires.as_deref(),
            Some("2020-01-01T00:00:00Z")
        );
        let h = format!(r#"{BASE}, description="5" screen", {BASE}"#);
        assert_eq!(parse_challenges(&[h]).len(), 2);
    }

    #[test]
    fn boundaries() {
        assert_eq!(parse_challenges(&["Payment"]).len(), 0);
        assert_eq!(parse_challenges(&[""]).len(), 0);
        assert_eq!(parse_challenges(&["Bearer token"]).len(), 0);
        let two = format!("{BASE}, Bearer realm=\"x\", {BASE}, Basic dXNlcg==");
        assert_eq!(parse_challenges(&[two]).len(), 2);
        let r = parse_challenges(&["Payment Payment id=\"x\", realm=\"r\""]);
        assert_eq!(r.len(), 1);
    }
}
