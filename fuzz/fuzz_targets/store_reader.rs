//! The sfr store reader (`Store::read_auth`: read the file, parse the JSON, decrypt every secret field) on arbitrary
//! file contents, with a real key in `~/.sfdx/key.json`: never a panic, always a value or a typed error.
#![no_main]

use std::os::unix::fs::PermissionsExt as _;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

#[allow(dead_code, unused_imports)]
#[path = "../../crates/sfr/src/store/mod.rs"]
mod store;

const KEY_JSON: &str = include_str!("../../crates/sfr/tests/fixtures/sf-store/v1/.sfdx/key.json");
const USER: &str = "fuzz@example.com";

struct Home {
    dir: tempfile::TempDir,
}

fn home() -> &'static Home {
    static HOME: OnceLock<Home> = OnceLock::new();
    HOME.get_or_init(|| {
        // SAFETY: set once, before any other thread reads the environment.
        unsafe { std::env::set_var("SF_USE_GENERIC_UNIX_KEYCHAIN", "true") };
        let dir = tempfile::tempdir().expect("temp home");
        let sfdx = dir.path().join(".sfdx");
        std::fs::create_dir_all(&sfdx).expect(".sfdx");
        // The v1 key of the sf-written fixtures, so the seed corpus (those fixtures) decrypts.
        let key = sfdx.join("key.json");
        std::fs::write(&key, KEY_JSON).expect("key.json");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        Home { dir }
    })
}

fuzz_target!(|data: &[u8]| {
    let home = home();
    let path = home.dir.path().join(".sfdx").join(format!("{USER}.json"));
    std::fs::write(&path, data).expect("write input");
    let store = store::Store::at(home.dir.path(), home.dir.path());
    match store.read_auth(USER) {
        Ok(auth) => {
            let _ = auth.username();
            let _ = auth.oauth_method();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
