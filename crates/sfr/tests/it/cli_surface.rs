//! The command line itself: sf's flags and aliases, oclif exit codes, JSON mode.

use crate::harness::*;

#[test]
fn flag_parse_errors_exit_2_in_both_modes() {
    let home = empty_home();
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "login", "jwt", "-o", "a@b.co"])
        .run();
    out.code(2);
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "login", "jwt", "-o", "a@b.co", "--json"])
        .run();
    out.code(2);
    let v = out.json();
    assert_eq!(v["exitCode"], 2);
    assert_eq!(v["status"], 2);
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "list", "--bogus"])
        .run();
    out.code(2);
}

#[test]
fn sf_content_type_json_means_json() {
    let home = empty_home();
    let out = SfrCmd::new()
        .home(home.path())
        .env("SF_CONTENT_TYPE", "JSON")
        .args(["alias", "list"])
        .run();
    out.success();
    assert_eq!(out.json()["status"], 0);
}

#[test]
fn loglevel_is_accepted_and_ignored_with_a_warning() {
    let home = empty_home();
    let out = SfrCmd::new()
        .home(home.path())
        .args(["alias", "list", "--loglevel", "debug", "--json"])
        .run();
    out.success();
    assert!(
        out.json()["warnings"][0]
            .as_str()
            .unwrap()
            .contains("SF_LOG_LEVEL")
    );
}

#[test]
fn flags_dir_supplies_missing_flags() {
    let home = fixture_home("v1");
    let flags = tempfile::tempdir().unwrap();
    std::fs::write(flags.path().join("target-org"), "jwtorg\n").unwrap();
    std::fs::write(flags.path().join("no-prompt"), "").unwrap();
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "logout", "--json", "--flags-dir"])
        .arg(flags.path())
        .run();
    out.success();
    assert_eq!(
        out.json()["result"],
        serde_json::json!(["jwt.user@example.com"])
    );
}

#[test]
fn help_teaches_with_examples() {
    let out = SfrCmd::new().args(["org", "list", "--help"]).run();
    out.success();
    assert!(out.stdout.contains("Examples:"), "{}", out.stdout);
    assert!(out.stdout.contains("--skip-connection-status"));
}

#[test]
fn parse_errors_use_oclif_text_and_the_command_class() {
    let home = empty_home();
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "login", "jwt", "-o", "a@b.co", "--json"])
        .run();
    out.code(2);
    let v = out.json();
    assert_eq!(v["name"], "Error");
    assert_eq!(
        v["message"],
        "The following errors occurred:\n  Missing required flag client-id\n  Missing required flag jwt-key-file\nSee more help with --help"
    );
    assert_eq!(v["code"], "2");
    assert_eq!(v["commandName"], "LoginJwt");
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "login", "jwt", "-o", "a@b.co"])
        .run();
    out.code(2);
    assert_eq!(
        out.stderr,
        "Error (2): The following errors occurred:\n  Missing required flag client-id\n  Missing required flag jwt-key-file\nSee more help with --help\n\n\n"
    );
    let v = SfrCmd::new()
        .home(home.path())
        .args(["org", "logout", "-a", "-o", "x", "--json"])
        .run()
        .json();
    assert_eq!(
        v["message"],
        "The following error occurred:\n  --target-org=x cannot also be provided when using --all\nSee more help with --help"
    );
    let v = SfrCmd::new()
        .home(home.path())
        .args(["org", "login", "web", "-r", "notaurl", "--json"])
        .run()
        .json();
    assert_eq!(
        v["message"],
        "Parsing --instance-url \n\tExpected a valid url but received: notaurl\nSee more help with --help"
    );
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "login", "web", "--browser", "foo", "--json"])
        .run();
    out.code(1);
    let out = SfrCmd::new()
        .home(home.path())
        .args(["config", "get", "--json"])
        .run();
    out.code(1);
    assert_eq!(out.json()["name"], "NoConfigKeysFoundError");
}
