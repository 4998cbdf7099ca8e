#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The driver under faults (issue 17): polls that outlive a dead network or a 5xx, a create
//! whose answers are all lost, a merchant body over the cap, and secrets a server echoes under
//! any key or inside text, asserted on a scripted host with a manual clock.

#[path = "common/host.rs"]
mod host;

use host::{Reply, ScriptedHost, T0, client};
use linkpay::ErrorCode;
use linkpay::client::{AUTH_KEY, Client};
use serde_json::{Value, json};

fn logged_in() -> Client<ScriptedHost> {
    let c = client();
    c.host().store(
        AUTH_KEY,
        &json!({
            "access_token": "lsat_abcdefghijklmnopqrstuvwxyz",
            "refresh_token": "lsrt_abcdefghijklmnop",
            "token_type": "Bearer",
            "expires_in": 3600,
            "expires_at": T0 + 3_600_000,
        }),
    );
    c
}

fn spend_request(status: &str) -> Value {
    json!({
        "id": "lsrq_1",
        "status": status,
        "amount": 1299,
        "currency": "usd",
        "credential_type": "card",
        "merchant_name": "Sandbox Outdoor",
        "merchant_url": "https://outdoor.example/cart",
        "context": "x",
    })
}

fn times(c: &Client<ScriptedHost>) -> Vec<i64> {
    c.host().sent().iter().map(|s| s.at).collect()
}

const RETRIEVE: &str = "GET /spend_requests/lsrq_1";

#[test]
fn a_poll_outlives_transport_errors_and_5xx_with_one_request_per_interval() {
    let c = logged_in();
    c.host().on(
        RETRIEVE,
        [
            Reply::json(200, spend_request("pending_approval")),
            Reply::Transport,
            Reply::Transport,
            Reply::json(503, json!({"error": "unavailable"})),
            Reply::json(200, spend_request("approved")),
        ],
    );
    let got = host::run(c.wait_for_spend_request(
        "lsrq_1",
        &json!({"interval": 1, "max_attempts": 30}),
        &mut |_| {},
    ))
    .unwrap();
    assert_eq!(got["status"], "approved");
    // No request inside the poll is retried on its own: the fetches back off from the
    // interval (1 s, 2 s, 4 s), never closer together than it.
    assert_eq!(times(&c), [0, 1_000, 2_000, 4_000, 8_000]);
    assert!(
        c.host()
            .logs()
            .iter()
            .any(|l| l.contains("polling again in")),
        "{:?}",
        c.host().logs()
    );
}

#[test]
fn a_poll_that_never_reaches_the_server_ends_at_its_timeout_with_the_error() {
    let c = logged_in();
    c.host().on(RETRIEVE, [Reply::Transport]);
    let err = host::run(c.wait_for_spend_request(
        "lsrq_1",
        &json!({"interval": 2, "timeout": 20}),
        &mut |_| {},
    ))
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::TransportError, "{err:?}");
    // 2, 4, 8 s of backoff, then the deadline caps the wait: the last fetch is at 20 s.
    assert_eq!(times(&c), [0, 2_000, 6_000, 14_000, 20_000]);
}

#[test]
fn a_single_fetch_keeps_the_clients_own_retries() {
    let c = logged_in();
    c.host().on(
        RETRIEVE,
        [
            Reply::Transport,
            Reply::json(200, spend_request("approved")),
        ],
    );
    let got = host::run(c.wait_for_spend_request("lsrq_1", &json!({}), &mut |_| {})).unwrap();
    assert_eq!(got["status"], "approved");
    assert_eq!(times(&c), [0, 250]);
}

#[test]
fn a_4xx_inside_a_poll_still_ends_it() {
    let c = logged_in();
    c.host().on(
        RETRIEVE,
        [Reply::json(403, json!({"error": {"message": "forbidden"}}))],
    );
    let err = host::run(c.wait_for_spend_request(
        "lsrq_1",
        &json!({"interval": 1, "timeout": 60}),
        &mut |_| {},
    ))
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::ApiError);
    assert_eq!(c.host().sent().len(), 1);
}

#[test]
fn the_device_login_poll_outlives_a_dead_network() {
    let c = client();
    c.host()
        .on(
            "POST /device/code",
            [Reply::json(
                200,
                json!({
                    "device_code": "dc_1",
                    "user_code": "apple-banana-cherry",
                    "verification_uri": "https://app.link.com/device",
                    "verification_uri_complete": "https://app.link.com/device?code=apple-banana-cherry",
                    "expires_in": 300,
                    "interval": 1,
                }),
            )],
        )
        .on(
            "POST /device/token",
            [
                Reply::Transport,
                Reply::json(502, json!({"error": "bad gateway"})),
                Reply::json(
                    200,
                    json!({
                        "access_token": "lsat_abcdefghijklmnopqrstuvwxyz",
                        "refresh_token": "lsrt_abcdefghijklmnop",
                        "token_type": "Bearer",
                        "expires_in": 3600,
                    }),
                ),
            ],
        );
    host::run(c.login_start(&json!({}))).unwrap();
    let policy = linkpay::poll::Policy {
        interval: 1.0,
        max_attempts: 0,
        timeout: 60.0,
    };
    let status = host::run(c.login_wait(&policy, &mut |_| {})).unwrap();
    assert_eq!(status["authenticated"], true);
    assert_eq!(c.host().sent_to("POST /device/token").len(), 3);
}

