//! The agent hosts linkpay registers itself with (`linkpay mcp add`, `mcp doctor`) and installs
//! its skill into (`linkpay skills add`, `skills list`): which hosts, where their files are and
//! how an MCP config file is merged. No files here: the caller passes the home directory and the
//! file's text in and writes the text that comes out.
//!
//! The facts are incur 0.4.26's (the framework of link-cli 0.13.1): `mcp add` registers through
//! add-mcp (its hosts, config paths, keys and entry shapes) plus Amp directly; skills go to the
//! canonical `.agents/skills/<name>/` and to each detected agent's own skills directory. Windsurf,
//! which add-mcp does not know, takes `~/.codeium/windsurf/mcp_config.json` (Windsurf's own
//! place). Codex's config is TOML, merged here with toml_edit (comments and layout kept); Goose's
//! is YAML, which the caller turns into JSON for [`mcp_config_with`] and writes back into the
//! document itself (so its comments stay), as it does for JSON files with comments (JSONC).

use crate::error::{Error, ErrorCode, FieldError, Result};
use serde_json::{Map, Value};

/// The name linkpay's server is registered under in every host's config.
pub const SERVER_NAME: &str = "linkpay";

/// The command registered when `--command` is not given.
pub const DEFAULT_COMMAND: &str = "linkpay --mcp";

/// Where a path is rooted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Base {
    /// The home directory.
    Home,
    /// `$XDG_CONFIG_HOME`, else `~/.config`.
    Config,
    /// The platform's application-data directory: `~/Library/Application Support` (macOS),
    /// `%APPDATA%` (Windows), the config directory elsewhere.
    AppSupport,
    /// VS Code's user directory: `<app support>/Code/User`.
    VsCode,
    /// `$CODEX_HOME`, else `~/.codex`.
    CodexHome,
    /// Goose's config directory: `%APPDATA%/Block/goose/config` (Windows), else
    /// `<config>/goose` (`~/.config/goose` on macOS too).
    Goose,
}

/// How a host's config file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Json,
    Toml,
    Yaml,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Toml => "toml",
            Format::Yaml => "yaml",
        }
    }
}

/// How a host writes a stdio server entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// `{command, args}`.
    Standard,
    /// `{command, args, disabled: false}` (Cline).
    Cline,
    /// `{type: "local", command: [command, ...args], enabled: true, environment: {}}` (OpenCode).
    OpenCode,
    /// `{source: "custom", command, args, env: {}}` (Zed).
    Zed,
    /// `{type: "stdio", command, args, tools: ["*"]}` (GitHub Copilot CLI's global file).
    Copilot,
    /// `{name, description: "", cmd, args, enabled: true, envs: {}, type: "stdio", timeout: 300}`
    /// (a Goose extension).
    Goose,
}

/// One agent host with an MCP config file.
#[derive(Clone, Copy, Debug)]
struct McpHost {
    id: &'static str,
    name: &'static str,
    base: Base,
    /// The global config file, under `base`.
    global: &'static str,
    /// The key holding the servers in the global file (a literal key, dots and all).
    key: &'static str,
    shape: Shape,
    /// The project config file (relative to the project directory) and its key, if any.
    project: Option<(&'static str, &'static str, Shape)>,
    /// The global install is detected by this path (under `detect_base`).
    detect_base: Base,
    detect: &'static str,
    /// The project install is detected by any of these paths.
    project_detect: &'static [&'static str],
    format: Format,
}

const fn host(
    id: &'static str,
    name: &'static str,
    base: Base,
    global: &'static str,
    key: &'static str,
    shape: Shape,
) -> McpHost {
    McpHost {
        id,
        name,
        base,
        global,
        key,
        shape,
        project: None,
        detect_base: base,
        detect: "",
        project_detect: &[],
        format: Format::Json,
    }
}

impl McpHost {
    const fn project(
        mut self,
        path: &'static str,
        key: &'static str,
        shape: Shape,
        detect: &'static [&'static str],
    ) -> Self {
        self.project = Some((path, key, shape));
        self.project_detect = detect;
        self
    }
    const fn detect(mut self, base: Base, path: &'static str) -> Self {
        self.detect_base = base;
        self.detect = path;
        self
    }
    const fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }
}

