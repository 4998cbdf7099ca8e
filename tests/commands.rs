//! tests/vectors/commands.json run natively: the Rust runner (`linkpay::runner::run`) on the one
//! driver, over a host that speaks real HTTP (ureq) to a sandbox process, with memory storage.
//! The same file is run by the CLI, the MCP tools and `LinkClient.run` (npm) and by the WASI
//! component's `run` (wasmtime): all five give the same output.

// Test code: a failed expectation is the test failing.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
// Real I/O (loopback HTTP to a sandbox process, sleeps), which the core itself may not do
// (clippy.toml).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

#[path = "common/commands.rs"]
mod commands;

use linkpay::client::{Client, Config};
use linkpay::host::{Host, HttpRequest, HttpResponse};
use linkpay::runner::{Mode, run};
use linkpay::{Error, ErrorCode};
use serde_json::json;
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

/// Real HTTP (ureq, no TLS: the sandbox is loopback), memory storage, the system clock.
struct NativeHost {
    agent: ureq::Agent,
    storage: RefCell<HashMap<String, String>>,
    counter: RefCell<u8>,
}

impl NativeHost {
    fn new() -> NativeHost {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        NativeHost {
            agent,
            storage: RefCell::default(),
            counter: RefCell::new(0),
        }
    }
}

impl Host for NativeHost {
    async fn fetch(&self, request: &HttpRequest) -> linkpay::Result<HttpResponse> {
        let transport =
            |e: &dyn std::fmt::Display| Error::new(ErrorCode::TransportError, e.to_string());
        let mut builder = ureq::http::Request::builder()
            .method(request.method.as_str())
            .uri(request.url.as_str());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let answer = match &request.body {
            Some(body) => self
                .agent
                .run(builder.body(body.clone()).map_err(|e| transport(&e))?),
            None => self.agent.run(builder.body(()).map_err(|e| transport(&e))?),
        };
        let mut response = answer.map_err(|e| transport(&e))?;
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        // The host contract: read at most `max_body_bytes`, and say when there was more.
        let mut bytes = Vec::new();
        response
            .body_mut()
            .as_reader()
            .take(request.max_body_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| transport(&e))?;
        let body_truncated = bytes.len() as u64 > request.max_body_bytes;
        bytes.truncate(usize::try_from(request.max_body_bytes).unwrap_or(usize::MAX));
        Ok(HttpResponse {
            body_truncated,
            status: response.status().as_u16(),
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }

    async fn storage_get(&self, key: &str) -> linkpay::Result<Option<String>> {
        Ok(self.storage.borrow().get(key).cloned())
    }

    async fn storage_set(&self, key: &str, value: &str) -> linkpay::Result<()> {
        self.storage.borrow_mut().insert(key.into(), value.into());
        Ok(())
    }

    async fn storage_delete(&self, key: &str) -> linkpay::Result<()> {
        self.storage.borrow_mut().remove(key);
        Ok(())
    }

    #[allow(clippy::disallowed_methods, clippy::disallowed_types)]
    fn now_ms(&self) -> i64 {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970");
        i64::try_from(since.as_millis()).expect("in range")
    }

    async fn sleep(&self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }

    fn random(&self, len: usize) -> Vec<u8> {
        // Idempotency keys only need to differ between calls here.
        let mut counter = self.counter.borrow_mut();
        *counter = counter.wrapping_add(1);
        (0..len).map(|i| counter.wrapping_add(i as u8)).collect()
    }
}

fn client(url: &str, token: Option<&str>) -> Client<NativeHost> {
    let config = Config {
        endpoints: linkpay::api::Endpoints::new(Some(url), Some(url)),
        access_token: token.map(|t| linkpay::spend_request::Secret::new(t.to_string())),
        hostname: "native-test".into(),
        request_timeout_ms: linkpay::client::DEFAULT_REQUEST_TIMEOUT_MS,
        ..Config::default()
    };
    Client::new(NativeHost::new(), config)
}

#[test]
fn every_command_gives_the_vector_output() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let vectors = commands::Vectors::load(repo);
    let sandbox = commands::Sandbox::start(repo);
    let token = sandbox.token();
    let with_token = client(&sandbox.url, Some(&token));
    let without = client(&sandbox.url, None);
    vectors.run(&sandbox.url, "native", |step, input| {
        let client = if step.auth == "token" {
            &with_token
        } else {
            &without
        };
        let result = pollster::block_on(run(
            client,
            &step.command,
            input,
            Mode::default(),
            &mut |_| {},
        ));
        match result {
            Ok(output) => json!({ "output": output }),
            Err(e) => commands::error_answer(
                e.code.as_str(),
                &e.message,
                e.field_errors
                    .iter()
                    .map(|f| (f.path.as_str(), f.message.as_str())),
                e.details.as_deref().cloned(),
            ),
        }
    });
}
