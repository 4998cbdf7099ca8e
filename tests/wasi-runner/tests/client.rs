//! World `client` in wasmtime against the real sandbox (spawned `node npm/dist/sandbox/main.js`)
//! over loopback HTTP through wasi:http: device login approved on the sandbox, payment methods,
//! the card flow, `mpp pay` with its receipt, the 401 refresh, env-token mode, validation with no
//! request sent, and the storage calls seen on the host side.

use linkpay_wasi_runner::{
    CallResult, ClientOptions, ClientRuntime, FetchRequest, StorageOp, client_component_path,
    repo_root, wire_code,
};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A sandbox process on a free port; killed on drop.
struct Sandbox {
    child: Child,
    url: String,
    auto_approve: bool,
}

impl Sandbox {
    fn start(extra: &[&str]) -> Sandbox {
        let main = repo_root().join("npm/dist/sandbox/main.js");
        let mut child = Command::new("node")
            .arg(&main)
            .args(["--port", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs the sandbox (scripts/build first)");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut url = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("sandbox stdout");
            if let Some(rest) = line.split("listening on ").nth(1) {
                url = rest.split_whitespace().next().map(String::from);
                break;
            }
        }
        Sandbox {
            child,
            url: url.expect("the sandbox prints its URL"),
            auto_approve: extra.contains(&"--auto-approve"),
        }
    }

    /// A request to the sandbox itself (its `/sandbox/...` controls), over plain HTTP/1.0.
    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let authority = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(authority).expect("connect to the sandbox");
        let body = body.map(Value::to_string).unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
        assert!(head.contains(" 200 "), "{method} {path}: {head}\n{body}");
        serde_json::from_str(body).expect("JSON")
    }

    fn approve_device(&self, phrase: &str) {
        self.request(
            "POST",
            "/sandbox/device/approve",
            Some(&json!({ "user_code": phrase })),
        );
    }

    fn approve(&self, id: &str) {
        self.request(
            "POST",
            &format!("/sandbox/spend_requests/{id}/approve"),
            None,
        );
    }

