//! The command table: per command its name, description and the JSON Schema of its input.
//!
//! The reference client keeps flags, schema text, README and skill file in four places that
//! drift. Here this table is the one source: the CLI derives its flags, `--help`, `--schema` and
//! `--llms-full` from [`table`], and the MCP server its tools (`auth_login`,
//! `spend-request_create`, …). Input keys are camelCase (the reference's MCP schemas); a flag is
//! the key in kebab-case (`--payment-method-id`). [`validate_input`] checks an input object for
//! every command with the same rules the client applies (the `validate` module), before any
//! request, and names the input's own keys in its field errors (`lineItem[0].quantity`).

use crate::error::{Error, ErrorCode, FieldError, FieldErrors, Result};
use crate::spend_request::ToJson;
use crate::validate::{self, options::DEFAULT_CLIENT_NAME};
use serde_json::{Map, Value};

/// How an option's value is written (and checked, for options no core validator reads).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// A string (non-blank when checked here).
    String,
    /// An integer in `min..=max`; strings of digits are accepted (CLI flags are text).
    Integer { min: i64, max: i64 },
    /// A number of seconds (fractions allowed), from 0 to `max`.
    Seconds { max: u32 },
    /// `true`/`false`; a flag without a value.
    Boolean,
    /// One of a fixed set of strings.
    Enum(&'static [&'static str]),
    /// A `YYYY-MM-DD` date.
    Date,
    /// A `key:value,key:value` string or an object (line items, totals, metadata).
    Pairs,
    /// A JSON object, or its JSON text (CLI).
    Json,
}

/// A default value, for the schema and for [`validate_input`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Default {
    None,
    Bool(bool),
    Int(i64),
    Str(&'static str),
}

/// One input key of a command.
#[derive(Clone, Copy, Debug)]
pub struct Opt {
    /// camelCase: the JSON Schema property and MCP argument; the flag is its kebab-case.
    pub key: &'static str,
    /// The name the core's validators and the client use (`line_items` for `lineItem`).
    pub core: &'static str,
    pub kind: Kind,
    pub description: &'static str,
    pub required: bool,
    /// Given as a positional argument on the command line (`spend-request retrieve <id>`).
    pub positional: bool,
    /// An array; the flag may be repeated.
    pub repeatable: bool,
    /// A one-letter alias (`-m`).
    pub short: Option<&'static str>,
    pub default: Default,
    /// Left out of `--help` (still accepted).
    pub hidden: bool,
}

/// Help text, kept only where help is printed (the CLI's Node module and native builds): the
/// browser module and the components never show it, and leaving it out keeps the browser
/// module within its size budget.
const fn text(description: &'static str) -> &'static str {
    if cfg!(any(feature = "cli", not(target_arch = "wasm32"))) {
        description
    } else {
        ""
    }
}

const fn opt(key: &'static str, core: &'static str, kind: Kind, description: &'static str) -> Opt {
    Opt {
        key,
        core,
        kind,
        description: text(description),
        required: false,
        positional: false,
        repeatable: false,
        short: None,
        default: Default::None,
        hidden: false,
    }
}

impl Opt {
    const fn required(mut self) -> Opt {
        self.required = true;
        self
    }
    const fn positional(mut self) -> Opt {
        self.positional = true;
        self.required = true;
        self
    }
    const fn repeatable(mut self) -> Opt {
        self.repeatable = true;
        self
    }
    const fn short(mut self, s: &'static str) -> Opt {
        self.short = Some(s);
        self
    }
    const fn default(mut self, d: Default) -> Opt {
        self.default = d;
        self
    }
    const fn hidden(mut self) -> Opt {
        self.hidden = true;
        self
    }

    /// The long flag: the key in kebab-case.
    pub fn flag(&self) -> String {
        let mut out = String::with_capacity(self.key.len() + 4);
        for c in self.key.chars() {
            if c.is_ascii_uppercase() {
                out.push('-');
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }
}

/// Which of the core's rule sets checks a command's input (besides the per-option checks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rules {
    /// Only the per-option checks.
    None,
    Login,
    Poll,
    Create,
    Update,
    Retrieve,
    Id,
    Pay,
    Report,
    /// A financial-insights list: the per-option checks, then the page query.
    Page,
}

/// One command.
#[derive(Clone, Copy, Debug)]
pub struct Command {
    /// `spend-request create`.
    pub name: &'static str,
    pub description: &'static str,
    pub options: &'static [Opt],
    /// Yields several values (printed as one array in json, one chunk per line in jsonl).
    pub streaming: bool,
    /// Exposed as an MCP tool (the process-level commands `sandbox`, `serve` and `demo` are not).
    pub mcp: bool,
    /// What calling it does to the world: the MCP tool annotations.
    pub effect: Effect,
    pub rules: Rules,
}

/// What a command does beyond returning data, as MCP's tool annotations say it
/// (`readOnlyHint`, `destructiveHint`, `idempotentHint`, `openWorldHint`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Effect {
    pub read_only: bool,
    /// May undo or spend something: a session ended, a request cancelled, money moved.
    pub destructive: bool,
    /// Calling it again with the same input changes nothing more.
    pub idempotent: bool,
    /// Talks to Link or a merchant (rather than only this machine).
    pub open_world: bool,
}

const fn effect(read_only: bool, destructive: bool, idempotent: bool, open_world: bool) -> Effect {
    Effect {
        read_only,
        destructive,
        idempotent,
        open_world,
    }
}

/// Reads from Link (status, lists, retrieve).
const READS_LINK: Effect = effect(true, false, true, true);
/// Reads or computes on this machine only (`mpp decode`).
const LOCAL_READ: Effect = effect(true, false, true, false);
/// Writes files or starts servers on this machine only (the process-level commands, which the
/// browser module and the components leave out).
#[cfg_attr(all(target_arch = "wasm32", not(feature = "cli")), allow(dead_code))]
const LOCAL_WRITE: Effect = effect(false, false, false, false);
/// Starts a session (an already logged-in session is answered as it is).
const LOGIN_EFFECT: Effect = effect(false, false, true, true);
/// Ends something for good: a session, a spend request.
const ENDS_SESSION: Effect = effect(false, true, true, true);
/// Changes a spend request before approval.
const UPDATES: Effect = effect(false, false, true, true);
/// Creates something at Link that moves no money by itself (an approval request, a report).
const WRITES: Effect = effect(false, false, false, true);
/// Money moves once the person approves (a spend request, an MPP payment).
const MOVES_MONEY: Effect = effect(false, true, false, true);

impl Command {
    /// The MCP tool name: the command path joined with `_`, hyphens kept (`spend-request_create`).
    pub fn tool(&self) -> String {
        self.name.replace(' ', "_")
    }

    /// The group of a two-word command (`spend-request` of `spend-request create`).
    pub fn group(&self) -> Option<&'static str> {
        self.name.split_once(' ').map(|(group, _)| group)
    }
}

const SOURCE_ACTIONS: &[&str] = &validate::options::SOURCE_ACTIONS;
const INCLUDE: &[&str] = &validate::options::INCLUDE_VALUES;
const SECONDS_INTERVAL: Kind = Kind::Seconds {
    max: validate::options::MAX_INTERVAL_S,
};
const SECONDS_TIMEOUT: Kind = Kind::Seconds {
    max: validate::options::MAX_TIMEOUT_S,
};
#[cfg_attr(
    not(any(feature = "cli", not(target_arch = "wasm32"))),
    allow(dead_code)
)]
const PORT: Kind = Kind::Integer { min: 0, max: 65535 };
const COUNT: Kind = Kind::Integer {
    min: 0,
    max: 9_007_199_254_740_991,
};

const POLL_AUTH: [Opt; 3] = [
    opt(
        "interval",
        "interval",
        SECONDS_INTERVAL,
        "Seconds between polls; 0 (the default) checks once.",
    )
    .default(Default::Int(0)),
    opt(
        "maxAttempts",
        "max_attempts",
        COUNT,
        "Polls before giving up; 0 means unlimited.",
    )
    .default(Default::Int(0)),
    opt(
        "timeout",
        "timeout",
        SECONDS_TIMEOUT,
        "Seconds before giving up.",
    )
    .default(Default::Int(300)),
];

const LOGIN: [Opt; 7] = [
    opt(
        "clientName",
        "client_name",
        Kind::String,
        "Your agent's name, shown to the person approving (\"<name> on <host>\").",
    )
    .default(Default::Str(DEFAULT_CLIENT_NAME)),
    opt(
        "scope",
        "scope",
        Kind::String,
        "OAuth scope (default: userinfo:read payment_methods.agentic).",
    ),
    opt(
        "sourceActions",
        "source_actions",
        Kind::Enum(SOURCE_ACTIONS),
        "Financial-insight access to request.",
    )
    .repeatable(),
    opt(
        "authorizationDetail",
        "authorization_details",
        Kind::Json,
        "An RFC 9396 authorization detail (JSON object).",
    )
    .repeatable(),
    POLL_AUTH[0],
    POLL_AUTH[1],
    POLL_AUTH[2],
];

const ID: Opt = opt("id", "id", Kind::String, "The spend request id (lsrq_…).").positional();
const OUTPUT_FILE: Opt = opt(
    "outputFile",
    "output_file",
    Kind::String,
    "Write the card to this new file (mode 0600) and print only brand, last4 and expiry.",
);
const FORCE: Opt = opt(
    "force",
    "force",
    Kind::Boolean,
    "Replace an existing output file.",
);

