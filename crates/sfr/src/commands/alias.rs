//! `sfr alias set|list|unset` (plugin-settings): aliases live in `~/.sfdx/alias.json`, shared with sf.

use serde_json::{Map, Value, json};

use super::varargs;
use crate::cli::{AliasSetArgs, AliasUnsetArgs};
use crate::output::{self, CommandError, Ctx, Outcome};
use crate::store::Store;

/// One row of `alias set`/`alias unset`.
struct AliasResult {
    alias: String,
    value: Option<String>,
    success: bool,
}

impl AliasResult {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("alias".into(), json!(self.alias));
        if let Some(v) = &self.value {
            m.insert("value".into(), json!(v));
        }
        m.insert("success".into(), json!(self.success));
        Value::Object(m)
    }
}

fn render(title: &str, results: &[AliasResult]) -> String {
    if results.is_empty() {
        return "No results".to_owned();
    }
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            vec![
                r.alias.clone(),
                r.value.clone().unwrap_or_default(),
                r.success.to_string(),
            ]
        })
        .collect();
    output::table(Some(title), &["Alias", "Value", "Success"], &rows)
}

/// `alias set a=b c=d` (or `alias set a b`); `a=` unsets `a`.
pub fn set(ctx: &mut Ctx, store: &Store, args: &AliasSetArgs) -> Result<Outcome, CommandError> {
    if args.pairs.is_empty() {
        return Err(CommandError::new(
            "ArgumentsRequiredError",
            "You must provide one or more aliases to set. Use the --help flag to see examples.",
        ));
    }
    let pairs = varargs::parse(&args.pairs)?;
    for (alias, _) in &pairs {
        if alias.contains(' ') {
            ctx.warn(format!(
                "The alias \"{alias}\" includes a space. We recommend aliases without spaces.\n\nIf you decide to keep \"{alias}\", you must wrap it in double quotes when using it in any CLI command.  For example:  sf project deploy start --target-org \"my scratch\"."
            ));
        }
    }
    store.update_aliases(|orgs| {
        for (alias, value) in &pairs {
            match value {
                Some(v) => {
                    orgs.insert(alias.clone(), Value::String(v.clone()));
                }
                None => {
                    orgs.shift_remove(alias);
                }
            }
        }
    })?;
    let results: Vec<AliasResult> = pairs
        .into_iter()
        .map(|(alias, value)| AliasResult {
            alias,
            value,
            success: true,
        })
        .collect();
    let json = Value::Array(results.iter().map(AliasResult::to_json).collect());
    Ok(Outcome::new(json, render("Alias Set", &results)))
}

/// `alias list`.
pub fn list(_ctx: &mut Ctx, store: &Store) -> Result<Outcome, CommandError> {
    let aliases = store.aliases()?;
    let json = Value::Array(
        aliases
            .iter()
            .map(|(a, v)| json!({"alias": a, "value": v}))
            .collect(),
    );
    if aliases.is_empty() {
        return Ok(Outcome::new(json, "No results"));
    }
    let rows: Vec<Vec<String>> = aliases.into_iter().map(|(a, v)| vec![a, v]).collect();
    Ok(Outcome::new(
        json,
        output::table(Some("Alias List"), &["Alias", "Value"], &rows),
    ))
}

/// `alias unset a b`, or `alias unset --all [-p]`.
pub fn unset(ctx: &mut Ctx, store: &Store, args: &AliasUnsetArgs) -> Result<Outcome, CommandError> {
    let current = store.aliases()?;
    let to_remove: Vec<String> = if args.all {
        current.iter().map(|(a, _)| a.clone()).collect()
    } else {
        args.aliases.clone()
    };
    if to_remove.is_empty() {
        if args.all {
            ctx.warn("The `--all` flag was passed, but no aliases are currently set. Exiting.");
            return Ok(Outcome::new(json!([]), ""));
        }
        return Err(CommandError::new(
            "NameRequiredError",
            "You must provide an alias name when unsetting an alias.",
        ));
    }
    if args.all
        && !args.no_prompt
        && !ctx.json()
        && !output::confirm("Are you sure you want to unset all aliases?")?
    {
        return Ok(Outcome::new(json!([]), ""));
    }
    let removed = store.update_aliases(|orgs| {
        to_remove
            .iter()
            .map(|alias| AliasResult {
                alias: alias.clone(),
                value: orgs
                    .shift_remove(alias)
                    .and_then(|v| v.as_str().map(str::to_owned)),
                success: true,
            })
            .collect::<Vec<_>>()
    })?;
    let json = Value::Array(removed.iter().map(AliasResult::to_json).collect());
    Ok(Outcome::new(json, render("Alias Unset", &removed)))
}