const MCP_HOSTS: &[McpHost] = &[
    host(
        "claude-code",
        "Claude Code",
        Base::Home,
        ".claude.json",
        "mcpServers",
        Shape::Standard,
    )
    .project(
        ".mcp.json",
        "mcpServers",
        Shape::Standard,
        &[".mcp.json", ".claude"],
    )
    .detect(Base::Home, ".claude"),
    host(
        "claude-desktop",
        "Claude Desktop",
        Base::AppSupport,
        "Claude/claude_desktop_config.json",
        "mcpServers",
        Shape::Standard,
    )
    .detect(Base::AppSupport, "Claude"),
    host(
        "cursor",
        "Cursor",
        Base::Home,
        ".cursor/mcp.json",
        "mcpServers",
        Shape::Standard,
    )
    .project(
        ".cursor/mcp.json",
        "mcpServers",
        Shape::Standard,
        &[".cursor"],
    )
    .detect(Base::Home, ".cursor"),
    host(
        "vscode",
        "VS Code",
        Base::VsCode,
        "mcp.json",
        "servers",
        Shape::Standard,
    )
    .project(".vscode/mcp.json", "servers", Shape::Standard, &[".vscode"])
    .detect(Base::VsCode, ""),
    host(
        "windsurf",
        "Windsurf",
        Base::Home,
        ".codeium/windsurf/mcp_config.json",
        "mcpServers",
        Shape::Standard,
    )
    .detect(Base::Home, ".codeium/windsurf"),
    host(
        "gemini-cli",
        "Gemini CLI",
        Base::Home,
        ".gemini/settings.json",
        "mcpServers",
        Shape::Standard,
    )
    .project(
        ".gemini/settings.json",
        "mcpServers",
        Shape::Standard,
        &[".gemini"],
    )
    .detect(Base::Home, ".gemini"),
    host(
        "github-copilot-cli",
        "GitHub Copilot CLI",
        Base::Home,
        ".copilot/mcp-config.json",
        "mcpServers",
        Shape::Copilot,
    )
    .project(".vscode/mcp.json", "servers", Shape::Standard, &[".vscode"])
    .detect(Base::Home, ".copilot"),
    host(
        "cline",
        "Cline VSCode Extension",
        Base::VsCode,
        "globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json",
        "mcpServers",
        Shape::Cline,
    )
    .detect(
        Base::VsCode,
        "globalStorage/saoudrizwan.claude-dev/settings",
    ),
    host(
        "cline-cli",
        "Cline CLI",
        Base::Home,
        ".cline/data/settings/cline_mcp_settings.json",
        "mcpServers",
        Shape::Cline,
    )
    .detect(Base::Home, ".cline/data/settings"),
    host(
        "antigravity",
        "Antigravity",
        Base::Home,
        ".gemini/antigravity/mcp_config.json",
        "mcpServers",
        Shape::Standard,
    )
    .detect(Base::Home, ".gemini"),
    host(
        "mcporter",
        "MCPorter",
        Base::Home,
        ".mcporter/mcporter.json",
        "mcpServers",
        Shape::Standard,
    )
    .project(
        "config/mcporter.json",
        "mcpServers",
        Shape::Standard,
        &["config/mcporter.json"],
    )
    .detect(Base::Home, ".mcporter"),
    host(
        "opencode",
        "OpenCode",
        Base::Home,
        ".config/opencode/opencode.json",
        "mcp",
        Shape::OpenCode,
    )
    .project(
        "opencode.json",
        "mcp",
        Shape::OpenCode,
        &["opencode.json", ".opencode"],
    )
    .detect(Base::Home, ".config/opencode"),
    host(
        "zed",
        "Zed",
        Base::AppSupport,
        "zed/settings.json",
        "context_servers",
        Shape::Zed,
    )
    .project(
        ".zed/settings.json",
        "context_servers",
        Shape::Zed,
        &[".zed"],
    )
    .detect(Base::AppSupport, "zed"),
    host(
        "amp",
        "Amp",
        Base::Home,
        ".config/amp/settings.json",
        "amp.mcpServers",
        Shape::Standard,
    )
    .detect(Base::Home, ".config/amp"),
    host(
        "codex",
        "Codex",
        Base::CodexHome,
        "config.toml",
        "mcp_servers",
        Shape::Standard,
    )
    .project(
        ".codex/config.toml",
        "mcp_servers",
        Shape::Standard,
        &[".codex"],
    )
    .detect(Base::Home, ".codex")
    .format(Format::Toml),
    host(
        "goose",
        "Goose",
        Base::Goose,
        "config.yaml",
        "extensions",
        Shape::Goose,
    )
    .detect(Base::Goose, "config.yaml")
    .format(Format::Yaml),
];

