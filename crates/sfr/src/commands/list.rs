//! `sfr org list`.
use crate::cli::ListArgs;
use crate::output::{CommandError, Ctx, Outcome};
use crate::store::Store;

pub fn run(_ctx: &mut Ctx, _store: &Store, _args: &ListArgs) -> Result<Outcome, CommandError> {
    Err(CommandError::generic("in progress"))
}
