#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The validators never panic on any JSON, and every rejection is a `VALIDATION_ERROR` with at
//! least one field error whose path is not empty. Accepted inputs normalise idempotently and
//! their wire body passes the server-side rules unchanged.

use linkpay::validate::{flag, options, spend_request};
use linkpay::{Error, ErrorCode};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Map, Number, Value, json};

const KEYS: &[&str] = &[
    // create (input and wire) and update
    "payment_method_id",
    "payment_details",
    "credential_type",
    "network_id",
    "execution_method",
    "merchant_account_id",
    "amount",
    "currency",
    "merchant_name",
    "merchant_url",
    "context",
    "line_items",
    "totals",
    "request_approval",
    "test",
    "approve",
    "approval_details",
    "metadata",
    "expires_at",
    "profile_id",
    "merchant_id",
    // nested
    "name",
    "quantity",
    "unit_amount",
    "url",
    "image_url",
    "product_url",
    "description",
    "sku",
    "type",
    "display_text",
    "approved_at",
    "approval_method",
    "app_name",
    "external_user_id",
    "device_type",
    "authentication_method",
    // options
    "interval",
    "max_attempts",
    "timeout",
    "include",
    "client_name",
    "scope",
    "source_actions",
    "authorization_details",
];

const STRINGS: &[&str] = &[
    "",
    " ",
    "card",
    "shared_payment_token",
    "link_pay_token",
    "usd",
    "USD",
    "https://shop.example",
    "http://[::1",
    "https://a:b:c",
    "name:Shoes,quantity:1",
    "name:Shoes,quantity:0,color:red",
    "type:total,display_text:Total,amount:1000",
    "order_id:ord_1,team:ops",
    ":",
    ",,,",
    "a:b:c,d",
    "1000",
    "-5",
    "1e3",
    "0.5",
    "99999999999999999999999999999999999",
    "{\"approved_at\":1,\"approval_method\":\"click\"}",
    "{",
    "[1,2]",
    "card,link_pay_token,card",
    "read_balances",
    "click",
    "total",
    "\u{202e}bidi\u{0}nul",
    "🛒",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(KEYS).prop_map(str::to_string),
        1 => any::<String>(),
        1 => "[a-z_:.\\[\\]\"]{0,10}",
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        prop::sample::select(vec![
            0i64,
            1,
            -1,
            100,
            50_000,
            50_001,
            500_000,
            1_700_010_800,
            9_007_199_254_740_991,
            9_007_199_254_740_992,
            i64::MIN,
            i64::MAX,
        ])
        .prop_map(Value::from),
        Just(json!(1000.0)),
        Just(json!(1e300)),
        Just(json!(-0.0)),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        3 => number(),
        2 => any::<String>().prop_map(Value::String),
        3 => prop::sample::select(STRINGS).prop_map(|s| Value::String(s.to_string())),
        2 => "[a-z_ :,0-9./-]{0,40}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..10)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn object() -> impl Strategy<Value = Value> {
    prop::collection::vec((key(), json_value()), 0..14)
        .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>()))
}

const NOW: i64 = 1_700_000_000;

fn context() -> String {
    "Buying one pair of blue running shoes, size 42, from Example Store for the user, who asked for them in chat.".to_string()
}

/// A valid card request with some fields replaced by arbitrary values, some removed, so that
/// the deeper rules (line items, metadata, cross-field) are actually reached.
fn near_valid_create() -> impl Strategy<Value = Value> {
    let base = base_create();
    let replace = prop::collection::vec(
        (prop::sample::select(KEYS), prop::option::of(json_value())),
        0..4,
    );
    replace.prop_map(move |edits| {
        let mut v = base.clone();
        if let Some(obj) = v.as_object_mut() {
            for (k, new) in edits {
                match new {
                    Some(new) => obj.insert(k.to_string(), new),
                    None => obj.remove(k),
                };
            }
        }
        v
    })
}

fn base_create() -> Value {
    json!({
        "payment_method_id": "csmrpd_1",
        "amount": 1000,
        "currency": "usd",
        "merchant_name": "Example Store",
        "merchant_url": "https://shop.example",
        "context": context(),
        "line_items": ["name:Shoes,quantity:1,unit_amount:1000"],
        "totals": [{"type": "total", "display_text": "Total", "amount": 1000}],
        "metadata": {"order_id": "ord_1"},
        "approval_details": {"approved_at": 1, "approval_method": "click", "app_name": "A", "external_user_id": "u"},
        "expires_at": NOW + 86_400,
    })
}

