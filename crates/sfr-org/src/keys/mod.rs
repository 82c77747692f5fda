//! Key material and secret handling: the master key (encryption at rest), token hashing and generation,
//! password hashing, and the ID-token signing key.

pub mod master;
pub mod password;
pub mod random;

pub use master::{KeyError, Keys};
pub use password::{hash_password, verify_password};
pub use random::{
    generate_access_token, generate_code, generate_consumer_key, generate_consumer_secret,
    generate_password, generate_refresh_token, generate_signing_key,
};

use aws_lc_rs::digest;
use subtle::ConstantTimeEq as _;

/// SHA-256 of a token or code, lower-case hex: the only form tokens and codes are stored in.
pub fn hash_token(token: &str) -> String {
    let mut out = String::with_capacity(SHA256_HEX);
    push_sha256_hex(&mut out, token);
    out
}

/// Characters of a SHA-256 in hex.
const SHA256_HEX: usize = 64;

/// Appends the SHA-256 of `token` in lower-case hex. Every grant hashes a token or two: `hex::encode` collects
/// its characters one by one into a growing string, which cost half as much as the hash itself.
fn push_sha256_hex(out: &mut String, token: &str) {
    let digest = digest::digest(&digest::SHA256, token.as_bytes());
    let mut hex = [0u8; SHA256_HEX];
    hex::encode_to_slice(digest.as_ref(), &mut hex).expect("64 hex digits for 32 bytes");
    out.push_str(std::str::from_utf8(&hex).expect("hex digits are ASCII"));
}

/// Digits of the issue time in access tokens, refresh tokens and codes: lower-case hex milliseconds since the
/// epoch (enough until the year 2527).
const ORDER_DIGITS: usize = 11;
/// Random characters after the issue time, as the generators in `random` write them; `issue_time_in` tells new
/// tokens from older ones by these lengths.
const ACCESS_RANDOM: usize = 96;
const REFRESH_RANDOM: usize = 80;
const CODE_RANDOM: usize = 64;
const REFRESH_PREFIX: &str = "5Aep861";

/// A token's issue time as written into it.
#[cfg(test)]
fn token_order(now_ms: i64) -> String {
    let mut out = String::with_capacity(ORDER_DIGITS);
    push_token_order(&mut out, now_ms);
    out
}

/// Appends a token's issue time: `ORDER_DIGITS` lower-case hex digits, zero-padded (times past the largest
/// such number write the largest).
fn push_token_order(out: &mut String, now_ms: i64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let ms = u64::try_from(now_ms.clamp(0, 0xfff_ffff_ffff)).unwrap_or_default();
    for digit in (0..ORDER_DIGITS).rev() {
        out.push(char::from(
            HEX[usize::from((ms >> (4 * digit)) as u8 & 0xf)],
        ));
    }
}

/// The key an access token, refresh token or authorization code is stored (and looked up) under: `t` + the issue
/// time written in the token + the token's SHA-256. A SHA-256 alone is random, so every grant inserted its token into a random page of
/// the token index: one more page written to the WAL per grant, and one more random page to read, cache and
/// checkpoint (BENCHMARKS.md, "Tokens stored in issue order"). Keys led by the issue time go in at the index's end
/// instead, where the grants of one commit share a page. The hash still covers the whole token, so the key
/// reveals nothing that can be turned back into a token, and a changed issue time is a different, unknown key.
///
/// Tokens and codes issued before issue times were written into them (96 random characters after the org ID, 80
/// after `5Aep861`, 64 for a code) keep the bare SHA-256 they were stored under, so they stay valid; new keys sort
/// after all of them.
pub fn token_key(token: &str) -> String {
    match issue_time_in(token) {
        Some(order) => {
            let mut key = String::with_capacity(1 + ORDER_DIGITS + SHA256_HEX);
            key.push('t');
            key.push_str(order);
            push_sha256_hex(&mut key, token);
            key
        }
        None => hash_token(token),
    }
}

/// The issue-time digits of a token that carries them.
fn issue_time_in(token: &str) -> Option<&str> {
    let (rest, random) = if let Some(rest) = token.strip_prefix(REFRESH_PREFIX) {
        (rest, REFRESH_RANDOM)
    } else if let Some((org, rest)) = token.split_once('!') {
        if org.len() != 15 {
            return None;
        }
        (rest, ACCESS_RANDOM)
    } else {
        (token, CODE_RANDOM)
    };
    if rest.len() != ORDER_DIGITS + random {
        return None;
    }
    let order = rest.get(..ORDER_DIGITS)?;
    order
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        .then_some(order)
}

/// Constant-time equality of two secrets (lengths may differ; a length mismatch is not secret).
pub fn ct_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_times_are_eleven_hex_digits() {
        for ms in [0, 1, 0xabc, 1_700_000_000_000, 0xfff_ffff_ffff] {
            assert_eq!(token_order(ms), format!("{ms:011x}"));
        }
        assert_eq!(token_order(-5), "00000000000");
        assert_eq!(token_order(i64::MAX), "fffffffffff");
    }

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(ct_eq("secret", "secret"));
        assert!(!ct_eq("secret", "secreT"));
        assert!(!ct_eq("secret", "secrets"));
    }

    #[test]
    fn token_keys_follow_issue_time_and_come_after_older_keys() {
        let org = "00D000000000001";
        let mut keys = Vec::new();
        for now in [
            0,
            999,
            1_000,
            1_700_000_000_000,
            1_700_000_000_001,
            0xfff_ffff_ffff,
        ] {
            keys.push(token_key(&generate_access_token(org, now)));
            keys.push(token_key(&generate_refresh_token(now)));
            keys.push(token_key(&generate_code(now)));
        }
        // The access token, refresh token and code of one millisecond share their time; a later millisecond
        // sorts later.
        let times: Vec<&str> = keys.iter().map(|k| &k[..12]).collect();
        assert!(
            times
                .chunks(3)
                .all(|same_ms| same_ms.iter().all(|t| *t == same_ms[0]))
        );
        assert!(times.windows(4).step_by(3).all(|w| w[0] < w[3]));
        // A new key is `t`, the issue time and the whole token's SHA-256: the form tokens are stored under.
        let token = generate_access_token(org, 1_700_000_000_000);
        assert_eq!(
            token_key(&token),
            format!("t{}{}", token_order(1_700_000_000_000), hash_token(&token))
        );
        // Keys of tokens without an issue time (issued by earlier versions) are bare SHA-256 hex, which sorts
        // before every new key.
        let legacy = format!("{org}!{}", "A".repeat(ACCESS_RANDOM));
        assert_eq!(token_key(&legacy), hash_token(&legacy));
        let legacy_refresh = format!("{REFRESH_PREFIX}{}", "b".repeat(REFRESH_RANDOM));
        assert_eq!(token_key(&legacy_refresh), hash_token(&legacy_refresh));
        let legacy_code = "c".repeat(CODE_RANDOM);
        assert_eq!(token_key(&legacy_code), hash_token(&legacy_code));
        assert!(
            keys.iter()
                .all(|k| k.as_str() > "g" && k.len() == 1 + 11 + 64)
        );
        // The hash covers the issue time: a token with another time is another key.
        let token = generate_access_token(org, 1_700_000_000_000);
        let forged = token.replacen("18bcfe56800", "18bcfe56801", 1);
        assert_ne!(forged, token);
        assert_ne!(token_key(&forged)[12..], token_key(&token)[12..]);
        // Anything else is hashed as it is.
        for odd in ["", "!", "5Aep861", "00D000000000001!é", "x!0000000000g"] {
            assert_eq!(token_key(odd), hash_token(odd));
        }
    }
}
