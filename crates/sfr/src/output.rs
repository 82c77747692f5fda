//! What the user sees: the `--json` envelope (`{"status","result","warnings"}`), sf's `SfCommandError` JSON, human
//! errors on stderr (`Error (<code>): <message>` + `Try this:`), exit codes and a small table printer.

use std::io::Write;

use serde_json::{Map, Value, json};

/// Exit code of a generic failure.
pub const EXIT_FAILURE: i32 = 1;
/// Exit code of oclif flag-parse errors and errors while parsing `--target-org`.
pub const EXIT_USAGE: i32 = 2;
/// Exit code of a network failure (`fetch failed` is a TypeError in Node).
pub const EXIT_NETWORK: i32 = 10;

/// The error every command returns: sf's `SfError` fields.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandError {
    /// `name`, e.g. `NamedOrgNotFoundError`.
    pub name: String,
    pub message: String,
    /// `Try this:` lines.
    pub actions: Vec<String>,
    pub exit_code: i32,
    /// `code`; `None` means "the exit code as a string".
    pub code: Option<String>,
    pub data: Option<Value>,
    /// Text of the underlying cause, if any.
    pub cause: Option<String>,
    /// A partial result shown with the error (e.g. `config set` failures).
    pub result: Option<Value>,
}

impl CommandError {
    /// A named error (`code` = `name`), exit code 1. The name `Error` gets the exit code as its code, like sf.
    pub fn new(name: impl Into<String>, message: impl Into<String>) -> Self {
        let name = name.into();
        let code = (name != "Error").then(|| name.clone());
        CommandError {
            name,
            message: message.into(),
            actions: Vec::new(),
            exit_code: EXIT_FAILURE,
            code,
            data: None,
            cause: None,
            result: None,
        }
    }

    /// A generic `Error` with exit code 1.
    pub fn generic(message: impl Into<String>) -> Self {
        Self::new("Error", message)
    }

    /// An oclif flag-parse error (exit code 2).
    pub fn usage(name: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(name, message).with_exit_code(EXIT_USAGE)
    }

    pub fn with_action(mut self, action: impl Into<String>) -> Self {
        self.actions.push(action.into());
        self
    }

    pub fn with_exit_code(mut self, exit_code: i32) -> Self {
        self.exit_code = exit_code;
        self
    }

    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// `code` as printed: the explicit code or the exit code.
    pub fn code_text(&self) -> String {
        self.code
            .clone()
            .unwrap_or_else(|| self.exit_code.to_string())
    }

    /// `SfCommandError.toJson()`, keys in sf's order.
    pub fn to_json(&self, command_name: &str, warnings: &[String]) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("message".into(), json!(self.message));
        m.insert("exitCode".into(), json!(self.exit_code));
        if !self.actions.is_empty() {
            m.insert("actions".into(), json!(self.actions));
        }
        m.insert("context".into(), json!(command_name));
        if let Some(data) = &self.data {
            m.insert("data".into(), data.clone());
        }
        m.insert(
            "stack".into(),
            json!(format!("{}: {}", self.name, self.message)),
        );
        m.insert(
            "cause".into(),
            json!(self.cause.as_deref().unwrap_or("undefined")),
        );
        m.insert("warnings".into(), json!(warnings));
        m.insert("code".into(), json!(self.code_text()));
        m.insert("status".into(), json!(self.exit_code));
        m.insert("commandName".into(), json!(command_name));
        if let Some(result) = &self.result {
            m.insert("result".into(), result.clone());
        }
        Value::Object(m)
    }

    /// The human form for stderr, laid out as sf prints it.
    pub fn to_human(&self) -> String {
        let mut s = format!("Error ({}): {}\n\n", self.code_text(), self.message);
        if !self.actions.is_empty() {
            s.push_str("\nTry this:\n\n");
            s.push_str(&self.actions.join("\n"));
            s.push('\n');
        }
        s.push('\n');
        s
    }
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

impl std::error::Error for CommandError {}

/// A successful command: the JSON `result`, the human text for stdout and the exit code (sf commands that report
/// per-entry failures, like `alias set`, succeed with exit code 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub result: Value,
    pub human: String,
    pub exit_code: i32,
}

impl Outcome {
    pub fn new(result: Value, human: impl Into<String>) -> Self {
        Outcome {
            result,
            human: human.into(),
            exit_code: 0,
        }
    }

    pub fn with_exit_code(mut self, exit_code: i32) -> Self {
        self.exit_code = exit_code;
        self
    }
}

/// What every command gets: the output mode and the warnings collected so far.
#[derive(Debug)]
pub struct Ctx {
    json: bool,
    command_name: &'static str,
    warnings: Vec<String>,
}

impl Ctx {
    pub fn new(json: bool, command_name: &'static str) -> Self {
        Ctx {
            json,
            command_name,
            warnings: Vec::new(),
        }
    }

    /// JSON mode: `--json` or `SF_CONTENT_TYPE=JSON` (`SFDX_CONTENT_TYPE`).
    pub fn json_requested(flag: bool) -> bool {
        flag || ["SF_CONTENT_TYPE", "SFDX_CONTENT_TYPE"].iter().any(|k| {
            std::env::var(k)
                .map(|v| v.eq_ignore_ascii_case("json"))
                .unwrap_or(false)
        })
    }

