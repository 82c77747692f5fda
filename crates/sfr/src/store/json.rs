//! JSON text exactly as `JSON.stringify` writes sf's files: 2-space (auth, config), 4-space (key.json) or compact
//! (alias.json), never a trailing newline.

use serde::Serialize;
use serde_json::Value;
use serde_json::ser::{PrettyFormatter, Serializer};

/// `JSON.stringify(v, null, 2)`.
pub fn pretty2(v: &Value) -> String {
    indented(v, b"  ")
}

/// `JSON.stringify(v, null, 4)`.
pub fn pretty4(v: &Value) -> String {
    indented(v, b"    ")
}

/// `JSON.stringify(v)`.
pub fn compact(v: &Value) -> String {
    v.to_string()
}

fn indented(v: &Value, indent: &[u8]) -> String {
    let mut out = Vec::new();
    let mut ser = Serializer::with_formatter(&mut out, PrettyFormatter::with_indent(indent));
    // Serializing a `Value` into a Vec cannot fail.
    let _ = v.serialize(&mut ser);
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn layouts_match_json_stringify() {
        let v = json!({"a": 1, "b": {"c": [1, 2], "d": {}}, "e": null});
        assert_eq!(
            pretty2(&v),
            "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": [\n      1,\n      2\n    ],\n    \"d\": {}\n  },\n  \"e\": null\n}"
        );
        assert_eq!(pretty4(&json!({"k": "v"})), "{\n    \"k\": \"v\"\n}");
        assert_eq!(compact(&json!({"orgs": {}})), "{\"orgs\":{}}");
    }
}