    /// The requests the sandbox received since the last clear, as `METHOD /path STATUS`.
    fn requests(&self) -> Vec<String> {
        let log = self.request("GET", "/sandbox/requests", None);
        log["data"]
            .as_array()
            .expect("a request log")
            .iter()
            .filter(|r| {
                !r["path"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("/sandbox")
            })
            .map(|r| {
                format!(
                    "{} {} {}",
                    r["method"].as_str().unwrap(),
                    r["path"].as_str().unwrap(),
                    r["status"]
                )
            })
            .collect()
    }

    fn clear_requests(&self) {
        self.request("DELETE", "/sandbox/requests", None);
    }

    fn options(&self) -> ClientOptions {
        ClientOptions {
            api_base_url: Some(self.url.clone()),
            auth_base_url: Some(self.url.clone()),
            access_token: None,
            refresh_token: None,
            no_refresh: false,
            hostname: Some("wasmtime-test".into()),
            request_timeout_ms: None,
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runtime() -> &'static ClientRuntime {
    static RUNTIME: OnceLock<ClientRuntime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        ClientRuntime::load(&client_component_path())
            .expect("component builds first: scripts/build")
    })
}

fn ok(result: wasmtime::Result<CallResult>) -> Value {
    match result.expect("no trap") {
        Ok(value) => value,
        Err(e) => panic!("{}: {}", wire_code(e.code), e.message),
    }
}

fn err(result: wasmtime::Result<CallResult>) -> linkpay_wasi_runner::ClientError {
    match result.expect("no trap") {
        Ok(value) => panic!("expected an error, got {value}"),
        Err(e) => e,
    }
}

const FAST: &str = r#"{"interval":0.05,"timeout":10}"#;

fn context(tag: &str) -> String {
    format!(
        "Buying {tag} for the person, who picked it in this conversation; the total matches the cart at checkout. ........"
    )
}

/// A card spend request; `tag` keeps it apart from others (the API refuses near duplicates).
fn card_input(tag: &str) -> String {
    json!({
        "amount": 1299,
        "merchant_name": "Sandbox Outdoor",
        "merchant_url": "https://outdoor.example/cart",
        "context": context(tag),
        "line_items": ["name:Trail shoes,quantity:1,unit_amount:1299"],
    })
    .to_string()
}

fn keys_set(log: &[StorageOp]) -> Vec<&str> {
    log.iter()
        .filter_map(|op| match op {
            StorageOp::Set(k, _) => Some(k.as_str()),
            _ => None,
        })
        .collect()
}

/// Logs in through the device flow, approving on the sandbox (unless it auto-approves);
/// returns the stored tokens.
fn log_in(client: &mut linkpay_wasi_runner::LinkClient<'_>, sandbox: &Sandbox) -> Value {
    let start = ok(client.login_start(r#"{"client_name":"WASI agent"}"#));
    assert_eq!(start["authenticated"], false);
    if !sandbox.auto_approve {
        sandbox.approve_device(start["phrase"].as_str().expect("a phrase"));
    }
    let done = ok(client.login_wait(Some(FAST)));
    assert_eq!(done["authenticated"], true);
    let stored = client
        .state()
        .storage
        .get("auth")
        .cloned()
        .expect("tokens stored");
    serde_json::from_str(&stored).expect("stored JSON")
}

#[test]
fn device_login_through_the_sandbox_with_storage_on_the_host() {
    let sandbox = Sandbox::start(&[]);
    let mut instance = runtime().instantiate().expect("instantiate");
    let mut client = instance.client(&sandbox.options()).expect("constructor");

    let start = ok(client.login_start(r#"{"client_name":"WASI agent"}"#));
    assert_eq!(start["authenticated"], false);
    assert!(
        start["verification_url"]
            .as_str()
            .unwrap()
            .contains("/device?code=")
    );
    let phrase = start["phrase"].as_str().expect("a phrase").to_string();
    // The pending login went to the host's storage.
    let log = client.state().storage_log.clone();
    assert!(log.contains(&StorageOp::Get("auth".into())), "{log:?}");
    assert_eq!(keys_set(&log), ["pendingDeviceAuth"]);
    let pending: Value =
        serde_json::from_str(&client.state().storage["pendingDeviceAuth"]).expect("JSON");
    assert!(pending["device_code"].is_string());

    let status = ok(client.auth_status());
    assert_eq!(status["authenticated"], false);
    assert_eq!(status["pending"], true);

    sandbox.approve_device(&phrase);
    client.state().storage_log.clear();
    let done = ok(client.login_wait(Some(FAST)));
    assert_eq!(done["authenticated"], true);
    assert!(
        done["access_token"].as_str().unwrap().ends_with("..."),
        "only a preview"
    );
    let log = client.state().storage_log.clone();
    assert!(
        log.contains(&StorageOp::Delete("pendingDeviceAuth".into())),
        "{log:?}"
    );
    let tokens: Value = serde_json::from_str(&client.state().storage["auth"]).expect("JSON");
    assert!(tokens["access_token"].as_str().unwrap().len() > 10);
    assert!(tokens["refresh_token"].is_string());
    assert!(!client.state().storage.contains_key("pendingDeviceAuth"));

    let again = ok(client.login_start("{}"));
    assert_eq!(again["authenticated"], true, "a live session is kept");

    let out = ok(client.logout());
    assert_eq!(out, json!({ "authenticated": false }));
    assert!(client.state().storage.is_empty());
    assert!(
        client
            .state()
            .storage_log
            .contains(&StorageOp::Delete("auth".into()))
    );
    let e = err(client.list_payment_methods());
    assert_eq!(wire_code(e.code), "NOT_AUTHENTICATED");
}

#[test]
fn payment_methods_and_the_card_flow() {
    let sandbox = Sandbox::start(&[]);
    let mut instance = runtime().instantiate().expect("instantiate");
    let mut client = instance.client(&sandbox.options()).expect("constructor");
    log_in(&mut client, &sandbox);

    let methods = ok(client.list_payment_methods());
    let methods = methods.as_array().expect("an array");
    assert!(methods.len() >= 4);
    assert_eq!(methods[0]["card_details"]["last4"], "4242");

    // Bad input: VALIDATION_ERROR with field paths, and nothing sent.
    sandbox.clear_requests();
    let e = err(client.create_spend_request(r#"{"amount":-5,"merchant_name":"X"}"#));
    assert_eq!(wire_code(e.code), "VALIDATION_ERROR");
    assert!(
        e.field_errors.iter().any(|f| f.path == "amount"),
        "{:?}",
        e.field_errors
    );
    assert!(
        e.field_errors.iter().any(|f| f.path == "context"),
        "{:?}",
        e.field_errors
    );
    assert_eq!(sandbox.requests(), Vec::<String>::new());

    let created = ok(client.create_spend_request(&card_input("trail shoes")));
    let id = created["id"].as_str().expect("an id").to_string();
    assert_eq!(created["status"], "pending_approval");
    sandbox.approve(&id);
    let done =
        ok(client
            .wait_for_spend_request(&id, r#"{"interval":0.05,"timeout":10,"include":["card"]}"#));
    assert_eq!(done["status"], "approved");
    let number = done["card"]["number"].as_str().expect("a card number");
    assert!(number.len() >= 15 && number.bytes().all(|b| b.is_ascii_digit()));
    assert!(done["card"]["cvc"].is_string());

    let plain = ok(client.retrieve_spend_request(&id, &[]));
    assert!(plain.get("card").is_none(), "the card only when asked");
    let with_card = ok(client.retrieve_spend_request(&id, &["card".to_string()]));
    assert_eq!(with_card["card"]["number"], number);
    let e = err(client.retrieve_spend_request(&id, &["cards".to_string()]));
    assert_eq!(wire_code(e.code), "VALIDATION_ERROR");

    let listed = ok(client.list_spend_requests(false));
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|sr| sr["id"] == id.as_str())
    );

    // A second request: created without approval, updated, approval asked for, canceled.
    let mut input: Value = serde_json::from_str(&card_input("a rain jacket")).unwrap();
    input["request_approval"] = false.into();
    let other = ok(client.create_spend_request(&input.to_string()));
    assert_eq!(other["status"], "created");
    let other_id = other["id"].as_str().unwrap();
    let updated = ok(client.update_spend_request(other_id, r#"{"amount":1500}"#));
    assert_eq!(updated["amount"], 1500);
    let approval = ok(client.request_approval(other_id));
    assert!(approval["approval_link"].is_string());
    let canceled = ok(client.cancel_spend_request(other_id));
    assert_eq!(canceled["status"], "canceled");
    let e = err(client.cancel_spend_request(other_id));
    assert_eq!(wire_code(e.code), "API_ERROR");
}

#[test]
fn mpp_pay_gets_an_spt_approved_and_returns_the_receipt() {
    // Auto-approve: `mpp-pay` blocks until the spend request it creates is approved.
    let sandbox = Sandbox::start(&["--auto-approve"]);
    let mut instance = runtime().instantiate().expect("instantiate");
    let mut client = instance.client(&sandbox.options()).expect("constructor");
    log_in(&mut client, &sandbox);

    let input = json!({
        "url": format!("{}/merchant/api/forecast", sandbox.url),
        "context": context("a forecast"),
        "interval": 0.05,
        "timeout": 10,
    });
    let result = ok(client.mpp_pay(&input.to_string()));
    assert_eq!(result["status"], 200, "{result}");
    assert_eq!(result["receipt"]["status"], "success");
    assert_eq!(result["receipt"]["method"], "stripe");
    let id = result["spend_request_id"]
        .as_str()
        .expect("the spend request")
        .to_string();
    let sr = ok(client.retrieve_spend_request(&id, &[]));
    assert_eq!(sr["status"], "succeeded", "the SPT is single use");

    // Paying again with the used spend request is refused before any payment.
    let again = json!({
        "url": format!("{}/merchant/api/forecast", sandbox.url),
        "spend_request_id": id,
    });
    let e = err(client.mpp_pay(&again.to_string()));
    assert_eq!(wire_code(e.code), "SPEND_REQUEST_NOT_APPROVED");
    assert!(e.message.contains("succeeded"), "{}", e.message);
}

#[test]
fn fetch_pays_a_402_resending_the_body_and_refuses_what_breaks_a_guardrail() {
    // Auto-approve: `fetch` blocks until the spend request it creates is approved.
    let sandbox = Sandbox::start(&["--auto-approve"]);
    let mut instance = runtime().instantiate().expect("instantiate");
    let mut client = instance.client(&sandbox.options()).expect("constructor");
    log_in(&mut client, &sandbox);
    let options = json!({ "context": context("a report"), "interval": 0.05, "timeout": 10 });
    let report = FetchRequest {
        method: "post".into(),
        url: format!("{}/merchant/api/report", sandbox.url),
        headers: vec![("content-type".into(), "application/json".into())],
        body: Some(json!({ "location": "Lisbon" }).to_string()),
    };
    sandbox.clear_requests();
    let answer = client
        .fetch(&report, &options.to_string())
        .expect("call")
        .expect("paid");
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body: Value = serde_json::from_str(&answer.body).expect("JSON");
    assert_eq!(body["location"], "Lisbon", "the body was sent again");
    let receipt = answer
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("payment-receipt"))
        .map(|(_, value)| value.clone())
        .expect("a receipt");
    let receipt: Value = serde_json::from_str(&instance_receipt(&receipt)).expect("JSON");
    assert_eq!(receipt["status"], "success");
    let merchant: Vec<String> = sandbox
        .requests()
        .into_iter()
        .filter(|r| r.contains("/merchant/"))
        .collect();
    assert_eq!(
        merchant,
        [
            "POST /merchant/api/report 402",
            "POST /merchant/api/report 200"
        ]
    );

    // Over max_amount: refused before any spend request.
    sandbox.clear_requests();
    let forecast = FetchRequest {
        method: "GET".into(),
        url: format!("{}/merchant/api/forecast", sandbox.url),
        headers: Vec::new(),
        body: None,
    };
    let capped = json!({ "context": context("capped"), "max_amount": 99 });
    let e = client
        .fetch(&forecast, &capped.to_string())
        .expect("call")
        .expect_err("refused");
    assert_eq!(wire_code(e.code), "PAYMENT_GUARDRAIL");
    let details: Value = serde_json::from_str(e.details.as_deref().expect("details")).unwrap();
    assert_eq!(details["reason"], "max_amount");
    assert_eq!(sandbox.requests(), ["GET /merchant/api/forecast 402"]);

    // A tempo-only 402 comes back as it came.
    let onchain = FetchRequest {
        url: format!("{}/merchant/api/onchain", sandbox.url),
        ..forecast
    };
    let answer = client
        .fetch(&onchain, &options.to_string())
        .expect("call")
        .expect("untouched");
    assert_eq!(answer.status, 402);
    assert!(answer.body.contains("payment-required"), "{}", answer.body);
}

/// The component's own receipt parser (`parse-receipt` of the codec component).
fn instance_receipt(value: &str) -> String {
    let mut inst =
        linkpay_wasi_runner::CodecInstance::load(&linkpay_wasi_runner::codec_component_path())
            .expect("codec component");
    inst.codec
        .linkpay_core_codec_api()
        .call_parse_receipt(&mut inst.store, value)
        .expect("call")
        .expect("a receipt")
}

#[test]
fn an_expired_token_is_refreshed_once_on_401_and_stored() {
    let sandbox = Sandbox::start(&[]);
    let mut instance = runtime().instantiate().expect("instantiate");
    let mut client = instance.client(&sandbox.options()).expect("constructor");
    let before = log_in(&mut client, &sandbox);

    // The server's clock moves past the token's lifetime; the client's does not.
    sandbox.request(
        "POST",
        "/sandbox/clock",
        Some(&json!({ "advance_ms": 2 * 3_600_000 })),
    );
    sandbox.clear_requests();
    client.state().storage_log.clear();
    let methods = ok(client.list_payment_methods());
    assert!(!methods.as_array().unwrap().is_empty());
    assert_eq!(
        sandbox.requests(),
        [
            "GET /payment-details 401",
            "POST /device/token 200",
            "GET /payment-details 200"
        ]
    );
    // The refresh lease (one refresh across processes sharing the storage) is taken first.
    assert_eq!(
        keys_set(&client.state().storage_log),
        ["refreshLease", "auth"],
        "the lease, then the new tokens are stored"
    );
    let after: Value = serde_json::from_str(&client.state().storage["auth"]).expect("JSON");
    assert_ne!(after["access_token"], before["access_token"]);
}

#[test]
fn env_token_mode_never_touches_storage_and_expires_without_refresh() {
    let sandbox = Sandbox::start(&[]);
    let tokens = sandbox.request("POST", "/sandbox/tokens", Some(&json!({})));
    let mut instance = runtime().instantiate().expect("instantiate");
    let mut options = sandbox.options();
    options.access_token = tokens["access_token"].as_str().map(String::from);
    let mut client = instance.client(&options).expect("constructor");
    assert!(
        !ok(client.list_payment_methods())
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(client.state().storage_log, []);
    drop(client);

    let mut options = sandbox.options();
    options.access_token = Some("not-a-token".into());
    let mut client = instance.client(&options).expect("constructor");
    let e = err(client.list_payment_methods());
    assert_eq!(wire_code(e.code), "TOKEN_EXPIRED");
    assert_eq!(client.state().storage_log, []);
}

#[test]
fn a_failing_host_storage_is_storage_error_and_corrupt_tokens_too() {
    let sandbox = Sandbox::start(&[]);
    let mut instance = runtime().instantiate().expect("instantiate");
    let mut client = instance.client(&sandbox.options()).expect("constructor");
    client.state().storage_failure = Some("disk on fire".into());
    let e = err(client.list_payment_methods());
    assert_eq!(wire_code(e.code), "STORAGE_ERROR");
    assert!(e.message.contains("disk on fire"), "{}", e.message);

    client.state().storage_failure = None;
    client
        .state()
        .storage
        .insert("auth".into(), "{not json".into());
    sandbox.clear_requests();
    let e = err(client.list_payment_methods());
    assert_eq!(wire_code(e.code), "STORAGE_ERROR");
    assert_eq!(sandbox.requests(), Vec::<String>::new(), "nothing sent");
}

/// A loopback server that reads each request's head and then stalls: with `half_body`, after
/// sending the status line, headers and the start of a body; otherwise without a byte. The
/// connections are held open until the process ends.
fn stalling_server(half_body: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
            if half_body {
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"id\":";
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.flush();
            }
            held.push(stream);
        }
    });
    url
}

#[test]
fn request_timeout_ms_bounds_the_whole_exchange_and_is_validated() {
    let mut instance = runtime().instantiate().expect("instantiate");
    for half_body in [false, true] {
        let url = stalling_server(half_body);
        let options = ClientOptions {
            api_base_url: Some(url.clone()),
            auth_base_url: Some(url),
            access_token: Some("lsat_test".into()),
            refresh_token: None,
            no_refresh: false,
            hostname: None,
            request_timeout_ms: Some(300),
        };
        let mut client = instance.client(&options).expect("constructor");
        let started = Instant::now();
        // request-approval is not retried: one exchange is timed.
        let e = err(client.request_approval("lsrq_timeout"));
        let took = started.elapsed();
        assert_eq!(wire_code(e.code), "TRANSPORT_ERROR", "{}", e.message);
        assert!(
            took >= Duration::from_millis(250) && took < Duration::from_secs(5),
            "half_body={half_body}: gave up after {took:?} ({})",
            e.message
        );
    }

    // Out of range: every call is a validation error naming the option, and nothing is sent.
    let sandbox = Sandbox::start(&[]);
    for bad in [0, 600_001] {
        let mut options = sandbox.options();
        options.request_timeout_ms = Some(bad);
        sandbox.clear_requests();
        let mut client = instance.client(&options).expect("constructor");
        for _ in 0..2 {
            let e = err(client.list_payment_methods());
            assert_eq!(wire_code(e.code), "VALIDATION_ERROR", "{bad}");
            assert!(e.message.contains("request-timeout-ms"), "{}", e.message);
        }
        drop(client);
        assert_eq!(
            sandbox.requests(),
            Vec::<String>::new(),
            "{bad}: nothing sent"
        );
    }
}
