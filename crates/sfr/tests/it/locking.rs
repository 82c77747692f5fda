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

/// sf writes files in place (not atomically). A reader that finds a half-written file under a live lock reads it
/// again once the writer is done instead of reporting it corrupt.
#[test]
fn a_half_written_file_under_a_live_lock_is_read_after_the_writer_finishes() {
    let home = fixture_home("v1");
    let path = home.path().join(".sfdx/web.user@example.com.json");
    let full = fs::read_to_string(&path).unwrap();
    let lock = home.path().join(".sfdx/web.user@example.com.json.lock");
    fs::create_dir(&lock).unwrap();
    fs::write(&path, &full[..full.len() / 2]).unwrap();
    let writer = {
        let (path, lock) = (path.clone(), lock.clone());
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            fs::write(&path, full).unwrap();
            fs::remove_dir(&lock).unwrap();
        })
    };
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "list", "auth", "--json"])
        .run();
    writer.join().unwrap();
    out.success();
    let v = out.json();
    let web = &v["result"][1];
    assert_eq!(web["username"], "web.user@example.com");
    assert!(web.get("error").is_none(), "{web}");
    assert_eq!(web["oauthMethod"], "web");
}
