//! Generation of tokens, codes, consumer credentials, passwords and the signing key. All randomness comes from
//! aws-lc-rs's system generator.

use aws_lc_rs::encoding::AsDer as _;

use crate::model::SigningKey;

const ALNUM: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const ALNUM_DOT: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
const URL_SAFE: &[u8; 65] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";

/// `len` characters drawn uniformly from `alphabet` (rejection sampling, no modulo bias).
fn random_string<const N: usize>(alphabet: &[u8; N], len: usize) -> String {
    let mut out = String::with_capacity(len);
    push_random(&mut out, alphabet, len);
    out
}

/// Appends `len` characters drawn uniformly from `alphabet` to `out`.
///
/// Each draw asks the generator for what is still missing, scaled up by the rejection rate (none with a
/// 64-letter alphabet, 3 % with 62, 24 % with 65), plus an eighth and a few bytes more, so a token takes one
/// call: a call (about 350 ns) costs far more than the bytes it returns. The alphabet's length is a constant,
/// so the remainder is a multiplication, not a division per letter. A 96-letter access token takes 430 ns
/// (670 ns with a division per letter); an 80-letter refresh token drew twice almost every time.
fn push_random<const N: usize>(out: &mut String, alphabet: &[u8; N], len: usize) {
    let limit = 256 - (256 % N);
    let mut buf = [0u8; 128];
    let mut left = len;
    while left > 0 {
        let draw = &mut buf[..(left * 256 / limit + left / 8 + 8).min(128)];
        aws_lc_rs::rand::fill(draw).expect("system randomness");
        for &b in draw.iter() {
            if usize::from(b) < limit {
                out.push(char::from(alphabet[usize::from(b) % N]));
                left -= 1;
                if left == 0 {
                    break;
                }
            }
        }
    }
}

/// A token of the `prefix` parts, the issue time (`super::push_token_order`) and `random` characters of
/// `alphabet`, built in one string of the right size.
fn token<const N: usize>(
    prefix: &[&str],
    now_ms: i64,
    alphabet: &[u8; N],
    random: usize,
) -> String {
    let prefix_len: usize = prefix.iter().map(|p| p.len()).sum();
    let mut out = String::with_capacity(prefix_len + super::ORDER_DIGITS + random);
    for part in prefix {
        out.push_str(part);
    }
    super::push_token_order(&mut out, now_ms);
    push_random(&mut out, alphabet, random);
    out
}

/// `<orgId15>!<issue time><96 chars of [A-Za-z0-9._]>`, the shape sf's access-token pattern expects. The issue
/// time (`super::push_token_order`) orders the keys tokens are stored under (`super::token_key`).
pub fn generate_access_token(org_id15: &str, now_ms: i64) -> String {
    token(&[org_id15, "!"], now_ms, ALNUM_DOT, super::ACCESS_RANDOM)
}

/// `5Aep861` + the issue time (as in access tokens) + 80 chars of `[A-Za-z0-9._-]`.
pub fn generate_refresh_token(now_ms: i64) -> String {
    token(
        &[super::REFRESH_PREFIX],
        now_ms,
        URL_SAFE,
        super::REFRESH_RANDOM,
    )
}

/// An authorization code: the issue time (as in access tokens) + 64 URL-safe characters.
pub fn generate_code(now_ms: i64) -> String {
    token(&[], now_ms, URL_SAFE, super::CODE_RANDOM)
}

/// `3MVG9` + 80 chars of `[A-Za-z0-9._]`.
pub fn generate_consumer_key() -> String {
    format!("3MVG9{}", random_string(ALNUM_DOT, 80))
}

/// 64 upper-case hex characters.
pub fn generate_consumer_secret() -> String {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("system randomness");
    hex::encode_upper(bytes)
}

/// A 20-character password of letters and digits, for the bootstrap admin.
pub fn generate_password() -> String {
    random_string(ALNUM, 20)
}

/// A new 2048-bit RSA signing key with a random `kid`.
pub fn generate_signing_key(now: i64) -> Result<SigningKey, String> {
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .map_err(|e| e.to_string())?;
    let der = pair.as_der().map_err(|e| e.to_string())?;
    Ok(SigningKey {
        kid: random_string(ALNUM, 16),
        pkcs8_der: der.as_ref().to_vec(),
        created_at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_match_what_clients_pattern_match() {
        let at = generate_access_token("00D000000000001", 1_700_000_000_000);
        let (org, rest) = at.split_once('!').unwrap();
        assert_eq!(org, "00D000000000001");
        assert!(
            rest.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
        );
        let rt = generate_refresh_token(1_700_000_000_000);
        assert!(rt.starts_with("5Aep861"));
        assert!(
            rt.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        );
        let ck = generate_consumer_key();
        assert!(ck.starts_with("3MVG9") && ck.len() == 85);
        let cs = generate_consumer_secret();
        assert_eq!(cs.len(), 64);
        assert!(
            cs.bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        );
        assert_ne!(generate_code(0), generate_code(0));
        let key = generate_signing_key(0).unwrap();
        let jwk = key.public_jwk().unwrap();
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["e"], "AQAB");
    }

    #[test]
    fn random_strings_have_their_length_and_use_every_letter() {
        fn check<const N: usize>(alphabet: &[u8; N]) {
            for len in [0, 1, 20, 64, 96, 127, 128, 129, 500] {
                let s = random_string(alphabet, len);
                assert_eq!(s.len(), len);
                assert!(s.bytes().all(|b| alphabet.contains(&b)), "{s}");
            }
            // 12,000 draws from at most 65 letters: each letter is missing with probability below 1e-80.
            let many = random_string(alphabet, 12_000);
            for letter in alphabet {
                assert!(
                    many.as_bytes().contains(letter),
                    "{} never drawn",
                    *letter as char
                );
            }
        }
        check(ALNUM);
        check(ALNUM_DOT);
        check(URL_SAFE);
    }
}
