//! tests/vectors/commands.json through the WASI `client` component's `run`, in wasmtime, over
//! wasi:http to a sandbox process: the same outputs as the native Rust runner, the CLI, the MCP
//! tools and `LinkClient.run`.

#[path = "../../common/commands.rs"]
mod commands;

use linkpay_wasi_runner::{
    ClientOptions, ClientRuntime, client_component_path, repo_root, wire_code,
};
use serde_json::json;

#[test]
fn every_command_gives_the_vector_output() {
    let repo = repo_root();
    let vectors = commands::Vectors::load(&repo);
    let sandbox = commands::Sandbox::start(&repo);
    let token = sandbox.token();
    let runtime = ClientRuntime::load(&client_component_path()).expect("scripts/build first");
    let options = |token: Option<String>| ClientOptions {
        api_base_url: Some(sandbox.url.clone()),
        auth_base_url: Some(sandbox.url.clone()),
        access_token: token,
        refresh_token: None,
        no_refresh: false,
        hostname: Some("wasmtime-test".into()),
        request_timeout_ms: None,
    };
    let mut with_token = runtime.instantiate().expect("instantiate");
    let mut without = runtime.instantiate().expect("instantiate");
    vectors.run(&sandbox.url, "wasmtime", |step, input| {
        let (instance, token) = if step.auth == "token" {
            (&mut with_token, Some(token.clone()))
        } else {
            (&mut without, None)
        };
        let mut client = instance.client(&options(token)).expect("constructor");
        match client
            .run(&step.command, &input.to_string())
            .expect("the call completes")
        {
            Ok(output) => json!({ "output": output }),
            Err(e) => commands::error_answer(
                &wire_code(e.code),
                &e.message,
                e.field_errors
                    .iter()
                    .map(|f| (f.path.as_str(), f.message.as_str())),
                e.details
                    .as_deref()
                    .map(|d| serde_json::from_str(d).expect("details are JSON")),
            ),
        }
    });
}
