//! The on-disk store written by the real sf, read and rewritten through the binary.

use std::fs;

use serde_json::{Value, json};

use crate::harness::*;

#[test]
fn both_fixture_stores_decrypt_to_the_recorded_access_tokens() {
    let expected = expected_plaintext();
    for version in ["v1", "v2"] {
        let home = fixture_home(version);
        let out = SfrCmd::new()
            .home(home.path())
            .env("SF_TEMP_SHOW_SECRETS", "true")
            .args(["org", "list", "auth", "--json"])
            .run();
        out.success();
        let v = out.json();
        let entries = v["result"].as_array().unwrap();
        assert_eq!(entries.len(), 2);
        for entry in entries {
            let username = entry["username"].as_str().unwrap();
            let want = &expected[version]["orgs"][username]["accessToken"];
            assert_eq!(&entry["accessToken"], want, "{version} {username}");
            assert!(entry.get("error").is_none());
        }
    }
}

#[test]
fn org_list_auth_matches_what_sf_reported_on_the_fixtures() {
    for version in ["v1", "v2"] {
        let home = fixture_home(version);
        let v = SfrCmd::new()
            .home(home.path())
            .args(["org", "list", "auth", "--json"])
            .run()
            .json();
        assert_eq!(
            v,
            json!({
                "status": 0,
                "result": [
                    {
                        "configs": [],
                        "username": "jwt.user@example.com",
                        "instanceUrl": "http://localhost:18761",
                        "isScratchOrg": false,
                        "isDevHub": false,
                        "isSandbox": false,
                        "orgId": "00D000000000001AAA",
                        "accessToken": "[REDACTED] Use 'sf org auth show-access-token' to view",
                        "oauthMethod": "jwt",
                        "isExpired": "unknown",
                        "alias": "jwtorg"
                    },
                    {
                        "configs": ["target-org"],
                        "username": "web.user@example.com",
                        "instanceUrl": "http://localhost:18762",
                        "isScratchOrg": false,
                        "isDevHub": false,
                        "isSandbox": false,
                        "orgId": "00D000000000002AAA",
                        "accessToken": "[REDACTED] Use 'sf org auth show-access-token' to view",
                        "oauthMethod": "web",
                        "isExpired": "unknown",
                        "alias": "weborg"
                    }
                ],
                "warnings": []
            })
        );
        // Key order, not just content.
        let keys: Vec<&str> = v["result"][0]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "configs",
                "username",
                "instanceUrl",
                "isScratchOrg",
                "isDevHub",
                "isSandbox",
                "orgId",
                "accessToken",
                "oauthMethod",
                "isExpired",
                "alias"
            ]
        );
    }
}

/// Unlinking a client app rewrites the auth file: the layout must stay sf's and every secret (nested ones too)
/// must come out encrypted, decrypting to what went in.
#[test]
fn rewriting_an_auth_file_keeps_sf_layout_and_encrypts_every_secret() {
    for version in ["v1", "v2"] {
        let home = fixture_home(version);
        let path = home.path().join(".sfdx/web.user@example.com.json");
        let original = fs::read_to_string(&path).unwrap();
        let mut obj: serde_json::Map<String, Value> = serde_json::from_str(&original).unwrap();
        obj.insert(
            "clientApps".into(),
            json!({
                "keep": {"clientId": "K", "accessToken": "00Dkeep!plain", "refreshToken": "5Aepkeep", "oauthFlow": "web"},
                "drop": {"clientId": "D", "accessToken": "00Ddrop!plain", "oauthFlow": "web"}
            }),
        );
        fs::write(
            &path,
            serde_json::to_string_pretty(&Value::Object(obj)).unwrap(),
        )
        .unwrap();

        SfrCmd::new()
            .home(home.path())
            .args(["org", "logout", "-o", "weborg", "-c", "drop", "--json"])
            .run()
            .success();

        let after = fs::read_to_string(&path).unwrap();
        assert!(!after.ends_with('\n'), "no trailing newline");
        assert!(
            after.starts_with("{\n  \"accessToken\": "),
            "2-space indent"
        );
        assert_eq!(mode(&path), 0o644);
        let v: serde_json::Map<String, Value> = serde_json::from_str(&after).unwrap();
        let keys: Vec<&str> = v.keys().map(String::as_str).collect();
        let orig_keys: Vec<String> =
            serde_json::from_str::<serde_json::Map<String, Value>>(&original)
                .unwrap()
                .keys()
                .cloned()
                .collect();
        assert_eq!(
            keys[..orig_keys.len()],
            orig_keys.iter().map(String::as_str).collect::<Vec<_>>()[..]
        );
        assert_eq!(keys.last(), Some(&"clientApps"));
        let keep = &v["clientApps"]["keep"];
        assert!(v["clientApps"].get("drop").is_none());
        for stored in [&keep["accessToken"], &keep["refreshToken"]] {
            let s = stored.as_str().unwrap();
            let (body, tag) = s.split_once(':').expect("encrypted shape");
            assert_eq!(tag.len(), 32);
            assert!(
                body.len() > 24 && s.bytes().all(|b| b == b':' || b.is_ascii_hexdigit()),
                "{s}"
            );
        }
        // The main token was untouched: same stored string as sf wrote it.
        let orig: Value = serde_json::from_str(&original).unwrap();
        assert_eq!(v["accessToken"], orig["accessToken"]);
        // And it still decrypts through the binary.
        let listed = SfrCmd::new()
            .home(home.path())
            .env("SF_TEMP_SHOW_SECRETS", "true")
            .args(["org", "list", "auth", "--json"])
            .run()
            .json();
        assert_eq!(
            listed["result"][1]["accessToken"],
            expected_plaintext()[version]["orgs"]["web.user@example.com"]["accessToken"]
        );
    }
}

#[test]
fn corrupt_auth_file_is_reported_with_its_path_and_left_untouched() {
    let home = fixture_home("v1");
    let path = home.path().join(".sfdx/broken.user@example.com.json");
    fs::write(&path, "{\"accessToken\": ").unwrap();
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "list", "--json", "--skip-connection-status"])
        .run();
    out.success();
    let v = out.json();
    assert_eq!(v["result"]["nonScratchOrgs"].as_array().unwrap().len(), 2);
    let warning = v["warnings"][1].as_str().unwrap();
    assert!(
        warning.starts_with("The auth file for broken.user@example.com is invalid. Due to: "),
        "{warning}"
    );
    assert!(warning.contains(&path.display().to_string()), "{warning}");

    let auth = SfrCmd::new()
        .home(home.path())
        .args(["org", "list", "auth", "--json"])
        .run()
        .json();
    let broken = auth["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["username"] == "broken.user@example.com")
        .unwrap();
    assert_eq!(broken["oauthMethod"], "unknown");
    assert!(
        broken["error"]
            .as_str()
            .unwrap()
            .contains(&path.display().to_string())
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), "{\"accessToken\": ");
}

#[test]
fn only_sf_listable_file_names_are_orgs() {
    let home = fixture_home("v1");
    let sfdx = home.path().join(".sfdx");
    fs::copy(
        sfdx.join("web.user@example.com.json"),
        sfdx.join("x@localhost.json"),
    )
    .unwrap();
    fs::write(sfdx.join("00D000000000002AAA.json"), "{\"usernames\":[]}").unwrap();
    let v = SfrCmd::new()
        .home(home.path())
        .args(["org", "list", "auth", "--json"])
        .run()
        .json();
    let names: Vec<&str> = v["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["jwt.user@example.com", "web.user@example.com"]);
}
