//! `org list` and `org list auth` on the sf-written fixture stores.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use serde_json::Value;

use crate::harness::*;

const REDACTED: &str = "[REDACTED] Use 'sf org auth show-access-token' to view";
const SECRETS_HIDDEN: &str = "Secrets are now hidden from 'sf org list' command output. Use the 'sf org auth' commands instead. As a temporary workaround, you can set SF_TEMP_SHOW_SECRETS=true to render these secrets. This workaround will be removed in an upcoming release.";

#[test]
fn org_list_json_groups_orgs_like_sf() {
    for version in ["v1", "v2"] {
        let home = fixture_home(version);
        let out = SfrCmd::new()
            .home(home.path())
            .args(["org", "list", "--json", "--skip-connection-status"])
            .run();
        out.success();
        let v = out.json();
        assert_eq!(v["status"], 0);
        assert_eq!(v["warnings"], serde_json::json!([SECRETS_HIDDEN]));
        let result = v["result"].as_object().unwrap();
        let keys: Vec<&str> = result.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "other",
                "sandboxes",
                "nonScratchOrgs",
                "devHubs",
                "scratchOrgs"
            ]
        );
        assert_eq!(result["other"], result["nonScratchOrgs"]);
        for empty in ["sandboxes", "devHubs", "scratchOrgs"] {
            assert_eq!(result[empty], serde_json::json!([]), "{empty}");
        }
        let orgs = result["other"].as_array().unwrap();
        let names: Vec<&str> = orgs
            .iter()
            .map(|o| o["username"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["jwt.user@example.com", "web.user@example.com"],
            "sorted by alias"
        );
        let (jwt, web) = (&orgs[0], &orgs[1]);
        assert_eq!(jwt["alias"], "jwtorg");
        assert_eq!(web["alias"], "weborg");
        assert_eq!(web["isDefaultUsername"], true);
        assert_eq!(web["defaultMarker"], "(U)");
        assert_eq!(jwt["isDefaultUsername"], false);
        assert!(jwt.get("defaultMarker").is_none());
        for org in orgs {
            assert_eq!(org["accessToken"], REDACTED);
            assert!(org.get("refreshToken").is_none());
            assert!(org.get("clientSecret").is_none());
            assert!(org.get("connectedStatus").is_none(), "skipped");
            let last_used = org["lastUsed"].as_str().unwrap();
            assert!(
                last_used.len() == 24 && last_used.ends_with('Z'),
                "{last_used}"
            );
        }
        // sf's own fields first, in file order, then the list decorations.
        let keys: Vec<&str> = web
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "accessToken",
                "instanceUrl",
                "orgId",
                "username",
                "loginUrl",
                "clientId",
                "isDevHub",
                "instanceApiVersion",
                "instanceApiVersionLastRetrieved",
                "name",
                "instanceName",
                "namespacePrefix",
                "isSandbox",
                "isScratch",
                "trailExpirationDate",
                "orgEdition",
                "alias",
                "isDefaultDevHubUsername",
                "isDefaultUsername",
                "lastUsed",
                "defaultMarker"
            ]
        );
        assert_eq!(
            jwt["privateKey"],
            home.path().join("server.key").to_string_lossy().as_ref()
        );
    }
}

#[test]
fn org_list_is_fast_and_touches_nothing() {
    let home = fixture_home("v1");
    let sfdx = home.path().join(".sfdx");
    let before: Vec<(String, Vec<u8>)> = fs::read_dir(&sfdx)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "list", "--json", "--skip-connection-status"])
        .run();
    out.success();
    assert!(out.elapsed < Duration::from_secs(2), "{:?}", out.elapsed);
    for (name, bytes) in before {
        assert_eq!(fs::read(sfdx.join(&name)).unwrap(), bytes, "{name} changed");
    }
    assert!(!home.path().join(".sf/config.json.lock").exists());
}

#[test]
fn connection_status_reports_unreachable_orgs_without_failing() {
    let home = fixture_home("v1");
    // Point both orgs at a port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for (file, old) in [
        ("jwt.user@example.com.json", "18761"),
        ("web.user@example.com.json", "18762"),
    ] {
        let p = home.path().join(".sfdx").join(file);
        let t = fs::read_to_string(&p)
            .unwrap()
            .replace(&format!("localhost:{old}"), &format!("127.0.0.1:{port}"));
        fs::write(&p, t).unwrap();
    }
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "list", "--json"])
        .run();
    out.success();
    let v = out.json();
    for org in v["result"]["other"].as_array().unwrap() {
        let status = org["connectedStatus"].as_str().unwrap();
        assert_ne!(status, "Connected");
        assert!(!status.is_empty());
    }
}

#[test]
fn default_dev_hub_and_both_markers() {
    let home = fixture_home("v2");
    fs::write(
        home.path().join(".sf/config.json"),
        "{\n  \"target-org\": \"weborg\",\n  \"target-dev-hub\": \"web.user@example.com\"\n}",
    )
    .unwrap();
    let v = SfrCmd::new()
        .home(home.path())
        .args(["org", "list", "--json", "--skip-connection-status"])
        .run()
        .json();
    let web = &v["result"]["other"][1];
    assert_eq!(web["isDefaultDevHubUsername"], true);
    assert_eq!(web["defaultMarker"], "(D),(U)");
}

