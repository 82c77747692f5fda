//! `sfr config set|get|list|unset`.
use crate::cli::{ConfigGetArgs, ConfigSetArgs, ConfigUnsetArgs};
use crate::output::{CommandError, Ctx, Outcome};
use crate::store::Store;

pub fn set(_ctx: &mut Ctx, _store: &Store, _args: &ConfigSetArgs) -> Result<Outcome, CommandError> {
    Err(CommandError::generic("in progress"))
}
pub fn get(_ctx: &mut Ctx, _store: &Store, _args: &ConfigGetArgs) -> Result<Outcome, CommandError> {
    Err(CommandError::generic("in progress"))
}
pub fn list(_ctx: &mut Ctx, _store: &Store) -> Result<Outcome, CommandError> {
    Err(CommandError::generic("in progress"))
}
pub fn unset(
    _ctx: &mut Ctx,
    _store: &Store,
    _args: &ConfigUnsetArgs,
) -> Result<Outcome, CommandError> {
    Err(CommandError::generic("in progress"))
}
