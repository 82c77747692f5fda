//! The one integration-test binary of `sfr`: every module drives the real binary (`harness::SfrCmd`).

mod harness;

mod login_offline;
mod store_files;
