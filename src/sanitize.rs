//! Display-safe text from untrusted strings (server, merchant, agent).
//!
//! Everything a merchant or a server controls — a challenge's `realm` or `description`, the
//! decoded `request` JSON, a receipt — may carry terminal escape sequences, carriage returns
//! that overwrite a line, bidi overrides that reorder what a person reads, or invisible
//! characters that smuggle text past a human to an AI agent. [`for_display`] removes them:
//!
//! - ANSI/ECMA-48 escape sequences: CSI (`ESC [` … final byte, also the one-byte C1 form
//!   U+009B), OSC (`ESC ]` … terminated by BEL or ST, which covers OSC-8 hyperlinks; also
//!   U+009D), the other string sequences DCS/SOS/PM/APC (`ESC P`, `ESC X`, `ESC ^`, `ESC _`),
//!   and two- or three-byte escapes such as `ESC c` or `ESC ( B`. An unterminated sequence
//!   loses only its introducer, so the text that follows stays visible;
//! - C0 controls except `\n` and `\t` (so `\r` goes), DEL, and C1 controls U+0080–U+009F;
//! - bidi controls: U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C;
//! - zero-width and invisible characters: U+200B–U+200D, U+2060, U+FEFF, and also (beyond the
//!   list above, because they hide text just as well) U+00AD soft hyphen, U+2028/U+2029
//!   line/paragraph separators, U+2061–U+2064 invisible operators, U+FFF9–U+FFFB interlinear
//!   annotation marks and the U+E0000–U+E007F tag characters ("ASCII smuggling").
//!
//! `\n` is kept: multi-line descriptions exist. Callers that print a value on one line should
//! still quote it (JSON output does).
//!
//! The scan is a single pass over the bytes; when nothing needs removing, [`for_display_cow`]
//! borrows the input and [`for_display`] only copies it.

use serde_json::{Map, Value};
use std::borrow::Cow;

/// Strips ANSI CSI/OSC sequences, C0/C1 controls (keeping `\n` and `\t`), bidi controls and
/// zero-width characters. See the module docs for the exact set.
pub fn for_display(text: &str) -> String {
    for_display_cow(text).into_owned()
}

/// Like [`for_display`] but borrows the input when nothing needs stripping.
pub fn for_display_cow(text: &str) -> Cow<'_, str> {
    match first_suspicious(text.as_bytes()) {
        None => Cow::Borrowed(text),
        Some(at) => strip_from(text, at).map_or(Cow::Borrowed(text), Cow::Owned),
    }
}

/// [`for_display_cow`] for a value that must stay on one line (a challenge's id, realm or
/// description, a network id): the `\n` and `\t` it keeps become spaces too, one per run, so a
/// merchant's `\u000d\u000a` cannot forge a line in a log or a terminal.
pub fn one_line(text: &str) -> Cow<'_, str> {
    let shown = for_display_cow(text);
    if !shown.contains(['\n', '\t']) {
        return shown;
    }
    let mut out = String::with_capacity(shown.len());
    let mut in_break = false;
    for c in shown.chars() {
        if c == '\n' || c == '\t' {
            if !in_break {
                out.push(' ');
            }
            in_break = true;
        } else {
            out.push(c);
            in_break = false;
        }
    }
    Cow::Owned(out)
}

/// Applies [`for_display`] to every string of a JSON value, object keys included.
///
/// When two keys of one object become equal after sanitizing, the key that was already clean
/// wins (its value is kept), otherwise the first one: a value hidden behind `amount\u{200b}`
/// cannot replace the real `amount`.
pub fn sanitize_json(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(for_display(s)),
        Value::Array(items) => Value::Array(items.iter().map(sanitize_json).collect()),
        Value::Object(map) => Value::Object(sanitize_map(map)),
        other => other.clone(),
    }
}

/// [`sanitize_json`] for an object.
pub fn sanitize_map(map: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::with_capacity(map.len());
    // Keys that were inserted after sanitizing changed them; a clean key replaces their value.
    let mut dirty: Vec<String> = Vec::new();
    for (key, v) in map {
        let k = for_display_cow(key);
        let changed = matches!(k, Cow::Owned(_));
        let k = k.into_owned();
        if !out.contains_key(&k) {
            if changed {
                dirty.push(k.clone());
            }
            out.insert(k, sanitize_json(v));
        } else if !changed && let Some(i) = dirty.iter().position(|d| *d == k) {
            dirty.swap_remove(i);
            out.insert(k, sanitize_json(v));
        }
    }
    out
}

