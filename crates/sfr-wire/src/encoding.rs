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
    // `memchr` finds each `&` and `=` a word or a vector at a time, where `str::split` tests byte by byte: a
    // token request's form is a few hundred bytes of keys and secrets, parsed on every grant.
    split_ampersands(input)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = match memchr::memchr(b'=', pair.as_bytes()) {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, ""),
            };
            (decode_component(k), decode_component(v))
        })
        .collect()
}

/// `s.split('&')`, by `memchr`.
fn split_ampersands(s: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let ends = memchr::memchr_iter(b'&', s.as_bytes()).chain(std::iter::once(s.len()));
    ends.map(move |end| {
        // `&` is ASCII: both ends are character boundaries.
        let part = &s[start..end];
        start = end + 1;
        part
    })
}

/// One component: `+` is a space, `%XY` the byte 0xXY, any other `%` itself; bytes that do not form UTF-8 become
/// U+FFFD. In one pass, and a component with neither `+` nor `%` (tokens, keys, most values) is only copied.
fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let Some(first) = memchr::memchr2(b'+', b'%', bytes) else {
        return s.to_owned();
    };
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..first]);
    let mut i = first;
    while let Some(&b) = bytes.get(i) {
        let (byte, width) = match b {
            b'+' => (b' ', 1),
            b'%' => hex_byte(bytes.get(i + 1..i + 3)).map_or((b'%', 1), |v| (v, 3)),
            _ => (b, 1),
        };
        out.push(byte);
        i += width;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The byte two hex digits spell.
fn hex_byte(digits: Option<&[u8]>) -> Option<u8> {
    let &[high, low] = digits? else {
        return None;
    };
    let digit = |d: u8| char::from(d).to_digit(16);
    u8::try_from(digit(high)? << 4 | digit(low)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Calls `check` with every non-empty string of up to `max_len` characters of `alphabet`; returns how many.
    fn every_string(alphabet: &[char], max_len: usize, mut check: impl FnMut(&str)) -> usize {
        let mut strings = vec![String::new()];
        let mut checked = 0;
        for _ in 0..max_len {
            strings = strings
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            for s in &strings {
                check(s);
                checked += 1;
            }
        }
        checked
    }

    /// Every string of up to five characters over an alphabet of the cases that matter (`+`, `%`, hex digits
    /// of either case, a non-hex letter, a multi-byte character) decodes as the `percent-encoding` crate
    /// decodes it once `+` is a space.
    #[test]
    fn components_decode_as_the_percent_encoding_crate_does() {
        let alphabet = ['a', '+', '%', '2', 'B', 'f', 'g', 'E', '8', 'C', 'é'];
        let checked = every_string(&alphabet, 5, |s| {
            let reference = percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned();
            assert_eq!(decode_component(s), reference, "{s:?}");
        });
        assert!(checked > 150_000);
    }

    /// Every form of up to five characters over separators, escapes and text splits into the pairs that
    /// `str::split` and `split_once` make of it, each side decoded.
    #[test]
    fn forms_split_as_str_split_does() {
        let alphabet = ['&', '=', 'a', '+', '%', '4', 'é'];
        let checked = every_string(&alphabet, 5, |form| {
            let reference: Vec<(String, String)> = form
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode_component(k), decode_component(v))
                })
                .collect();
            assert_eq!(parse_form(form), reference, "{form:?}");
        });
        assert!(checked > 19_000);
    }

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
