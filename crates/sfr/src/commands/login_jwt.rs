//! `sfr org login jwt`. TEMPORARY compile placeholder written by CLI-STORE; CLI-ORG owns this file and replaces it.

use crate::cli::LoginJwtArgs;
use crate::output::{CommandError, Ctx, Outcome};
use crate::store::Store;

pub fn run(_ctx: &mut Ctx, _store: &Store, _args: &LoginJwtArgs) -> Result<Outcome, CommandError> {
    Err(CommandError::generic(
        "`sfr org login jwt` is not built yet.",
    ))
}
