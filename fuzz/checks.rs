//! The properties the fuzz targets check, shared with `tests/mpp_fuzz_regressions.rs`, which
//! replays every input kept in `fuzz/regressions/<target>/`.
//!
//! Besides "never panics", each check asserts what must hold for any input: errors carry the
//! right code, and whatever parses survives a serialize → parse round trip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use linkpay::ErrorCode;
use linkpay::mpp::server::format_challenge;
use linkpay::mpp::{
    build_credential, parse_challenges, parse_challenges_bytes, parse_credential, parse_receipt,
};

const CHALLENGE_CODES: [ErrorCode; 5] = [
    ErrorCode::MppNoPaymentChallenge,
    ErrorCode::MppNoStripeChallenge,
    ErrorCode::MppMalformedChallenge,
    ErrorCode::MppChallengeExpired,
    ErrorCode::MppUnsupportedChallenge,
];

/// `WWW-Authenticate` values: as Latin-1 bytes, as (lossy) text, split into lines at `\n`.
pub fn challenges(data: &[u8]) {
    let lines: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
    let text = String::from_utf8_lossy(data).into_owned();
    let mut results = parse_challenges_bytes(&lines);
    results.extend(parse_challenges(&[&text]));
    for r in results {
        match r {
            Err(e) => assert!(CHALLENGE_CODES.contains(&e.code), "{e:?}"),
            Ok(c) => {
                // Decoded request is valid JSON, and the challenge round-trips.
                c.request_json().unwrap();
                c.to_json().unwrap();
                if let Ok(wire) = format_challenge(&c) {
                    let back = parse_challenges(&[&wire]);
                    assert_eq!(back.len(), 1, "{wire}");
                    assert_eq!(back[0].as_ref().unwrap(), &c, "{wire}");
                } else {
                    // Only CR or LF in a value stop the serializer.
                    let unserializable = [c.id(), c.realm(), c.request()]
                        .into_iter()
                        .chain(c.description())
                        .chain(c.digest())
                        .chain(c.opaque())
                        .chain(c.header())
                        .chain(c.params().iter().map(|(_, v)| v.as_str()))
                        .any(|v| v.contains(['\r', '\n']))
                        || c.params().iter().any(|(n, _)| {
                            !n.bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
                        });
                    assert!(unserializable, "{c:?}");
                }
                match build_credential(&c, &serde_json::json!({"spt": "spt_x"}), None, 0) {
                    Ok(built) => {
                        // The echo carries the defined parameters only.
                        let back = parse_credential(&built.value).unwrap().challenge;
                        assert!(back.params().is_empty());
                        assert_eq!(
                            (
                                back.id(),
                                back.realm(),
                                back.method(),
                                back.intent(),
                                back.request()
                            ),
                            (c.id(), c.realm(), c.method(), c.intent(), c.request())
                        );
                        assert_eq!(
                            (
                                back.description(),
                                back.digest(),
                                back.expires(),
                                back.opaque(),
                                back.header()
                            ),
                            (
                                c.description(),
                                c.digest(),
                                c.expires(),
                                c.opaque(),
                                c.header()
                            )
                        );
                    }
                    Err(e) => assert!(
                        matches!(
                            e.code,
                            ErrorCode::MppUnsupportedChallenge | ErrorCode::MppChallengeExpired
                        ),
                        "{e:?}"
                    ),
                }
            }
        }
    }
    let values = vec![text];
    let list = linkpay::codec::decode_challenges(&values).unwrap();
    assert!(!list.as_array().unwrap().is_empty());
    if let Err(e) =
        linkpay::codec::decode_stripe_challenge(&values, 0, values.first().map(String::as_str))
    {
        assert!(CHALLENGE_CODES.contains(&e.code), "{e:?}");
    } else {
        // Sanitized output: no control characters but \n and \t.
        let out = linkpay::codec::decode_stripe_challenge(&values, 0, None)
            .unwrap()
            .to_string();
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_clean(&parsed);
    }
}

fn assert_clean(v: &serde_json::Value) {
    match v {
        serde_json::Value::String(s) => {
            assert!(
                !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
                "{s:?}"
            )
        }
        serde_json::Value::Array(a) => a.iter().for_each(assert_clean),
        serde_json::Value::Object(m) => m.iter().for_each(|(k, v)| {
            assert!(
                !k.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
                "{k:?}"
            );
            assert_clean(v);
        }),
        _ => {}
    }
}

/// `Authorization` values (with and without the scheme) and JSON handed to `buildCredential`.
pub fn credentials(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for value in [text.to_string(), format!("Payment {text}")] {
        match parse_credential(&value) {
            Err(e) => assert_eq!(e.code, ErrorCode::MppMalformedCredential, "{e:?}"),
            Ok(cred) => {
                let rebuilt = linkpay::mpp::build_credential(
                    &cred.challenge,
                    &serde_json::Value::Object(cred.payload.clone()),
                    cred.source.as_deref(),
                    i64::MIN,
                );
                if let Ok(rebuilt) = rebuilt {
                    assert_eq!(parse_credential(&rebuilt.value).unwrap(), cred);
                }
            }
        }
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        for r in [
            linkpay::codec::build_credential(&v, &v, None, 0),
            linkpay::codec::build_stripe_payload(&v, "spt_x"),
        ] {
            if let Err(e) = r {
                assert!(
                    CHALLENGE_CODES.contains(&e.code) || e.code == ErrorCode::ValidationError,
                    "{e:?}"
                );
            }
        }
    }
}

/// `Payment-Receipt` values.
pub fn receipts(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match parse_receipt(&text) {
        Err(e) => assert_eq!(e.code, ErrorCode::MppMalformedReceipt, "{e:?}"),
        Ok(r) => {
            let again = linkpay::mpp::encode_receipt(&r).unwrap();
            assert_eq!(parse_receipt(&again).unwrap(), r);
            assert_clean(&linkpay::codec::parse_receipt(&text).unwrap());
        }
    }
    let _ = linkpay::sanitize::for_display(&text);
}
