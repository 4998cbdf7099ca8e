//! Test-only host for linkpay's WASI component: loads it in wasmtime with the standard WASI
//! imports and exposes the `codec` world's typed exports (bindings type-checked against
//! `wit/linkpay.wit` by `bindgen!`).

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
pub fn wire_code(code: WitErrorCode) -> String {
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