/// The host ids `--agent` takes, in the host table's order (a test keeps the two in step).
pub const MCP_HOST_IDS: [&str; 16] = [
    "claude-code",
    "claude-desktop",
    "cursor",
    "vscode",
    "windsurf",
    "gemini-cli",
    "github-copilot-cli",
    "cline",
    "cline-cli",
    "antigravity",
    "mcporter",
    "opencode",
    "zed",
    "amp",
    "codex",
    "goose",
];

/// The directories paths are rooted in, from the environment the caller read.
#[derive(Clone, Debug, Default)]
pub struct Env {
    pub home: String,
    /// `XDG_CONFIG_HOME` when set and not blank.
    pub config_home: Option<String>,
    /// `process.platform`: `darwin`, `win32`, `linux`, ….
    pub platform: String,
    /// `APPDATA` (Windows).
    pub app_data: Option<String>,
    /// The project directory (`--no-global`).
    pub cwd: String,
    /// `CODEX_HOME` when set and not blank.
    pub codex_home: Option<String>,
}

impl Env {
    /// `{home, configHome?, platform, appData?, cwd, codexHome?}`.
    pub fn from_json(value: &Value) -> Env {
        let text = |k: &str| {
            value
                .get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        Env {
            home: text("home").unwrap_or_default(),
            config_home: text("configHome"),
            platform: text("platform").unwrap_or_default(),
            app_data: text("appData"),
            cwd: text("cwd").unwrap_or_default(),
            codex_home: text("codexHome"),
        }
    }

    fn dir(&self, base: Base) -> String {
        let config = || {
            self.config_home
                .clone()
                .unwrap_or_else(|| join(&self.home, ".config"))
        };
        let app_support = || match self.platform.as_str() {
            "darwin" => join(&self.home, "Library/Application Support"),
            "win32" => self
                .app_data
                .clone()
                .unwrap_or_else(|| join(&self.home, "AppData/Roaming")),
            _ => config(),
        };
        match base {
            Base::Home => self.home.clone(),
            Base::Config => config(),
            Base::AppSupport => app_support(),
            Base::VsCode => join(&app_support(), "Code/User"),
            Base::CodexHome => self
                .codex_home
                .clone()
                .unwrap_or_else(|| join(&self.home, ".codex")),
            Base::Goose => match self.platform.as_str() {
                "win32" => join(&app_support(), "Block/goose/config"),
                _ => join(&config(), "goose"),
            },
        }
    }
}

/// `dir/rest` with one separator (`rest` may be empty).
fn join(dir: &str, rest: &str) -> String {
    match (dir.trim_end_matches('/'), rest.trim_start_matches('/')) {
        (d, "") => d.to_string(),
        ("", r) => r.to_string(),
        (d, r) => format!("{d}/{r}"),
    }
}

fn find_host(id: &str) -> Result<&'static McpHost> {
    MCP_HOSTS.iter().find(|h| h.id == id).ok_or_else(|| {
        Error::validation(vec![FieldError::new(
            "agent",
            format!("must be one of: {}", MCP_HOST_IDS.join(", ")),
        )])
    })
}

/// The MCP hosts for a global install (`project` false) or a project one: per host its `id`,
/// `name`, config `path`, servers `key` and the paths whose presence means it is installed
/// (`detect`). Hosts with no project config are left out of a project install. `agents` (ids)
/// picks hosts; an unknown id is a `VALIDATION_ERROR` at `agent`.
pub fn mcp_hosts(env: &Env, project: bool, agents: &[String]) -> Result<Value> {
    for id in agents {
        let h = find_host(id)?;
        if project && h.project.is_none() {
            return Err(Error::validation(vec![FieldError::new(
                "agent",
                format!(
                    "{} has no project config; leave out --no-global for it",
                    h.name
                ),
            )]));
        }
    }
    let mut out = Vec::new();
    for h in MCP_HOSTS {
        if !agents.is_empty() && !agents.iter().any(|a| a == h.id) {
            continue;
        }
        let (path, key, detect) = if project {
            let Some((path, key, _)) = h.project else {
                continue;
            };
            let detect: Vec<Value> = h
                .project_detect
                .iter()
                .map(|d| Value::from(join(&env.cwd, d)))
                .collect();
            (join(&env.cwd, path), key, detect)
        } else {
            (
                join(&env.dir(h.base), h.global),
                h.key,
                vec![Value::from(join(&env.dir(h.detect_base), h.detect))],
            )
        };
        out.push(object!({
            "id": h.id,
            "name": h.name,
            "path": path,
            "key": key,
            "format": h.format.name(),
            "detect": detect,
        }));
    }
    Ok(Value::Array(out))
}

