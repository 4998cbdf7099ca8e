//! Decimal text ↔ `f64`, with exactly the results of `str::parse::<f64>` and of `{}` / `{:.0}`,
//! but without core's float machinery: dec2flt carries a 10 KB power-of-five table and
//! Grisu/Dragon another 15 KB of code and tables, which is most of what floats cost the wasm
//! artifacts (and none of it compresses).
//!
//! - [`parse`]: a decimal (`-?digits[.digits][(e|E)[+-]digits]`) to the nearest `f64`, ties to
//!   even, ±infinity past `f64::MAX`: what `str::parse::<f64>` returns for that syntax.
//! - [`display`]: Rust's `{}` of an `f64`: the shortest digits that round-trip (from `zmij`,
//!   which serde_json links anyway to print floats), written out without an exponent.
//! - [`integer`]: Rust's `{:.0}` of an integral `f64` (the exact digits).

/// Significant digits kept when parsing; the rest only count as "not zero". Deciding the
/// rounding of any decimal needs at most 768 (the longest exact midpoint between two doubles).
const MAX_DIGITS: usize = 800;

/// A little-endian base-2^32 natural number, as big as parsing needs (a few hundred limbs).
#[derive(Clone)]
struct Big(Vec<u32>);

impl Big {
    fn from(n: u64) -> Big {
        let mut big = Big(vec![n as u32, (n >> 32) as u32]);
        big.trim();
        big
    }