const CREATE: [Opt; 21] = [
    opt(
        "paymentMethodId",
        "payment_method_id",
        Kind::String,
        "Payment method (csmrpd_…); default: the wallet's default.",
    ),
    opt(
        "credentialType",
        "credential_type",
        Kind::Enum(&["card", "shared_payment_token"]),
        "A virtual card, or a Shared Payment Token for MPP.",
    )
    .default(Default::Str("card")),
    opt(
        "networkId",
        "network_id",
        Kind::String,
        "The merchant's network id (from the decoded challenge); SPT only.",
    ),
    opt(
        "executionMethod",
        "execution_method",
        Kind::Enum(&["link_pay_token"]),
        "Link Pay Token, bound to merchantAccountId.",
    ),
    opt(
        "merchantAccountId",
        "merchant_account_id",
        Kind::String,
        "The merchant's acct_… (Link Pay Token).",
    ),
    opt(
        "amount",
        "amount",
        Kind::Integer {
            min: 1,
            max: 50_000,
        },
        "Cents (at most 50000, the $500 limit).",
    )
    .required(),
    opt("currency", "currency", Kind::String, "ISO 4217 code.").default(Default::Str("usd")),
    opt(
        "merchantName",
        "merchant_name",
        Kind::String,
        "Required for a card.",
    )
    .short("m"),
    opt(
        "merchantUrl",
        "merchant_url",
        Kind::String,
        "Required for a card.",
    ),
    opt(
        "context",
        "context",
        Kind::String,
        "Why, for the person approving (100 to 5000 characters).",
    )
    .required(),
    opt(
        "lineItem",
        "line_items",
        Kind::Pairs,
        "\"name:…,quantity:1,unit_amount:1000\" (or an object).",
    )
    .repeatable(),
    opt(
        "total",
        "totals",
        Kind::Pairs,
        "\"type:total,display_text:Total,amount:1000\" (or an object).",
    )
    .repeatable(),
    opt(
        "requestApproval",
        "request_approval",
        Kind::Boolean,
        "Ask the person to approve now (false to only create it).",
    )
    .default(Default::Bool(true)),
    opt("test", "test", Kind::Boolean, "Test-mode credentials."),
    opt(
        "idempotencyKey",
        "idempotency_key",
        Kind::String,
        "The key a create that got no answer reported: retrying with it cannot make a second spend request.",
    ),
    opt(
        "approve",
        "approve",
        Kind::Boolean,
        "Pre-approved (delegated); needs an allow-listed client.",
    )
    .hidden(),
    OUTPUT_FILE,
    FORCE,
    opt(
        "approvalDetail",
        "approval_details",
        Kind::Json,
        "Approval details (JSON object).",
    ),
    opt(
        "metadata",
        "metadata",
        Kind::Pairs,
        "\"key:value,…\" (or an object); merged.",
    )
    .repeatable(),
    opt(
        "expiresAt",
        "expires_at",
        Kind::Integer {
            min: 0,
            max: 9_007_199_254_740_991,
        },
        "Unix timestamp (seconds), 3 h to 7 days ahead.",
    ),
];

const UPDATE: [Opt; 9] = [
    ID,
    opt(
        "paymentMethodId",
        "payment_method_id",
        Kind::String,
        "Switch the payment method.",
    ),
    opt(
        "amount",
        "amount",
        Kind::Integer {
            min: 1,
            max: 50_000,
        },
        "Cents.",
    ),
    opt("merchantUrl", "merchant_url", Kind::String, "Merchant URL."),
    opt("profileId", "profile_id", Kind::String, "Profile id."),
    opt("merchantId", "merchant_id", Kind::String, "Merchant id."),
    opt("currency", "currency", Kind::String, "ISO 4217 code."),
    opt(
        "lineItem",
        "line_items",
        Kind::Pairs,
        "Replacement line items.",
    )
    .repeatable(),
    opt("total", "totals", Kind::Pairs, "Replacement totals.").repeatable(),
];

const REPORT: [Opt; 6] = [
    opt(
        "domain",
        "domain",
        Kind::String,
        "The merchant's domain (shop.example).",
    )
    .required(),
    opt(
        "outcome",
        "outcome",
        Kind::Enum(&validate::report::OUTCOMES),
        "How the attempt ended.",
    )
    .required(),
    opt(
        "spendRequestId",
        "spend_request_id",
        Kind::String,
        "The spend request the attempt used.",
    )
    .required(),
    opt(
        "tag",
        "tags",
        Kind::Enum(&validate::report::TAGS),
        "What stood in the way (repeatable).",
    )
    .repeatable(),
    opt(
        "step",
        "step",
        Kind::String,
        "Where it happened (at most 500 characters).",
    ),
    opt(
        "freeformContext",
        "freeform_context",
        Kind::String,
        "Anything else worth knowing (at most 500 characters).",
    ),
];

const RETRIEVE: [Opt; 7] = [
    ID,
    opt(
        "timeout",
        "timeout",
        SECONDS_TIMEOUT,
        "Seconds before giving up polling.",
    )
    .default(Default::Int(600)),
    opt(
        "interval",
        "interval",
        SECONDS_INTERVAL,
        "Seconds between polls; 0 (the default) fetches once.",
    )
    .default(Default::Int(0)),
    opt(
        "maxAttempts",
        "max_attempts",
        COUNT,
        "Polls before giving up; 0 means unlimited.",
    )
    .default(Default::Int(0)),
    opt(
        "include",
        "include",
        Kind::Enum(INCLUDE),
        "Expand the card or token (after approval).",
    )
    .repeatable(),
    OUTPUT_FILE,
    FORCE,
];

const PAY: [Opt; 12] = [
    opt(
        "url",
        "url",
        Kind::String,
        "The merchant URL that answers 402.",
    )
    .positional(),
    opt(
        "spendRequestId",
        "spend_request_id",
        Kind::String,
        "Pay with this approved SPT spend request.",
    ),
    opt(
        "method",
        "method",
        Kind::String,
        "HTTP method (default GET, or POST when data is given).",
    )
    .short("X"),
    opt(
        "data",
        "data",
        Kind::String,
        "Request body (sent as JSON unless a header says otherwise).",
    )
    .short("d"),
    opt("header", "headers", Kind::String, "\"Name: Value\".")
        .repeatable()
        .short("H"),
    opt(
        "context",
        "context",
        Kind::String,
        "Why, for the person approving (100 to 5000 characters); needed to create the spend request.",
    ),
    opt(
        "amount",
        "amount",
        Kind::Integer {
            min: 1,
            max: 50_000,
        },
        "Cents; default: the challenge's amount.",
    ),
    opt(
        "paymentMethodId",
        "payment_method_id",
        Kind::String,
        "Payment method; default: the wallet's first.",
    ),
    opt("test", "test", Kind::Boolean, "Test-mode token."),
    opt(
        "interval",
        "interval",
        SECONDS_INTERVAL,
        "Wait for approval (polling every N seconds) and pay in one call; 0 (agent default) returns after creating the spend request.",
    ),
    opt(
        "timeout",
        "timeout",
        SECONDS_TIMEOUT,
        "Seconds to wait for approval.",
    )
    .default(Default::Int(600)),
    opt(
        "maxBodyBytes",
        "max_body_bytes",
        Kind::Integer {
            min: 1,
            max: crate::http::MAX_BODY_BYTES_LIMIT as i64,
        },
        "Read at most this much of the merchant's answer (default 4 MiB); the rest is cut and the output says so.",
    )
    .default(Default::Int(crate::http::DEFAULT_MAX_BODY_BYTES as i64)),
];

const LIMIT: Opt = opt(
    "limit",
    "limit",
    Kind::Integer { min: 1, max: 100 },
    "Results per page (1-100).",
);
const STARTING_AFTER: Opt = opt(
    "startingAfter",
    "starting_after",
    Kind::String,
    "Cursor: the results after this id.",
);
const ENDING_BEFORE: Opt = opt(
    "endingBefore",
    "ending_before",
    Kind::String,
    "Cursor: the results before this id.",
);
const SOURCE: Opt = opt("source", "sources", Kind::String, "Filter by source id.").repeatable();

const TRANSACTIONS: [Opt; 8] = [
    LIMIT,
    STARTING_AFTER,
    ENDING_BEFORE,
    opt(
        "startDate",
        "start_date",
        Kind::Date,
        "On or after this date (YYYY-MM-DD).",
    ),
    opt(
        "endDate",
        "end_date",
        Kind::Date,
        "On or before this date (YYYY-MM-DD).",
    ),
    opt("category", "category", Kind::String, "Filter by category."),
    opt(
        "origin",
        "origin",
        Kind::Enum(&["link", "external_connection"]),
        "Filter by origin.",
    ),
    SOURCE,
];

#[cfg_attr(
    not(any(feature = "cli", not(target_arch = "wasm32"))),
    allow(dead_code)
)]
const LISTEN: [Opt; 2] = [
    opt("port", "port", PORT, "TCP port (0 picks a free one)."),
    opt("host", "host", Kind::String, "Interface to listen on.").default(Default::Str("127.0.0.1")),
];

#[cfg_attr(
    not(any(feature = "cli", not(target_arch = "wasm32"))),
    allow(dead_code)
)]
const SANDBOX: [Opt; 5] = [
    LISTEN[0].default(Default::Int(4242)),
    LISTEN[1],
    opt(
        "autoApprove",
        "auto_approve",
        Kind::Boolean,
        "Approve logins and spend requests without a person.",
    ),
    opt(
        "allowDelegated",
        "allow_delegated",
        Kind::Boolean,
        "Allow pre-approved creates (create_delegated: a spend request created already approved).",
    ),
    opt(
        "data",
        "data",
        Kind::String,
        "Keep the sandbox's state in this file (0600) across restarts.",
    ),
];

