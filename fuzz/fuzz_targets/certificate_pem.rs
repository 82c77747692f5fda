//! The certificate PEM an admin pastes into a connected app (`model::certificate::parse_pem`): never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = sfr_org::model::certificate::parse_pem(&text);
});
