//! Store behaviour checked against the stores the real sf wrote (copied into `tests/fixtures/sf-store`).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::config::ConfigLocation;
use super::crypto::KeyVersion;
use super::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sf-store")
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            fs::copy(e.path(), &t).unwrap();
            fs::set_permissions(&t, fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    fs::set_permissions(to, fs::Permissions::from_mode(0o755)).unwrap();
}

/// A temp copy of a fixture HOME with key.json at 0600 and a store that reads key.json.
fn fixture_store(version: &str) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixtures().join(version), dir.path());
    let key = dir.path().join(".sfdx/key.json");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    let store = Store::at(dir.path(), dir.path()).with_key_source(KeySource::GenericFile(key));
    (dir, store)
}

fn expected() -> Value {
    serde_json::from_str(&fs::read_to_string(fixtures().join("expected-plaintext.json")).unwrap())
        .unwrap()
}

#[test]
fn decrypts_both_fixture_stores_to_the_recorded_plaintexts() {
    let expected = expected();
    for version in ["v1", "v2"] {
        let (_dir, store) = fixture_store(version);
        let want_version = if version == "v1" {
            KeyVersion::V1
        } else {
            KeyVersion::V2
        };
        assert_eq!(store.crypto().unwrap().version(), want_version);
        let orgs = expected[version]["orgs"].as_object().unwrap();
        assert_eq!(
            store.list_usernames().unwrap(),
            orgs.keys().cloned().collect::<Vec<_>>()
        );
        for (username, secrets) in orgs {
            let auth = store.read_auth(username).unwrap();
            for (field, plain) in secrets.as_object().unwrap() {
                assert_eq!(
                    auth.get_str(field),
                    plain.as_str(),
                    "{version} {username} {field}"
                );
            }
            assert_eq!(auth.username(), Some(username.as_str()));
        }
    }
}