/// Every command, in help order.
/// The commands every host runs through the runner (and MCP exposes as tools).
const RUN_COMMANDS: &[Command] = &[
    Command {
        name: "auth login",
        description: text("Authenticate with Link"),
        options: &LOGIN,
        streaming: true,
        mcp: true,
        effect: LOGIN_EFFECT,
        rules: Rules::Login,
    },
    Command {
        name: "auth upgrade",
        description: text(
            "Re-authenticate with Link, merging the requested access with your current access so the new session is a superset",
        ),
        options: &LOGIN,
        streaming: true,
        mcp: true,
        effect: LOGIN_EFFECT,
        rules: Rules::Login,
    },
    Command {
        name: "auth logout",
        description: text("Log out from Link"),
        options: &[],
        streaming: false,
        mcp: true,
        effect: ENDS_SESSION,
        rules: Rules::None,
    },
    Command {
        name: "auth status",
        description: text("Check authentication status"),
        options: &POLL_AUTH,
        streaming: true,
        mcp: true,
        effect: READS_LINK,
        rules: Rules::Poll,
    },
    Command {
        name: "payment-methods list",
        description: text("List the payment methods in your Link wallet"),
        options: &[],
        streaming: false,
        mcp: true,
        effect: READS_LINK,
        rules: Rules::None,
    },
    Command {
        name: "payment-methods add",
        description: text("Where to add a payment method (the Link wallet page)"),
        options: &[],
        streaming: false,
        mcp: true,
        effect: READS_LINK,
        rules: Rules::None,
    },
    Command {
        name: "shipping-address list",
        description: text("List the shipping addresses in the Link wallet"),
        options: &[],
        streaming: false,
        mcp: true,
        effect: READS_LINK,
        rules: Rules::None,
    },
    Command {
        name: "user-info retrieve",
        description: text("Retrieve user info (email, name, phone)"),
        options: &[],
        streaming: false,
        mcp: true,
        effect: READS_LINK,
        rules: Rules::None,
    },
    Command {
        name: "transactions list",
        description: text(
            "[beta] List transactions from Link and external accounts, including non-Link activity",
        ),
        options: &TRANSACTIONS,
        streaming: false,
        mcp: true,
        effect: READS_LINK,
        rules: Rules::Page,
    },
    Command {
        name: "sources list",
        description: text("[beta] List sources from your Link wallet"),
        options: &[LIMIT, STARTING_AFTER, ENDING_BEFORE],
        streaming: false,
        mcp: true,
        effect: READS_LINK,
        rules: Rules::Page,
    },
    Command {
        name: "balances list",
        description: text("[beta] List balances from your Link wallet"),
        options: &[SOURCE, LIMIT, STARTING_AFTER, ENDING_BEFORE],
        streaming: false,
        mcp: true,
        effect: READS_LINK,
        rules: Rules::Page,
    },
    Command {
        name: "spend-request create",
        description: text("Create a new spend request"),
        options: &CREATE,
        streaming: true,
        mcp: true,
        effect: MOVES_MONEY,
        rules: Rules::Create,
    },
    Command {
        name: "spend-request update",
        description: text("Update a spend request"),
        options: &UPDATE,
        streaming: false,
        mcp: true,
        effect: UPDATES,
        rules: Rules::Update,
    },
    Command {
        name: "spend-request retrieve",
        description: text("Retrieve a spend request (and poll until it is decided)"),
        options: &RETRIEVE,
        streaming: true,
        mcp: true,
        effect: READS_LINK,
        rules: Rules::Retrieve,
    },
    Command {
        name: "spend-request request-approval",
        description: text("Request approval for a spend request"),
        options: &[ID],
        streaming: true,
        mcp: true,
        effect: WRITES,
        rules: Rules::Id,
    },
    Command {
        name: "spend-request cancel",
        description: text("Cancel a spend request"),
        options: &[ID],
        streaming: false,
        mcp: true,
        effect: ENDS_SESSION,
        rules: Rules::Id,
    },
    Command {
        name: "spend-request list",
        description: text(
            "List spend requests. By default returns only active requests (created, pending_approval, approved)",
        ),
        options: &[opt(
            "includeHistory",
            "include_history",
            Kind::Boolean,
            "Include finished requests.",
        )],
        streaming: false,
        mcp: true,
        effect: READS_LINK,
        rules: Rules::None,
    },
    Command {
        name: "report",
        description: text(
            "Report the outcome of an agent action on a domain. Call after every purchase attempt.",
        ),
        options: &REPORT,
        streaming: false,
        mcp: true,
        effect: WRITES,
        rules: Rules::Report,
    },
    Command {
        name: "mpp decode",
        description: text("Decode a stripe WWW-Authenticate challenge and extract network_id"),
        options: &[opt(
            "challenge",
            "challenge",
            Kind::String,
            "The WWW-Authenticate header value.",
        )
        .required()],
        streaming: false,
        mcp: true,
        effect: LOCAL_READ,
        rules: Rules::None,
    },
    Command {
        name: "mpp pay",
        description: text("Pay an MPP (HTTP 402) endpoint with a Shared Payment Token"),
        options: &PAY,
        streaming: true,
        mcp: true,
        effect: MOVES_MONEY,
        rules: Rules::Pay,
    },
];

/// The process-level commands (`sandbox`, `serve`, `demo`, …) that only the CLI runs: their
/// table entries are left out of the browser module and the components, which cannot run
/// them (the runner refuses them), to keep the browser module within its size budget.
#[cfg(any(feature = "cli", not(target_arch = "wasm32")))]
const PROCESS_COMMANDS: &[Command] = &[
    Command {
        name: "sandbox",
        description: "Run the local sandbox: the Link API, approval pages and an MPP merchant on 127.0.0.1",
        options: &SANDBOX,
        streaming: false,
        mcp: false,
        effect: LOCAL_WRITE,
        rules: Rules::None,
    },
    Command {
        name: "serve",
        description: "Start an HTTP server exposing linkpay as an MCP endpoint at /mcp",
        options: &[LISTEN[0].default(Default::Int(54321)), LISTEN[1]],
        streaming: false,
        mcp: false,
        effect: LOCAL_WRITE,
        rules: Rules::None,
    },
    Command {
        name: "completions",
        description: "Print a shell completion script (eval \"$(linkpay completions bash)\")",
        options: &[opt(
            "shell",
            "shell",
            Kind::Enum(&SHELLS),
            "bash, zsh, fish or nushell.",
        )
        .positional()
        .required()],
        streaming: false,
        mcp: false,
        effect: LOCAL_READ,
        rules: Rules::None,
    },
    Command {
        name: "mcp add",
        description: "Register linkpay's MCP server (linkpay --mcp) with the agent hosts found (Claude Code, Cursor, VS Code, Windsurf, …)",
        options: &[
            opt(
                "agent",
                "agent",
                Kind::Enum(&crate::agent_host::MCP_HOST_IDS),
                "Only this agent host (repeatable); default every host found.",
            )
            .repeatable(),
            opt(
                "command",
                "command",
                Kind::String,
                "The command the host runs.",
            )
            .short("c")
            .default(Default::Str(crate::agent_host::DEFAULT_COMMAND)),
            opt(
                "global",
                "global",
                Kind::Boolean,
                "Write the user-wide config; --no-global writes the project's (current directory).",
            )
            .default(Default::Bool(true)),
        ],
        streaming: false,
        mcp: false,
        effect: LOCAL_WRITE,
        rules: Rules::None,
    },
    Command {
        name: "mcp doctor",
        description: "Check, per agent host, that linkpay is registered and that its command runs",
        options: &[
            opt(
                "agent",
                "agent",
                Kind::Enum(&crate::agent_host::MCP_HOST_IDS),
                "Only this agent host (repeatable).",
            )
            .repeatable(),
            opt(
                "global",
                "global",
                Kind::Boolean,
                "Check the user-wide configs; --no-global the project's.",
            )
            .default(Default::Bool(true)),
        ],
        streaming: false,
        mcp: false,
        effect: LOCAL_READ,
        rules: Rules::None,
    },
    Command {
        name: "mcp proxy",
        description: "Run a paid MCP server behind linkpay (linkpay mcp proxy -- <command> [args…]): an MCP stdio server that forwards everything, and pays its tool calls that cost money (-32042) through Link once the person approves",
        options: &[
            opt(
                "command",
                "command",
                Kind::String,
                "The paid MCP server's command and its arguments, after --.",
            )
            .positional()
            .repeatable(),
            opt(
                "context",
                "context",
                Kind::String,
                "For the person approving (at least 100 characters); default: one naming the tool, the server's realm and the price.",
            ),
            opt(
                "maxAmount",
                "max_amount",
                COUNT,
                "Cents one payment may cost (default 5000).",
            ),
            opt(
                "maxTotal",
                "max_total",
                COUNT,
                "Cents the proxy may spend while it runs (default 20000).",
            ),
            opt(
                "allowRealm",
                "allow_realms",
                Kind::String,
                "A realm the server's challenges may name; when given, only these.",
            )
            .repeatable(),
            opt(
                "paymentMethodId",
                "payment_method_id",
                Kind::String,
                "The Link payment method to pay with (default: the wallet's first).",
            ),
            opt(
                "timeout",
                "timeout",
                SECONDS_TIMEOUT,
                "Seconds to wait for the person's approval (default 600).",
            ),
        ],
        streaming: false,
        mcp: false,
        effect: MOVES_MONEY,
        rules: Rules::None,
    },
    Command {
        name: "mcp sandbox",
        description: "Run the sandbox's paid MCP server on stdio: tools that cost money (forecast $1.00, archive $2.50) paid at the sandbox's merchant, mppx's -32042 convention",
        options: &[opt(
            "merchant",
            "merchant",
            Kind::String,
            "The sandbox merchant's URL (default: $LINK_API_BASE_URL/merchant, else http://127.0.0.1:4242/merchant).",
        )],
        streaming: false,
        mcp: false,
        effect: LOCAL_READ,
        rules: Rules::None,
    },
    Command {
        name: "skills add",
        description: "Install linkpay's agent skill (SKILL.md) into ~/.agents/skills and the skill directories of the agents found",
        options: &[
            opt(
                "global",
                "global",
                Kind::Boolean,
                "Install for the user; --no-global installs into the project (current directory).",
            )
            .default(Default::Bool(true)),
            opt(
                "force",
                "force",
                Kind::Boolean,
                "Replace a different SKILL.md already there.",
            ),
        ],
        streaming: false,
        mcp: false,
        effect: LOCAL_WRITE,
        rules: Rules::None,
    },
    Command {
        name: "skills list",
        description: "List the skills linkpay ships and where each is installed",
        options: &[opt(
            "global",
            "global",
            Kind::Boolean,
            "Look in the user's skill directories; --no-global in the project's.",
        )
        .default(Default::Bool(true))],
        streaming: false,
        mcp: false,
        effect: LOCAL_READ,
        rules: Rules::None,
    },
    Command {
        name: "demo",
        description: "Run the offline demo: login, a virtual card and an MPP payment against an in-process sandbox",
        options: &[
            opt(
                "interactive",
                "interactive",
                Kind::Boolean,
                "Approve in the browser yourself (prints the approval URLs).",
            ),
            opt(
                "onlyCard",
                "only_card",
                Kind::Boolean,
                "Run only the card flow.",
            ),
            opt(
                "onlySpt",
                "only_spt",
                Kind::Boolean,
                "Run only the MPP (SPT) flow.",
            ),
        ],
        streaming: false,
        mcp: false,
        effect: LOCAL_WRITE,
        rules: Rules::None,
    },
    Command {
        name: "onboard",
        description: "Set up at a terminal: log in, check the wallet's payment methods, get the Link app, run the demo",
        options: &[],
        streaming: false,
        mcp: false,
        effect: WRITES,
        rules: Rules::None,
    },
];

