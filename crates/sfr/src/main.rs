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

use output::{CommandError, Ctx, EXIT_USAGE};

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
        Err(e) => usage_error(e, json, &words),
    };
    std::process::exit(code);
}

/// The command words before the first flag (`org:login:jwt`), to name a command whose flags did not parse.
fn command_words(args: &[OsString]) -> String {
    args.iter()
        .skip(1)
        .map(|a| a.to_string_lossy())
        .take_while(|a| !a.starts_with('-'))
        .collect::<Vec<_>>()
        .join(":")
}

/// Help and version go to stdout (exit 0); parse errors exit 2, as JSON in JSON mode.
fn usage_error(e: clap::Error, json: bool, words: &str) -> i32 {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            0
        }
        kind if json => {
            let name = match kind {
                ErrorKind::UnknownArgument => "NonExistentFlagsError",
                ErrorKind::TooManyValues | ErrorKind::WrongNumberOfValues => "UnexpectedArgsError",
                ErrorKind::InvalidSubcommand | ErrorKind::MissingSubcommand => {
                    "CommandNotFoundError"
                }
                _ => "FailedFlagValidationError",
            };
            let rendered = e.render().to_string();
            let message = rendered
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ")
                .to_owned();
            let err = CommandError::usage(name, format!("{message}\nSee more help with --help"));
            output::print_json(&err.to_json(words, &[]));
            EXIT_USAGE
        }
        _ => {
            let _ = e.print();
            EXIT_USAGE
        }
    }
}
