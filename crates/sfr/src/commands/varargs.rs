//! sf's `parseVarArgs`: `name=value` pairs, or the two-word form `name value` when exactly two words are given.

use crate::output::CommandError;

/// Parsed pairs in order; an empty value (`name=`) is `None`.
pub fn parse(argv: &[String]) -> Result<Vec<(String, Option<String>)>, CommandError> {
    if argv.len() == 2 && !argv[0].contains('=') {
        return Ok(vec![(argv[0].clone(), Some(argv[1].clone()))]);
    }
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for arg in argv {
        let Some((name, value)) = arg.split_once('=') else {
            return Err(CommandError::new(
                "InvalidArgumentFormatError",
                format!(
                    "Error in the following argument\n{arg}\nSet varargs with this format: key=value or key=\"value with spaces\""
                ),
            ));
        };
        if out.iter().any(|(n, _)| n == name) {
            return Err(CommandError::new(
                "DuplicateArgumentError",
                format!("Found duplicate argument {name}."),
            ));
        }
        let value = (!value.is_empty()).then(|| value.to_owned());
        out.push((name.to_owned(), value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn forms() {
        assert_eq!(
            parse(&s(&["a", "b@x.co"])).unwrap(),
            [("a".to_owned(), Some("b@x.co".to_owned()))]
        );
        assert_eq!(
            parse(&s(&["a=b=c", "d="])).unwrap(),
            [
                ("a".to_owned(), Some("b=c".to_owned())),
                ("d".to_owned(), None)
            ]
        );
        assert_eq!(
            parse(&s(&["a"])).unwrap_err().name,
            "InvalidArgumentFormatError"
        );
        assert_eq!(
            parse(&s(&["a=1", "a=2"])).unwrap_err().name,
            "DuplicateArgumentError"
        );
    }
}
