//! The two pages the loopback server shows in the browser at the end of `org login web`.

const STYLE: &str = "body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',sans-serif;background:#f4f6f9;color:#16325c}\
main{max-width:34rem;margin:12vh auto;padding:2rem 2.5rem;background:#fff;border-radius:.75rem;box-shadow:0 2px 12px rgba(0,0,0,.08)}\
h1{font-size:1.4rem;margin:0 0 1rem;display:flex;align-items:center;gap:.6rem}\
.mark{display:inline-grid;place-items:center;width:1.8rem;height:1.8rem;border-radius:50%;color:#fff;font-size:1.1rem}\
.ok{background:#2e844a}.bad{background:#ba0517}p{line-height:1.5}footer{margin-top:2rem;font-size:.8rem;color:#706e6b}";

fn page(title: &str, mark: &str, heading: &str, body_html: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{title}</title><style>{STYLE}</style></head>\
<body><main><h1>{mark}{heading}</h1>{body_html}<footer>sfr — Salesforce org authorization</footer></main></body></html>"
    )
}

/// Shown after the code exchange and save succeeded.
pub fn success() -> String {
    page(
        "Authentication Successful",
        "<span class=\"mark ok\" aria-hidden=\"true\">&#10003;</span>",
        "Authentication Successful",
        "<p>You've successfully logged in. You can now close this browser tab or window.</p>",
    )
}

/// Shown when the org reported an error or the exchange failed. `name` and `message` are escaped.
pub fn error(name: &str, message: &str) -> String {
    let name = escape(name);
    page(
        &name,
        "<span class=\"mark bad\" aria-hidden=\"true\">!</span>",
        &name,
        &format!(
            "<p>{}</p><p>This is most likely <b>not</b> an error with sfr. Please ensure all information is accurate and try again.</p>",
            escape(message)
        ),
    )
}

/// Minimal HTML escaping for text content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_page_escapes_what_the_org_sent() {
        let html = error("access_denied", "<script>alert(1)</script>");
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("<title>access_denied</title>"));
    }
}