/// Splits a command line into words, honouring single and double quotes (as incur does).
pub fn split_command(input: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for ch in input.chars() {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => current.push(ch),
            None if ch == '"' || ch == '\'' => {
                quote = Some(ch);
                started = true;
            }
            None if ch.is_whitespace() => {
                if started || !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
                started = false;
            }
            None => current.push(ch),
        }
    }
    if started || !current.is_empty() {
        words.push(current);
    }
    words
}

/// The entry a host's config gets for `command`. `VALIDATION_ERROR` at `command` when blank.
fn entry(shape: Shape, command: &str) -> Result<Map<String, Value>> {
    let words = split_command(command);
    let Some((program, args)) = words.split_first() else {
        return Err(Error::validation(vec![FieldError::new(
            "command",
            "must name the program that starts linkpay's MCP server",
        )]));
    };
    let args: Vec<Value> = args.iter().cloned().map(Value::from).collect();
    let value = match shape {
        Shape::Standard => object!({ "command": program.clone(), "args": args }),
        Shape::Cline => object!({ "command": program.clone(), "args": args, "disabled": false }),
        Shape::OpenCode => {
            let mut all = vec![Value::from(program.clone())];
            all.extend(args);
            object!({
                "type": "local",
                "command": all,
                "enabled": true,
                "environment": Value::Object(Map::new()),
            })
        }
        Shape::Zed => object!({
            "source": "custom",
            "command": program.clone(),
            "args": args,
            "env": Value::Object(Map::new()),
        }),
        Shape::Copilot => object!({
            "type": "stdio",
            "command": program.clone(),
            "args": args,
            "tools": vec!["*"],
        }),
        Shape::Goose => object!({
            "name": SERVER_NAME,
            "description": "",
            "cmd": program.clone(),
            "args": args,
            "enabled": true,
            "envs": Value::Object(Map::new()),
            "type": "stdio",
            "timeout": 300,
        }),
    };
    match value {
        Value::Object(map) => Ok(map),
        _ => Ok(Map::new()),
    }
}

fn shape_and_key(h: &McpHost, project: bool) -> (Shape, &'static str) {
    match (project, h.project) {
        (true, Some((_, key, shape))) => (shape, key),
        _ => (h.shape, h.key),
    }
}

fn corrupt(why: &str) -> Error {
    Error::new(
        ErrorCode::StorageError,
        format!("the config file {why}; fix or move it (linkpay left it untouched)"),
    )
}

/// Parses a host's config text: `{}` when empty, else a JSON object.
fn parse_config(existing: &str) -> Result<Map<String, Value>> {
    if existing.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(existing) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(corrupt("is JSON but not an object")),
        Err(e) => Err(corrupt(&format!("is not valid JSON ({e})"))),
    }
}

/// `linkpay mcp add`: the text of host `host`'s config file with linkpay's server registered to
/// run `command`, from the file's current text (`""` when there is none). Every other key and
/// server is kept, in its order; keys of an existing `linkpay` entry other than the command are
/// kept too. When the entry is already as wanted the text comes back unchanged, byte for byte.
/// A file that is not a JSON object (or whose servers key is not one) is a `STORAGE_ERROR`.
///
/// A TOML host's (Codex's) text is TOML, changed in place: only linkpay's table is written, the
/// rest of the file (comments included) stays as it was. A YAML host's (Goose's) text is the
/// JSON of its document: the caller puts the entry back into the YAML.
pub fn mcp_config_with(existing: &str, host: &str, project: bool, command: &str) -> Result<String> {
    let h = find_host(host)?;
    let (shape, key) = shape_and_key(h, project);
    let wanted = entry(shape, command)?;
    if h.format == Format::Toml {
        return toml_config_with(existing, key, wanted);
    }
    let mut config = parse_config(existing)?;
    let servers = config
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(servers) = servers else {
        return Err(corrupt(&format!("has a \"{key}\" that is not an object")));
    };
    let merged = match servers.get(SERVER_NAME) {
        Some(Value::Object(current)) => {
            let mut merged = current.clone();
            for (k, v) in &wanted {
                merged.insert(k.clone(), v.clone());
            }
            merged
        }
        _ => wanted,
    };
    if servers.get(SERVER_NAME) == Some(&Value::Object(merged.clone())) {
        return Ok(existing.to_string());
    }
    servers.insert(SERVER_NAME.to_string(), Value::Object(merged));
    let text = serde_json::to_string_pretty(&Value::Object(config))
        .map_err(|e| Error::new(ErrorCode::Unknown, e.to_string()))?;
    Ok(format!("{text}\n"))
}