#[test]
fn env_target_org_wins_over_config() {
    let home = fixture_home("v1");
    let v = SfrCmd::new()
        .home(home.path())
        .env("SF_TARGET_ORG", "jwtorg")
        .args(["org", "list", "--json", "--skip-connection-status"])
        .run()
        .json();
    assert_eq!(v["result"]["other"][0]["isDefaultUsername"], true);
    assert_eq!(v["result"]["other"][1]["isDefaultUsername"], false);
}

#[test]
fn deprecated_env_synonym_works_and_warns() {
    let home = fixture_home("v1");
    let v = SfrCmd::new()
        .home(home.path())
        .env("SFDX_DEFAULTUSERNAME", "jwt.user@example.com")
        .args(["org", "list", "--json", "--skip-connection-status"])
        .run()
        .json();
    assert_eq!(v["result"]["other"][0]["isDefaultUsername"], true);
    assert_eq!(
        v["warnings"],
        serde_json::json!([
            "Deprecated environment variable: SFDX_DEFAULTUSERNAME. Please use SF_TARGET_ORG instead.",
            SECRETS_HIDDEN
        ])
    );
}

#[test]
fn key_json_with_mode_644_is_refused_like_sf() {
    let home = fixture_home("v1");
    let key = home.path().join(".sfdx/key.json");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "list", "--json", "--skip-connection-status"])
        .run();
    out.success();
    let v = out.json();
    assert_eq!(v["result"]["nonScratchOrgs"], serde_json::json!([]));
    let warnings: Vec<&str> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(warnings[0], SECRETS_HIDDEN);
    assert_eq!(
        warnings[1..],
        ["jwt.user@example.com", "web.user@example.com"]
            .map(|u| format!(
                "The auth file for {u} is invalid. Due to: Invalid file permissions for secret file: {}",
                key.display()
            ))
    );

    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "list", "auth", "--json"])
        .run();
    let v = out.json();
    for e in v["result"].as_array().unwrap() {
        assert_eq!(
            e["error"],
            Value::String(format!(
                "Invalid file permissions for secret file: {}",
                key.display()
            ))
        );
        assert_eq!(e["oauthMethod"], "unknown");
        assert!(e.get("accessToken").is_none());
    }
    assert_eq!(mode(&key), 0o644, "left as found");
}

#[test]
fn empty_home_lists_nothing() {
    let home = empty_home();
    let v = SfrCmd::new()
        .home(home.path())
        .args(["org", "list", "--json"])
        .run()
        .json();
    assert_eq!(
        v,
        serde_json::json!({"status": 0, "result": {"other": [], "sandboxes": [], "nonScratchOrgs": [], "devHubs": [], "scratchOrgs": []}, "warnings": [SECRETS_HIDDEN]})
    );
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "list", "auth"])
        .run();
    out.success();
    assert_eq!(out.stdout, "No results found.\n");
    assert!(
        !home.path().join(".sfdx").exists(),
        "listing creates nothing"
    );
}

#[test]
fn human_tables() {
    let home = fixture_home("v1");
    let list = SfrCmd::new()
        .home(home.path())
        .args(["org", "list", "--skip-connection-status"])
        .run();
    list.success();
    insta::assert_snapshot!("org_list_human", list.stdout);
    let auth = SfrCmd::new()
        .home(home.path())
        .args(["org", "list", "auth"])
        .run();
    auth.success();
    insta::assert_snapshot!("org_list_auth_human", auth.stdout);
}

/// A scratch org file (it has `expirationDate`) next to the fixture orgs.
fn add_scratch(home: &std::path::Path, username: &str, expiration: &str) {
    let text = format!(
        "{{\n  \"accessToken\": \"00D000000000003AAA!plain\",\n  \"instanceUrl\": \"http://127.0.0.1:9\",\n  \"orgId\": \"00D000000000003AAA\",\n  \"username\": \"{username}\",\n  \"loginUrl\": \"http://127.0.0.1:9/\",\n  \"devHubUsername\": \"web.user@example.com\",\n  \"expirationDate\": \"{expiration}\",\n  \"isScratch\": true\n}}"
    );
    fs::write(home.join(".sfdx").join(format!("{username}.json")), text).unwrap();
}

#[test]
fn scratch_orgs_expired_ones_hidden_unless_all_and_cleaned_with_clean() {
    let home = fixture_home("v1");
    add_scratch(home.path(), "live.scratch@example.com", "2999-01-01");
    add_scratch(home.path(), "dead.scratch@example.com", "2001-01-01");
    let v = SfrCmd::new()
        .home(home.path())
        .args(["org", "list", "--json", "--skip-connection-status"])
        .run()
        .json();
    let scratch: Vec<&str> = v["result"]["scratchOrgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["username"].as_str().unwrap())
        .collect();
    assert_eq!(scratch, ["live.scratch@example.com"]);
    assert_eq!(v["result"]["nonScratchOrgs"].as_array().unwrap().len(), 2);

    let v = SfrCmd::new()
        .home(home.path())
        .args(["org", "list", "--all", "--json", "--skip-connection-status"])
        .run()
        .json();
    assert_eq!(v["result"]["scratchOrgs"].as_array().unwrap().len(), 2);

    SfrCmd::new()
        .home(home.path())
        .args([
            "org",
            "list",
            "--clean",
            "-p",
            "--json",
            "--skip-connection-status",
        ])
        .run()
        .success();
    assert!(
        !home
            .path()
            .join(".sfdx/dead.scratch@example.com.json")
            .exists()
    );
    assert!(
        home.path()
            .join(".sfdx/live.scratch@example.com.json")
            .exists()
    );
}