/// Masks a card number for display: `•••• 4242` (the last four digits), or `••••` when the
/// input has fewer than four digits. Non-digits are ignored, so `4242 4242 4242 4242` works.
pub fn mask_card_number(number: &str) -> String {
    let digits: Vec<u8> = number.bytes().filter(u8::is_ascii_digit).collect();
    match digits
        .len()
        .checked_sub(4)
        .and_then(|from| digits.get(from..))
    {
        Some(last4) => {
            let mut out = String::from("•••• ");
            out.extend(last4.iter().map(|d| char::from(*d)));
            out
        }
        None => "••••".to_string(),
    }
}

/// Prefixes of the secrets Link and MPP hand out (Shared Payment Tokens, access and refresh
/// tokens, Link Pay Tokens, device codes): a word starting with one, followed by at least
/// [`MIN_SECRET_TAIL`] token characters, is redacted wherever it appears in a log line.
pub const SECRET_PREFIXES: [&str; 5] = ["spt_", "lsat_", "lsrt_", "lpt_", "dc_"];
/// Token characters after a prefix before a word counts as a secret (`spt_x` in prose does not).
pub const MIN_SECRET_TAIL: usize = 8;

/// Redacts secrets by value, for lines that go to a log: words with a [`SECRET_PREFIXES`]
/// prefix, the credential after `Bearer `, and Luhn-valid runs of 13 to 19 digits (single
/// spaces or hyphens between digit groups allowed: `4242 4242 4242 4242`), which become
/// `<redacted card …4242>`. Redacting by key misses a merchant that echoes a token under another
/// name or inside free text; this does not. Borrows when nothing is found.
pub fn redact_secrets(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let boundary = i == 0 || !is_token_byte(bytes[i - 1]);
        let found = if !boundary {
            None
        } else if bytes[i].is_ascii_digit() {
            card_run(bytes, i).map(|(end, last4)| (end, format!("<redacted card …{last4}>")))
        } else {
            secret_word(text, i)
        };
        match found {
            Some((end, replacement)) => {
                let buf = out.get_or_insert_with(|| String::with_capacity(text.len()));
                buf.push_str(&text[copied..i]);
                buf.push_str(&replacement);
                copied = end;
                i = end;
            }
            None => i += 1,
        }
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut buf) => {
            buf.push_str(&text[copied..]);
            Cow::Owned(buf)
        }
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// A secret starting at `at` and its replacement: a known prefix plus enough token
/// characters, or the credential after `Bearer ` (the scheme is kept).
fn secret_word(text: &str, at: usize) -> Option<(usize, String)> {
    let bytes = text.as_bytes();
    let rest = &bytes[at..];
    if rest.len() > 7 && rest[..7].eq_ignore_ascii_case(b"bearer ") {
        let from = at + 7;
        let len = bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b',' | b'\\'))
            .count();
        return (len > 0).then(|| (from + len, format!("{}<redacted>", &text[at..from])));
    }
    let prefix = SECRET_PREFIXES
        .iter()
        .find(|p| rest.starts_with(p.as_bytes()))?;
    let from = at + prefix.len();
    let len = bytes[from..]
        .iter()
        .take_while(|b| is_token_byte(**b))
        .count();
    (len >= MIN_SECRET_TAIL).then(|| (from + len, "<redacted>".to_string()))
}

/// A Luhn-valid run of 13 to 19 digits starting at `at` (single spaces or hyphens between
/// digits allowed), not followed by another token character: its end and last four digits.
fn card_run(bytes: &[u8], at: usize) -> Option<(usize, String)> {
    let mut digits: Vec<u8> = Vec::with_capacity(19);
    let mut i = at;
    let mut end = at;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_digit() {
            digits.push(b - b'0');
            if digits.len() > 19 {
                return None;
            }
            i += 1;
            end = i;
        } else if (b == b' ' || b == b'-') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i += 1;
        } else {
            break;
        }
    }
    if digits.len() < 13
        || bytes
            .get(end)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
    {
        return None;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(k, d)| {
            let d = u32::from(*d);
            if k % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    if !sum.is_multiple_of(10) {
        return None;
    }
    let last4: String = digits[digits.len() - 4..]
        .iter()
        .map(|d| char::from(b'0' + d))
        .collect();
    Some((end, last4))
}

/// Whether a byte can start something we strip: C0 (but `\t`, `\n`), DEL, or the lead byte of
/// a UTF-8 sequence that can encode a stripped character (C2: C1 and U+00AD, D8: U+061C,
/// E2: U+20xx, EF: U+FEFF and U+FFF9–B, F3: tags).
#[inline]
fn suspicious(b: u8) -> bool {
    matches!(b, 0x00..=0x08 | 0x0B..=0x1F | 0x7F | 0xC2 | 0xD8 | 0xE2 | 0xEF | 0xF3)
}

/// Whether [`for_display`] could change `text` (it may still keep it, e.g. `é`): lets a caller
/// copy clean text, such as a JSON document without escapes, as it is.
pub(crate) fn needs_stripping(text: &str) -> bool {
    first_suspicious(text.as_bytes()).is_some()
}

fn first_suspicious(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|b| suspicious(*b))
}