#[cfg(not(any(feature = "cli", not(target_arch = "wasm32"))))]
const PROCESS_COMMANDS: &[Command] = &[];

/// Every command of the table, in order: the runner's, then the process-level ones.
pub fn commands() -> impl Iterator<Item = &'static Command> {
    RUN_COMMANDS.iter().chain(PROCESS_COMMANDS)
}

/// The command named `name` (`spend-request create`) or whose tool name is `name`.
pub fn find(name: &str) -> Option<&'static Command> {
    commands().find(|c| c.name == name || c.tool() == name)
}

/// Who reads a hint that names another command: a person or agent at a shell, or an MCP client,
/// which calls tools and has no shell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Surface {
    #[default]
    Cli,
    Mcp,
}

impl Surface {
    /// `"mcp"`, else the command line.
    pub fn from_name(name: &str) -> Surface {
        if name == "mcp" {
            Surface::Mcp
        } else {
            Surface::Cli
        }
    }
}

/// `value` as a shell word after a space: plain words as they are, anything else single-quoted.
fn push_word(out: &mut String, value: &Value) {
    out.push(' ');
    let Value::String(text) = value else {
        // Numbers (the hints' intervals and counts) and booleans.
        out.push_str(&crate::json::text(value));
        return;
    };
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if plain {
        out.push_str(text);
    } else {
        out.push('\'');
        out.push_str(&text.replace('\'', "'\\''"));
        out.push('\'');
    }
}

/// A call of command `name` with `args` (table keys, in the order given) as `surface` writes
/// it: `spend-request retrieve lsrq_1 --interval 2` on the command line (positional options
/// first, short flags where the table has one), `spend-request_retrieve {"id":"lsrq_1",
/// "interval":2}` over MCP. Keys the command does not have are left out.
pub fn invocation(surface: Surface, name: &str, args: &[(&str, Value)]) -> String {
    let Some(command) = find(name) else {
        return name.to_string();
    };
    let mcp = SERVES_MCP && surface == Surface::Mcp;
    let mut head = command.name.to_string();
    let mut flags = String::new();
    let mut map = Map::new();
    for (key, value) in args {
        let Some(o) = command.options.iter().find(|o| o.key == *key) else {
            continue;
        };
        if mcp {
            map.insert((*key).to_string(), value.clone());
        } else if o.positional {
            push_word(&mut head, value);
        } else {
            let items = match value {
                Value::Array(items) => items.as_slice(),
                other => std::slice::from_ref(other),
            };
            for item in items {
                if matches!(item, Value::Bool(false) | Value::Null) {
                    continue;
                }
                flags.push(' ');
                match o.short {
                    Some(short) => {
                        flags.push('-');
                        flags.push_str(short);
                    }
                    None => {
                        flags.push_str("--");
                        flags.push_str(&o.flag());
                    }
                }
                if *item != Value::Bool(true) {
                    push_word(&mut flags, item);
                }
            }
        }
    }
    if mcp {
        return [command.tool(), crate::json::text(&Value::Object(map))].join(" ");
    }
    head + &flags
}

/// Whether this build serves MCP (the Node module, native builds): elsewhere every hint is for
/// the command line, and the browser module stays within its size budget.
pub const SERVES_MCP: bool = cfg!(any(feature = "cli", not(target_arch = "wasm32")));

/// Text for `surface`: over MCP, a mention of a command line (`"linkpay auth login"`, `` `linkpay
/// auth logout` ``, as the client's messages say it) becomes the tool to call.
pub fn for_surface(text: &str, surface: Surface) -> String {
    if !SERVES_MCP || surface == Surface::Cli || !text.contains("linkpay ") {
        return text.to_string();
    }
    let mut out = text.to_string();
    for c in commands().filter(|c| c.mcp) {
        let tool = format!("the `{}` tool", c.tool());
        for quote in ['"', '`'] {
            let mention = format!("{quote}linkpay {}{quote}", c.name);
            for (verb, call) in [("Run ", "Call "), ("run ", "call "), ("", "")] {
                out = out.replace(&[verb, &mention].concat(), &[call, &tool].concat());
            }
        }
    }
    out
}

/// `COMMAND_NOT_FOUND` for a name that is no command, in the reference's words, with the
/// closest command: one of the same group (`spend-request frobnicate` → `spend-request
/// create`), else one starting like it or containing it.
pub fn not_found(name: &str) -> Error {
    let name = name.trim();
    let shown = crate::sanitize::one_line(name);
    let words: Vec<&str> = name.split_whitespace().collect();
    let starts = |n: &str, word: &str| {
        let head: String = word.chars().take(3).collect();
        !head.is_empty() && n.starts_with(&head)
    };
    let near = match words.as_slice() {
        [group, sub, ..] if commands().any(|c| c.group() == Some(*group)) => {
            let in_group = || commands().filter(|c| c.group() == Some(*group));
            in_group()
                .find(|c| c.name.rsplit(' ').next().is_some_and(|s| starts(s, sub)))
                .or_else(|| in_group().next())
        }
        _ => {
            commands().find(|c| starts(c.name, name) || (!name.is_empty() && c.name.contains(name)))
        }
    };
    let hint = near.map_or(String::new(), |c| format!(" Did you mean '{}'?", c.name));
    Error::new(
        ErrorCode::CommandNotFound,
        format!("'{shown}' is not a command for 'linkpay'.{hint} See linkpay --help."),
    )
}

fn default_value(d: Default) -> Option<Value> {
    match d {
        Default::None => None,
        Default::Bool(b) => Some(b.into()),
        Default::Int(i) => Some(i.into()),
        Default::Str(s) => Some(s.into()),
    }
}

fn kind_schema(kind: Kind) -> Value {
    let ty = |t: &str| object!({ "type": t });
    match kind {
        Kind::String => ty("string"),
        Kind::Integer { min, max } => {
            object!({ "type": "integer", "minimum": min, "maximum": max })
        }
        Kind::Seconds { max } => object!({ "type": "number", "minimum": 0, "maximum": max }),
        Kind::Boolean => ty("boolean"),
        Kind::Enum(values) => object!({ "type": "string", "enum": values.to_vec() }),
        Kind::Date => object!({ "type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}$" }),
        Kind::Pairs | Kind::Json => object!({ "anyOf": vec![ty("string"), ty("object")] }),
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::String | Kind::Enum(_) | Kind::Date => "string",
        Kind::Integer { .. } => "integer",
        Kind::Seconds { .. } => "number",
        Kind::Boolean => "boolean",
        Kind::Pairs => "pairs",
        Kind::Json => "json",
    }
}

/// The JSON Schema of a command's input (what MCP's `inputSchema` and `--schema` show).
pub fn input_schema(command: &Command) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for o in command.options {
        let mut schema = kind_schema(o.kind);
        if o.repeatable {
            schema = object!({ "type": "array", "items": schema });
        }
        if let Some(map) = schema.as_object_mut() {
            map.insert("description".into(), o.description.into());
            if let Some(d) = default_value(o.default) {
                map.insert("default".into(), d);
            }
        }
        properties.insert(o.key.into(), schema);
        if o.required {
            required.push(Value::from(o.key));
        }
    }
    let mut schema = object!({ "type": "object", "properties": properties });
    if let Some(map) = schema.as_object_mut() {
        if !required.is_empty() {
            map.insert("required".into(), Value::Array(required));
        }
        map.insert("additionalProperties".into(), false.into());
    }
    schema
}

/// The whole table as JSON: per command `name`, `tool`, `description`, `streaming`, `mcp`,
/// `inputSchema` and `options` (`key`, `flag`, `short`, `type`, `enum`, `repeatable`,
/// `required`, `positional`, `default`, `description`, `hidden`) — what the CLI parses argv with.
pub fn table() -> Value {
    let commands: Vec<Value> = commands().map(command_json).collect();
    let globals: Vec<Value> = GLOBAL_OPTIONS
        .iter()
        .map(|(flag, description)| Value::from(vec![*flag, *description]))
        .collect();
    object!({ "version": crate::VERSION, "commands": commands, "globalOptions": globals })
}

/// The flags every command takes (the CLI strips them before parsing a command's own), with
/// their help text: `--help`'s "Global Options" and the shell completions come from here.
pub const GLOBAL_OPTIONS: [(&str, &str); 15] = [
    (
        "--format <toon|json|yaml|md|jsonl>",
        "Output format (toon when stdout is not a terminal)",
    ),
    ("--json", "Same as --format json"),
    (
        "--auth <file>",
        "Credential file (default LINK_AUTH_FILE, else ~/.config/linkpay/config.json)",
    ),
    ("--verbose", "Log HTTP traffic to stderr, secrets redacted"),
    ("--help", "Show help"),
    ("--version", "Show version"),
    ("--schema", "Show the JSON Schema of a command's input"),
    ("--llms, --llms-full", "Print the LLM-readable manifest"),
    ("--mcp", "Start as MCP stdio server"),
    (
        "--full-output",
        "Print the {ok, data|error, meta: {command, duration}} envelope",
    ),
    (
        "--filter-output <paths>",
        "Keep only these parts of the output (e.g. id,card.last4,line_items[0,3])",
    ),
    (
        "--token-count",
        "Print the output's size in (estimated) tokens instead",
    ),
    (
        "--token-limit <n>",
        "Print at most n tokens of the output (with --token-offset, a window)",
    ),
    (
        "--token-offset <n>",
        "Skip the first n tokens of the output",
    ),
    (
        "--update",
        "Update linkpay to the latest version (npm install -g linkpay@latest)",
    ),
];

/// One step of a `--filter-output` path: a key, or an array slice `[start,end]`.
#[derive(Clone, Debug, PartialEq)]
enum Segment {
    Key(String),
    Slice(usize, usize),
}