#[test]
fn near_valid_base_is_accepted() {
    // Otherwise the round-trip properties below would hold vacuously.
    let req = spend_request::validate_create(&base_create(), NOW).unwrap();
    check_accepted(&req, NOW).unwrap();
}

fn check<T>(result: Result<T, Error>) -> Result<Option<T>, TestCaseError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            prop_assert_eq!(e.code, ErrorCode::ValidationError, "{}", e.message);
            prop_assert!(!e.field_errors.is_empty(), "no field errors: {}", e.message);
            for f in &e.field_errors {
                prop_assert!(!f.path.is_empty(), "empty path: {:?}", f);
                prop_assert!(!f.message.is_empty(), "empty message: {:?}", f);
            }
            Ok(None)
        }
    }
}

/// An accepted create normalises to itself, and its wire body passes the body rules unchanged.
fn check_accepted(req: &spend_request::CreateSpendRequest, now: i64) -> Result<(), TestCaseError> {
    let normalised = serde_json::to_value(req).unwrap();
    let again = spend_request::validate_create(&normalised, now);
    prop_assert_eq!(again.as_ref().ok(), Some(req), "{:?}", again.as_ref().err());
    let wire = req.to_wire_body();
    let body = spend_request::validate_create_body(&wire, now);
    prop_assert!(body.is_ok(), "{:?}", body.err());
    prop_assert_eq!(body.unwrap().0.to_wire_body(), wire);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn create_never_panics(input in prop_oneof![1 => json_value(), 3 => object()], now in any::<i64>()) {
        if let Some(req) = check(spend_request::validate_create(&input, now))? {
            check_accepted(&req, now)?;
        }
        check(spend_request::validate_create_body(&input, now))?;
    }

    #[test]
    fn near_valid_create_holds_its_invariants(input in near_valid_create()) {
        if let Some(req) = check(spend_request::validate_create(&input, NOW))? {
            check_accepted(&req, NOW)?;
        }
        check(spend_request::validate_create_body(&input, NOW))?;
    }

    #[test]
    fn update_never_panics(input in prop_oneof![1 => json_value(), 3 => object()]) {
        if let Some(update) = check(spend_request::validate_update(&input))? {
            let again = spend_request::validate_update(&serde_json::to_value(&update).unwrap());
            prop_assert_eq!(again.ok(), Some(update));
        }
    }

    #[test]
    fn options_never_panic(input in prop_oneof![1 => json_value(), 3 => object()]) {
        if let Some(o) = check(options::validate_retrieve(&input))? {
            prop_assert!((0.0..=3600.0).contains(&o.timeout.0));
            prop_assert!((0.0..=300.0).contains(&o.interval.0));
            let again = options::validate_retrieve(&serde_json::to_value(&o).unwrap());
            prop_assert_eq!(again.ok(), Some(o));
        }
        if let Some(o) = check(options::validate_login(&input))? {
            prop_assert!(!o.client_name.is_empty());
            let again = options::validate_login(&serde_json::to_value(&o).unwrap());
            prop_assert_eq!(again.ok(), Some(o));
        }
    }

    #[test]
    fn flags_never_panic(
        kind in prop_oneof![
            3 => prop::sample::select(&["line_item", "total", "metadata"][..]).prop_map(str::to_string),
            1 => any::<String>(),
        ],
        value in prop_oneof![
            any::<String>(),
            "[a-z_ :,0-9./-]{0,60}",
            prop::sample::select(STRINGS).prop_map(str::to_string),
        ],
    ) {
        if let Some(v) = check(flag::parse_key_value_flag(&kind, &value))? {
            prop_assert!(v.is_object());
        }
    }

    #[test]
    fn well_formed_flags_parse(
        name in "[A-Za-z][A-Za-z0-9 ]{0,20}",
        quantity in 1u32..1000,
        unit_amount in 0u32..100_000,
    ) {
        let flag_value = format!("name:{name},quantity:{quantity},unit_amount:{unit_amount}");
        let v = flag::parse_key_value_flag("line_item", &flag_value).unwrap();
        prop_assert_eq!(
            v,
            json!({"name": name.trim(), "quantity": quantity, "unit_amount": unit_amount})
        );
    }
}