    fn mul_add(&mut self, mul: u32, add: u32) {
        let mut carry = u64::from(add);
        for limb in &mut self.0 {
            let x = u64::from(*limb) * u64::from(mul) + carry;
            *limb = x as u32;
            carry = x >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    fn mul_pow10(&mut self, mut n: u32) {
        while n > 0 {
            let step = n.min(9);
            self.mul_add(10u32.pow(step), 0);
            n -= step;
        }
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn bit_len(&self) -> i64 {
        match self.0.last() {
            Some(top) => self.0.len() as i64 * 32 - i64::from(top.leading_zeros()),
            None => 0,
        }
    }

    fn bit(&self, i: i64) -> bool {
        i >= 0
            && self
                .0
                .get((i / 32) as usize)
                .is_some_and(|limb| limb >> (i % 32) & 1 == 1)
    }

    /// Whether any bit below `i` is set.
    fn any_below(&self, i: i64) -> bool {
        (0..i.min(self.bit_len())).any(|b| self.bit(b))
    }

    fn shl(&self, bits: i64) -> Big {
        let (words, bits) = ((bits / 32) as usize, (bits % 32) as u32);
        let mut out = vec![0; words];
        let mut carry = 0u32;
        for &limb in &self.0 {
            out.push(limb << bits | carry);
            carry = if bits == 0 { 0 } else { limb >> (32 - bits) };
        }
        out.push(carry);
        let mut out = Big(out);
        out.trim();
        out
    }

    fn less_than(&self, other: &Big) -> bool {
        if self.0.len() != other.0.len() {
            return self.0.len() < other.0.len();
        }
        for (a, b) in self.0.iter().rev().zip(other.0.iter().rev()) {
            if a != b {
                return a < b;
            }
        }
        false
    }

    /// `self -= other`; `other` must not be larger.
    fn sub(&mut self, other: &Big) {
        let mut borrow = 0i64;
        for (i, limb) in self.0.iter_mut().enumerate() {
            let x = i64::from(*limb) - i64::from(other.0.get(i).copied().unwrap_or(0)) - borrow;
            *limb = x as u32;
            borrow = i64::from(x < 0);
        }
        self.trim();
    }
}

/// Parses `-?digits[.digits][(e|E)[+-]digits]` (leading zeros allowed) to the nearest `f64`;
/// `None` for any other text.
pub(crate) fn parse(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let (negative, b) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    let digits = |from: usize| {
        b.iter()
            .skip(from)
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let int_len = digits(0);
    if int_len == 0 {
        return None;
    }
    let mut i = int_len;
    let mut frac = &b[..0];
    if b.get(i) == Some(&b'.') {
        let n = digits(i + 1);
        if n == 0 {
            return None;
        }
        frac = b.get(i + 1..i + 1 + n)?;
        i += 1 + n;
    }
    let mut exp: i64 = 0;
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        let exp_negative = b.get(i) == Some(&b'-');
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let n = digits(i);
        if n == 0 {
            return None;
        }
        for &d in b.get(i..i + n)? {
            // Saturates far beyond any exponent that still matters.
            exp = (exp * 10 + i64::from(d - b'0')).min(1 << 40);
        }
        if exp_negative {
            exp = -exp;
        }
        i += n;
    }
    if i != b.len() {
        return None;
    }
    let mantissa = b.get(..int_len)?.iter().chain(frac).map(|d| d - b'0');
    let value = convert(mantissa, exp - frac.len() as i64);
    Some(if negative { -value } else { value })
}

/// The nearest `f64` to `digits × 10^exp10`.
fn convert(digits: impl Iterator<Item = u8>, mut exp10: i64) -> f64 {
    let mut kept: Vec<u8> = Vec::new();
    let mut dropped_nonzero = false;
    for d in digits.skip_while(|d| *d == 0) {
        if kept.len() < MAX_DIGITS {
            kept.push(d);
        } else {
            dropped_nonzero |= d != 0;
            exp10 += 1;
        }
    }
    if dropped_nonzero {
        // Anything strictly between the kept digits and the next value: a trailing 1 does.
        kept.push(1);
        exp10 -= 1;
    }
    while kept.last() == Some(&0) {
        kept.pop();
        exp10 += 1;
    }
    if kept.is_empty() {
        return 0.0;
    }
    // The value lies in [10^lead, 10^(lead+1)).
    let lead = kept.len() as i64 - 1 + exp10;
    if lead > 309 {
        return f64::INFINITY;
    }
    if lead < -326 {
        return 0.0;
    }
    // Exact operands and one IEEE operation: correctly rounded (Clinger's fast path).
    if kept.len() <= 15 && (-22..=22).contains(&exp10) {
        let mantissa = kept.iter().fold(0.0, |m, d| m * 10.0 + f64::from(*d));
        let scale = (0..exp10.unsigned_abs()).fold(1.0, |p, _| p * 10.0);
        return if exp10 < 0 {
            mantissa / scale
        } else {
            mantissa * scale
        };
    }
    let mut n = Big(Vec::new());
    for &d in &kept {
        n.mul_add(10, u32::from(d));
    }
    if exp10 >= 0 {
        n.mul_pow10(exp10 as u32);
        // The top 64 bits, the rest only as a sticky bit.
        let len = n.bit_len();
        let low = (len - 64).max(0);
        let top = (low..len)
            .rev()
            .fold(0u64, |q, i| q << 1 | u64::from(n.bit(i)));
        return round(top, n.any_below(low), low);
    }
    // n / 10^k: a quotient of 56 or 57 bits by long division, the remainder as sticky bit.
    let mut divisor = Big(vec![1]);
    divisor.mul_pow10(exp10.unsigned_abs() as u32);
    let shift = 56 + divisor.bit_len() - n.bit_len();
    let (mut rem, divisor) = if shift >= 0 {
        (n.shl(shift), divisor)
    } else {
        (n, divisor.shl(-shift))
    };
    let mut q = 0u64;
    for i in (0..57).rev() {
        let d = divisor.shl(i);
        if !rem.less_than(&d) {
            rem.sub(&d);
            q |= 1 << i;
        }
    }
    round(q, !rem.0.is_empty(), -shift)
}

/// The nearest `f64` to `(q + ε) × 2^exp2`, where `0 < ε < 1` when `sticky`, else `ε = 0`.
fn round(q: u64, mut sticky: bool, exp2: i64) -> f64 {
    let q_bits = 64 - i64::from(q.leading_zeros());
    let lead = q_bits - 1 + exp2;
    if lead > 1023 {
        return f64::INFINITY;
    }
    // Mantissa bits the result can hold: 53, fewer for subnormals.
    let keep = (lead + 1075).min(53);
    if keep < 0 {
        return 0.0;
    }
    let drop = q_bits - keep;
    let mut m = if drop <= 0 {
        q << -drop
    } else {
        let half = q >> (drop - 1) & 1 == 1;
        sticky |= q & ((1u64 << (drop - 1)) - 1) != 0;
        let m = q.checked_shr(drop as u32).unwrap_or(0);
        m + u64::from(half && (sticky || m & 1 == 1))
    };
    if keep < 53 {
        // Subnormal: the last bit weighs 2^-1074, so `m` is the bit pattern (2^52 included,
        // which is the smallest normal).
        return f64::from_bits(m);
    }
    let mut lead = lead;
    if m >> 53 != 0 {
        m >>= 1;
        lead += 1;
        if lead > 1023 {
            return f64::INFINITY;
        }
    }
    f64::from_bits(((lead + 1023) as u64) << 52 | (m & ((1 << 52) - 1)))
}

/// Rust's `{}` of an `f64`: the shortest round-trip digits, without an exponent (`0.0000001`,
/// `1000000000000000000000`, `-0`), and `NaN`, `inf`, `-inf`.
pub(crate) fn display(n: f64) -> String {
    if n.is_nan() {
        return "NaN".to_string();
    }
    if n.is_infinite() {
        return if n > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let mut buffer = zmij::Buffer::new();
    // zmij writes `-?d[.ddd][e±x]`: read back the digits and where the decimal point goes.
    let text = buffer.format_finite(n);
    let (mantissa, exp) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.trim_start_matches('+').parse::<i64>().unwrap_or(0)),
        None => (text, 0),
    };
    // The sign from the value itself: zmij writes -0.0 as `0`.
    let negative = n.is_sign_negative();
    let mantissa = mantissa.trim_start_matches('-');
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all: Vec<u8> = int.bytes().chain(frac.bytes()).collect();
    // value = 0.<all> × 10^point
    let mut point = int.len() as i64 + exp;
    let start = all.iter().take_while(|d| **d == b'0').count();
    point -= start as i64;
    let digits = all.get(start..).unwrap_or_default();
    let end = digits.len() - digits.iter().rev().take_while(|d| **d == b'0').count();
    let mut digits = digits.get(..end).unwrap_or_default().to_vec();
    // zmij breaks a tie between two shortest candidates to the even one, Rust's `{}` away from
    // zero: when `n` is exactly halfway above the digits, take the upper candidate.
    if digits.last().is_some_and(|d| d % 2 == 0) && is_midpoint_above(n, &digits, point) {
        let mut i = digits.len();
        while i > 0 && digits[i - 1] == b'9' {
            digits[i - 1] = b'0';
            i -= 1;
        }
        match i {
            0 => {
                digits.insert(0, b'1');
                point += 1;
            }
            _ => digits[i - 1] += 1,
        }
        while digits.last() == Some(&b'0') {
            digits.pop();
        }
    }
    let digits = digits.as_slice();
    let mut out = String::with_capacity(digits.len() + 24);
    if negative {
        out.push('-');
    }
    let push = |out: &mut String, bytes: &[u8]| out.extend(bytes.iter().map(|b| char::from(*b)));
    if digits.is_empty() {
        out.push('0');
    } else if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', point.unsigned_abs() as usize));
        push(&mut out, digits);
    } else if (point as usize) < digits.len() {
        let (a, b) = digits.split_at(point as usize);
        push(&mut out, a);
        out.push('.');
        push(&mut out, b);
    } else {
        push(&mut out, digits);
        out.extend(std::iter::repeat_n('0', point as usize - digits.len()));
    }
    out
}

/// Whether `|n|` is exactly `(0.<digits> + 0.5 × 10^-len) × 10^point`.
fn is_midpoint_above(n: f64, digits: &[u8], point: i64) -> bool {
    let bits = n.abs().to_bits();
    let (fraction, exp) = (bits & ((1 << 52) - 1), (bits >> 52) as i64);
    let (m, e) = match exp {
        0 => (fraction, -1074),
        _ => (fraction | 1 << 52, exp - 1075),
    };
    let d = digits
        .iter()
        .fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'));
    // |n| = m × 2^e against (10·d + 5) × 10^p.
    let p = point - digits.len() as i64 - 1;
    let (mut left, mut right) = (Big::from(m), Big::from(d * 10 + 5));
    if e >= 0 {
        left = left.shl(e);
    } else {
        right = right.shl(-e);
    }
    if p >= 0 {
        right.mul_pow10(p as u32);
    } else {
        left.mul_pow10(p.unsigned_abs() as u32);
    }
    !left.less_than(&right) && !right.less_than(&left)
}

/// Rust's `{:.0}` of an integral `f64` whose magnitude is below 2^70: its exact digits.
pub(crate) fn integer(n: f64) -> String {
    let sign = if n.is_sign_negative() { "-" } else { "" };
    let a = n.abs();
    if a < 9_223_372_036_854_775_808.0 {
        return format!("{sign}{}", a as u64);
    }
    // a = m × 2^e with e ≥ 11: double `m` in base-10^9 limbs `e` times.
    const BASE: u64 = 1_000_000_000;
    let bits = a.to_bits();
    let m = (bits & ((1 << 52) - 1)) | 1 << 52;
    let e = (bits >> 52) as i64 - 1075;
    let mut limbs = [m % BASE, m / BASE % BASE, m / BASE / BASE, 0];
    for _ in 0..e {
        let mut carry = 0;
        for limb in &mut limbs {
            let x = *limb * 2 + carry;
            *limb = x % BASE;
            carry = x / BASE;
        }
    }
    let mut out = sign.to_string();
    let mut started = false;
    for limb in limbs.iter().rev() {
        if started {
            out.push_str(&format!("{limb:09}"));
        } else if *limb != 0 {
            out.push_str(&limb.to_string());
            started = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn same_parse(s: &str) {
        let ours = parse(s);
        let std = s.parse::<f64>().ok();
        assert_eq!(ours.map(f64::to_bits), std.map(f64::to_bits), "{s}");
    }

    fn same_display(n: f64) {
        assert_eq!(display(n), format!("{n}"), "{:#x}", n.to_bits());
        if n.fract() == 0.0 && n.abs() < 1e21 {
            assert_eq!(integer(n), format!("{n:.0}"), "{:#x}", n.to_bits());
        }
    }

    #[test]
    fn parse_matches_std_at_the_edges() {
        let max_half = "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";
        for s in [
            "0",
            "-0",
            "0.0",
            "007.50",
            "1",
            "0.1",
            "0.3",
            "2.5",
            "123456789012345678901234567890",
            "9007199254740993",
            "9007199254740992.5",
            "9007199254740993.0000000000000000000000001",
            "1e22",
            "1e23",
            "1.7976931348623157e308",
            "1.7976931348623158e308",
            "1.7976931348623159e308",
            "1e309",
            "1e-400",
            "4.9406564584124654e-324",
            "2.4703282292062327e-324",
            "2.4703282292062328e-324",
            "2.2250738585072011e-308",
            "2.2250738585072014e-308",
            "1e99999999999999999999",
            "1e-99999999999999999999",
            "0e99999999999999999999",
            max_half,
            &format!("{max_half}.000000000000000000001"),
            &format!("{}1", &max_half[..max_half.len() - 1]),
            &max_half.replace("792", "791"),
            &format!("0.{}1", "0".repeat(5000)),
            &format!("1{}", "0".repeat(308)),
            &format!("1{}", "0".repeat(309)),
            &format!("2.{}e-308", "2".repeat(1500)),
        ] {
            same_parse(s);
        }
        for bad in [
            "", "-", ".5", "5.", "1e", "1e+", "+1", "1.2.3", "1e5x", "inf", " 1",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn parse_round_trips_every_kind_of_double() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = f64::from_bits(x);
            if n.is_finite() {
                for text in [format!("{n}"), format!("{n:e}"), format!("{n:.30e}")] {
                    same_parse(&text);
                }
            }
        }
    }

    #[test]
    fn display_matches_std() {
        for n in [
            0.0,
            -0.0,
            1.0,
            -3.0,
            0.5,
            1.25,
            600.0,
            0.1,
            1e-7,
            1e21,
            1e22,
            2f64.powi(70),
            2f64.powi(63),
            -2f64.powi(69),
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            123456789.123,
            // …797.25 and …797.75: ties between two 17-digit candidates.
            -4_598_546_669_299_189.0 / 4.0,
            4_598_546_669_299_191.0 / 4.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            same_display(n);
        }
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..300_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            same_display(f64::from_bits(x));
            // Integers, and fractions of 2^33..2^53 where two shortest candidates can tie.
            same_display((x >> 11) as f64 * 2f64.powi((x % 24) as i32));
            same_display((x >> 11) as f64 / 2f64.powi((x % 21) as i32));
            same_display((x >> 30) as f64 / 2f64.powi((x % 8) as i32));
            same_display((x % 100_000) as f64 / 1000.0);
        }
    }

    proptest! {
        #[test]
        fn parse_matches_std_on_decimal_text(
            text in "-?[0-9]{1,30}(\\.[0-9]{1,30})?([eE][+-]?[0-9]{1,3})?"
        ) {
            same_parse(&text);
        }
    }
}