/// Parses `--filter-output` (`foo,bar.baz,a[0,3]`): paths split on commas outside brackets,
/// keys on dots, `[start,end]` a slice (end exclusive); as incur, the reference's framework.
fn filter_paths(expression: &str) -> Vec<Vec<Segment>> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut depth = 0i32;
    for ch in expression.chars() {
        match ch {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ => {}
        }
        if ch == ',' && depth == 0 {
            tokens.push(std::mem::take(&mut current));
        } else {
            current.push(ch);
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    let keys = |text: &str, path: &mut Vec<Segment>| {
        path.extend(
            text.split('.')
                .filter(|p| !p.is_empty())
                .map(|p| Segment::Key(p.trim().to_string())),
        );
    };
    tokens
        .iter()
        .map(|token| {
            let mut path = Vec::new();
            let mut rest = token.as_str();
            while !rest.is_empty() {
                let Some(open) = rest.find('[') else {
                    keys(rest, &mut path);
                    break;
                };
                keys(&rest[..open], &mut path);
                let close = rest[open..].find(']').map_or(rest.len(), |c| open + c);
                let inner = &rest[(open + 1).min(close)..close];
                let (start, end) = inner.split_once(',').unwrap_or((inner, ""));
                let number = |s: &str, or: usize| s.trim().parse::<usize>().unwrap_or(or);
                path.push(Segment::Slice(number(start, 0), number(end, usize::MAX)));
                rest = rest.get(close + 1..).unwrap_or("");
                rest = rest.strip_prefix('.').unwrap_or(rest);
            }
            path
        })
        .collect()
}

/// `--filter-output <paths>`: the parts of a command's output the paths name (each element of
/// an array filtered alike); one path to a scalar gives the scalar itself. As incur's filter,
/// so output filtered by link-cli and linkpay is the same.
pub fn filter_output(value: &Value, expression: &str) -> Value {
    let paths = filter_paths(expression);
    apply_filter(value, &paths)
}

fn apply_filter(value: &Value, paths: &[Vec<Segment>]) -> Value {
    if paths.is_empty() {
        return value.clone();
    }
    if let Value::Array(items) = value {
        return Value::Array(items.iter().map(|v| apply_filter(v, paths)).collect());
    }
    if let [path] = paths
        && let [Segment::Key(key)] = path.as_slice()
    {
        return match value.get(key) {
            Some(v @ (Value::Object(_) | Value::Array(_))) => {
                let mut one = Map::new();
                one.insert(key.clone(), v.clone());
                Value::Object(one)
            }
            Some(scalar) => scalar.clone(),
            None => Value::Null,
        };
    }
    let mut out = Map::new();
    for path in paths {
        merge_filtered(&mut out, value, path);
    }
    Value::Object(out)
}

fn merge_filtered(target: &mut Map<String, Value>, data: &Value, segments: &[Segment]) {
    let (Some(Segment::Key(key)), Some(object)) = (segments.first(), data.as_object()) else {
        return;
    };
    let Some(value) = object.get(key) else {
        return;
    };
    match segments.get(1) {
        None => {
            target.insert(key.clone(), value.clone());
        }
        Some(Segment::Slice(start, end)) => {
            let Some(items) = value.as_array() else {
                return;
            };
            let end = (*end).min(items.len());
            let sliced = items.get((*start).min(end)..end).unwrap_or(&[]);
            let rest = &segments[2..];
            let kept = if rest.is_empty() {
                sliced.to_vec()
            } else {
                sliced
                    .iter()
                    .map(|item| {
                        let mut sub = Map::new();
                        merge_filtered(&mut sub, item, rest);
                        Value::Object(sub)
                    })
                    .collect()
            };
            target.insert(key.clone(), Value::Array(kept));
        }
        Some(Segment::Key(_)) => {
            if !value.is_object() {
                return;
            }
            let entry = target
                .entry(key.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(inner) = entry {
                merge_filtered(inner, value, &segments[1..]);
            }
        }
    }
}

/// The shells [`completion_script`] writes for.
pub const SHELLS: [&str; 4] = ["bash", "zsh", "fish", "nushell"];

/// `linkpay completions <shell>`: a completion script for the command table (commands,
/// subcommands, each command's flags, enum values after their flag, the global flags).
/// `VALIDATION_ERROR` at `shell` for another shell.
pub fn completion_script(shell: &str) -> Result<String> {
    match shell {
        "bash" => Ok(bash_completions()),
        // zsh runs the bash function through bashcompinit: one script, one behaviour.
        "zsh" => Ok(format!(
            "#compdef linkpay\nautoload -U +X bashcompinit && bashcompinit\n{}",
            bash_completions()
        )),
        "fish" => Ok(fish_completions()),
        "nushell" => Ok(nushell_completions()),
        _ => Err(Error::validation(vec![FieldError::new(
            "shell",
            format!("must be one of: {}", SHELLS.join(", ")),
        )])),
    }
}

/// Nushell: one `export extern` signature per command (its flags typed, enum values completed),
/// in a module the user `use`s; nushell completes subcommands from the signatures' names.
fn nushell_completions() -> String {
    let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let comment = |s: &str| s.replace(['\n', '\r'], " ");
    let mut completers = String::new();
    let mut externs = String::new();
    // The global flags go on every signature: an extern's flags are all the flags nushell accepts.
    let mut globals = String::new();
    for (flag, description) in GLOBAL_OPTIONS {
        for f in flag.split(", ") {
            let mut words = f.split(' ');
            let name = words.next().unwrap_or(f);
            let typed = if words.next().is_some() {
                ": string"
            } else {
                ""
            };
            globals.push_str(&format!("    {name}{typed}  # {}\n", comment(description)));
        }
    }
    let mut signature = |name: &str, description: &str, params: String| {
        externs.push_str(&format!(
            "  # {}\n  export extern \"{}\" [\n{params}{globals}  ]\n",
            comment(description),
            quote(name)
        ));
    };
    completers.push_str(&format!(
        "  def \"nu-complete linkpay\" [] {{ [{}] }}\n",
        top_words().join(" ")
    ));
    signature(
        "linkpay",
        "linkpay: one-time payment credentials from a Link wallet",
        "    command?: string@\"nu-complete linkpay\"\n".to_string(),
    );
    for c in commands() {
        let mut params = String::new();
        let mut completer_for = |o: &Opt, allowed: &[&str]| {
            let completer = format!("nu-complete linkpay {} {}", c.name, o.flag());
            completers.push_str(&format!(
                "  def \"{completer}\" [] {{ [{}] }}\n",
                allowed.join(" ")
            ));
            format!("@\"{completer}\"")
        };
        for o in c.options.iter().filter(|o| o.positional) {
            let optional = if o.required { "" } else { "?" };
            let values = match o.kind {
                Kind::Enum(allowed) => completer_for(o, allowed),
                _ => String::new(),
            };
            params.push_str(&format!(
                "    {}{optional}: string{values}  # {}\n",
                o.core,
                comment(o.description)
            ));
        }
        for o in visible_options(c) {
            let typed = match o.kind {
                Kind::Boolean => String::new(),
                Kind::Enum(allowed) => format!(": string{}", completer_for(o, allowed)),
                Kind::Integer { .. } => ": int".to_string(),
                _ => ": string".to_string(),
            };
            let short = o.short.map_or(String::new(), |s| format!("(-{s})"));
            params.push_str(&format!(
                "    --{}{short}{typed}  # {}\n",
                o.flag(),
                comment(o.description)
            ));
        }
        signature(&format!("linkpay {}", c.name), c.description, params);
    }
    format!(
        "# linkpay completions for nushell (linkpay {}): linkpay completions nushell | save -f linkpay.nu, then `use linkpay.nu *` in config.nu\nmodule linkpay-completions {{\n{completers}\n{externs}}}\n\nexport use linkpay-completions *\n",
        crate::VERSION
    )
}

/// Every long flag of the global options (`--llms, --llms-full` is two).
fn global_flags() -> Vec<&'static str> {
    GLOBAL_OPTIONS
        .iter()
        .flat_map(|(flag, _)| flag.split(", "))
        .map(|f| f.split(' ').next().unwrap_or(f))
        .collect()
}

/// The top-level words: groups and one-word commands, in table order, once each.
fn top_words() -> Vec<&'static str> {
    let mut words: Vec<&'static str> = Vec::new();
    for c in commands() {
        let word = c.group().unwrap_or(c.name);
        if !words.contains(&word) {
            words.push(word);
        }
    }
    words
}

fn visible_options(c: &Command) -> impl Iterator<Item = &Opt> {
    c.options.iter().filter(|o| !o.hidden && !o.positional)
}

fn bash_completions() -> String {
    let mut subs = String::new();
    for group in top_words() {
        let words: Vec<&str> = commands()
            .filter(|c| c.group() == Some(group))
            .filter_map(|c| c.name.split_once(' ').map(|(_, sub)| sub))
            .collect();
        if !words.is_empty() {
            subs.push_str(&format!("    {group}) words=\"{}\" ;;\n", words.join(" ")));
        }
    }
    subs.push_str(&format!(
        "    completions) words=\"{}\" ;;\n",
        SHELLS.join(" ")
    ));
    let mut flags = String::new();
    let mut values = String::new();
    for c in commands() {
        let list: Vec<String> = visible_options(c)
            .map(|o| format!("--{}", o.flag()))
            .collect();
        flags.push_str(&format!(
            "    \"{}\") words=\"{}\" ;;\n",
            c.name,
            list.join(" ")
        ));
        for o in visible_options(c) {
            if let Kind::Enum(allowed) = o.kind {
                values.push_str(&format!(
                    "    \"{} --{}\") COMPREPLY=($(compgen -W \"{}\" -- \"$cur\")); return ;;\n",
                    c.name,
                    o.flag(),
                    allowed.join(" ")
                ));
            }
        }
    }
    format!(
        r#"# linkpay completions for bash (linkpay {version}): eval "$(linkpay completions bash)"
_linkpay() {{
  local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}"
  local w1="${{COMP_WORDS[1]}}" w2="${{COMP_WORDS[2]}}" words="" cmd
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "{top}" -- "$cur")); return
  fi
  if [ "$COMP_CWORD" -eq 2 ] && [[ "$cur" != -* ]]; then
    case "$w1" in
{subs}    esac
    if [ -n "$words" ]; then COMPREPLY=($(compgen -W "$words" -- "$cur")); return; fi
  fi
  cmd="$w1"
  case "$w1 $w2" in {two}) cmd="$w1 $w2" ;; esac
  case "$cmd $prev" in
{values}  esac
  case "$cmd" in
{flags}  esac
  COMPREPLY=($(compgen -W "$words {globals}" -- "$cur"))
}}
complete -F _linkpay linkpay
"#,
        version = crate::VERSION,
        top = top_words().join(" "),
        two = commands()
            .filter(|c| c.group().is_some())
            .map(|c| format!("\"{}\"", c.name))
            .collect::<Vec<_>>()
            .join("|"),
        globals = global_flags().join(" "),
    )
}

