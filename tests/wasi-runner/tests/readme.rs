//! The README's wasmtime embedding (the ```rust block of "WASI components"), run against the
//! sandbox: the code between the markers below must be the README's block, line for line.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

// README begin
use std::collections::HashMap;
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

wasmtime::component::bindgen!({
    world: "client",
    path: "../../wit", // linkpay's wit/ directory, deps included
    require_store_data_send: true,
    with: {
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "wasi:random": wasmtime_wasi::p2::bindings::random,
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
    },
});
use exports::linkpay::core::client_api::Options;

struct State {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    /// linkpay:core/storage, here in memory (values hold tokens: keep them secret).
    session: HashMap<String, String>,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        let hooks = wasmtime_wasi_http::default_hooks();
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks,
        }
    }
}

/// An `Err` is a message the client reports as `STORAGE_ERROR`.
impl linkpay::core::storage::Host for State {
    fn get(&mut self, key: String) -> Result<Option<String>, String> {
        Ok(self.session.get(&key).cloned())
    }
    fn set(&mut self, key: String, value: String) -> Result<(), String> {
        self.session.insert(key, value);
        Ok(())
    }
    fn delete(&mut self, key: String) -> Result<(), String> {
        self.session.remove(&key);
        Ok(())
    }
}

fn list_payment_methods(wasm: &str, base_url: Option<String>) -> wasmtime::Result<String> {
    let engine = Engine::default();
    let component = Component::from_file(&engine, wasm)?;
    let mut linker = Linker::<State>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?; // wasi:io, clocks, random
    wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)?;
    linkpay::core::storage::add_to_linker::<State, HasSelf<State>>(&mut linker, |s| s)?;
    let state = State {
        wasi: WasiCtx::builder().build(),
        http: WasiHttpCtx::new(),
        table: ResourceTable::new(),
        session: HashMap::new(),
    };
    let mut store = Store::new(&engine, state);
    let client = Client::instantiate(&mut store, &component, &linker)?;
    let api = client.linkpay_core_client_api().client();
    let options = Options {
        api_base_url: base_url.clone(), // None: the real Link
        auth_base_url: base_url,
        access_token: None,
        refresh_token: None,
        no_refresh: false,
        hostname: Some("my-host".into()),
        request_timeout_ms: None,
    };
    let link = api.call_constructor(&mut store, &options)?;
    // JSON text in and out; an Err is the WIT `error` record (code, message, field-errors).
    let login = api
        .call_login_start(&mut store, link, r#"{"client_name":"My agent"}"#)?
        .map_err(|e| wasmtime::format_err!("{:?}: {}", e.code, e.message))?;
    if login.contains(r#""authenticated":false"#) {
        println!("Approve: {login}"); // verification_url and phrase
        api.call_login_wait(&mut store, link, None)?
            .map_err(|e| wasmtime::format_err!("{:?}: {}", e.code, e.message))?;
    }
    api.call_list_payment_methods(&mut store, link)?
        .map_err(|e| wasmtime::format_err!("{:?}: {}", e.code, e.message))
}
// README end

#[test]
fn the_readme_embedding_runs_against_the_sandbox() {
    let root = linkpay_wasi_runner::repo_root();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let block = readme
        .split("```rust\n")
        .nth(1)
        .and_then(|rest| rest.split("```\n").next())
        .expect("the README's rust block");
    let source = include_str!("readme.rs");
    let ours = source
        .split("// README begin\n")
        .nth(1)
        .and_then(|rest| rest.split("// README end\n").next())
        .expect("markers");
    assert_eq!(
        block, ours,
        "README.md's rust block must be this test's code"
    );

    let mut sandbox = Command::new("node")
        .arg(root.join("npm/dist/sandbox/main.js"))
        .args(["--port", "0", "--auto-approve"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs the sandbox (scripts/build first)");
    let stdout = sandbox.stdout.take().expect("piped stdout");
    let url = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            let rest = line.split("listening on ").nth(1)?;
            rest.split_whitespace().next().map(String::from)
        })
        .expect("the sandbox prints its URL");
    let wasm = linkpay_wasi_runner::client_component_path();
    let result = list_payment_methods(wasm.to_str().expect("a UTF-8 path"), Some(url));
    let _ = sandbox.kill();
    let _ = sandbox.wait();
    let methods: serde_json::Value =
        serde_json::from_str(&result.expect("the embedding runs")).expect("JSON");
    assert!(methods.as_array().expect("an array").len() >= 4);
}
