//! The one integration-test binary of `sfr`: every module drives the real binary (`harness::SfrCmd`).

mod harness;

mod alias_config;
mod cli_surface;
mod hostile_store;
mod keychain;
mod locking;
mod login_e2e;
mod login_offline;
mod logout;
mod org_list;
mod org_server;
mod refresh_quirks;
mod store_files;
