//! `sfr alias set|list|unset`.
use crate::cli::{AliasSetArgs, AliasUnsetArgs};
use crate::output::{CommandError, Ctx, Outcome};
use crate::store::Store;

pub fn set(_ctx: &mut Ctx, _store: &Store, _args: &AliasSetArgs) -> Result<Outcome, CommandError> {
    Err(CommandError::generic("in progress"))
}
pub fn list(_ctx: &mut Ctx, _store: &Store) -> Result<Outcome, CommandError> {
    Err(CommandError::generic("in progress"))
}
pub fn unset(
    _ctx: &mut Ctx,
    _store: &Store,
    _args: &AliasUnsetArgs,
) -> Result<Outcome, CommandError> {
    Err(CommandError::generic("in progress"))
}