/// `linkpay mcp doctor`: linkpay's registration in host `host`'s config text: `{registered:
/// false}`, or `{registered: true, command: [program, ...args]}` (the words the host runs).
/// A corrupt file is a `STORAGE_ERROR`.
pub fn mcp_registration(existing: &str, host: &str, project: bool) -> Result<Value> {
    let h = find_host(host)?;
    let (shape, key) = shape_and_key(h, project);
    let config = if h.format == Format::Toml {
        toml_as_json(&parse_toml(existing)?)
    } else {
        parse_config(existing)?
    };
    let Some(entry) = config
        .get(key)
        .and_then(|s| s.get(SERVER_NAME))
        .and_then(Value::as_object)
    else {
        return Ok(object!({ "registered": false }));
    };
    let text = |v: &Value| v.as_str().map(|s| Value::from(s.to_string()));
    let program = match shape {
        Shape::Goose => entry.get("cmd"),
        _ => entry.get("command"),
    };
    let words: Vec<Value> = match (shape, program) {
        (Shape::OpenCode, Some(Value::Array(all))) => all.iter().filter_map(text).collect(),
        (_, Some(Value::String(program))) => {
            let mut words = vec![Value::from(program.clone())];
            if let Some(Value::Array(args)) = entry.get("args") {
                words.extend(args.iter().filter_map(text));
            }
            words
        }
        _ => Vec::new(),
    };
    Ok(object!({ "registered": true, "command": words }))
}

fn parse_toml(existing: &str) -> Result<toml_edit::DocumentMut> {
    existing
        .parse::<toml_edit::DocumentMut>()
        .map_err(|e| corrupt(&format!("is not valid TOML ({})", one_line(&e.to_string()))))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A JSON value as TOML: objects become inline tables (`env = {}`); `null` has no TOML form
/// and is left out.
fn toml_value(value: &Value) -> Option<toml_edit::Value> {
    Some(match value {
        Value::String(s) => s.as_str().into(),
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64()?.into(),
        },
        Value::Array(items) => {
            let mut array = toml_edit::Array::new();
            for item in items.iter().filter_map(toml_value) {
                array.push(item);
            }
            toml_edit::Value::Array(array)
        }
        Value::Object(map) => {
            let mut table = toml_edit::InlineTable::new();
            for (k, v) in map {
                if let Some(v) = toml_value(v) {
                    table.insert(k, v);
                }
            }
            toml_edit::Value::InlineTable(table)
        }
        Value::Null => return None,
    })
}

/// A TOML item as JSON (dates as their text), for reading a registration.
fn toml_item_json(item: &toml_edit::Item) -> Value {
    use toml_edit::{Item, Value as T};
    let value = |v: &T| -> Value {
        match v {
            T::String(s) => Value::from(s.value().clone()),
            T::Integer(i) => Value::from(*i.value()),
            T::Float(f) => Value::from(*f.value()),
            T::Boolean(b) => Value::from(*b.value()),
            T::Datetime(d) => Value::from(d.value().to_string()),
            T::Array(a) => Value::Array(
                a.iter()
                    .map(|v| toml_item_json(&Item::Value(v.clone())))
                    .collect(),
            ),
            T::InlineTable(t) => Value::Object(
                t.iter()
                    .map(|(k, v)| (k.to_string(), toml_item_json(&Item::Value(v.clone()))))
                    .collect(),
            ),
        }
    };
    match item {
        Item::None => Value::Null,
        Item::Value(v) => value(v),
        Item::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.to_string(), toml_item_json(v)))
                .collect(),
        ),
        Item::ArrayOfTables(a) => Value::Array(
            a.iter()
                .map(|t| toml_item_json(&Item::Table(t.clone())))
                .collect(),
        ),
    }
}