/// Whether a non-ASCII character is stripped.
fn stripped_char(c: char) -> bool {
    matches!(
        c,
        '\u{80}'..='\u{9f}'
            | '\u{ad}'
            | '\u{61c}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{e0000}'..='\u{e007f}'
    )
}

const ESC: char = '\u{1b}';
const BEL: char = '\u{7}';
const CSI_C1: char = '\u{9b}';
const OSC_C1: char = '\u{9d}';
const ST_C1: char = '\u{9c}';

/// The slow path, from the first suspicious byte on. `None` if nothing was removed after all
/// (a lead byte of a character we keep, such as `é`).
fn strip_from(text: &str, at: usize) -> Option<String> {
    let head = text.get(..at)?;
    let tail = text.get(at..)?;
    let mut out = String::with_capacity(text.len());
    out.push_str(head);
    let mut changed = false;
    let mut rest = tail;
    while let Some(c) = rest.chars().next() {
        let after = rest.get(c.len_utf8()..).unwrap_or("");
        let skip_to = match c {
            ESC => Some(escape_len(after).map_or(after, |n| after.get(n..).unwrap_or(""))),
            CSI_C1 => Some(csi_len(after).map_or(after, |n| after.get(n..).unwrap_or(""))),
            OSC_C1 => Some(string_len(after).map_or(after, |n| after.get(n..).unwrap_or(""))),
            '\n' | '\t' => None,
            c if c.is_ascii_control() || stripped_char(c) => Some(after),
            _ => None,
        };
        match skip_to {
            Some(next) => {
                changed = true;
                rest = next;
            }
            None => {
                out.push(c);
                rest = after;
            }
        }
    }
    changed.then_some(out)
}

/// Length of the rest of an escape sequence after ESC, or `None` if it is unterminated or not a
/// sequence (then only the ESC goes).
fn escape_len(after: &str) -> Option<usize> {
    let b = after.as_bytes();
    match b.first()? {
        b'[' => csi_len(after.get(1..)?).map(|n| n + 1),
        b']' | b'P' | b'X' | b'^' | b'_' => string_len(after.get(1..)?).map(|n| n + 1),
        // nF: intermediates 0x20–0x2F then a final byte 0x30–0x7E (`ESC ( B`).
        0x20..=0x2F => {
            let n = b.iter().take_while(|x| (0x20..=0x2F).contains(*x)).count();
            matches!(b.get(n), Some(0x30..=0x7E)).then_some(n + 1)
        }
        // Fp, Fe and Fs: one final byte (`ESC 7`, `ESC M`, `ESC c`).
        0x30..=0x7E => Some(1),
        _ => None,
    }
}

/// Length of a CSI body: parameter bytes 0x30–0x3F, intermediates 0x20–0x2F, final 0x40–0x7E.
fn csi_len(body: &str) -> Option<usize> {
    let b = body.as_bytes();
    let params = b.iter().take_while(|x| (0x30..=0x3F).contains(*x)).count();
    let inter = b
        .get(params..)?
        .iter()
        .take_while(|x| (0x20..=0x2F).contains(*x))
        .count();
    matches!(b.get(params + inter), Some(0x40..=0x7E)).then_some(params + inter + 1)
}

