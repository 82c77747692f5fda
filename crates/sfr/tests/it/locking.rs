//! sf's lock directories: a stale one is recovered, a live one is waited for.

use std::fs;
use std::time::{Duration, SystemTime};

use crate::harness::*;

#[test]
fn stale_lock_dir_older_than_ten_seconds_is_recovered() {
    let home = fixture_home("v1");
    let lock = home.path().join(".sfdx/alias.json.lock");
    fs::create_dir(&lock).unwrap();
    fs::File::open(&lock)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(30))
        .unwrap();
    let out = SfrCmd::new()
        .home(home.path())
        .args(["alias", "set", "x=y@example.com"])
        .run();
    out.success();
    assert!(out.elapsed < Duration::from_secs(5), "{:?}", out.elapsed);
    assert!(!lock.exists());
    assert!(
        fs::read_to_string(home.path().join(".sfdx/alias.json"))
            .unwrap()
            .contains("\"x\":\"y@example.com\"")
    );
}

#[test]
fn live_lock_is_waited_for() {
    let home = fixture_home("v1");
    let lock = home.path().join(".sfdx/alias.json.lock");
    fs::create_dir(&lock).unwrap();
    let releaser = {
        let lock = lock.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(400));
            fs::remove_dir(&lock).unwrap();
        })
    };
    let out = SfrCmd::new()
        .home(home.path())
        .args(["alias", "set", "x=y@example.com"])
        .run();
    releaser.join().unwrap();
    out.success();
    assert!(
        out.elapsed >= Duration::from_millis(350),
        "did not wait: {:?}",
        out.elapsed
    );
    assert!(
        fs::read_to_string(home.path().join(".sfdx/alias.json"))
            .unwrap()
            .contains("\"x\"")
    );
}
