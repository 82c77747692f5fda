//! Where the key comes from: key.json, or a `secret-tool` spawned exactly as sf spawns it.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::harness::*;

/// A stand-in `secret-tool` that keeps the secret in a file next to it and logs its argv.
fn fake_secret_tool(dir: &Path, key: Option<&str>) -> std::path::PathBuf {
    let store = dir.join("secret");
    if let Some(k) = key {
        fs::write(&store, k).unwrap();
    }
    let script = dir.join("secret-tool");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{log}'\ncase \"$1\" in\n  lookup) [ -f '{store}' ] && cat '{store}' && exit 0; exit 1;;\n  store) cat > '{store}'; exit 0;;\nesac\nexit 2\n",
            log = dir.join("argv.log").display(),
            store = store.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    script
}

#[test]
fn secret_tool_key_is_used_when_generic_keychain_is_off() {
    let home = fixture_home("v2");
    let key_json = home.path().join(".sfdx/key.json");
    let key: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&key_json).unwrap()).unwrap();
    fs::remove_file(&key_json).unwrap();
    let tools = tempfile::tempdir().unwrap();
    let tool = fake_secret_tool(tools.path(), Some(key["key"].as_str().unwrap()));
    let out = SfrCmd::new()
        .home(home.path())
        .env_remove("SF_USE_GENERIC_UNIX_KEYCHAIN")
        .env("SFDX_SECRET_TOOL_PATH", &tool)
        .env("SF_TEMP_SHOW_SECRETS", "true")
        .args(["org", "list", "auth", "--json"])
        .run();
    out.success();
    let v = out.json();
    assert_eq!(
        v["result"][0]["accessToken"],
        expected_plaintext()["v2"]["orgs"]["jwt.user@example.com"]["accessToken"]
    );
    assert_eq!(
        fs::read_to_string(tools.path().join("argv.log")).unwrap(),
        "lookup user local domain sfdx\n"
    );
    assert!(!key_json.exists(), "no key.json created");
}

#[test]
fn secret_tool_without_dbus_gives_a_clear_error_naming_the_fix() {
    let home = fixture_home("v1");
    let tools = tempfile::tempdir().unwrap();
    let tool = tools.path().join("secret-tool");
    fs::write(
        &tool,
        "#!/bin/sh\necho 'secret-tool: Cannot autolaunch D-Bus without X11 $DISPLAY' >&2\nexit 1\n",
    )
    .unwrap();
    fs::set_permissions(&tool, fs::Permissions::from_mode(0o755)).unwrap();
    let out = SfrCmd::new()
        .home(home.path())
        .env_remove("SF_USE_GENERIC_UNIX_KEYCHAIN")
        .env("SFDX_SECRET_TOOL_PATH", &tool)
        .args(["org", "list", "auth", "--json"])
        .run();
    out.success();
    let err = out.json()["result"][0]["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(err.starts_with("Command failed with response:\n - secret-tool: Cannot autolaunch D-Bus without X11 $DISPLAY"), "{err}");
    assert!(err.contains("SF_USE_GENERIC_UNIX_KEYCHAIN=true"), "{err}");
}

#[test]
fn generic_keychain_env_synonym_selects_key_json() {
    let home = fixture_home("v1");
    let tools = tempfile::tempdir().unwrap();
    let tool = fake_secret_tool(tools.path(), Some("00000000000000000000000000000000"));
    let out = SfrCmd::new()
        .home(home.path())
        .env_remove("SF_USE_GENERIC_UNIX_KEYCHAIN")
        .env("SFDX_USE_GENERIC_UNIX_KEYCHAIN", "true")
        .env("SFDX_SECRET_TOOL_PATH", &tool)
        .env("SF_TEMP_SHOW_SECRETS", "true")
        .args(["org", "list", "auth", "--json"])
        .run();
    let v = out.json();
    assert_eq!(
        v["result"][1]["accessToken"],
        expected_plaintext()["v1"]["orgs"]["web.user@example.com"]["accessToken"]
    );
    assert!(
        !tools.path().join("argv.log").exists(),
        "secret-tool not run"
    );
}

#[test]
fn wrong_key_shows_auth_decrypt_error() {
    let home = fixture_home("v1");
    fs::write(
        home.path().join(".sfdx/key.json"),
        "{\n    \"account\": \"local\",\n    \"key\": \"00000000000000000000000000000000\",\n    \"service\": \"sfdx\"\n}",
    )
    .unwrap();
    let v = SfrCmd::new()
        .home(home.path())
        .args(["org", "list", "auth", "--json"])
        .run()
        .json();
    assert_eq!(
        v["result"][0]["error"],
        "Failed to decipher auth data. reason: Unsupported state or unable to authenticate data."
    );
}
