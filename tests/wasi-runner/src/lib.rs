//! Test-only host for linkpay's WASI components: loads them in wasmtime with the standard WASI
//! imports and exposes their typed exports (bindings type-checked against `wit/linkpay.wit` by
//! `bindgen!`): world `codec` ([`CodecInstance`]) and world `client` ([`ClientInstance`], with
//! `wasi:http` from wasmtime-wasi-http and `linkpay:core/storage` as an in-memory map that
//! records every call).

use std::path::{Path, PathBuf};
use wasmtime::Result;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

wasmtime::component::bindgen!({
    world: "codec",
    path: "../../wit",
});

pub use exports::linkpay::core::codec_api::{Error as WitError, ErrorCode as WitErrorCode};

/// The store's data: WASI's context and resource table.
pub struct HostState {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where `scripts/build` puts the codec component, unless `LINKPAY_CODEC_WASM` says otherwise.
pub fn codec_component_path() -> PathBuf {
    std::env::var_os("LINKPAY_CODEC_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/component/linkpay-codec.wasm"))
}

/// An instantiated `codec` component with its store.
pub struct CodecInstance {
    pub store: Store<HostState>,
    pub codec: Codec,
}

impl CodecInstance {
    pub fn load(path: &Path) -> Result<Self> {
        let engine = Engine::new(&Config::new())?;
        let component = Component::from_file(&engine, path)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        let state = HostState {
            ctx: WasiCtxBuilder::new().build(),
            table: ResourceTable::new(),
        };
        let mut store = Store::new(&engine, state);
        let codec = Codec::instantiate(&mut store, &component, &linker)?;
        Ok(CodecInstance { store, codec })
    }
}

/// The wire spelling of a WIT error code (the same table as linkpay's `ErrorCode::as_str`).
pub fn wire_code(code: impl std::fmt::Debug) -> String {
    let debug = format!("{code:?}");
    let debug = debug.rsplit("::").next().unwrap_or_default();
    // Debug prints the UpperCamel case name; the wire spelling is SCREAMING_SNAKE, except the
    // reference client's lowercase `spend_request_rate_limited`.
    let mut out = String::new();
    for (i, ch) in debug.chars().enumerate() {
        if ch.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(ch.to_ascii_uppercase());
    }
    if out == "SPEND_REQUEST_RATE_LIMITED" {
        out = out.to_ascii_lowercase();
    }
    out
}

/// Where `scripts/build` puts the client component, unless `LINKPAY_CLIENT_WASM` says otherwise.
pub fn client_component_path() -> PathBuf {
    std::env::var_os("LINKPAY_CLIENT_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/component/linkpay-client.wasm"))
}

/// Bindings of world `client`; the WASI interfaces are wasmtime's own.
pub mod client_world {
    wasmtime::component::bindgen!({
        world: "client",
        path: "../../wit",
        require_store_data_send: true,
        with: {
            "wasi:io": wasmtime_wasi::p2::bindings::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
            "wasi:random": wasmtime_wasi::p2::bindings::random,
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        },
    });
}

pub use client_world::exports::linkpay::core::client_api::{
    FetchRequest, FetchResponse, Options as ClientOptions,
};
use client_world::linkpay::core::storage;
use std::collections::BTreeMap;
use wasmtime::component::{HasSelf, ResourceAny};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// One call the component made to the host's `storage`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageOp {
    Get(String),
    Set(String, String),
    Delete(String),
}

/// The store's data for world `client`: WASI, wasi:http, and the storage map with its log.
pub struct ClientState {
    ctx: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    /// What `storage` holds.
    pub storage: BTreeMap<String, String>,
    /// Every `storage` call, in order.
    pub storage_log: Vec<StorageOp>,
    /// When set, every `storage` call fails with this message (a broken disk, a locked store).
    pub storage_failure: Option<String>,
}

impl ClientState {
    fn storage_check(&self) -> std::result::Result<(), String> {
        match &self.storage_failure {
            Some(message) => Err(message.clone()),
            None => Ok(()),
        }
    }
}

impl WasiView for ClientState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for ClientState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: wasmtime_wasi_http::default_hooks(),
        }
    }
}

impl storage::Host for ClientState {
    fn get(&mut self, key: String) -> std::result::Result<Option<String>, String> {
        self.storage_check()?;
        let value = self.storage.get(&key).cloned();
        self.storage_log.push(StorageOp::Get(key));
        Ok(value)
    }

    fn set(&mut self, key: String, value: String) -> std::result::Result<(), String> {
        self.storage_check()?;
        self.storage_log
            .push(StorageOp::Set(key.clone(), value.clone()));
        self.storage.insert(key, value);
        Ok(())
    }

    fn delete(&mut self, key: String) -> std::result::Result<(), String> {
        self.storage_check()?;
        self.storage.remove(&key);
        self.storage_log.push(StorageOp::Delete(key));
        Ok(())
    }
}

