//! Base64 as MPP peers send it: either alphabet, padding optional.
//!
//! Decoding rules (mpp.md §1.2, §6 item 6):
//! - The URL-safe (`-_`) and the standard (`+/`) alphabets are both accepted, also mixed within
//!   one value (mpp 0.18.2 accepts mixing too).
//! - Padding is optional; when present it must be the canonical `=` or `==` at the end, making
//!   the length a multiple of 4. `e30=` is fine, `e30==`, `e3=0` and `YQ=` are not.
//! - A length ≡ 1 (mod 4) is rejected, as is any other character (no whitespace skipping).
//! - Non-canonical trailing bits are **rejected**: `YR` (which would decode to `a`) and `e31`
//!   are errors, as in the Rust `base64` crate and mpp 0.18.2; ox 0.14.33 accepts them. An
//!   encoder never produces them, so accepting them would only widen the set of strings that
//!   decode to the same bytes.
//!
//! The decoder is a single table-driven pass with no normalising copy of the input.

/// Why a value is not base64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum B64Error {
    /// A character outside both alphabets, at this offset.
    Char(usize),
    /// Padding in the wrong place or of the wrong length.
    Padding,
    /// Length ≡ 1 (mod 4).
    Length,
    /// Non-zero bits after the last full byte.
    TrailingBits,
}

impl B64Error {
    pub(crate) fn describe(self) -> String {
        match self {
            B64Error::Char(at) => format!("invalid base64url character at offset {at}"),
            B64Error::Padding => "invalid base64 padding".to_string(),
            B64Error::Length => "invalid base64url length".to_string(),
            B64Error::TrailingBits => "non-canonical base64url trailing bits".to_string(),
        }
    }
}

const INVALID: u8 = 0xFF;

/// Sextet value of every byte; `+`/`-` are 62 and `/`/`_` are 63. (Built at compile time: an
/// out-of-range index here would be a compile error, not a panic.)
#[allow(clippy::indexing_slicing)]
static TABLE: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'+' as usize] = 62;
    t[b'-' as usize] = 62;
    t[b'/' as usize] = 63;
    t[b'_' as usize] = 63;
    t
};

#[inline]
fn sextet(bytes: &[u8], at: usize) -> Result<u32, B64Error> {
    match bytes
        .get(at)
        .and_then(|b| TABLE.get(usize::from(*b)))
        .copied()
    {
        Some(v) if v != INVALID => Ok(u32::from(v)),
        _ => Err(B64Error::Char(at)),
    }
}

/// Decodes base64 (either alphabet, optional canonical padding) into a new vector.
pub(crate) fn decode(input: &[u8]) -> Result<Vec<u8>, B64Error> {
    let pad = input.iter().rev().take_while(|b| **b == b'=').count();
    if pad > 2 || (pad > 0 && !input.len().is_multiple_of(4)) {
        return Err(B64Error::Padding);
    }
    let body = input.get(..input.len() - pad).unwrap_or_default();
    let rem = body.len() % 4;
    if rem == 1 {
        return Err(B64Error::Length);
    }
    let full = body.len() - rem;
    let mut out = vec![0u8; full / 4 * 3 + rem.saturating_sub(1)];
    let (whole, tail) = out.split_at_mut_checked(full / 4 * 3).unwrap_or_default();
    for (k, (src, dst)) in body
        .chunks_exact(4)
        .zip(whole.chunks_exact_mut(3))
        .enumerate()
    {
        let v = |b: u8| TABLE.get(usize::from(b)).copied().unwrap_or(INVALID);
        let (Some(&a), Some(&b), Some(&c), Some(&d)) =
            (src.first(), src.get(1), src.get(2), src.get(3))
        else {
            continue;
        };
        let (a, b, c, d) = (v(a), v(b), v(c), v(d));
        if (a | b | c | d) & 0x80 != 0 {
            // Report the first bad character.
            let bad = [a, b, c, d].iter().position(|x| *x == INVALID).unwrap_or(0);
            return Err(B64Error::Char(k * 4 + bad));
        }
        let n = u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(d);
        // Byte stores: `copy_from_slice` here was an out-of-line `memory.copy` of 3 bytes per
        // quad at opt-level z, a fifth of the time on a 16 KiB request.
        if let [x, y, z] = dst {
            *x = (n >> 16) as u8;
            *y = (n >> 8) as u8;
            *z = n as u8;
        }
    }
    let i = full;
    match rem {
        2 => {
            let n = (sextet(body, i)? << 6) | sextet(body, i + 1)?;
            if n & 0x0F != 0 {
                return Err(B64Error::TrailingBits);
            }
            if let Some(x) = tail.first_mut() {
                *x = (n >> 4) as u8;
            }
        }
        3 => {
            let n = (sextet(body, i)? << 12) | (sextet(body, i + 1)? << 6) | sextet(body, i + 2)?;
            if n & 0x03 != 0 {
                return Err(B64Error::TrailingBits);
            }
            if let [x, y] = tail {
                *x = (n >> 10) as u8;
                *y = (n >> 2) as u8;
            }
        }
        _ => {}
    }
    Ok(out)
}