/// Length of an OSC/DCS/SOS/PM/APC body including its terminator: BEL, ESC `\` or C1 ST.
fn string_len(body: &str) -> Option<usize> {
    let mut iter = body.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        match c {
            BEL | ST_C1 => return Some(i + c.len_utf8()),
            ESC => {
                return match iter.peek() {
                    Some((j, '\\')) => Some(j + 1),
                    // Another sequence starts: this one ends (unterminated) before it.
                    _ => Some(i),
                };
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redacts_secrets_by_value() {
        let clean = "GET /spend_requests/lsrq_123 200 in 5 ms, order 2026-12-02, id 12345";
        assert!(matches!(redact_secrets(clean), Cow::Borrowed(_)));
        assert_eq!(
            redact_secrets(
                r#"{"echo":"spt_1AbCdEfGhIjKlMnO","note":"paid with spt_1AbCdEfGhIjKlMnO."}"#
            ),
            r#"{"echo":"<redacted>","note":"paid with <redacted>."}"#
        );
        assert_eq!(
            redact_secrets(
                "card 4242 4242 4242 4242, cvc 123; also 4000-0566-5566-5556 and 4242424242424242"
            ),
            "card <redacted card …4242>, cvc 123; also <redacted card …5556> and <redacted card …4242>"
        );
        // Not Luhn-valid, too short, too long, or part of a word: kept.
        for kept in [
            "4242424242424241",
            "424242424242",
            "42424242424242424242",
            "x4242424242424242",
            "spt_short",
            "myspt_1AbCdEfGhIjKlMnO",
        ] {
            assert_eq!(redact_secrets(kept), kept);
        }
        assert_eq!(
            redact_secrets("Authorization: Bearer abc.def-ghi"),
            "Authorization: Bearer <redacted>"
        );
        assert_eq!(
            redact_secrets("refresh lsrt_abcdefgh1234 and lsat_ZZZZZZZZ9"),
            "refresh <redacted> and <redacted>"
        );
        assert_eq!(
            redact_secrets("naïve 4242424242424242 ✓"),
            "naïve <redacted card …4242> ✓"
        );
    }

    #[test]
    fn one_line_values_have_no_breaks() {
        assert!(matches!(
            one_line("Plan \"Pro\", monthly"),
            Cow::Borrowed(_)
        ));
        assert_eq!(one_line("ok\r\nFAKE line"), "ok FAKE line");
        assert_eq!(one_line("a\n\n\tb\u{1b}[2Jc"), "a bc");
        assert!(
            !one_line("x\u{85}y\u{2028}z\n")
                .chars()
                .any(char::is_control)
        );
    }

    #[test]
    fn clean_text_is_borrowed() {
        for s in ["", "hello", "café 🎟️ — naïve", "line\nnext\ttab"] {
            assert!(matches!(for_display_cow(s), Cow::Borrowed(_)), "{s:?}");
            assert_eq!(for_display(s), s);
        }
    }

    #[test]
    fn strips_ansi_and_controls() {
        assert_eq!(for_display("\x1b[2JEvil\rHidden"), "EvilHidden");
        assert_eq!(for_display("a\x1b[1;31mred\x1b[0mb"), "aredb");
        assert_eq!(
            for_display("\x1b]8;;https://evil\x1b\\click\x1b]8;;\x1b\\"),
            "click"
        );
        assert_eq!(for_display("\x1b]0;title\x07x"), "x");
        assert_eq!(for_display("x\x1b(By"), "xy");
        assert_eq!(for_display("x\x1bcy"), "xy");
        assert_eq!(for_display("x\u{9b}31my"), "xy");
        assert_eq!(for_display("x\u{9d}8;;u\u{9c}y"), "xy");
        assert_eq!(for_display("a\x00b\x7fc\u{85}d"), "abcd");
        // Unterminated: only the introducer goes.
        assert_eq!(for_display("x\x1b]8;;http://e"), "x]8;;http://e");
        assert_eq!(for_display("x\x1b[12"), "x[12");
        assert_eq!(for_display("x\x1b"), "x");
    }

    #[test]
    fn strips_bidi_and_invisible() {
        assert_eq!(for_display("a\u{202e}b\u{2066}c\u{200f}d\u{61c}e"), "abcde");
        assert_eq!(
            for_display("a\u{200b}b\u{200d}c\u{2060}d\u{feff}e"),
            "abcde"
        );
        assert_eq!(for_display("a\u{e0041}\u{e0042}b\u{ad}c\u{2028}d"), "abcd");
        assert_eq!(for_display("é\u{2014}"), "é\u{2014}");
    }

    #[test]
    fn json_keys_and_values() {
        let v = json!({"a\u{1b}[31m": ["x\ry", 1, null], "n": {"k\u{200b}": "v"}});
        assert_eq!(
            sanitize_json(&v),
            json!({"a": ["xy", 1, null], "n": {"k": "v"}})
        );
        let v = json!({"amount\u{200b}": "1000", "amount": "1"});
        assert_eq!(sanitize_json(&v), json!({"amount": "1"}));
        let v = json!({"amount": "1", "amount\u{200b}": "1000"});
        assert_eq!(sanitize_json(&v), json!({"amount": "1"}));
    }

    #[test]
    fn masks_cards() {
        assert_eq!(mask_card_number("4242424242424242"), "•••• 4242");
        assert_eq!(mask_card_number("4000 0566 5566 5556"), "•••• 5556");
        assert_eq!(mask_card_number("12"), "••••");
    }
}
