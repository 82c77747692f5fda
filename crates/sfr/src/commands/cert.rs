//! `sfr cert create`. TEMPORARY compile placeholder written by CLI-STORE; CLI-ORG owns this file and replaces it.

use crate::cli::CertCreateArgs;
use crate::output::{CommandError, Ctx, Outcome};

pub fn run(_ctx: &mut Ctx, _args: &CertCreateArgs) -> Result<Outcome, CommandError> {
    Err(CommandError::generic("`sfr cert create` is not built yet."))
}
