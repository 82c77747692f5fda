//! The one integration-test binary of `sfr`: every module drives the real binary (`harness::SfrCmd`).

mod harness;

mod store_files;
