//! The CLI store under hostile conditions: broken, foreign and tampered files are reported with their path and left
//! byte-for-byte untouched; a foreign key never decrypts; 16 concurrent refreshing processes leave one valid,
//! decryptable store with owner-only files and no lock or temp file behind.

use std::fs;
use std::time::Duration;

use serde_json::Value;

use crate::harness::*;
use crate::login_e2e::web_login;
use crate::login_offline::offline;
use crate::org_server::TestOrg;

const WEB: &str = "web.user@example.com";

/// `org list auth --json` on a home; the entry for `username`.
fn listed(home: &std::path::Path, username: &str) -> Value {
    let v = SfrCmd::new()
        .home(home)
        .args(["org", "list", "auth", "--json"])
        .run()
        .json();
    v["result"]
        .as_array()
        .expect("result array")
        .iter()
        .find(|e| e["username"] == username)
        .cloned()
        .unwrap_or_else(|| panic!("{username} not listed: {v}"))
}

#[test]
fn broken_auth_files_are_reported_with_their_path_and_left_untouched() {
    let cases: &[(&str, &[u8])] = &[
        ("empty", b""),
        ("truncated", b"{\"accessToken\": \"00D"),
        ("an array", b"[1,2,3]"),
        ("a string", b"\"hello\""),
        ("binary", &[0xff, 0xfe, 0x00, 0x7b, 0x80]),
        ("NUL bytes", b"{\"username\":\"a\0b\"}\0"),
        ("deep nesting", &[b'['; 4096]),
    ];
    for (what, bytes) in cases {
        let home = fixture_home("v1");
        let name = "broken.user@example.com";
        let path = home.path().join(format!(".sfdx/{name}.json"));
        fs::write(&path, bytes).unwrap();
        let entry = listed(home.path(), name);
        assert_eq!(entry["oauthMethod"], "unknown", "{what}: {entry}");
        let error = entry["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(&path.display().to_string()),
            "{what}: the error must name the file: {entry}"
        );
        assert_eq!(&fs::read(&path).unwrap(), bytes, "{what}: file was changed");
        // The good orgs are still listed next to it.
        assert_eq!(listed(home.path(), WEB)["oauthMethod"], "web", "{what}");
    }
}

/// Replaces the GCM tag (the part after ':') of the file's encrypted accessToken with `tag`.
fn with_tag(file: &str, tag: &str) -> String {
    let mut v: Value = serde_json::from_str(file).unwrap();
    let token = v["accessToken"].as_str().unwrap().to_owned();
    let (body, _) = token.split_once(':').unwrap();
    v["accessToken"] = Value::String(format!("{body}:{tag}"));
    serde_json::to_string_pretty(&v).unwrap()
}

/// Rewrites an auth file's text.
type Tamper = Box<dyn Fn(&str) -> String>;