#[test]
fn rewrite_keeps_layout_order_mode_and_plaintexts_with_fresh_ivs() {
    for version in ["v1", "v2"] {
        let (dir, store) = fixture_store(version);
        let path = dir.path().join(".sfdx/web.user@example.com.json");
        let before = fs::read_to_string(&path).unwrap();
        let mut auth = store.read_auth("web.user@example.com").unwrap();
        let token = auth.access_token().unwrap().to_owned();
        auth.set_access_token(token.clone());
        store.write_auth(&auth).unwrap();
        let after = fs::read_to_string(&path).unwrap();
        assert!(!after.ends_with('\n'));
        assert!(after.starts_with("{\n  \"accessToken\": \""));
        let keys = |t: &str| -> Vec<String> {
            serde_json::from_str::<serde_json::Map<String, Value>>(t)
                .unwrap()
                .keys()
                .cloned()
                .collect()
        };
        assert_eq!(keys(&before), keys(&after));
        let old: Value = serde_json::from_str(&before).unwrap();
        let new: Value = serde_json::from_str(&after).unwrap();
        assert_ne!(old["accessToken"], new["accessToken"], "fresh IV");
        assert_eq!(
            old["refreshToken"], new["refreshToken"],
            "untouched secret keeps its stored value"
        );
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
        // Only the accessToken line differs.
        let changed: Vec<_> = before
            .lines()
            .zip(after.lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(changed.len(), 1, "{changed:?}");
        let again = Store::at(dir.path(), dir.path())
            .with_key_source(KeySource::GenericFile(dir.path().join(".sfdx/key.json")));
        assert_eq!(
            again
                .read_auth("web.user@example.com")
                .unwrap()
                .access_token(),
            Some(token.as_str())
        );
    }
}

#[test]
fn plaintext_secrets_are_read_and_encrypted_on_the_next_save() {
    let (dir, store) = fixture_store("v1");
    let path = dir.path().join(".sfdx/web.user@example.com.json");
    let mut v: serde_json::Map<String, Value> =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    v.insert(
        "accessToken".into(),
        Value::String("00D000000000002AAA!plain".into()),
    );
    v.insert(
        "clientApps".into(),
        serde_json::json!({"ci": {"clientId": "X", "accessToken": "00D!nested", "refreshToken": "5Aepnested", "oauthFlow": "web"}}),
    );
    fs::write(&path, json::pretty2(&Value::Object(v))).unwrap();
    let mut auth = store.read_auth("web.user@example.com").unwrap();
    assert_eq!(auth.access_token(), Some("00D000000000002AAA!plain"));
    auth.set_name("Renamed");
    store.write_auth(&auth).unwrap();
    let raw: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    let crypto = store.crypto().unwrap();
    for value in [
        &raw["accessToken"],
        &raw["clientApps"]["ci"]["accessToken"],
        &raw["clientApps"]["ci"]["refreshToken"],
    ] {
        assert!(crypto.looks_encrypted(value.as_str().unwrap()), "{value}");
    }
    assert_eq!(raw["clientApps"]["ci"]["clientId"], "X");
    let back = store.read_auth("web.user@example.com").unwrap();
    assert_eq!(
        back.client_apps().unwrap()["ci"]["refreshToken"],
        "5Aepnested"
    );
    assert_eq!(back.name(), Some("Renamed"));
}

#[test]
fn merge_on_write_keeps_a_concurrent_writers_other_keys() {
    let (dir, store) = fixture_store("v2");
    let mut mine = store.read_auth("jwt.user@example.com").unwrap();
    // Another writer changes a different key after we read.
    let other = Store::at(dir.path(), dir.path())
        .with_key_source(KeySource::GenericFile(dir.path().join(".sfdx/key.json")));
    let mut theirs = other.read_auth("jwt.user@example.com").unwrap();
    theirs.set_instance_name("OTHER");
    other.write_auth(&theirs).unwrap();
    mine.set_access_token("00D000000000001AAA!new");
    store.write_auth(&mine).unwrap();
    let back = store.read_auth("jwt.user@example.com").unwrap();
    assert_eq!(back.instance_name(), Some("OTHER"));
    assert_eq!(back.access_token(), Some("00D000000000001AAA!new"));
}

#[test]
fn sixteen_concurrent_writers_leave_a_valid_file_with_every_change() {
    let (dir, _store) = fixture_store("v1");
    let home = dir.path().to_path_buf();
    std::thread::scope(|s| {
        for i in 0..16 {
            let home = home.clone();
            s.spawn(move || {
                let store = Store::at(&home, &home)
                    .with_key_source(KeySource::GenericFile(home.join(".sfdx/key.json")));
                let mut a = store.read_auth("web.user@example.com").unwrap();
                a.set(
                    &format!("writer{i}Token"),
                    Value::String(format!("secret-{i}")),
                );
                store.write_auth(&a).unwrap();
            });
        }
    });
    let store = Store::at(&home, &home)
        .with_key_source(KeySource::GenericFile(home.join(".sfdx/key.json")));
    let a = store.read_auth("web.user@example.com").unwrap();
    for i in 0..16 {
        assert_eq!(
            a.get_str(&format!("writer{i}Token")),
            Some(format!("secret-{i}").as_str())
        );
    }
    assert!(!home.join(".sfdx/web.user@example.com.json.lock").exists());
    let leftovers: Vec<_> = fs::read_dir(home.join(".sfdx"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn new_web_file_is_written_in_sf_order_without_newline() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join(".sfdx/key.json");
    let store =
        Store::at(dir.path(), dir.path()).with_key_source(KeySource::GenericFile(key.clone()));
    let mut a = AuthFile::new();
    a.set_username("new.user@example.com")
        .set_org_id("00D000000000009AAA")
        .set_refresh_token("5Aep-r")
        .set_access_token("00D000000000009AAA!a")
        .set_client_id("PlatformCLI")
        .set_login_url("http://localhost:8901/")
        .set_instance_url("http://localhost:8901")
        .set_is_dev_hub(false)
        .set_instance_api_version("63.0");
    store.write_auth(&a).unwrap();
    let text = fs::read_to_string(dir.path().join(".sfdx/new.user@example.com.json")).unwrap();
    let keys: Vec<String> = serde_json::from_str::<serde_json::Map<String, Value>>(&text)
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        keys,
        [
            "accessToken",
            "instanceUrl",
            "orgId",
            "username",
            "loginUrl",
            "refreshToken",
            "clientId",
            "isDevHub",
            "instanceApiVersion"
        ]
    );
    assert!(!text.ends_with('\n'));
    // The key was created on first use: key.json 0600, 4-space indent, no newline, a v1 key.
    assert_eq!(
        fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let key_text = fs::read_to_string(&key).unwrap();
    assert!(
        key_text.starts_with("{\n    \"account\": \"local\",\n    \"key\": \""),
        "{key_text}"
    );
    assert!(key_text.ends_with("\"service\": \"sfdx\"\n}"));
    let k: Value = serde_json::from_str(&key_text).unwrap();
    assert_eq!(k["key"].as_str().unwrap().len(), 32);
    assert_eq!(store.crypto().unwrap().version(), KeyVersion::V1);
}

#[test]
fn v2_keys_are_created_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.json");
    let crypto = KeySource::GenericFile(key.clone())
        .load_or_create_with(true)
        .unwrap();
    assert_eq!(crypto.version(), KeyVersion::V2);
    let k: Value = serde_json::from_str(&fs::read_to_string(&key).unwrap()).unwrap();
    assert_eq!(k["key"].as_str().unwrap().len(), 64);
}

#[test]
fn key_json_checks() {
    let (dir, store) = fixture_store("v1");
    let key = dir.path().join(".sfdx/key.json");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    let err = store.read_auth("web.user@example.com").unwrap_err();
    assert_eq!(err.name(), "GenericKeychainInvalidPermsError");
    assert_eq!(
        err.to_string(),
        format!(
            "Invalid file permissions for secret file: {}",
            key.display()
        )
    );
    assert_eq!(
        err.actions(),
        [format!(
            "Ensure the file {} has the file permission octal value of 600.",
            key.display()
        )]
    );

    let (dir, store) = fixture_store("v1");
    let key = dir.path().join(".sfdx/key.json");
    fs::write(
        &key,
        "{\"account\":\"other\",\"key\":\"b906a2aa5a60e7bc191f7836899a44f3\",\"service\":\"sfdx\"}",
    )
    .unwrap();
    let err = store.read_auth("web.user@example.com").unwrap_err();
    assert_eq!(err.name(), "GenericKeychainServiceError");
}

#[test]
fn wrong_key_is_auth_decrypt_error() {
    let (dir, _) = fixture_store("v1");
    let key = dir.path().join(".sfdx/key.json");
    fs::write(
        &key,
        "{\"account\":\"local\",\"key\":\"00000000000000000000000000000000\",\"service\":\"sfdx\"}",
    )
    .unwrap();
    let store = Store::at(dir.path(), dir.path()).with_key_source(KeySource::GenericFile(key));
    let err = store.read_auth("web.user@example.com").unwrap_err();
    assert_eq!(err.name(), "AuthDecryptError");
    assert_eq!(
        err.to_string(),
        "Failed to decipher auth data. reason: Unsupported state or unable to authenticate data."
    );
}

#[test]
fn remove_auth_drops_aliases_and_config_keys_naming_the_user() {
    let (dir, store) = fixture_store("v1");
    store
        .set_config(ConfigKey::TargetDevHub, Some("web.user@example.com"), true)
        .unwrap();
    assert!(store.remove_auth("web.user@example.com").unwrap());
    assert!(!dir.path().join(".sfdx/web.user@example.com.json").exists());
    assert_eq!(
        store.aliases().unwrap(),
        [("jwtorg".to_owned(), "jwt.user@example.com".to_owned())]
    );
    assert_eq!(
        fs::read_to_string(dir.path().join(".sf/config.json")).unwrap(),
        "{}"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join(".sfdx/sfdx-config.json")).unwrap(),
        "{}"
    );
    assert!(store.has_auth("jwt.user@example.com"));
}

#[test]
fn config_resolution_prefers_local_over_global() {
    let (dir, _) = fixture_store("v1");
    let project = dir.path().join("proj");
    fs::create_dir_all(project.join("sub")).unwrap();
    fs::write(project.join("sfdx-project.json"), "{}").unwrap();
    let store = Store::at(dir.path(), project.join("sub"));
    assert_eq!(store.project_root(), Some(project.clone()));
    assert_eq!(
        store
            .config_get_file_key("target-org")
            .unwrap()
            .unwrap()
            .location,
        ConfigLocation::Global
    );
    store
        .set_config(ConfigKey::TargetOrg, Some("jwtorg"), false)
        .unwrap();
    let e = store.config_get_file_key("target-org").unwrap().unwrap();
    assert_eq!(e.location, ConfigLocation::Local);
    assert_eq!(e.value, "jwtorg");
    assert_eq!(e.path, Some(project.join(".sf/config.json")));
    assert_eq!(
        fs::read_to_string(project.join(".sfdx/sfdx-config.json")).unwrap(),
        "{\n  \"defaultusername\": \"jwtorg\"\n}"
    );
    let outside = Store::at(dir.path(), dir.path());
    assert_eq!(
        outside.set_config(ConfigKey::TargetOrg, Some("x"), false),
        Err(StoreError::NotInProject {
            dir: dir.path().to_path_buf()
        })
    );
}

#[test]
fn corrupt_auth_file_is_reported_with_its_path_and_left_alone() {
    let (dir, store) = fixture_store("v1");
    let path = dir.path().join(".sfdx/bad.user@example.com.json");
    fs::write(&path, "{not json").unwrap();
    let err = store.read_auth("bad.user@example.com").unwrap_err();
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    let mut a = AuthFile::new();
    a.set_username("bad.user@example.com").set_access_token("x");
    assert!(matches!(
        store.write_auth(&a),
        Err(StoreError::Corrupt { .. })
    ));
    assert_eq!(fs::read_to_string(&path).unwrap(), "{not json");
}
