//! The on-disk store, checked through the binary against files the real sf wrote.

use crate::harness::*;

#[test]
fn help_runs_without_a_home() {
    let out = SfrCmd::new().args(["--help"]).run();
    out.success();
    assert!(out.stdout.contains("org"), "{}", out.stdout);
}