#[test]
fn a_tampered_or_foreign_ciphertext_never_decrypts_and_is_left_alone() {
    let tampered: Vec<(&str, Tamper)> = vec![
        ("zero tag", Box::new(|f| with_tag(f, &"0".repeat(32)))),
        (
            "flipped tag bit",
            Box::new(|f| {
                let v: Value = serde_json::from_str(f).unwrap();
                let token = v["accessToken"].as_str().unwrap();
                let (_, tag) = token.split_once(':').unwrap();
                let mut bytes = hex::decode(tag).unwrap();
                bytes[0] ^= 1;
                with_tag(f, &hex::encode(bytes))
            }),
        ),
        (
            "ciphertext bit flipped",
            Box::new(|f| {
                let mut v: Value = serde_json::from_str(f).unwrap();
                let token = v["accessToken"].as_str().unwrap().to_owned();
                // v1: 12 IV characters, then ciphertext hex.
                let mut chars: Vec<char> = token.chars().collect();
                chars[14] = if chars[14] == '0' { '1' } else { '0' };
                v["accessToken"] = Value::String(chars.into_iter().collect());
                serde_json::to_string_pretty(&v).unwrap()
            }),
        ),
    ];
    for (what, tamper) in tampered {
        let home = fixture_home("v1");
        let path = home.path().join(format!(".sfdx/{WEB}.json"));
        let bad = tamper(&fs::read_to_string(&path).unwrap());
        fs::write(&path, &bad).unwrap();
        let entry = listed(home.path(), WEB);
        assert!(
            entry["error"].is_string() || entry["accessToken"].is_null(),
            "{what}: a tampered token was accepted: {entry}"
        );
        let shown = SfrCmd::new()
            .home(home.path())
            .args(["org", "display", "-o", WEB, "--json"])
            .run();
        assert_ne!(shown.code, 0, "{what}: {}", shown.stdout);
        let err = shown.json();
        assert!(
            err["name"]
                .as_str()
                .unwrap_or_default()
                .contains("AuthDecryptError")
                || err["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("Unsupported state or unable to authenticate data"),
            "{what}: {err}"
        );
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            bad,
            "{what}: file was changed"
        );
    }

    // The same files under another key: nothing decrypts.
    let home = fixture_home("v1");
    let key = home.path().join(".sfdx/key.json");
    let original = fs::read_to_string(home.path().join(format!(".sfdx/{WEB}.json"))).unwrap();
    fs::write(
        &key,
        r#"{"service":"sfdx","account":"local","key":"ffffffffffffffffffffffffffffffff"}"#,
    )
    .unwrap();
    let shown = SfrCmd::new()
        .home(home.path())
        .args(["org", "display", "-o", WEB, "--json"])
        .run();
    assert_ne!(shown.code, 0, "{}", shown.stdout);
    assert!(
        !shown.stdout.contains("00D"),
        "a token leaked: {}",
        shown.stdout
    );
    assert_eq!(
        fs::read_to_string(home.path().join(format!(".sfdx/{WEB}.json"))).unwrap(),
        original
    );
}

#[test]
fn a_key_file_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let home = fixture_home("v1");
    let key = home.path().join(".sfdx/key.json");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    let shown = SfrCmd::new()
        .home(home.path())
        .args(["org", "display", "-o", WEB, "--json"])
        .run();
    assert_ne!(shown.code, 0, "{}", shown.stdout);
    assert!(
        !shown.stdout.contains("\"accessToken\": \"00D"),
        "{}",
        shown.stdout
    );
    assert_eq!(
        mode(&key),
        0o644,
        "the key file's mode was changed behind the user's back"
    );
}

#[test]
fn sixteen_concurrent_refreshing_processes_leave_one_valid_store() {
    let org = TestOrg::start();
    let login = web_login(&org, "many.user@example.com", &["-a", "many"], Some(15));
    login.out.success();
    let file = login.home.path().join(".sfdx/many.user@example.com.json");
    let mode_after_login = mode(&file);
    org.advance(Duration::from_secs(60 * 60));
    let children: Vec<_> = (0..16)
        .map(|_| {
            let home = login.home.path().to_path_buf();
            std::thread::spawn(move || {
                offline(SfrCmd::new())
                    .home(&home)
                    .timeout(Duration::from_secs(120))
                    .args(["org", "display", "-o", "many", "--json"])
                    .run()
            })
        })
        .collect();
    for child in children {
        let out = child.join().unwrap();
        out.success();
        assert_eq!(
            out.json()["result"]["connectedStatus"],
            "Connected",
            "{}",
            out.stdout
        );
    }
    let sfdx = login.home.path().join(".sfdx");
    let text = fs::read_to_string(&file).unwrap();
    let v: Value = serde_json::from_str(&text).expect("the auth file is whole JSON");
    assert!(
        v["accessToken"]
            .as_str()
            .is_some_and(|t| !t.starts_with("00D")),
        "the access token is stored encrypted: {v}"
    );
    // sf writes auth files with the umask's mode and keeps an existing file's mode; so does every rewrite here.
    assert_eq!(
        mode(&file),
        mode_after_login,
        "a rewrite changed the file's mode"
    );
    assert_eq!(
        mode(&file) & 0o022,
        0,
        "group/other may write the auth file"
    );
    assert_eq!(mode(sfdx.join("key.json")), 0o600);
    let leftovers: Vec<String> = fs::read_dir(&sfdx)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".lock") || n.contains(".tmp") || n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
    let again = offline(SfrCmd::new())
        .home(login.home.path())
        .args(["org", "display", "-o", "many", "--json"])
        .run();
    again.success();
    assert_eq!(again.json()["result"]["connectedStatus"], "Connected");
}