fn toml_as_json(doc: &toml_edit::DocumentMut) -> Map<String, Value> {
    match toml_item_json(doc.as_item()) {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// [`mcp_config_with`] for a TOML file: `[<key>.linkpay]` gets the entry's keys (its other keys
/// kept); the text comes back byte for byte when nothing changes.
fn toml_config_with(existing: &str, key: &str, wanted: Map<String, Value>) -> Result<String> {
    let mut doc = parse_toml(existing)?;
    let servers = doc
        .entry(key)
        .or_insert_with(|| {
            let mut t = toml_edit::Table::new();
            t.set_implicit(true);
            toml_edit::Item::Table(t)
        })
        .as_table_like_mut()
        .ok_or_else(|| corrupt(&format!("has a \"{key}\" that is not a table")))?;
    let server = servers
        .entry(SERVER_NAME)
        .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()));
    if !server.is_table_like() {
        *server = toml_edit::Item::Table(toml_edit::Table::new());
    }
    let Some(server) = server.as_table_like_mut() else {
        return Err(corrupt(&format!(
            "has a \"{key}.{SERVER_NAME}\" that is not a table"
        )));
    };
    let mut changed = false;
    for (k, v) in &wanted {
        let Some(v) = toml_value(v) else { continue };
        let same = server.get(k).is_some_and(|old| {
            toml_item_json(old) == toml_item_json(&toml_edit::Item::Value(v.clone()))
        });
        if !same {
            server.insert(k, toml_edit::Item::Value(v));
            changed = true;
        }
    }
    if !changed {
        return Ok(existing.to_string());
    }
    let text = doc.to_string();
    Ok(if text.ends_with('\n') {
        text
    } else {
        format!("{text}\n")
    })
}

/// An agent's skills directory (incur's agent list).
#[derive(Clone, Copy, Debug)]
struct SkillAgent {
    name: &'static str,
    base: Base,
    /// The global skills directory, under `base`.
    global: &'static str,
    /// The project skills directory.
    project: &'static str,
    /// Detected when this path (under `detect_base`) exists.
    detect_base: Base,
    detect: &'static str,
}

const fn agent(
    name: &'static str,
    base: Base,
    global: &'static str,
    project: &'static str,
    detect: &'static str,
) -> SkillAgent {
    SkillAgent {
        name,
        base,
        global,
        project,
        detect_base: base,
        detect,
    }
}

/// incur's agents whose skills directory is not the canonical `.agents/skills` (the universal
/// ones — Amp, Cline, Codex, Cursor, Gemini CLI, GitHub Copilot, Kimi CLI, OpenCode — read that).
const SKILL_AGENTS: &[SkillAgent] = &[
    agent(
        "Claude Code",
        Base::Home,
        ".claude/skills",
        ".claude/skills",
        ".claude",
    ),
    agent(
        "Windsurf",
        Base::Home,
        ".codeium/windsurf/skills",
        ".windsurf/skills",
        ".codeium/windsurf",
    ),
    agent(
        "Continue",
        Base::Home,
        ".continue/skills",
        ".continue/skills",
        ".continue",
    ),
    agent("Roo", Base::Home, ".roo/skills", ".roo/skills", ".roo"),
    agent(
        "Kilo",
        Base::Home,
        ".kilocode/skills",
        ".kilocode/skills",
        ".kilocode",
    ),
    agent(
        "Goose",
        Base::Config,
        "goose/skills",
        ".goose/skills",
        "goose",
    ),
    agent(
        "Augment",
        Base::Home,
        ".augment/skills",
        ".augment/skills",
        ".augment",
    ),
    agent("Trae", Base::Home, ".trae/skills", ".trae/skills", ".trae"),
    agent(
        "Junie",
        Base::Home,
        ".junie/skills",
        ".junie/skills",
        ".junie",
    ),
    agent(
        "Crush",
        Base::Config,
        "crush/skills",
        ".crush/skills",
        "crush",
    ),
    agent(
        "Kiro CLI",
        Base::Home,
        ".kiro/skills",
        ".kiro/skills",
        ".kiro",
    ),
    agent(
        "Qwen Code",
        Base::Home,
        ".qwen/skills",
        ".qwen/skills",
        ".qwen",
    ),
    agent(
        "OpenHands",
        Base::Home,
        ".openhands/skills",
        ".openhands/skills",
        ".openhands",
    ),
];

