//! `SfdxAuthUrl::parse` (force://clientId:secret:refreshToken@host): never a panic; what parses yields a login URL
//! that is an absolute https URL or the host as given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sfr_wire::SfdxAuthUrl;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(parsed) = SfdxAuthUrl::parse(&text) {
        let _ = parsed.login_url();
    }
});
