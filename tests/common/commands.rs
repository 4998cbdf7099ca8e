//! The runner of `tests/vectors/commands.json` shared by the native Rust runner
//! (`tests/commands.rs`) and the WASI one (`tests/wasi-runner/tests/commands.rs`): a sandbox
//! process, the vector's normalisation and input substitution, and the step loop. The Node
//! runners (`npm/test/commands.test.mjs`) implement the same three rules.

// Test code: a failed expectation is the test failing.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
// Real I/O (a sandbox process, loopback TCP, the vector file), which the core itself may not
// do (clippy.toml).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use regex::Regex;
use serde_json::{Map, Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A sandbox (`node npm/dist/sandbox/main.js --auto-approve`) on a free port; killed on drop.
pub struct Sandbox {
    child: Child,
    pub url: String,
}

impl Sandbox {
    pub fn start(repo: &Path) -> Sandbox {
        let mut child = Command::new("node")
            .arg(repo.join("npm/dist/sandbox/main.js"))
            .args(["--port", "0", "--auto-approve"])
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
        }
    }

    /// A sandbox control call (`/sandbox/...`) over plain HTTP/1.0.
    pub fn control(&self, method: &str, path: &str, body: &Value) -> Value {
        let authority = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(authority).expect("connect to the sandbox");
        let body = body.to_string();
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        let (_, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
        serde_json::from_str(body).expect("JSON")
    }

    /// An access token of the sandbox's default user, with every financial-insights source
    /// action (transactions, sources and balances list).
    pub fn token(&self) -> String {
        let actions = [
            "read_balances",
            "read_external_transactions",
            "read_link_transactions",
            "read_source_details",
        ];
        self.control(
            "POST",
            "/sandbox/tokens",
            &json!({ "source_actions": actions }),
        )["access_token"]
            .as_str()
            .expect("a token")
            .to_string()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `{error: {code, message, fieldErrors?}}`, as the CLI prints an error.
pub fn error_answer<'a>(
    code: &str,
    message: &str,
    fields: impl Iterator<Item = (&'a str, &'a str)>,
    details: Option<Value>,
) -> Value {
    let fields: Vec<Value> = fields
        .map(|(path, message)| json!({ "path": path, "message": message }))
        .collect();
    let mut error = json!({ "code": code, "message": message });
    if !fields.is_empty() {
        error["fieldErrors"] = Value::Array(fields);
    }
    if let Some(details) = details.filter(Value::is_object) {
        error["details"] = details;
    }
    json!({ "error": error })
}

/// One step of the file.
pub struct Step {
    pub name: String,
    /// `token` or `none`.
    pub auth: String,
    pub command: String,
    pub input: Value,
    save: Option<String>,
    expect: Value,
}

pub struct Vectors {
    keys: Vec<String>,
    replace: Vec<(Regex, String)>,
    pub steps: Vec<Step>,
}

impl Vectors {
    pub fn load(repo: &Path) -> Vectors {
        let text = std::fs::read_to_string(repo.join("tests/vectors/commands.json"))
            .expect("tests/vectors/commands.json");
        let file: Value = serde_json::from_str(&text).expect("JSON");
        let normalize = &file["normalize"];
        let keys = normalize["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|k| k.as_str().expect("a key").to_string())
            .collect();
        let replace = normalize["replace"]
            .as_array()
            .expect("replace")
            .iter()
            .map(|pair| {
                (
                    Regex::new(pair[0].as_str().expect("a regex")).expect("a valid regex"),
                    pair[1].as_str().expect("a replacement").to_string(),
                )
            })
            .collect();
        let steps = file["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .map(|s| Step {
                name: s["name"].as_str().expect("name").to_string(),
                auth: s["auth"].as_str().expect("auth").to_string(),
                command: s["command"].as_str().expect("command").to_string(),
                input: s["input"].clone(),
                save: s["save"].as_str().map(String::from),
                expect: s["expect"].clone(),
            })
            .collect();
        Vectors {
            keys,
            replace,
            steps,
        }
    }

    /// Listed keys become `"*"`, then the replacements apply to every string.
    pub fn normalize(&self, value: &Value) -> Value {
        match value {
            Value::Array(items) => Value::Array(items.iter().map(|v| self.normalize(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let v = if self.keys.contains(k) {
                            Value::from("*")
                        } else {
                            self.normalize(v)
                        };
                        (k.clone(), v)
                    })
                    .collect::<Map<_, _>>(),
            ),
            Value::String(s) => {
                let mut s = s.clone();
                for (re, text) in &self.replace {
                    s = re.replace_all(&s, text.as_str()).into_owned();
                }
                Value::String(s)
            }
            other => other.clone(),
        }
    }

    /// Runs every step with `call(step, input)`, which returns `{output}` or `{error: {code,
    /// message, fieldErrors?}}`, and compares each normalised answer with the file's.
    pub fn run(&self, url: &str, runner: &str, mut call: impl FnMut(&Step, &Value) -> Value) {
        let mut saved: Vec<(String, String)> = Vec::new();
        for step in &self.steps {
            let mut text = step.input.to_string().replace("{sandbox}", url);
            for (name, id) in &saved {
                text = text.replace(&format!("{{{{{name}}}}}"), id);
            }
            let input: Value = serde_json::from_str(&text).expect("JSON input");
            let raw = call(step, &input);
            assert_eq!(
                self.normalize(&raw),
                step.expect,
                "{runner}: {}\n{raw:#}",
                step.name
            );
            if let Some(name) = &step.save {
                let output = &raw["output"];
                let last = output.as_array().and_then(|a| a.last()).unwrap_or(output);
                let id = last["id"].as_str().expect("an id to save").to_string();
                saved.push((name.clone(), id));
            }
        }
    }
}