/// Where `linkpay skills add` puts skill `skill`: first the canonical directory
/// (`<home or project>/.agents/skills/<skill>`, agent `"universal"`, always written), then each
/// agent with its own skills directory, with the path whose presence means it is installed
/// (`detect`, always the home's: incur detects agents globally). `VALIDATION_ERROR` at `skill`
/// for a name that is not one path segment.
pub fn skill_dirs(env: &Env, project: bool, skill: &str) -> Result<Value> {
    if skill.is_empty()
        || skill.contains(['/', '\\'])
        || skill == "."
        || skill == ".."
        || skill.len() > 255
    {
        return Err(Error::validation(vec![FieldError::new(
            "skill",
            "must be a skill name (one path segment)",
        )]));
    }
    let root = if project { &env.cwd } else { &env.home };
    let mut out = vec![object!({
        "agent": "universal",
        "dir": join(&join(root, ".agents/skills"), skill),
        "detect": Value::Null,
    })];
    for a in SKILL_AGENTS {
        let dir = if project {
            join(&env.cwd, a.project)
        } else {
            join(&env.dir(a.base), a.global)
        };
        out.push(object!({
            "agent": a.name,
            "dir": join(&dir, skill),
            "detect": join(&env.dir(a.detect_base), a.detect),
        }));
    }
    Ok(Value::Array(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env() -> Env {
        Env {
            home: "/h".into(),
            config_home: None,
            platform: "linux".into(),
            app_data: None,
            cwd: "/p".into(),
            codex_home: None,
        }
    }

    #[test]
    fn adds_keeps_others_and_is_idempotent() {
        let existing = "{\n  \"theme\": \"dark\",\n  \"mcpServers\": {\n    \"other\": {\"command\": \"x\"}\n  }\n}\n";
        let once = mcp_config_with(existing, "claude-code", false, DEFAULT_COMMAND).unwrap();
        let v: Value = serde_json::from_str(&once).unwrap();
        assert_eq!(v["theme"], "dark");
        assert_eq!(v["mcpServers"]["other"], json!({"command": "x"}));
        assert_eq!(
            v["mcpServers"]["linkpay"],
            json!({"command": "linkpay", "args": ["--mcp"]})
        );
        let keys: Vec<&String> = v["mcpServers"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["other", "linkpay"]);
        assert_eq!(
            mcp_config_with(&once, "claude-code", false, DEFAULT_COMMAND).unwrap(),
            once
        );
    }

    #[test]
    fn shapes_and_keys_per_host() {
        let v: Value = serde_json::from_str(
            &mcp_config_with("", "opencode", false, "npx -y linkpay --mcp").unwrap(),
        )
        .unwrap();
        assert_eq!(
            v["mcp"]["linkpay"]["command"],
            json!(["npx", "-y", "linkpay", "--mcp"])
        );
        let v: Value =
            serde_json::from_str(&mcp_config_with("", "amp", false, "linkpay --mcp").unwrap())
                .unwrap();
        assert!(v["amp.mcpServers"]["linkpay"].is_object());
        let v: Value =
            serde_json::from_str(&mcp_config_with("", "vscode", true, "linkpay --mcp").unwrap())
                .unwrap();
        assert!(v["servers"]["linkpay"].is_object());
        let reg = mcp_registration(
            &mcp_config_with("", "zed", false, "'/opt/my bin/linkpay' --mcp").unwrap(),
            "zed",
            false,
        )
        .unwrap();
        assert_eq!(reg["command"], json!(["/opt/my bin/linkpay", "--mcp"]));
    }

    #[test]
    fn refuses_corrupt_configs() {
        for bad in ["{", "[]", "// c\n{}", "{\"mcpServers\": 3}"] {
            let e = mcp_config_with(bad, "cursor", false, DEFAULT_COMMAND).unwrap_err();
            assert_eq!(e.code, ErrorCode::StorageError, "{bad}");
        }
        let e = mcp_config_with("", "nope", false, DEFAULT_COMMAND).unwrap_err();
        assert_eq!(e.field_errors[0].path, "agent");
        let e = mcp_config_with("", "cursor", false, "  ").unwrap_err();
        assert_eq!(e.field_errors[0].path, "command");
    }

    #[test]
    fn ids_match_the_table() {
        let ids: Vec<&str> = MCP_HOSTS.iter().map(|h| h.id).collect();
        assert_eq!(ids, MCP_HOST_IDS);
    }

    #[test]
    fn paths() {
        let hosts = mcp_hosts(&env(), false, &[]).unwrap();
        let path = |id: &str| {
            hosts
                .as_array()
                .unwrap()
                .iter()
                .find(|h| h["id"] == id)
                .map(|h| h["path"].clone())
        };
        assert_eq!(path("claude-code").unwrap(), "/h/.claude.json");
        assert_eq!(path("vscode").unwrap(), "/h/.config/Code/User/mcp.json");
        let project = mcp_hosts(&env(), true, &["cursor".into()]).unwrap();
        assert_eq!(project[0]["path"], "/p/.cursor/mcp.json");
        assert!(mcp_hosts(&env(), true, &["amp".into()]).is_err());
        let dirs = skill_dirs(&env(), false, "linkpay").unwrap();
        assert_eq!(dirs[0]["dir"], "/h/.agents/skills/linkpay");
        assert_eq!(dirs[1]["dir"], "/h/.claude/skills/linkpay");
        assert!(skill_dirs(&env(), false, "../x").is_err());
        assert_eq!(path("codex").unwrap(), "/h/.codex/config.toml");
        assert_eq!(path("goose").unwrap(), "/h/.config/goose/config.yaml");
        let codex_home = Env {
            codex_home: Some("/c".into()),
            platform: "win32".into(),
            app_data: Some("/ad".into()),
            ..env()
        };
        let hosts = mcp_hosts(&codex_home, false, &["codex".into(), "goose".into()]).unwrap();
        assert_eq!(hosts[0]["path"], "/c/config.toml");
        assert_eq!(hosts[0]["format"], "toml");
        assert_eq!(hosts[1]["path"], "/ad/Block/goose/config/config.yaml");
        assert_eq!(hosts[1]["format"], "yaml");
    }

    #[test]
    fn codex_toml_keeps_the_file_and_is_idempotent() {
        let existing = "# my settings\nmodel = \"o3\" # the model\n\n[mcp_servers.other]\ncommand = \"x\"\nargs = []\n";
        let once = mcp_config_with(existing, "codex", false, "npx -y linkpay --mcp").unwrap();
        assert!(once.starts_with(existing), "{once}");
        assert!(
            once.ends_with("[mcp_servers.linkpay]\ncommand = \"npx\"\nargs = [\"-y\", \"linkpay\", \"--mcp\"]\n"),
            "{once}"
        );
        assert_eq!(
            mcp_config_with(&once, "codex", false, "npx -y linkpay --mcp").unwrap(),
            once
        );
        let registered = mcp_registration(&once, "codex", false).unwrap();
        assert_eq!(
            registered["command"],
            json!(["npx", "-y", "linkpay", "--mcp"])
        );
        // A changed command replaces only linkpay's keys; a key of its own stays.
        let own = once.replace("args = [", "startup_timeout_sec = 20\nargs = [");
        let again = mcp_config_with(&own, "codex", false, "linkpay --mcp").unwrap();
        assert!(
            again.contains("startup_timeout_sec = 20") && again.contains("command = \"linkpay\""),
            "{again}"
        );
        assert_eq!(
            mcp_config_with("", "codex", true, "linkpay --mcp").unwrap(),
            "[mcp_servers.linkpay]\ncommand = \"linkpay\"\nargs = [\"--mcp\"]\n"
        );
        assert_eq!(
            mcp_config_with("model = [", "codex", false, "linkpay --mcp")
                .unwrap_err()
                .code,
            ErrorCode::StorageError
        );
        assert_eq!(
            mcp_config_with("mcp_servers = 3", "codex", false, "linkpay --mcp")
                .unwrap_err()
                .code,
            ErrorCode::StorageError
        );
    }

    #[test]
    fn goose_extension_entry() {
        let once = mcp_config_with(
            "{\"extensions\":{\"developer\":{\"enabled\":true}}}",
            "goose",
            false,
            "linkpay --mcp",
        )
        .unwrap();
        let v: Value = serde_json::from_str(&once).unwrap();
        assert_eq!(v["extensions"]["developer"]["enabled"], true);
        assert_eq!(
            v["extensions"]["linkpay"],
            json!({"name": "linkpay", "description": "", "cmd": "linkpay", "args": ["--mcp"], "enabled": true, "envs": {}, "type": "stdio", "timeout": 300})
        );
        assert_eq!(
            mcp_registration(&once, "goose", false).unwrap()["command"],
            json!(["linkpay", "--mcp"])
        );
    }
}
