//! `sfr org login web`. TEMPORARY compile placeholder written by CLI-STORE; CLI-ORG owns this file and replaces it.

use crate::cli::LoginWebArgs;
use crate::output::{CommandError, Ctx, Outcome};
use crate::store::Store;

pub fn run(_ctx: &mut Ctx, _store: &Store, _args: &LoginWebArgs) -> Result<Outcome, CommandError> {
    Err(CommandError::generic(
        "`sfr org login web` is not built yet.",
    ))
}
