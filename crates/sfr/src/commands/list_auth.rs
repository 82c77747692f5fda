//! `sfr org list auth`.
use crate::output::{CommandError, Ctx, Outcome};
use crate::store::Store;

pub fn run(_ctx: &mut Ctx, _store: &Store) -> Result<Outcome, CommandError> {
    Err(CommandError::generic("in progress"))
}