fn fish_completions() -> String {
    let quote = |s: &str| s.replace('\\', "\\\\").replace('\'', "\\'");
    let mut out = format!(
        "# linkpay completions for fish (linkpay {}): linkpay completions fish | source\ncomplete -c linkpay -f\n",
        crate::VERSION
    );
    let top = top_words();
    for word in &top {
        let description = commands()
            .find(|c| c.name == *word)
            .map_or(String::new(), |c| format!(" -d '{}'", quote(c.description)));
        out.push_str(&format!(
            "complete -c linkpay -n '__fish_use_subcommand' -a '{word}'{description}\n"
        ));
    }
    for c in commands() {
        let condition = match c.name.split_once(' ') {
            Some((group, sub)) => {
                out.push_str(&format!(
                    "complete -c linkpay -n '__fish_seen_subcommand_from {group}; and not __fish_seen_subcommand_from {sub}' -a '{sub}' -d '{}'\n",
                    quote(c.description)
                ));
                format!(
                    "__fish_seen_subcommand_from {group}; and __fish_seen_subcommand_from {sub}"
                )
            }
            None => format!("__fish_seen_subcommand_from {}", c.name),
        };
        for o in visible_options(c) {
            let values = match o.kind {
                Kind::Enum(allowed) => format!(" -xa '{}'", allowed.join(" ")),
                _ => String::new(),
            };
            out.push_str(&format!(
                "complete -c linkpay -n '{condition}' -l {}{values} -d '{}'\n",
                o.flag(),
                quote(o.description)
            ));
        }
    }
    for shell in SHELLS {
        out.push_str(&format!(
            "complete -c linkpay -n '__fish_seen_subcommand_from completions' -a '{shell}'\n"
        ));
    }
    for (flag, description) in GLOBAL_OPTIONS {
        for f in flag.split(", ") {
            let name = f.split(' ').next().unwrap_or(f).trim_start_matches("--");
            out.push_str(&format!(
                "complete -c linkpay -l {name} -d '{}'\n",
                quote(description)
            ));
        }
    }
    out
}

/// The table with only the command named `name` (none if unknown): what the CLI needs to parse
/// one command line, at a sixteenth of the cost of the whole table (cold start).
pub fn table_of(name: &str) -> Value {
    let commands: Vec<Value> = find(name).into_iter().map(command_json).collect();
    object!({ "version": crate::VERSION, "commands": commands })
}

fn command_json(c: &Command) -> Value {
    let options: Vec<Value> = c
        .options
        .iter()
        .map(|o| {
            let mut m = Map::new();
            m.insert("key".into(), o.key.into());
            m.insert("flag".into(), o.flag().into());
            if let Some(s) = o.short {
                m.insert("short".into(), s.into());
            }
            m.insert("type".into(), kind_name(o.kind).into());
            if let Kind::Enum(values) = o.kind {
                m.insert("enum".into(), values.to_vec().into());
            }
            m.insert("repeatable".into(), o.repeatable.into());
            m.insert("required".into(), o.required.into());
            m.insert("positional".into(), o.positional.into());
            if let Some(d) = default_value(o.default) {
                m.insert("default".into(), d);
            }
            m.insert("description".into(), o.description.into());
            m.insert("hidden".into(), o.hidden.into());
            Value::Object(m)
        })
        .collect();
    object!({
        "name": c.name,
        "tool": c.tool(),
        "description": c.description,
        "streaming": c.streaming,
        "mcp": c.mcp,
        "annotations": object!({
            "readOnlyHint": c.effect.read_only,
            "destructiveHint": c.effect.destructive,
            "idempotentHint": c.effect.idempotent,
            "openWorldHint": c.effect.open_world,
        }),
        "inputSchema": input_schema(c),
        "options": options,
    })
}

/// `"true"`/`"false"` (a flag written `--x=false`) as booleans; anything else unchanged.
fn coerce_bool(v: Value) -> Value {
    match v.as_str() {
        Some("true") => Value::Bool(true),
        Some("false") => Value::Bool(false),
        _ => v,
    }
}

/// The check of an option no core rule set reads; returns the normalised value.
fn check_local(o: &Opt, v: &Value) -> std::result::Result<Value, String> {
    match o.kind {
        Kind::String => validate::non_blank(v).map(|s| Value::from(s.trim())),
        Kind::Integer { min, max } => validate::int_in(v, min, max).map(Value::from),
        Kind::Seconds { max } => validate::options::poll_seconds(v, max)
            .map(|s| crate::spend_request::ToJson::to_json(&s)),
        Kind::Boolean => validate::boolean(v).map(Value::from),
        Kind::Enum(values) => validate::one_of(v, values).map(Value::from),
        Kind::Date => validate::date(v).map(Value::from),
        Kind::Pairs | Kind::Json => Ok(v.clone()),
    }
}

/// Which options the command's core rule set reads (the others are checked one by one).
fn core_checked(rules: Rules, core: &str) -> bool {
    match rules {
        Rules::None | Rules::Page => false,
        Rules::Login => core != "interval" && core != "max_attempts" && core != "timeout",
        Rules::Poll => true,
        Rules::Create => core != "output_file" && core != "force",
        Rules::Update | Rules::Id => true,
        Rules::Retrieve => core != "output_file" && core != "force",
        Rules::Pay | Rules::Report => true,
    }
}

/// Renames a core path (`line_items[0].quantity`) to the input's key (`lineItem[0].quantity`).
fn input_path(command: &Command, path: &str) -> String {
    for o in command.options {
        if let Some(rest) = path.strip_prefix(o.core)
            && (rest.is_empty() || rest.starts_with('[') || rest.starts_with('.'))
        {
            return format!("{}{rest}", o.key);
        }
    }
    path.to_string()
}

fn pick(obj: &Map<String, Value>, keys: &[&str]) -> Value {
    let mut out = Map::new();
    for k in keys {
        if let Some(v) = obj.get(*k) {
            out.insert((*k).to_string(), v.clone());
        }
    }
    Value::Object(out)
}

fn merge(into: &mut Map<String, Value>, value: Value) {
    if let Value::Object(map) = value {
        into.extend(map);
    }
}

/// The typed value a command's rule set built from its input: what the runner runs.
#[derive(Clone, Debug, PartialEq)]
pub enum Typed {
    /// The command has no rule set of the core (only per-option checks).
    None,
    /// `auth login`: the login options (its poll options are in [`Parsed::core`]).
    Login(validate::options::LoginOptions),
    /// `auth status`: the poll options (`include` empty).
    Poll(validate::options::RetrieveOptions),
    /// `spend-request create`.
    Create(Box<validate::spend_request::CreateSpendRequest>),
    /// `spend-request update`: the id and the fields to change.
    Update(String, validate::spend_request::UpdateSpendRequest),
    /// `spend-request retrieve`: the id and the poll options with `include`.
    Retrieve(String, validate::options::RetrieveOptions),
    /// A command that takes only a spend-request id.
    Id(String),
    /// `mpp pay`.
    Pay(Box<validate::mpp::PayRequest>),
    /// `report`.
    Report(Box<validate::report::Report>),
    /// A financial-insights list: its query.
    Page(crate::api::PageQuery),
}

/// A command's input after every check (see [`parse_input`]).
#[derive(Clone, Debug)]
pub struct Parsed {
    pub command: &'static Command,
    /// The input in the core's vocabulary (`line_items`, `max_attempts`), defaults applied,
    /// numbers and booleans coerced: what [`validate_input`] returns.
    pub core: Map<String, Value>,
    /// What the command's core rule set built (the runner's input).
    pub typed: Typed,
    /// The options the caller gave (camelCase keys), before defaults: whether `interval` was
    /// given decides whether `mpp pay` waits.
    pub given: Vec<&'static str>,
}

/// Checks `input` (camelCase keys, as MCP receives it and the CLI builds it from argv) for the
/// command `name` with every rule the client applies, before any request: unknown keys,
/// required keys, types, and the command's core rule set (spend-request create, update, …).
/// Returns the input in the core's vocabulary (`line_items`, `max_attempts`, defaults applied,
/// numbers and booleans coerced); every problem at once as one `VALIDATION_ERROR` whose paths
/// name the input's keys. `now_s` anchors `expiresAt`.
pub fn validate_input(name: &str, input: &Value, now_s: i64) -> Result<Value> {
    parse_input(name, input, now_s).map(|p| Value::Object(p.core))
}

