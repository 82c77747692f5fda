//! Form and query parsing (`application/x-www-form-urlencoded`, Node querystring rules): never a panic, and what
//! `stringify` writes, `parse_form` reads back unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sfr_wire::encoding::{escape, parse_form, stringify};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let pairs = parse_form(&text);
    // Round trip: parse(stringify(p)) == p for every pair whose key is non-empty.
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let again = parse_form(&stringify(kept.iter().copied()));
    let again: Vec<(&str, &str)> = again.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(kept, again, "stringify/parse_form round trip");
    let escaped = escape(&text);
    assert!(escaped.is_ascii(), "escape left non-ASCII");
});
