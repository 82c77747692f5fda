//! `org logout`: local removal of the auth file, its aliases and config (no network).

use std::fs;

use serde_json::json;

use crate::harness::*;

#[test]
fn logout_by_alias_removes_file_aliases_and_config() {
    let home = fixture_home("v1");
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "logout", "-o", "weborg", "--json"])
        .run();
    out.success();
    assert_eq!(
        out.json(),
        json!({"status": 0, "result": ["web.user@example.com"], "warnings": []})
    );
    let sfdx = home.path().join(".sfdx");
    assert!(!sfdx.join("web.user@example.com.json").exists());
    assert!(sfdx.join("jwt.user@example.com.json").exists());
    assert_eq!(
        fs::read_to_string(sfdx.join("alias.json")).unwrap(),
        "{\"orgs\":{\"jwtorg\":\"jwt.user@example.com\"}}"
    );
    assert_eq!(
        fs::read_to_string(home.path().join(".sf/config.json")).unwrap(),
        "{}"
    );
    assert_eq!(
        fs::read_to_string(sfdx.join("sfdx-config.json")).unwrap(),
        "{}"
    );
}

#[test]
fn logout_of_the_default_org_with_no_prompt_uses_target_org() {
    let home = fixture_home("v2");
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "logout", "-p"])
        .run();
    out.success();
    assert_eq!(
        out.stdout,
        "Successfully logged out of orgs: web.user@example.com\n"
    );
    assert!(!home.path().join(".sfdx/web.user@example.com.json").exists());
}

#[test]
fn logout_all() {
    let home = fixture_home("v1");
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "logout", "--all", "--json"])
        .run();
    out.success();
    assert_eq!(
        out.json()["result"],
        json!(["jwt.user@example.com", "web.user@example.com"])
    );
    assert_eq!(
        fs::read_to_string(home.path().join(".sfdx/alias.json")).unwrap(),
        "{\"orgs\":{}}"
    );
    let v = SfrCmd::new()
        .home(home.path())
        .args(["org", "list", "auth", "--json"])
        .run()
        .json();
    assert_eq!(v["result"], json!([]));
}

#[test]
fn json_without_target_is_sf_error() {
    let home = fixture_home("v1");
    fs::write(home.path().join(".sf/config.json"), "{}").unwrap();
    fs::write(home.path().join(".sfdx/sfdx-config.json"), "{}").unwrap();
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "logout", "--json"])
        .run();
    out.code(1);
    let v = out.json();
    assert_eq!(v["name"], "NoOrgSpecifiedWithJsonError");
    assert_eq!(
        v["message"],
        "You must specify a target-org (or default target-org config is set) or use --all flag when using the --json flag."
    );
    assert_eq!(v["exitCode"], 1);
    assert_eq!(v["status"], 1);
    assert_eq!(v["commandName"], "Logout");
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "name",
            "message",
            "exitCode",
            "context",
            "stack",
            "cause",
            "warnings",
            "code",
            "status",
            "commandName"
        ]
    );
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "logout", "-p"])
        .run();
    out.code(1);
    assert!(
        out.stderr
            .starts_with("Error (NoOrgSpecifiedWithNoPromptError): You must specify a target-org"),
        "{}",
        out.stderr
    );
    assert!(home.path().join(".sfdx/web.user@example.com.json").exists());
}

#[test]
fn unknown_target_is_no_auth_found_like_sf() {
    let home = fixture_home("v1");
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "logout", "-o", "nosuch", "--json"])
        .run();
    out.code(1);
    let v = out.json();
    assert_eq!(v["name"], "NoAuthFoundForTargetOrgError");
    assert_eq!(
        v["message"],
        "No authenticated org found with the nosuch username or alias."
    );
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "logout", "-o", "nosuch", "-p"])
        .run();
    out.code(1);
    assert_eq!(
        out.stderr,
        "Error (NoAuthFoundForTargetOrgError): No authenticated org found with the nosuch username or alias.\n\n\n"
    );
}

#[test]
fn without_a_terminal_the_prompt_asks_for_no_prompt() {
    let home = fixture_home("v1");
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "logout", "-o", "jwtorg"])
        .run();
    out.code(1);
    assert!(out.stderr.contains("--no-prompt"), "{}", out.stderr);
    assert!(home.path().join(".sfdx/jwt.user@example.com.json").exists());
}

#[test]
fn legacy_command_id_still_works_with_a_deprecation_warning() {
    let home = fixture_home("v1");
    let out = SfrCmd::new()
        .home(home.path())
        .args(["force:auth:logout", "-u", "jwtorg", "-p", "--json"])
        .run();
    out.success();
    let v = out.json();
    assert_eq!(v["result"], json!(["jwt.user@example.com"]));
    assert_eq!(
        v["warnings"],
        json!([
            "The \"force auth logout\" command has been deprecated. Use \"org logout\" instead.",
            "The \"-u\" flag has been deprecated. Use \"--target-org | -o\" instead."
        ])
    );
}