/// [`validate_input`], keeping the typed value the rule set built (the runner's input).
/// A key may also be given in the core's spelling (`line_items` for `lineItem`,
/// `merchant_name` for `merchantName`), as the JS API's snake_case inputs are.
pub fn parse_input(name: &str, input: &Value, now_s: i64) -> Result<Parsed> {
    let command = find(name).ok_or_else(|| not_found(name))?;
    let empty = Map::new();
    let mut errs = FieldErrors::new();
    let obj = match input {
        Value::Null => &empty,
        Value::Object(o) => o,
        _ => {
            errs.push("input", "must be an object");
            return Err(Error::validation(errs.into_vec()));
        }
    };
    let keys: Vec<&str> = command.options.iter().map(|o| o.key).collect();
    let mut given = Vec::new();
    for key in obj.keys() {
        let known = command
            .options
            .iter()
            .find(|o| o.key == key.as_str() || o.core == key.as_str());
        match known {
            Some(o) => given.push(o.key),
            None => errs.push(key.clone(), validate::unknown_key_message("", key, &keys)),
        }
    }
    // The input in the core's vocabulary, defaults applied.
    let mut core = Map::new();
    let mut repeated: Vec<&str> = Vec::new();
    for o in command.options {
        let given = obj
            .get(o.key)
            .or_else(|| obj.get(o.core))
            .filter(|v| !v.is_null())
            .cloned();
        // A single-value option given several times (`--amount 100 --amount 200`, which the
        // CLI passes on as a list, or a list from MCP or the JS API) is refused, not resolved
        // to one of them; the core rule set does not see it (nor report it again).
        if !o.repeatable
            && let Some(Value::Array(items)) = &given
            && items.len() > 1
        {
            errs.push(o.key, repeated_message(o, items.len()));
            repeated.push(o.key);
            continue;
        }
        let Some(mut v) = given.or_else(|| default_value(o.default)) else {
            // The core rule sets report their own missing keys (the id rule does not).
            if o.required && (!core_checked(command.rules, o.core) || o.core == "id") {
                errs.push(o.key, "is required");
            }
            continue;
        };
        if o.repeatable && !v.is_array() {
            v = Value::Array(vec![v]);
        }
        if o.kind == Kind::Boolean {
            v = coerce_bool(v);
        }
        if core_checked(command.rules, o.core) {
            core.insert(o.core.into(), v);
            continue;
        }
        let checked = match &v {
            Value::Array(items) if o.repeatable => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match check_local(o, item) {
                        Ok(x) => out.push(x),
                        Err(m) => errs.push(validate::index_path(o.key, i), m),
                    }
                }
                Value::Array(out)
            }
            single => match check_local(o, single) {
                Ok(x) => x,
                Err(m) => {
                    errs.push(o.key, m);
                    continue;
                }
            },
        };
        core.insert(o.core.into(), checked);
    }
    let checked: Result<(Value, Typed)> = match command.rules {
        Rules::None => Ok((Value::Object(Map::new()), Typed::None)),
        Rules::Page => Ok((Value::Object(Map::new()), Typed::Page(page_query(&core)))),
        Rules::Poll => {
            validate::options::validate_retrieve(&Value::Object(core.clone())).map(|o| {
                let v = ToJson::to_json(&o);
                let v = pick(
                    v.as_object().unwrap_or(&empty),
                    &["interval", "max_attempts", "timeout"],
                );
                (v, Typed::Poll(o))
            })
        }
        Rules::Login => {
            validate::options::validate_login(&pick(&core, &validate::options::LOGIN_KEYS))
                .map(|o| (ToJson::to_json(&o), Typed::Login(o)))
        }
        Rules::Create => {
            let input = pick(&core, &validate::spend_request::CREATE_KEYS);
            validate::spend_request::validate_create(&input, now_s)
                .map(|c| (ToJson::to_json(&c), Typed::Create(Box::new(c))))
        }
        Rules::Update => {
            let id = id_of(&core);
            let update = validate::spend_request::validate_update(&pick(
                &core,
                &validate::spend_request::UPDATE_KEYS,
            ));
            both(id, update.map(|u| (ToJson::to_json(&u), u)))
                .map(|(v, (id, u))| (v, Typed::Update(id.unwrap_or_default(), u)))
        }
        Rules::Retrieve => {
            let id = id_of(&core);
            let options = validate::options::validate_retrieve(&pick(
                &core,
                &validate::options::RETRIEVE_KEYS,
            ));
            both(id, options.map(|o| (ToJson::to_json(&o), o)))
                .map(|(v, (id, o))| (v, Typed::Retrieve(id.unwrap_or_default(), o)))
        }
        Rules::Id => id_of(&core).map(|(v, id)| (v, Typed::Id(id.unwrap_or_default()))),
        Rules::Pay => validate::mpp::validate_pay(&pick(&core, &validate::mpp::PAY_KEYS))
            .map(|p| (Value::Object(Map::new()), Typed::Pay(Box::new(p)))),
        Rules::Report => {
            validate::report::validate_report(&pick(&core, &validate::report::REPORT_KEYS))
                .map(|r| (ToJson::to_json(&r), Typed::Report(Box::new(r))))
        }
    };
    check_output_file(&core, &checked, &mut errs);
    match checked {
        Ok((normalised, typed)) => {
            if !errs.is_empty() {
                return Err(Error::validation(errs.into_vec()));
            }
            merge(&mut core, normalised);
            Ok(Parsed {
                command,
                core,
                typed,
                given,
            })
        }
        Err(e) if e.code == ErrorCode::ValidationError => {
            for f in e.field_errors {
                let path = input_path(command, &f.path);
                if !repeated.iter().any(|key| within(&path, key)) {
                    errs.push(path, f.message);
                }
            }
            Err(Error::validation(errs.into_vec()))
        }
        Err(e) => Err(e),
    }
}

/// Why a single-value option given `n` times is refused (naming its flag).
fn repeated_message(o: &Opt, n: usize) -> String {
    format!("takes one value, got {n}: give --{} once", o.flag())
}

/// Whether `path` is `key` or inside it (`key[0]`, `key.name`).
fn within(path: &str, key: &str) -> bool {
    path.strip_prefix(key)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('[') || rest.starts_with('.'))
}

/// `outputFile` must name a file, and on `spend-request retrieve` come with `include: card`
/// (no other answer carries a card to write): refused before any request, instead of a run
/// that ends without a word and without a file.
fn check_output_file(
    core: &Map<String, Value>,
    checked: &Result<(Value, Typed)>,
    errs: &mut FieldErrors,
) {
    let Some(path) = core.get("output_file").and_then(Value::as_str) else {
        return;
    };
    if path.ends_with('/') || path.ends_with('\\') {
        errs.push("outputFile", "must name a file, not a directory");
    }
    if let Ok((_, Typed::Retrieve(_, options))) = checked
        && !options.include.contains(&validate::options::Include::Card)
    {
        errs.push(
            "outputFile",
            "needs include card: only then does the answer carry the card to write",
        );
    }
}

/// The page query of a financial-insights list, from its checked options.
fn page_query(core: &Map<String, Value>) -> crate::api::PageQuery {
    let text = |key: &str| core.get(key).and_then(Value::as_str).map(str::to_string);
    crate::api::PageQuery {
        limit: core
            .get("limit")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok()),
        starting_after: text("starting_after"),
        ending_before: text("ending_before"),
        start_date: text("start_date"),
        end_date: text("end_date"),
        category: text("category"),
        origin: text("origin"),
        sources: core
            .get("sources")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The spend-request id rule (a missing id was already reported as required): `{id}` and the
/// id, or nothing when it is missing.
fn id_of(core: &Map<String, Value>) -> Result<(Value, Option<String>)> {
    let Some(id) = core.get("id") else {
        return Ok((Value::Object(Map::new()), None));
    };
    let id = id.as_str().unwrap_or("");
    crate::api::validate_id(id).map(|id| (object!({ "id": id }), Some(id.to_string())))
}

/// Both results, their field errors merged when both failed; the JSON halves merged.
fn both<A, B>(a: Result<(Value, A)>, b: Result<(Value, B)>) -> Result<(Value, (A, B))> {
    match (a, b) {
        (Ok((mut x, a)), Ok((y, b))) => {
            if let Some(map) = x.as_object_mut() {
                merge(map, y);
            }
            Ok((x, (a, b)))
        }
        (Err(x), Err(y)) if x.code == ErrorCode::ValidationError && y.code == x.code => {
            let fields: Vec<FieldError> =
                x.field_errors.into_iter().chain(y.field_errors).collect();
            Err(Error::validation(fields))
        }
        (Err(x), _) | (_, Err(x)) => Err(x),
    }
}

#[cfg(test)]
mod filter_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_as_incur_does() {
        let v = json!({"id": "lsrq_1", "status": "approved", "card": {"brand": "visa", "last4": "4242"}, "line_items": [{"name": "A", "quantity": 1}, {"name": "B", "quantity": 2}, {"name": "C", "quantity": 3}]});
        assert_eq!(filter_output(&v, "status"), json!("approved"));
        assert_eq!(
            filter_output(&v, "card"),
            json!({"card": {"brand": "visa", "last4": "4242"}})
        );
        assert_eq!(
            filter_output(&v, "id,card.last4"),
            json!({"id": "lsrq_1", "card": {"last4": "4242"}})
        );
        assert_eq!(
            filter_output(&v, "line_items[0,2]"),
            json!({"line_items": [{"name": "A", "quantity": 1}, {"name": "B", "quantity": 2}]})
        );
        assert_eq!(
            filter_output(&v, "line_items[1,3].name"),
            json!({"line_items": [{"name": "B"}, {"name": "C"}]})
        );
        assert_eq!(
            filter_output(&json!([{"id": 1, "x": 2}, {"id": 3}]), "id"),
            json!([1, 3])
        );
        assert_eq!(filter_output(&v, "nope,id"), json!({"id": "lsrq_1"}));
        assert_eq!(filter_output(&v, ""), v);
    }
}

#[cfg(test)]
mod not_found_tests {
    use super::*;

    #[test]
    fn an_unknown_command_is_command_not_found_with_the_nearest() {
        let e = not_found("spend-request frobnicate");
        assert_eq!(e.code, ErrorCode::CommandNotFound);
        assert_eq!(
            e.message,
            "'spend-request frobnicate' is not a command for 'linkpay'. Did you mean 'spend-request create'? See linkpay --help."
        );
        assert!(
            not_found("spend-request retreive")
                .message
                .contains("'spend-request retrieve'")
        );
        assert!(not_found("mpp payy").message.contains("'mpp pay'"));
        assert!(
            not_found("logn")
                .message
                .ends_with("is not a command for 'linkpay'. See linkpay --help.")
        );
        assert_eq!(
            parse_input("spend-request frobnicate", &Value::Null, 0)
                .unwrap_err()
                .code,
            ErrorCode::CommandNotFound
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(e: &Error) -> Vec<&str> {
        e.field_errors.iter().map(|f| f.path.as_str()).collect()
    }

    #[test]
    fn every_command_has_a_unique_tool_and_schema() {
        let mut tools: Vec<String> = commands().map(Command::tool).collect();
        tools.sort();
        tools.dedup();
        assert_eq!(tools.len(), commands().count());
        assert_eq!(
            find("spend-request_create").map(|c| c.name),
            Some("spend-request create")
        );
        let schema = input_schema(find("mpp decode").unwrap());
        assert_eq!(schema["required"], json!(["challenge"]));
        assert_eq!(CREATE[0].flag(), "payment-method-id");
        for c in commands() {
            let mut keys: Vec<&str> = c.options.iter().map(|o| o.key).collect();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), c.options.len(), "{}", c.name);
        }
    }

