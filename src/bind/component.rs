//! WASI Preview 2 component exports (feature `component`, wasm32-wasip2), world `codec` of
//! `wit/linkpay.wit`. It only converts values: JSON text in and out, core errors to the typed
//! WIT `error` record.

use crate::codec;
use crate::error::ErrorCode;
use serde_json::Value;

wit_bindgen::generate!({
    world: "codec",
    path: "wit",
});

use exports::linkpay::core::codec_api as wit;

struct Component;

export!(Component);

fn wit_code(code: ErrorCode) -> wit::ErrorCode {
    use wit::ErrorCode as W;
    match code {
        ErrorCode::ValidationError => W::ValidationError,
        ErrorCode::InvalidInput => W::InvalidInput,
        ErrorCode::NotAuthenticated => W::NotAuthenticated,
        ErrorCode::PollingTimeout => W::PollingTimeout,
        ErrorCode::NotFound => W::NotFound,
        ErrorCode::OutputFileExists => W::OutputFileExists,
        ErrorCode::OutputFileWriteError => W::OutputFileWriteError,
        ErrorCode::InvalidResponse => W::InvalidResponse,
        ErrorCode::NoPaymentMethod => W::NoPaymentMethod,
        ErrorCode::RequiresTty => W::RequiresTty,
        ErrorCode::SpendRequestRateLimited => W::SpendRequestRateLimited,
        ErrorCode::ApiError => W::ApiError,
        ErrorCode::SpendRequestNotApproved => W::SpendRequestNotApproved,
        ErrorCode::IllegalTransition => W::IllegalTransition,
        ErrorCode::AuthorizationDenied => W::AuthorizationDenied,
        ErrorCode::DeviceCodeExpired => W::DeviceCodeExpired,
        ErrorCode::AuthorizationDeclined => W::AuthorizationDeclined,
        ErrorCode::TokenExpired => W::TokenExpired,
        ErrorCode::MppNoPaymentChallenge => W::MppNoPaymentChallenge,
        ErrorCode::MppNoStripeChallenge => W::MppNoStripeChallenge,
        ErrorCode::MppMalformedChallenge => W::MppMalformedChallenge,
        ErrorCode::MppChallengeExpired => W::MppChallengeExpired,
        ErrorCode::MppUnsupportedChallenge => W::MppUnsupportedChallenge,
        ErrorCode::MppMalformedCredential => W::MppMalformedCredential,
        ErrorCode::MppMalformedReceipt => W::MppMalformedReceipt,
        ErrorCode::TransportError => W::TransportError,
        ErrorCode::StorageError => W::StorageError,
        ErrorCode::Unknown => W::Unknown,
    }
}

fn wit_error(e: crate::Error) -> wit::Error {
    wit::Error {
        code: wit_code(e.code),
        message: e.message,
        field_errors: e
            .field_errors
            .into_iter()
            .map(|f| wit::FieldError {
                path: f.path,
                message: f.message,
            })
            .collect(),
        details: e.details.map(|d| d.to_string()),
    }
}

/// Parses JSON text from the caller; bad JSON is a validation error on the named argument.
fn json(text: &str, argument: &str) -> Result<Value, wit::Error> {
    serde_json::from_str(text).map_err(|e| {
        wit_error(crate::Error::validation(vec![crate::FieldError::new(
            argument,
            format!("must be JSON text: {e}"),
        )]))
    })
}

fn out(result: crate::Result<Value>) -> Result<String, wit::Error> {
    result.map(|v| v.to_string()).map_err(wit_error)
}

impl wit::Guest for Component {
    fn validate_create_spend_request(input: String, now: i64) -> Result<String, wit::Error> {
        out(codec::validate_create_spend_request(
            &json(&input, "input")?,
            now,
        ))
    }

    fn validate_create_spend_request_body(body: String, now: i64) -> Result<String, wit::Error> {
        out(codec::validate_create_spend_request_body(
            &json(&body, "body")?,
            now,
        ))
    }

    fn validate_update_spend_request(input: String) -> Result<String, wit::Error> {
        out(codec::validate_update_spend_request(&json(
            &input, "input",
        )?))
    }

    fn parse_key_value_flag(kind: String, value: String) -> Result<String, wit::Error> {
        out(codec::parse_key_value_flag(&kind, &value))
    }

    fn validate_retrieve_options(input: String) -> Result<String, wit::Error> {
        out(codec::validate_retrieve_options(&json(&input, "input")?))
    }

    fn validate_login_options(input: String) -> Result<String, wit::Error> {
        out(codec::validate_login_options(&json(&input, "input")?))
    }

    fn spend_request_transition(status: String, event: String) -> Result<String, wit::Error> {
        out(codec::spend_request_transition(&status, &event))
    }

    fn next_spend_request_action(spend_request: String) -> Result<String, wit::Error> {
        out(codec::next_spend_request_action(&json(
            &spend_request,
            "spend_request",
        )?))
    }

    fn normalize_spend_request(spend_request: String) -> Result<String, wit::Error> {
        out(codec::normalize_spend_request(&json(
            &spend_request,
            "spend_request",
        )?))
    }

    fn auth_handle_token_response(
        pending: String,
        status: u16,
        body: String,
        now: i64,
    ) -> Result<String, wit::Error> {
        out(codec::auth_handle_token_response(
            &json(&pending, "pending")?,
            status,
            &body,
            now,
        ))
    }

    fn token_needs_refresh(tokens: String, now: i64) -> Result<bool, wit::Error> {
        let answer =
            codec::token_needs_refresh(&json(&tokens, "tokens")?, now).map_err(wit_error)?;
        Ok(answer.as_bool().unwrap_or(true))
    }

    fn poll_decide(
        policy: String,
        state: String,
        now: i64,
        terminal: bool,
    ) -> Result<String, wit::Error> {
        out(codec::poll_decide(
            &json(&policy, "policy")?,
            &json(&state, "state")?,
            now,
            terminal,
        ))
    }

    fn decode_challenges(values: Vec<String>) -> Result<String, wit::Error> {
        out(codec::decode_challenges(&values))
    }

    fn decode_stripe_challenge(
        values: Vec<String>,
        now: i64,
        request_url: Option<String>,
    ) -> Result<String, wit::Error> {
        out(codec::decode_stripe_challenge(
            &values,
            now,
            request_url.as_deref(),
        ))
    }

    fn build_credential(
        challenge: String,
        payload: String,
        source: Option<String>,
        now: i64,
    ) -> Result<String, wit::Error> {
        out(codec::build_credential(
            &json(&challenge, "challenge")?,
            &json(&payload, "payload")?,
            source.as_deref(),
            now,
        ))
    }

    fn build_stripe_payload(challenge: String, spt: String) -> Result<String, wit::Error> {
        out(codec::build_stripe_payload(
            &json(&challenge, "challenge")?,
            &spt,
        ))
    }

    fn parse_receipt(value: String) -> Result<String, wit::Error> {
        out(codec::parse_receipt(&value))
    }

    fn sanitize_for_display(text: String) -> String {
        codec::sanitize_for_display(&text)
    }

    fn version() -> String {
        crate::VERSION.to_string()
    }
}
