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
