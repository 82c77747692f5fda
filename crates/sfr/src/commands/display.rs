//! `sfr org display`. TEMPORARY compile placeholder written by CLI-STORE; CLI-ORG owns this file and replaces it.

use crate::cli::DisplayArgs;
use crate::output::{CommandError, Ctx, Outcome};
use crate::store::Store;

pub fn run(_ctx: &mut Ctx, _store: &Store, _args: &DisplayArgs) -> Result<Outcome, CommandError> {
    Err(CommandError::generic("`sfr org display` is not built yet."))
}
