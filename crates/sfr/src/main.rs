//! `sfr`: Salesforce org authorization, a drop-in for the `sf` org login commands.

// `CommandError` carries sf's full error record (name, message, actions, code, data…) to the one place that prints
// it; it is created once per failed command, so its size does not matter and boxing it would only add noise.
#![allow(clippy::result_large_err)]

mod cli;
mod commands;
mod org;
mod output;
mod store;

use std::ffi::OsString;

use clap::error::ErrorKind;

use output::{Ctx, EXIT_USAGE};

fn main() {
    let expanded = cli::expand_args(std::env::args_os().collect());
    let json = Ctx::json_requested(expanded.args.iter().any(|a| a == "--json"));
    let words = command_words(&expanded.args);
    let args = expanded.args.clone();
    let code = match cli::parse(expanded.args) {
        Ok(parsed) => {
            let mut ctx = Ctx::new(json, parsed.command_name());
            for w in expanded.warnings {
                ctx.warn(w);
            }
            for w in cli::deprecated_flag_warnings(&parsed.command, &args) {
                ctx.warn(w);
            }
            for (old, new) in store::ConfigKey::deprecated_env_in_use() {
                ctx.warn(format!(
                    "Deprecated environment variable: {old}. Please use {new} instead."
                ));
            }
            if parsed.global.loglevel.is_some() {
                ctx.warn(
                    "The loglevel flag is no longer in use on this command. You may use it without error, but it will be ignored.\nSet the log level using the `SF_LOG_LEVEL` environment variable.",
                );
            }
            let outcome = commands::run(&mut ctx, parsed);
            ctx.finish(outcome)
        }
        Err(e) => usage_error(e, json, &words, &args),
    };
    std::process::exit(code);
}

/// The command words before the first flag (`["org", "login", "jwt"]`).
fn command_words(args: &[OsString]) -> Vec<String> {
    args.iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .take_while(|a| !a.starts_with('-'))
        .collect()
}

/// Help and version go to stdout (exit 0); parse errors are oclif's (exit 2), as JSON in JSON mode.
fn usage_error(e: clap::Error, json: bool, words: &[String], args: &[OsString]) -> i32 {
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return 0;
    }
    match cli::class_name_for_words(words) {
        Some(class) => Ctx::new(json, class).finish(Err(cli::usage_error(&e, args))),
        // No command at all (`sfr`, `sfr org`, `sfr nosuch`): clap's own text lists what exists.
        None => {
            let _ = e.print();
            EXIT_USAGE
        }
    }
}
