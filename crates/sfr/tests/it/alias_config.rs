//! `alias` and `config`: sf's JSON shapes, exit codes and files.

use std::fs;

use serde_json::json;

use crate::harness::*;

#[test]
fn alias_set_list_unset_shapes_and_file() {
    let home = fixture_home("v1");
    let out = SfrCmd::new()
        .home(home.path())
        .args([
            "alias",
            "set",
            "a1=web.user@example.com",
            "a2=anything",
            "--json",
        ])
        .run();
    out.success();
    assert_eq!(
        out.json()["result"],
        json!([
            {"alias": "a1", "value": "web.user@example.com", "success": true},
            {"alias": "a2", "value": "anything", "success": true}
        ])
    );
    assert_eq!(
        fs::read_to_string(home.path().join(".sfdx/alias.json")).unwrap(),
        "{\"orgs\":{\"jwtorg\":\"jwt.user@example.com\",\"weborg\":\"web.user@example.com\",\"a1\":\"web.user@example.com\",\"a2\":\"anything\"}}"
    );
    // `alias set x=` unsets.
    let out = SfrCmd::new()
        .home(home.path())
        .args(["alias", "set", "a2=", "--json"])
        .run();
    out.success();
    assert_eq!(
        out.json()["result"],
        json!([{"alias": "a2", "success": true}])
    );
    // Two-word form.
    SfrCmd::new()
        .home(home.path())
        .args(["alias", "set", "a3", "jwt.user@example.com"])
        .run()
        .success();
    let list = SfrCmd::new()
        .home(home.path())
        .args(["alias", "list", "--json"])
        .run()
        .json();
    assert_eq!(
        list["result"],
        json!([
            {"alias": "jwtorg", "value": "jwt.user@example.com"},
            {"alias": "weborg", "value": "web.user@example.com"},
            {"alias": "a1", "value": "web.user@example.com"},
            {"alias": "a3", "value": "jwt.user@example.com"}
        ])
    );
    let out = SfrCmd::new()
        .home(home.path())
        .args(["alias", "unset", "a1", "nope", "--json"])
        .run();
    out.success();
    assert_eq!(
        out.json()["result"],
        json!([
            {"alias": "a1", "value": "web.user@example.com", "success": true},
            {"alias": "nope", "success": true}
        ])
    );
    let out = SfrCmd::new()
        .home(home.path())
        .args(["alias", "unset", "--all", "-p", "--json"])
        .run();
    out.success();
    assert_eq!(
        fs::read_to_string(home.path().join(".sfdx/alias.json")).unwrap(),
        "{\"orgs\":{}}"
    );
    let out = SfrCmd::new()
        .home(home.path())
        .args(["alias", "list", "--json"])
        .run();
    assert_eq!(
        out.json(),
        json!({"status": 0, "result": [], "warnings": []})
    );
    let out = SfrCmd::new()
        .home(home.path())
        .args(["alias", "list"])
        .run();
    assert_eq!(
        out.stdout,
        "No results
"
    );
}

#[test]
fn alias_errors() {
    let home = empty_home();
    let out = SfrCmd::new()
        .home(home.path())
        .args(["alias", "set", "novalue"])
        .run();
    out.code(1);
    assert!(
        out.stderr.starts_with("Error (InvalidArgumentFormatError)"),
        "{}",
        out.stderr
    );
    let out = SfrCmd::new()
        .home(home.path())
        .args(["alias", "unset", "--json"])
        .run();
    out.code(1);
    assert_eq!(out.json()["name"], "NameRequiredError");
    // Like sf: a runtime check (exit 1), not a parse error.
    let out = SfrCmd::new()
        .home(home.path())
        .args(["alias", "set", "--json"])
        .run();
    out.code(1);
    assert_eq!(out.json()["name"], "ArgumentsRequiredError");
}