/// base64url without padding, as every MPP token is sent.
pub(crate) fn encode(bytes: &[u8]) -> String {
    const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let sextet = |n: u32, shift: u32| {
        char::from(
            URL.get(((n >> shift) & 63) as usize)
                .copied()
                .unwrap_or(b'A'),
        )
    };
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    let mut chunks = bytes.chunks_exact(3);
    for chunk in &mut chunks {
        if let [a, b, c] = *chunk {
            let n = u32::from(a) << 16 | u32::from(b) << 8 | u32::from(c);
            out.extend([sextet(n, 18), sextet(n, 12), sextet(n, 6), sextet(n, 0)]);
        }
    }
    match *chunks.remainder() {
        [a] => {
            let n = u32::from(a) << 16;
            out.extend([sextet(n, 18), sextet(n, 12)]);
        }
        [a, b] => {
            let n = u32::from(a) << 16 | u32::from(b) << 8;
            out.extend([sextet(n, 18), sextet(n, 12), sextet(n, 6)]);
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Result<Vec<u8>, B64Error> {
        decode(s.as_bytes())
    }

    #[test]
    fn conformance_base64url() {
        for (enc, dec) in [
            ("", ""),
            ("SGVsbG8sIFdvcmxkIQ", "Hello, World!"),
            ("YQ", "a"),
            ("YWI", "ab"),
            ("YWJj", "abc"),
            ("Pj4-Pz8_", ">>>???"),
            ("eyJrZXkiOiJ2YWx1ZSJ9", "{\"key\":\"value\"}"),
        ] {
            assert_eq!(d(enc).unwrap(), dec.as_bytes(), "{enc}");
            assert_eq!(encode(dec.as_bytes()), enc);
            use base64::Engine as _;
            let crate_enc = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(dec.as_bytes());
            assert_eq!(crate_enc, enc);
        }
        assert!(d("not-valid!!!").is_err());
        assert_eq!(d("_w").unwrap(), [0xFF]);
    }

    proptest::proptest! {
        #[test]
        fn encode_matches_the_base64_crate(bytes in proptest::collection::vec(0u8.., 0..80)) {
            use base64::Engine as _;
            let theirs = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
            proptest::prop_assert_eq!(encode(&bytes), theirs);
            proptest::prop_assert_eq!(decode(encode(&bytes).as_bytes()), Ok(bytes));
        }
    }

    #[test]
    fn padding_and_alphabets() {
        assert_eq!(d("e30=").unwrap(), b"{}");
        assert_eq!(d("YQ==").unwrap(), b"a");
        assert_eq!(d("Pj4+Pz8/").unwrap(), b">>>???");
        assert_eq!(d("Pj4+Pz8_").unwrap(), b">>>???");
        for bad in [
            "e30==", "e3=0", "YQ=", "YWJj=", "=", "a", "abcde", "YR", "e31", "e3 0",
        ] {
            assert!(d(bad).is_err(), "{bad}");
        }
        assert_eq!(d("a"), Err(B64Error::Length));
        assert_eq!(d("YR"), Err(B64Error::TrailingBits));
        assert_eq!(d("ab!d"), Err(B64Error::Char(2)));
    }
}