    pub fn json(&self) -> bool {
        self.json
    }

    /// A warning: `Warning: …` on stderr now (human mode), and in `warnings` of the JSON envelope.
    pub fn warn(&mut self, message: impl Into<String>) {
        let message = message.into();
        if !self.json {
            stderr_line(&format!("Warning: {message}"));
        }
        self.warnings.push(message);
    }

    /// Progress text on stderr, human mode only (never pollutes stdout).
    pub fn info(&self, message: impl AsRef<str>) {
        if !self.json {
            stderr_line(message.as_ref());
        }
    }

    /// Prints the outcome and returns the process exit code.
    pub fn finish(&self, outcome: Result<Outcome, CommandError>) -> i32 {
        match outcome {
            Ok(o) => {
                if self.json {
                    let env = json!({
                        "status": o.exit_code,
                        "result": o.result,
                        "warnings": self.warnings,
                    });
                    print_json(&env);
                } else if !o.human.is_empty() {
                    let mut out = std::io::stdout().lock();
                    let _ = out.write_all(o.human.as_bytes());
                    if !o.human.ends_with('\n') {
                        let _ = out.write_all(b"\n");
                    }
                    let _ = out.flush();
                }
                o.exit_code
            }
            Err(e) => {
                if self.json {
                    print_json(&e.to_json(self.command_name, &self.warnings));
                } else {
                    let _ = std::io::stderr().write_all(e.to_human().as_bytes());
                }
                e.exit_code
            }
        }
    }
}

/// Asks a yes/no question on the terminal (default: no). Without a terminal on stdin there is nobody to ask: the
/// error tells the user to pass `--no-prompt`.
pub fn confirm(question: &str) -> Result<bool, CommandError> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(CommandError::new(
            "PromptUnavailableError",
            format!("{question} Cannot ask: stdin is not a terminal."),
        )
        .with_action("Pass --no-prompt (-p) to proceed without confirmation."));
    }
    eprint!("{question} (y/N) ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| CommandError::generic(format!("Cannot read the answer: {e}")))?;
    let answer = line.trim().to_ascii_lowercase();
    Ok(answer == "y" || answer == "yes")
}

/// One line on stderr; a closed stderr is not worth a panic.
fn stderr_line(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.write_all(b"\n");
}

/// Pretty-prints with 2 spaces (`JSON.stringify(v, null, 2)`) plus a newline on stdout.
pub fn print_json(value: &Value) {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_owned());
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

/// The box style of sf's tables (`@oclif/table`).
const SF_TABLE_STYLE: comfy_table::TableStyle = {
    use comfy_table::{ContentLineStyle, LineStyle, TableStyle};
    TableStyle::new()
        .top_border(LineStyle::new('┌', '─', '┬', '┐'))
        .header_lines(ContentLineStyle::new('│', '│', '│'))
        .header_separator(LineStyle::new('├', '─', '┼', '┤'))
        .content_lines(ContentLineStyle::new('│', '│', '│'))
        .bottom_border(LineStyle::new('└', '─', '┴', '┘'))
};

/// A table as sf draws it: an optional title line, the boxed table, a blank line. Fixed layout (no terminal
/// probing), so output is the same in a pipe and in a test.
pub fn table(title: Option<&str>, headers: &[&str], rows: &[Vec<String>]) -> String {
    use comfy_table::{ContentArrangement, Table};
    let mut t = Table::new();
    t.load_style(SF_TABLE_STYLE)
        .force_no_tty()
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(headers.iter().copied());
    for row in rows {
        t.add_row(row.iter().map(String::as_str));
    }
    let mut s = String::new();
    if let Some(title) = title {
        s.push_str(title);
        s.push('\n');
    }
    s.push_str(&t.to_string());
    s.push_str("\n\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_json_keys_in_sf_order() {
        let e = CommandError::new(
            "NamedOrgNotFoundError",
            "No authorization information found for x.",
        )
        .with_action("Run sfr org list");
        let v = e.to_json("OrgDisplayCommand", &["w".into()]);
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "name",
                "message",
                "exitCode",
                "actions",
                "context",
                "stack",
                "cause",
                "warnings",
                "code",
                "status",
                "commandName"
            ]
        );
        assert_eq!(v["code"], "NamedOrgNotFoundError");
        assert_eq!(v["cause"], "undefined");
    }

    #[test]
    fn generic_error_code_is_exit_code() {
        let e = CommandError::generic("boom").with_exit_code(10);
        assert_eq!(e.code_text(), "10");
        assert_eq!(e.to_human(), "Error (10): boom\n\n\n");
    }

    #[test]
    fn human_error_lists_actions() {
        let e = CommandError::new("X", "m")
            .with_action("do a")
            .with_action("do b");
        assert_eq!(
            e.to_human(),
            "Error (X): m\n\n\nTry this:\n\ndo a\ndo b\n\n"
        );
    }
}
