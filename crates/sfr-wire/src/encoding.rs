//! Percent-encoding the way Node's `querystring.stringify` does it, so URLs we build are byte-identical to `sf`'s.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Characters Node's `querystring.escape` leaves alone: `A-Z a-z 0-9 - _ . ! ~ * ' ( )`.
const NODE_QUERYSTRING: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// Escapes one query component (spaces become `%20`, never `+`).
pub fn escape(component: &str) -> String {
    utf8_percent_encode(component, NODE_QUERYSTRING).to_string()
}

/// Joins `key=value` pairs in the given order, escaping both sides.
pub fn stringify<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&escape(k));
        out.push('=');
        out.push_str(&escape(v));
    }
    out
}

/// Parses an `application/x-www-form-urlencoded` string (`+` is a space) into ordered pairs.
/// Invalid percent sequences are kept literally, as browsers and Node do.
pub fn parse_form(input: &str) -> Vec<(String, String)> {
    input
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

fn decode_component(s: &str) -> String {
    let plus = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_node_querystring() {
        assert_eq!(escape("refresh_token api web"), "refresh_token%20api%20web");
        assert_eq!(
            escape("http://localhost:1717/OauthRedirect"),
            "http%3A%2F%2Flocalhost%3A1717%2FOauthRedirect"
        );
        assert_eq!(escape("a-b_c.d!e~f*g'h(i)"), "a-b_c.d!e~f*g'h(i)");
    }

    #[test]
    fn parses_plus_and_percent() {
        let pairs = parse_form("a=b+c&d=%41%zz&e&=x");
        assert_eq!(
            pairs,
            vec![
                ("a".into(), "b c".into()),
                ("d".into(), "A%zz".into()),
                ("e".into(), "".into()),
                ("".into(), "x".into())
            ]
        );
    }
}
