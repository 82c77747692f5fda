//! Helper of `scripts/bench-server.sh` (not part of the server):
//!
//! * `bench_tool floors DIR [SECONDS]` measures the cost floors of a grant on this machine, one core, and prints
//!   `name value` lines (µs per operation): RS256 verify and sign with aws-lc-rs (the code paths the server uses),
//!   SHA-256 of a token, 32 random bytes, and one-row SQLite transactions in WAL mode (`synchronous=NORMAL`, the
//!   server's setting, and `FULL`) on a file in DIR, plus a point lookup by hash.
//! * `bench_tool assertions KEY.pk8 ISSUER SUBJECT AUDIENCE COUNT` prints COUNT distinct JWT-bearer assertions
//!   (one per line, `exp` one hour ahead, made distinct by their `iat`), signed with the
//!   PKCS#8 DER RSA key.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SecureRandom as _;
use aws_lc_rs::signature::{KeyPair as _, RsaKeyPair};
use sfr_wire::jwt::{Assertion, OutgoingClaims, Rs256PublicKey, sign_rs256};

type Result<T> = std::result::Result<T, String>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("floors") => floors(&args[1..]),
        Some("assertions") => assertions(&args[1..]),
        _ => Err("usage: bench_tool floors DIR [SECONDS] | assertions KEY.pk8 ISSUER SUBJECT AUDIENCE COUNT".into()),
    };
    if let Err(e) = outcome {
        eprintln!("bench_tool: {e}");
        std::process::exit(2);
    }
}

/// Runs `op` repeatedly for about `budget` and returns µs per call.
fn per_op(budget: Duration, mut op: impl FnMut() -> Result<()>) -> Result<f64> {
    for _ in 0..16 {
        op()?;
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..16 {
            op()?;
        }
        n += 16;
    }
    Ok(start.elapsed().as_secs_f64() * 1e6 / n as f64)
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn floors(args: &[String]) -> Result<()> {
    let dir = Path::new(args.first().ok_or("floors needs a directory")?);
    let secs: f64 = args
        .get(1)
        .map(|s| s.parse().map_err(|_| format!("bad SECONDS {s:?}")))
        .transpose()?
        .unwrap_or(1.0);
    let budget = Duration::from_secs_f64(secs);
    let rng = aws_lc_rs::rand::SystemRandom::new();

    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .map_err(|e| e.to_string())?;
    let der = aws_lc_rs::encoding::AsDer::as_der(&pair).map_err(|e| e.to_string())?;
    let key = RsaKeyPair::from_pkcs8(der.as_ref()).map_err(|e| e.to_string())?;
    let public = key.public_key().as_ref().to_vec();
    let claims = OutgoingClaims {
        iss: "3MVG9bench",
        sub: "bench.admin@example.com",
        aud: "http://127.0.0.1",
        exp: now_secs() + 3600,
        iat: now_secs(),
    };
    let jwt = sign_rs256(&claims, &key).map_err(|e| e.to_string())?;
    let sign = per_op(budget, || {
        sign_rs256(&claims, &key)
            .map(drop)
            .map_err(|e| e.to_string())
    })?;
    println!("rs256_sign_us {sign:.2}");
    // A grant parses the assertion and verifies it with its app's key, parsed once (sfr-org keeps it).
    let parsed_key = Rs256PublicKey::from_pkcs1_der(&public).map_err(|e| e.to_string())?;
    let verify = per_op(budget, || {
        let parsed = Assertion::parse(&jwt).map_err(|e| e.to_string())?;
        parsed
            .verify_rs256_with(&parsed_key)
            .map_err(|e| e.to_string())
    })?;
    println!("rs256_parse_verify_us {verify:.2}");
    let key_parse = per_op(budget, || {
        Rs256PublicKey::from_pkcs1_der(&public)
            .map(drop)
            .map_err(|e| e.to_string())
    })?;
    println!("rs256_key_parse_us {key_parse:.2}");
    let token = "00D000000000001!AQ".to_owned() + &"x".repeat(96);
    let sha = per_op(budget, || {
        std::hint::black_box(sfr_org::keys::hash_token(&token));
        Ok(())
    })?;
    println!("sha256_token_hex_us {sha:.3}");
    let mut buf = [0u8; 32];
    let random = per_op(budget, || rng.fill(&mut buf).map_err(|e| e.to_string()))?;
    println!("random32_us {random:.3}");

    for (name, sync) in [("normal", "NORMAL"), ("full", "FULL")] {
        let path = dir.join(format!("floor-{name}.sqlite"));
        let _ = std::fs::remove_file(&path);
        let conn = rusqlite::Connection::open(&path).map_err(|e| e.to_string())?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| e.to_string())?;
        conn.pragma_update(None, "synchronous", sync)
            .map_err(|e| e.to_string())?;
        conn.execute_batch(
            "CREATE TABLE t (token_hash TEXT PRIMARY KEY, app_id TEXT NOT NULL, user_id TEXT NOT NULL,
                             scopes TEXT NOT NULL, issued_at INTEGER NOT NULL)",
        )
        .map_err(|e| e.to_string())?;
        let mut i = 0u64;
        let insert = per_op(budget, || {
            i += 1;
            let hash = sfr_org::keys::hash_token(&i.to_string());
            conn.execute_batch("BEGIN IMMEDIATE")
                .map_err(|e| e.to_string())?;
            conn.prepare_cached(
                "INSERT INTO t VALUES (?1, '0Hx000000000001AAA', '005000000000001AAA', 'api', ?2)",
            )
            .and_then(|mut s| s.execute(rusqlite::params![hash, i as i64]))
            .map_err(|e| e.to_string())?;
            conn.execute_batch("COMMIT").map_err(|e| e.to_string())
        })?;
        println!("sqlite_insert_txn_{name}_us {insert:.2}");
        if name == "normal" {
            let rows = i.max(1);
            let mut j = 0u64;
            let lookup = per_op(budget, || {
                j = j % rows + 1;
                let hash = sfr_org::keys::hash_token(&j.to_string());
                conn.prepare_cached("SELECT user_id FROM t WHERE token_hash = ?1")
                    .and_then(|mut s| s.query_row([hash], |r| r.get::<_, String>(0)))
                    .map(drop)
                    .map_err(|e| e.to_string())
            })?;
            println!("sqlite_lookup_by_hash_us {lookup:.2}");
            println!("sqlite_lookup_rows {rows}");
        }
        drop(conn);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    Ok(())
}

fn assertions(args: &[String]) -> Result<()> {
    let [key_file, iss, sub, aud, count] = args else {
        return Err("assertions needs KEY.pk8 ISSUER SUBJECT AUDIENCE COUNT".into());
    };
    let der = std::fs::read(key_file).map_err(|e| format!("{key_file}: {e}"))?;
    let key = RsaKeyPair::from_pkcs8(&der).map_err(|e| format!("{key_file}: {e}"))?;
    let count: i64 = count.parse().map_err(|_| format!("bad COUNT {count:?}"))?;
    let now = now_secs();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for i in 0..count {
        let claims = OutgoingClaims {
            iss,
            sub,
            aud,
            exp: now + 3600,
            iat: now - i,
        };
        let jwt = sign_rs256(&claims, &key).map_err(|e| e.to_string())?;
        writeln!(out, "{jwt}").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())
}