#[test]
fn a_create_whose_answers_are_lost_reports_its_key_and_a_retry_with_it_sends_the_same() {
    let c = logged_in();
    c.host().on("POST /spend_requests", [Reply::Transport]);
    let input = json!({
        "payment_method_id": "csmrpd_1",
        "amount": 1299,
        "merchant_name": "Sandbox Outdoor",
        "merchant_url": "https://outdoor.example/cart",
        "context": "The person asked me to buy the trail jacket from Sandbox Outdoor in our conversation today, after comparing three other jackets on price and fit.",
    });
    let err = host::run(c.create_spend_request(&input)).unwrap_err();
    assert_eq!(err.code, ErrorCode::TransportError);
    let details = err.details.as_deref().unwrap();
    assert_eq!(details["may_exist"], true);
    let key = details["idempotency_key"].as_str().unwrap().to_string();
    assert!(err.message.contains(&key), "{}", err.message);
    assert!(
        err.message.contains("may have been created"),
        "{}",
        err.message
    );
    let sent = c.host().sent_to("POST /spend_requests");
    assert_eq!(sent.len(), 4, "the client's retries, one key");
    assert!(
        sent.iter()
            .all(|s| s.header("Idempotency-Key") == Some(&*key))
    );

    c.host().clear_sent();
    c.host().on(
        "POST /spend_requests",
        [Reply::json(200, spend_request("pending_approval"))],
    );
    let mut again = input.clone();
    again["idempotency_key"] = json!(key);
    let got = host::run(c.create_spend_request(&again)).unwrap();
    assert_eq!(got["id"], "lsrq_1");
    let sent = c.host().sent_to("POST /spend_requests");
    assert_eq!(sent[0].header("Idempotency-Key"), Some(&*key));
    assert!(
        sent[0].json().get("idempotency_key").is_none(),
        "never in the body"
    );

    for bad in [
        json!(""),
        json!("has space"),
        json!("x".repeat(256)),
        json!(7),
    ] {
        let mut input = input.clone();
        input["idempotency_key"] = bad;
        let err = host::run(c.create_spend_request(&input)).unwrap_err();
        assert_eq!(err.code, ErrorCode::ValidationError);
        assert_eq!(err.field_errors[0].path, "idempotency_key");
    }
}

#[test]
fn a_4xx_create_says_nothing_of_a_key() {
    let c = logged_in();
    c.host().on(
        "POST /spend_requests",
        [Reply::json(400, json!({"error": {"message": "bad"}}))],
    );
    let input = json!({
        "amount": 1299,
        "merchant_name": "Sandbox Outdoor",
        "merchant_url": "https://outdoor.example/cart",
        "context": "The person asked me to buy the trail jacket from Sandbox Outdoor in our conversation today, after comparing three other jackets on price and fit.",
    });
    let err = host::run(c.create_spend_request(&input)).unwrap_err();
    assert_eq!(err.code, ErrorCode::ApiError);
    assert!(
        err.details
            .as_deref()
            .unwrap()
            .get("idempotency_key")
            .is_none()
    );
}

#[test]
fn a_merchant_body_over_the_cap_is_cut_and_marked() {
    let c = logged_in();
    let big = "a".repeat(10_000);
    c.host().on(
        "GET /big",
        [Reply::with_headers(
            200,
            &[("Content-Type", "text/plain")],
            &big,
        )],
    );
    let url = "https://merchant.example/big";
    let result = host::run(c.mpp_pay(
        &json!({"url": url, "spend_request_id": null, "context": "x".repeat(100), "max_body_bytes": 1000}),
        &mut |_| {},
    ));
    // `spend_request_id: null` counts as absent: the probe is the whole answer.
    let result = result.unwrap();
    assert_eq!(result["body"].as_str().unwrap().len(), 1000);
    assert_eq!(result["body_truncated"], true);
    assert_eq!(result["max_body_bytes"], 1000);

    let small = host::run(c.mpp_pay(
        &json!({"url": url, "context": "x".repeat(100)}),
        &mut |_| {},
    ))
    .unwrap();
    assert_eq!(
        small["body"].as_str().unwrap().len(),
        10_000,
        "4 MiB by default"
    );
    assert!(small.get("body_truncated").is_none());

    let err = host::run(c.mpp_pay(
        &json!({"url": url, "context": "x".repeat(100), "max_body_bytes": 0}),
        &mut |_| {},
    ))
    .unwrap_err();
    assert_eq!(err.field_errors[0].path, "max_body_bytes");
}

#[test]
fn an_api_answer_over_the_cap_is_an_invalid_response() {
    let c = logged_in();
    let mut huge = spend_request("approved");
    huge["context"] = json!("y".repeat(5 << 20));
    c.host().on(RETRIEVE, [Reply::json(200, huge)]);
    let err = host::run(c.retrieve_spend_request("lsrq_1", &[])).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidResponse, "{err:?}");
}

#[test]
fn secrets_a_server_echoes_anywhere_never_reach_the_log() {
    let c = logged_in();
    let mut sr = spend_request("approved");
    sr["note"] = json!("paid with spt_1AbCdEfGhIjKlMnO and card 4242 4242 4242 4242 ok");
    sr["echo"] = json!({"whatever": "4000056655665556", "tok": "lsat_abcdefghijklmnopqrstuvwxyz"});
    c.host().on(RETRIEVE, [Reply::json(200, sr)]);
    host::run(c.retrieve_spend_request("lsrq_1", &[])).unwrap();
    let log = c.host().logs().join("\n");
    for secret in [
        "spt_1AbCdEfGhIjKlMnO",
        "4242 4242 4242 4242",
        "4000056655665556",
        "lsat_abcdefghij",
    ] {
        assert!(!log.contains(secret), "{secret} in {log}");
    }
    assert!(log.contains("<redacted card …4242>"), "{log}");
    assert!(log.contains("<redacted card …5556>"), "{log}");
}