#[test]
fn sixteen_concurrent_alias_writers_all_land() {
    let home = fixture_home("v1");
    let children: Vec<_> = (0..16)
        .map(|i| {
            SfrCmd::new()
                .home(home.path())
                .args(["alias", "set", &format!("c{i}=user{i}@example.com")])
                .command()
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let text = fs::read_to_string(home.path().join(".sfdx/alias.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let orgs = v["orgs"].as_object().unwrap();
    assert_eq!(orgs.len(), 18, "{text}");
    for i in 0..16 {
        assert_eq!(orgs[&format!("c{i}")], format!("user{i}@example.com"));
    }
}

#[test]
fn config_set_global_writes_both_files_and_validates_orgs() {
    let home = fixture_home("v1");
    let out = SfrCmd::new()
        .home(home.path())
        .args([
            "config",
            "set",
            "target-dev-hub=jwtorg",
            "org-api-version=62.0",
            "-g",
            "--json",
        ])
        .run();
    out.success();
    assert_eq!(
        out.json()["result"],
        json!({"successes": [
            {"name": "target-dev-hub", "value": "jwtorg", "success": true},
            {"name": "org-api-version", "value": "62.0", "success": true}
        ], "failures": []})
    );
    assert_eq!(
        fs::read_to_string(home.path().join(".sf/config.json")).unwrap(),
        "{\n  \"target-org\": \"weborg\",\n  \"target-dev-hub\": \"jwtorg\",\n  \"org-api-version\": \"62.0\"\n}"
    );
    assert_eq!(
        fs::read_to_string(home.path().join(".sfdx/sfdx-config.json")).unwrap(),
        "{\n  \"defaultusername\": \"weborg\",\n  \"defaultdevhubusername\": \"jwtorg\",\n  \"apiVersion\": \"62.0\"\n}"
    );

    let out = SfrCmd::new()
        .home(home.path())
        .args(["config", "set", "target-org=nosuch", "-g", "--json"])
        .run();
    out.code(1);
    let v = out.json();
    assert_eq!(v["status"], 1);
    assert_eq!(
        v["result"],
        json!({"successes": [], "failures": [{
            "name": "target-org", "success": false, "value": "nosuch",
            "error": {"name": "Error", "exitCode": 1},
            "message": "Invalid config value: org \"nosuch\" is not authenticated."
        }]})
    );
}

#[test]
fn config_unknown_key_and_missing_project() {
    let home = fixture_home("v1");
    let out = SfrCmd::new()
        .home(home.path())
        .args(["config", "set", "bogus=1", "-g", "--json"])
        .run();
    out.code(1);
    let failure = &out.json()["result"]["failures"][0];
    assert_eq!(failure["error"]["name"], "UnknownConfigKeyError");
    assert_eq!(failure["message"], "Unknown config name: bogus.");

    let out = SfrCmd::new()
        .home(home.path())
        .args(["config", "set", "target-org=jwtorg"])
        .run();
    out.code(1);
    assert_eq!(
        out.stderr,
        format!(
            "Error (InvalidProjectWorkspaceError): {} does not contain a valid Salesforce DX project.\n\n\nTry this:\n\nRun with --global to set for your entire workspace.\n\n",
            home.path().display()
        )
    );

    let out = SfrCmd::new()
        .home(home.path())
        .args(["config", "get", "bogus", "--json"])
        .run();
    out.code(1);
    assert_eq!(out.json()["result"][0]["success"], false);
}

#[test]
fn config_get_and_list_shapes_with_env_and_local() {
    let home = fixture_home("v1");
    let project = home.path().join("proj");
    fs::create_dir_all(&project).unwrap();
    fs::write(project.join("sfdx-project.json"), "{}").unwrap();
    SfrCmd::new()
        .home(home.path())
        .cwd(&project)
        .args(["config", "set", "target-org=jwtorg"])
        .run()
        .success();
    let v = SfrCmd::new()
        .home(home.path())
        .cwd(&project)
        .env("SF_TARGET_DEV_HUB", "weborg")
        .args([
            "config",
            "get",
            "target-org",
            "target-dev-hub",
            "org-instance-url",
            "--json",
        ])
        .run()
        .json();
    let local_path = project.join(".sf/config.json");
    assert_eq!(
        v["result"],
        json!([
            {"name": "target-org", "key": "target-org", "value": "jwtorg", "path": local_path.to_string_lossy(), "success": true, "location": "Local"},
            {"name": "target-dev-hub", "key": "target-dev-hub", "value": "weborg", "success": true, "location": "Environment"},
            {"name": "org-instance-url", "key": "org-instance-url", "success": true}
        ])
    );
    let list = SfrCmd::new()
        .home(home.path())
        .cwd(&project)
        .args(["config", "list", "--json"])
        .run()
        .json();
    let names: Vec<(&str, &str)> = list["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["location"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("target-org", "Local")]);
    // Unset locally: the global value shows again.
    let out = SfrCmd::new()
        .home(home.path())
        .cwd(&project)
        .args(["config", "unset", "target-org", "--json"])
        .run();
    out.success();
    assert_eq!(
        out.json()["result"],
        json!({"successes": [{"name": "target-org", "success": true}], "failures": []})
    );
    let v = SfrCmd::new()
        .home(home.path())
        .cwd(&project)
        .args(["config", "get", "target-org", "--json"])
        .run()
        .json();
    assert_eq!(v["result"][0]["location"], "Global");
}

#[test]
fn human_output_of_alias_and_config() {
    let home = fixture_home("v1");
    let alias = SfrCmd::new()
        .home(home.path())
        .args(["alias", "list"])
        .run();
    alias.success();
    insta::assert_snapshot!("alias_list_human", alias.stdout);
    let set = SfrCmd::new()
        .home(home.path())
        .args(["config", "set", "target-org=nosuch", "-g"])
        .run();
    set.code(1);
    insta::assert_snapshot!("config_set_failure_human", set.stdout);
    let list = SfrCmd::new()
        .home(home.path())
        .args(["config", "list"])
        .run();
    list.success();
    insta::assert_snapshot!("config_list_human", list.stdout);
}

#[test]
fn legacy_config_name_writes_the_new_key_and_warns() {
    let home = fixture_home("v1");
    let out = SfrCmd::new()
        .home(home.path())
        .args(["config", "set", "defaultusername=jwtorg", "-g", "--json"])
        .run();
    out.success();
    let v = out.json();
    assert_eq!(
        v["result"]["successes"],
        json!([{"name": "target-org", "value": "jwtorg", "success": true}])
    );
    assert_eq!(
        v["warnings"],
        json!(["Deprecated config name: defaultusername. Please use target-org instead."])
    );
    assert_eq!(
        fs::read_to_string(home.path().join(".sfdx/sfdx-config.json")).unwrap(),
        "{\n  \"defaultusername\": \"jwtorg\"\n}"
    );
}

#[test]
fn a_foreign_alias_file_is_reported_with_its_path_and_left_alone() {
    let home = fixture_home("v1");
    let path = home.path().join(".sfdx/alias.json");
    fs::write(&path, "not json at all").unwrap();
    let out = SfrCmd::new()
        .home(home.path())
        .args(["alias", "set", "x=y@example.com"])
        .run();
    out.code(1);
    assert!(
        out.stderr.contains(&path.display().to_string()),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("Fix or remove"), "{}", out.stderr);
    assert_eq!(fs::read_to_string(&path).unwrap(), "not json at all");
    assert!(
        !home.path().join(".sfdx/alias.json.lock").exists(),
        "lock released"
    );
}
