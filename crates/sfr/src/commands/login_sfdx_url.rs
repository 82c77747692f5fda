//! `sfr org login sfdx-url`. TEMPORARY compile placeholder written by CLI-STORE; CLI-ORG owns this file and replaces it.

use crate::cli::LoginSfdxUrlArgs;
use crate::output::{CommandError, Ctx, Outcome};
use crate::store::Store;

pub fn run(
    _ctx: &mut Ctx,
    _store: &Store,
    _args: &LoginSfdxUrlArgs,
) -> Result<Outcome, CommandError> {
    Err(CommandError::generic(
        "`sfr org login sfdx-url` is not built yet.",
    ))
}
