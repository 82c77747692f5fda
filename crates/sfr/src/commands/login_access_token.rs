//! `sfr org login access-token`. TEMPORARY compile placeholder written by CLI-STORE; CLI-ORG owns this file and replaces it.

use crate::cli::LoginAccessTokenArgs;
use crate::output::{CommandError, Ctx, Outcome};
use crate::store::Store;

pub fn run(
    _ctx: &mut Ctx,
    _store: &Store,
    _args: &LoginAccessTokenArgs,
) -> Result<Outcome, CommandError> {
    Err(CommandError::generic(
        "`sfr org login access-token` is not built yet.",
    ))
}
