//! `sfr org logout`.
use crate::cli::LogoutArgs;
use crate::output::{CommandError, Ctx, Outcome};
use crate::store::Store;

pub fn run(_ctx: &mut Ctx, _store: &Store, _args: &LogoutArgs) -> Result<Outcome, CommandError> {
    Err(CommandError::generic("in progress"))
}