/// The compiled client component, shared by the tests of one process (compiling it is the slow
/// part).
pub struct ClientRuntime {
    engine: Engine,
    component: Component,
    linker: Linker<ClientState>,
}

impl ClientRuntime {
    pub fn load(path: &Path) -> Result<Self> {
        let engine = Engine::new(&Config::new())?;
        let component = Component::from_file(&engine, path)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)?;
        storage::add_to_linker::<ClientState, HasSelf<ClientState>>(&mut linker, |s| s)?;
        Ok(ClientRuntime {
            engine,
            component,
            linker,
        })
    }

    /// A fresh instance with empty storage.
    pub fn instantiate(&self) -> Result<ClientInstance> {
        let state = ClientState {
            ctx: WasiCtxBuilder::new().build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            storage: BTreeMap::new(),
            storage_log: Vec::new(),
            storage_failure: None,
        };
        let mut store = Store::new(&self.engine, state);
        let bindings =
            client_world::Client::instantiate(&mut store, &self.component, &self.linker)?;
        Ok(ClientInstance { store, bindings })
    }
}

/// An instantiated `client` component with its store.
pub struct ClientInstance {
    pub store: Store<ClientState>,
    pub bindings: client_world::Client,
}

/// A `client` resource of one instance.
pub struct LinkClient<'a> {
    instance: &'a mut ClientInstance,
    handle: ResourceAny,
}

/// World `client`'s `error` record (the same WIT type as [`WitError`], generated again).
pub type ClientError = client_world::exports::linkpay::core::codec_api::Error;

/// What every client method returns: the JSON answer, or the typed error.
pub type CallResult = std::result::Result<serde_json::Value, ClientError>;

fn parse(r: std::result::Result<String, ClientError>) -> CallResult {
    r.map(|text| serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

impl ClientInstance {
    /// `new client(options)`.
    pub fn client(&mut self, options: &ClientOptions) -> Result<LinkClient<'_>> {
        let handle = self
            .bindings
            .linkpay_core_client_api()
            .client()
            .call_constructor(&mut self.store, options)?;
        Ok(LinkClient {
            instance: self,
            handle,
        })
    }
}

macro_rules! method {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) => $call:ident) => {
        $(#[$doc])*
        pub fn $name(&mut self, $($arg: $ty),*) -> Result<CallResult> {
            let api = self.instance.bindings.linkpay_core_client_api();
            Ok(parse(api.client().$call(&mut self.instance.store, self.handle, $($arg),*)?))
        }
    };
}

impl Drop for LinkClient<'_> {
    /// Drops the guest resource (runs the component's destructor of the client).
    fn drop(&mut self) {
        let _ = self.handle.resource_drop(&mut self.instance.store);
    }
}

impl LinkClient<'_> {
    method!(
        /// `login-start`.
        login_start(options: &str) => call_login_start
    );
    method!(
        /// `auth-status`.
        auth_status() => call_auth_status
    );
    method!(
        /// `login-wait`.
        login_wait(policy: Option<&str>) => call_login_wait
    );
    method!(
        /// `logout`.
        logout() => call_logout
    );
    method!(
        /// `list-payment-methods`.
        list_payment_methods() => call_list_payment_methods
    );
    method!(
        /// `create-spend-request`.
        create_spend_request(input: &str) => call_create_spend_request
    );
    method!(
        /// `update-spend-request`.
        update_spend_request(id: &str, input: &str) => call_update_spend_request
    );
    method!(
        /// `retrieve-spend-request`.
        retrieve_spend_request(id: &str, include: &[String]) => call_retrieve_spend_request
    );
    method!(
        /// `request-approval`.
        request_approval(id: &str) => call_request_approval
    );
    method!(
        /// `cancel-spend-request`.
        cancel_spend_request(id: &str) => call_cancel_spend_request
    );
    method!(
        /// `list-spend-requests`.
        list_spend_requests(include_history: bool) => call_list_spend_requests
    );
    method!(
        /// `wait-for-spend-request`.
        wait_for_spend_request(id: &str, options: &str) => call_wait_for_spend_request
    );
    method!(
        /// `mpp-pay`.
        mpp_pay(input: &str) => call_mpp_pay
    );
    method!(
        /// `run`: a command of the table, exactly as `linkpay <command> --format json`.
        run(command: &str, input: &str) => call_run
    );

    /// `fetch`: the merchant's answer (or the typed error).
    pub fn fetch(
        &mut self,
        request: &FetchRequest,
        options: &str,
    ) -> Result<std::result::Result<FetchResponse, ClientError>> {
        let api = self.instance.bindings.linkpay_core_client_api();
        api.client()
            .call_fetch(&mut self.instance.store, self.handle, request, options)
    }

    /// The host state behind this client (storage and its log).
    pub fn state(&mut self) -> &mut ClientState {
        self.instance.store.data_mut()
    }
}
