//! `sfr org auth show-access-token` / `show-sfdx-auth-url`. TEMPORARY compile placeholder written by CLI-STORE;
//! CLI-ORG owns this file and replaces it.

use crate::cli::ShowSecretArgs;
use crate::output::{CommandError, Ctx, Outcome};
use crate::store::Store;

pub fn run(
    _ctx: &mut Ctx,
    _store: &Store,
    _args: &ShowSecretArgs,
) -> Result<Outcome, CommandError> {
    Err(CommandError::generic(
        "`sfr org auth show-access-token` is not built yet.",
    ))
}

pub fn run_sfdx_auth_url(
    _ctx: &mut Ctx,
    _store: &Store,
    _args: &ShowSecretArgs,
) -> Result<Outcome, CommandError> {
    Err(CommandError::generic(
        "`sfr org auth show-sfdx-auth-url` is not built yet.",
    ))
}
