//! The `key:value,key:value` syntax of `--line-item`, `--total` and `--metadata`.
//!
//! As in the reference client, a flag value is split on `,` (so values cannot contain commas),
//! then each pair at its **first** `:` (so URLs survive), and keys and values are trimmed. The
//! pairs then go through the same rules as an object given directly (see
//! [`super::spend_request`]), so `quantity:2` and `{"quantity": 2}` are one rule. The splitting
//! itself is `validate::split_pairs`, which `spend_request` also uses for string-valued fields.

use super::{spend_request, split_pairs};
use crate::error::{FieldErrors, Result};
use serde_json::Value;

/// The flag kinds `parse_key_value_flag` knows, by their snake_case names.
pub const FLAG_KINDS: [&str; 3] = ["line_item", "total", "metadata"];

/// Parses one `--line-item`, `--total` or `--metadata` value (`kind` is `line_item`, `total` or
/// `metadata`) into the object the API receives, with `quantity`, `unit_amount` and `amount`
/// coerced to numbers. Errors name the offending key (`quantity`), or `value` for a broken pair
/// and `kind` for an unknown kind, so the CLI can report a flag before sending anything.
pub fn parse_key_value_flag(kind: &str, value: &str) -> Result<Value> {
    let mut errs = FieldErrors::new();
    if !FLAG_KINDS.contains(&kind) {
        errs.push("kind", format!("must be one of: {}", FLAG_KINDS.join(", ")));
        return errs.finish(Value::Null);
    }
    let pairs = split_pairs(value, "value", &mut errs);
    let parsed = match kind {
        "line_item" => spend_request::line_item_fields(&pairs, "", &mut errs)
            .map(|item| Value::Object(item.into_map())),
        "total" => spend_request::total_fields(&pairs, "", &mut errs)
            .map(|total| Value::Object(total.into_map())),
        _ => spend_request::metadata_checked(pairs, "", "value", &mut errs)
            .map(|metadata| Value::Object(metadata.into_map())),
    };
    super::finish(parsed, errs, "value")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn split(s: &str) -> (Value, Vec<String>) {
        let mut errs = FieldErrors::new();
        let map = split_pairs(s, "value", &mut errs);
        let msgs = errs.into_vec().into_iter().map(|e| e.message).collect();
        (Value::Object(map), msgs)
    }

    #[test]
    fn splits_on_commas_then_first_colon_and_trims() {
        let (v, errs) = split(" name : Shoes , url:https://shop.example:8443/x?a=b ,quantity:2");
        assert!(errs.is_empty());
        assert_eq!(
            v,
            json!({"name": "Shoes", "url": "https://shop.example:8443/x?a=b", "quantity": "2"})
        );
        // Key order is kept; a repeated key keeps its place and takes the last value.
        let (v, _) = split("b:1,a:2,b:3");
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"b":"3","a":"2"}"#);
    }

    #[test]
    fn reports_every_pair_without_a_colon() {
        let (v, errs) = split("name:Shoes,oops, also bad ,k:");
        assert_eq!(v, json!({"name": "Shoes", "k": ""}));
        assert_eq!(
            errs,
            vec![
                "Invalid field (missing ':'): oops".to_string(),
                "Invalid field (missing ':'): also bad".to_string()
            ]
        );
        let (_, errs) = split("");
        assert_eq!(errs, vec!["Invalid field (missing ':'): ".to_string()]);
        let (_, errs) = split("a:1,");
        assert_eq!(errs.len(), 1);
    }

    #[test]
    fn parses_each_kind() {
        assert_eq!(
            parse_key_value_flag("line_item", "name:Shoes,unit_amount:1000,quantity:1").unwrap(),
            json!({"name": "Shoes", "unit_amount": 1000, "quantity": 1})
        );
        assert_eq!(
            parse_key_value_flag("total", "type:total,display_text:Total,amount:1000").unwrap(),
            json!({"type": "total", "display_text": "Total", "amount": 1000})
        );
        assert_eq!(
            parse_key_value_flag("metadata", "order_id:ord_1,team:ops").unwrap(),
            json!({"order_id": "ord_1", "team": "ops"})
        );
        let e = parse_key_value_flag("color", "a:b").unwrap_err();
        assert_eq!(e.field_errors[0].path, "kind");
    }
}
