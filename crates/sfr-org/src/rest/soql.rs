//! Just enough SOQL reading to answer the queries `sf` sends after login: the object after `FROM`, compared
//! case-insensitively. This is deliberately not a SOQL engine.

/// The objects we answer queries about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueriedObject {
    Organization,
    ScratchOrgInfo,
    SandboxProcess,
}

/// Why a query cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoqlError {
    /// Not `SELECT … FROM <name>` at all.
    Malformed(String),
    /// A well-formed query about an object we do not have.
    UnknownObject(String),
}

/// Finds the queried object.
pub fn queried_object(q: &str) -> Result<QueriedObject, SoqlError> {
    let words: Vec<&str> = q.split_whitespace().collect();
    let is_select = words
        .first()
        .is_some_and(|w| w.eq_ignore_ascii_case("select"));
    let from = words.iter().position(|w| w.eq_ignore_ascii_case("from"));
    let (true, Some(at)) = (is_select, from) else {
        return Err(SoqlError::Malformed(format!(
            "unexpected token: {}",
            words.first().copied().unwrap_or("<empty>")
        )));
    };
    if at < 2 {
        return Err(SoqlError::Malformed("unexpected token: FROM".to_owned()));
    }
    let Some(object) = words.get(at + 1) else {
        return Err(SoqlError::Malformed(
            "unexpected end of query after FROM".to_owned(),
        ));
    };
    let object = object.trim_end_matches([',', ';', ')']);
    match object.to_ascii_lowercase().as_str() {
        "organization" => Ok(QueriedObject::Organization),
        "scratchorginfo" => Ok(QueriedObject::ScratchOrgInfo),
        "sandboxprocess" => Ok(QueriedObject::SandboxProcess),
        _ => Err(SoqlError::UnknownObject(object.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_queries_sf_sends() {
        assert_eq!(
            queried_object(
                "SELECT Name, InstanceName, IsSandbox, TrialExpirationDate, NamespacePrefix, OrganizationType FROM Organization"
            ),
            Ok(QueriedObject::Organization)
        );
        assert_eq!(
            queried_object("SELECT Id FROM ScratchOrgInfo limit 1"),
            Ok(QueriedObject::ScratchOrgInfo)
        );
        assert_eq!(
            queried_object(
                "select Id, ExpirationDate, ScratchOrg from scratchorginfo where ScratchOrg = '00D000000000001' and Status = 'Active'"
            ),
            Ok(QueriedObject::ScratchOrgInfo)
        );
        assert_eq!(
            queried_object(
                "SELECT Id,Status,SandboxName FROM SandboxProcess WHERE SandboxOrganization='00D' ORDER BY CreatedDate DESC"
            ),
            Ok(QueriedObject::SandboxProcess)
        );
    }

    #[test]
    fn refuses_the_rest() {
        assert!(matches!(queried_object(""), Err(SoqlError::Malformed(_))));
        assert!(matches!(
            queried_object("DELETE FROM x"),
            Err(SoqlError::Malformed(_))
        ));
        assert!(matches!(
            queried_object("SELECT FROM"),
            Err(SoqlError::Malformed(_))
        ));
        assert!(matches!(
            queried_object("SELECT Id FROM"),
            Err(SoqlError::Malformed(_))
        ));
        assert_eq!(
            queried_object("SELECT Id FROM Account"),
            Err(SoqlError::UnknownObject("Account".into()))
        );
    }
}