    #[test]
    fn create_is_checked_by_the_core_rules_with_input_paths() {
        let e = validate_input(
            "spend-request create",
            &json!({"amount": "999999", "context": "short", "lineItem": ["name:A,quantity:x"], "bogus": 1}),
            0,
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationError);
        let p = paths(&e);
        assert!(p.contains(&"bogus"), "{p:?}");
        assert!(p.contains(&"amount"), "{p:?}");
        assert!(p.contains(&"context"), "{p:?}");
        assert!(p.iter().any(|p| p.starts_with("lineItem[0]")), "{p:?}");
        assert!(p.contains(&"merchantName"), "{p:?}");
    }

    #[test]
    fn returns_the_core_vocabulary_with_defaults() {
        let ok = validate_input(
            "spend-request retrieve",
            &json!({"id": "lsrq_1", "include": "card", "interval": "2", "force": "true"}),
            0,
        )
        .unwrap();
        assert_eq!(ok["id"], "lsrq_1");
        assert_eq!(ok["include"], json!(["card"]));
        assert_eq!(ok["interval"], 2);
        assert_eq!(ok["max_attempts"], 0);
        assert_eq!(ok["timeout"], 600);
        assert_eq!(ok["force"], true);
        let login = validate_input("auth login", &Value::Null, 0).unwrap();
        assert_eq!(login["client_name"], "linkpay");
        assert_eq!(login["timeout"], 300);
    }

    #[test]
    fn a_single_value_option_given_twice_is_refused_by_its_flag() {
        let context = "x".repeat(120);
        // A core-checked option: one error, at the key, naming the flag; nothing else about it.
        let e = validate_input(
            "spend-request create",
            &json!({"amount": ["100", "200"], "merchantName": ["A", "B", "C"],
                    "merchantUrl": "https://shop.example", "context": context}),
            0,
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationError);
        let fields: Vec<(&str, &str)> = e
            .field_errors
            .iter()
            .map(|f| (f.path.as_str(), f.message.as_str()))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("amount", "takes one value, got 2: give --amount once"),
                (
                    "merchantName",
                    "takes one value, got 3: give --merchant-name once"
                ),
            ]
        );
        // A locally checked option, a positional and a boolean.
        let e = validate_input("serve", &json!({"port": ["1", "2"]}), 0).unwrap_err();
        assert_eq!(paths(&e), vec!["port"]);
        let e = validate_input(
            "spend-request retrieve",
            &json!({"id": ["lsrq_1", "lsrq_2"], "force": [true, false]}),
            0,
        )
        .unwrap_err();
        assert_eq!(paths(&e), vec!["id", "force"]);
        // A repeatable option takes several; a one-element list is still checked as a value.
        assert!(
            validate_input(
                "spend-request retrieve",
                &json!({"id": "lsrq_1", "include": ["card", "shared_payment_token"]}),
                0
            )
            .is_ok()
        );
        let e = validate_input("serve", &json!({"port": ["1"]}), 0).unwrap_err();
        assert_eq!(paths(&e), vec!["port"]);
        assert_ne!(e.field_errors[0].message, repeated_message(&LISTEN[0], 1));
    }

    #[test]
    fn local_options_and_ids_are_checked() {
        let e = validate_input("serve", &json!({"port": "99999", "host": " "}), 0).unwrap_err();
        assert_eq!(paths(&e), vec!["port", "host"]);
        let e = validate_input("spend-request cancel", &json!({}), 0).unwrap_err();
        assert_eq!(paths(&e), vec!["id"]);
        let e = validate_input("spend-request update", &json!({"id": "x y"}), 0).unwrap_err();
        assert_eq!(paths(&e), vec!["id", "input"]);
        let e = validate_input(
            "mpp pay",
            &json!({"url": "ftp://x", "header": ["nocolon"]}),
            0,
        )
        .unwrap_err();
        assert_eq!(paths(&e), vec!["url", "context", "header[0]"]);
        assert_eq!(
            validate_input("nope", &Value::Null, 0).unwrap_err().code,
            ErrorCode::CommandNotFound
        );
    }

    #[test]
    fn insight_lists_check_their_options_and_build_the_query() {
        let p = parse_input(
            "transactions list",
            &json!({"limit": "25", "startDate": "2026-06-01", "end_date": "2026-06-30",
                    "origin": "link", "source": "csmrpd_a", "category": " groceries "}),
            0,
        )
        .unwrap();
        assert_eq!(
            p.typed,
            Typed::Page(crate::api::PageQuery {
                limit: Some(25),
                start_date: Some("2026-06-01".into()),
                end_date: Some("2026-06-30".into()),
                origin: Some("link".into()),
                sources: vec!["csmrpd_a".into()],
                category: Some("groceries".into()),
                ..crate::api::PageQuery::default()
            })
        );
        let e = validate_input(
            "transactions list",
            &json!({"limit": 101, "startDate": "2026-6-1", "endDate": "June", "origin": "bank",
                    "source": ["ok", " "], "startingAfter": ""}),
            0,
        )
        .unwrap_err();
        assert_eq!(
            paths(&e),
            vec![
                "limit",
                "startingAfter",
                "startDate",
                "endDate",
                "origin",
                "source[1]"
            ]
        );
        assert_eq!(
            e.field_errors[2].message,
            "Date must be in YYYY-MM-DD format."
        );
        let e = validate_input("sources list", &json!({"limit": 0, "source": "x"}), 0).unwrap_err();
        assert_eq!(paths(&e), vec!["source", "limit"]);
        let e =
            validate_input("balances list", &json!({"startDate": "2026-06-01"}), 0).unwrap_err();
        assert_eq!(paths(&e), vec!["startDate"]);
        let schema = input_schema(find("transactions_list").unwrap());
        assert_eq!(
            schema["properties"]["startDate"]["pattern"],
            "^\\d{4}-\\d{2}-\\d{2}$"
        );
        assert_eq!(schema["properties"]["source"]["type"], "array");
        assert!(
            find("balances list")
                .unwrap()
                .description
                .starts_with("[beta] ")
        );
    }

    #[test]
    fn invocations_per_surface_from_the_table() {
        let args = [
            ("id", json!("lsrq_1")),
            ("interval", json!(2)),
            ("maxAttempts", json!(300)),
        ];
        let cli = invocation(Surface::Cli, "spend-request retrieve", &args);
        // The core's own poll hint (spend_request::retrieve_hint) is this same command line.
        assert_eq!(
            cli,
            crate::spend_request::retrieve_hint(
                "lsrq_1",
                crate::spend_request::Status::PendingApproval
            )
            .command
        );
        assert_eq!(
            invocation(Surface::Mcp, "spend-request retrieve", &args),
            r#"spend-request_retrieve {"id":"lsrq_1","interval":2,"maxAttempts":300}"#
        );
        let pay = [
            ("url", json!("https://m.example/a?b=1")),
            ("spendRequestId", json!("lsrq_1")),
            ("method", json!("PUT")),
            ("data", json!("{\"it's\":1}")),
            ("header", json!(["X-A: b"])),
            ("unknown", json!(1)),
        ];
        assert_eq!(
            invocation(Surface::Cli, "mpp pay", &pay),
            r#"mpp pay 'https://m.example/a?b=1' --spend-request-id lsrq_1 -X PUT -d '{"it'\''s":1}' -H 'X-A: b'"#
        );
        assert!(invocation(Surface::Mcp, "mpp pay", &pay).starts_with(
            r#"mpp_pay {"url":"https://m.example/a?b=1","spendRequestId":"lsrq_1","method":"PUT""#
        ));
    }

    #[test]
    fn mentions_of_command_lines_become_tools_over_mcp() {
        let text = "Not authenticated. Run \"linkpay auth login\" first.";
        assert_eq!(for_surface(text, Surface::Cli), text);
        assert_eq!(
            for_surface(text, Surface::Mcp),
            "Not authenticated. Call the `auth_login` tool first."
        );
        assert_eq!(
            for_surface(
                "To switch accounts, run `linkpay auth logout` first.",
                Surface::Mcp
            ),
            "To switch accounts, call the `auth_logout` tool first."
        );
        assert_eq!(
            for_surface("Re-authenticate with \"linkpay auth login\".", Surface::Mcp),
            "Re-authenticate with the `auth_login` tool."
        );
    }

    #[test]
    fn annotations_say_what_each_tool_does() {
        let table = table();
        for c in table["commands"].as_array().unwrap() {
            let a = &c["annotations"];
            for k in [
                "readOnlyHint",
                "destructiveHint",
                "idempotentHint",
                "openWorldHint",
            ] {
                assert!(a[k].is_boolean(), "{} {k}", c["name"]);
            }
        }
        let of = |name: &str| find(name).unwrap().effect;
        assert!(of("mpp decode").read_only && !of("mpp decode").open_world);
        assert!(of("auth status").read_only);
        assert!(of("mpp pay").destructive && of("mpp pay").open_world && !of("mpp pay").read_only);
        assert!(of("spend-request create").destructive);
        assert!(
            !of("spend-request retrieve").destructive && of("spend-request retrieve").read_only
        );
    }

    #[test]
    fn nushell_signatures_for_every_command() {
        let script = completion_script("nushell").unwrap();
        for c in commands() {
            assert!(
                script.contains(&format!("export extern \"linkpay {}\" [", c.name)),
                "{}",
                c.name
            );
        }
        assert!(script.contains("--outcome: string@\"nu-complete linkpay report outcome\""));
        assert!(script.contains(
            "def \"nu-complete linkpay report outcome\" [] { [success blocked abandoned] }"
        ));
        assert!(script.contains("    --test  # "));
        assert!(script.contains("    --format: string  # "));
        assert!(script.contains("shell: string@\"nu-complete linkpay completions shell\""));
    }
}
