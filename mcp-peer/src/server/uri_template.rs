//! URI templates (RFC 6570 level 1, `{var}`) matched against concrete URIs.

use std::collections::HashMap;

/// A parsed URI template: literal text and `{name}` variables, alternating.
#[derive(Debug, Clone)]
pub(crate) struct UriTemplate {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Literal(String),
    /// A variable; `reserved` (`{+var}`) may span `/`.
    Var {
        name: String,
        reserved: bool,
    },
}

impl UriTemplate {
    /// Parses `template`; an unclosed `{` is taken literally.
    pub(crate) fn parse(template: &str) -> Self {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|c| open + c) else { break };
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            // Level 1 only: strip any operator so `{+path}` still names `path`.
            let expr = &rest[open + 1..close];
            let name = expr.trim_start_matches(['+', '#', '/', '.', ';', '?', '&']);
            parts.push(Part::Var { name: name.to_owned(), reserved: expr.starts_with(['+', '#']) });
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Self { parts }
    }

    /// The variables of `uri` when it matches. A variable matches one or more characters up
    /// to the next literal and, unless reserved (`{+var}`), never spans a `/`, so that
    /// `file:///{dir}/{name}` splits where it should.
    pub(crate) fn matches(&self, uri: &str) -> Option<HashMap<String, String>> {
        let mut vars = HashMap::new();
        let mut rest = uri;
        let mut parts = self.parts.iter().peekable();
        while let Some(part) = parts.next() {
            match part {
                Part::Literal(lit) => rest = rest.strip_prefix(lit.as_str())?,
                Part::Var { name, reserved } => {
                    let end = match parts.peek() {
                        Some(Part::Literal(next)) => rest.find(next.as_str())?,
                        Some(Part::Var { .. }) => return None,
                        None => rest.len(),
                    };
                    if end == 0 || (!reserved && rest[..end].contains('/')) {
                        return None;
                    }
                    vars.insert(name.clone(), rest[..end].to_owned());
                    rest = &rest[end..];
                }
            }
        }
        rest.is_empty().then_some(vars)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(t: &str, uri: &str) -> Option<Vec<(String, String)>> {
        UriTemplate::parse(t).matches(uri).map(|v| {
            let mut v: Vec<_> = v.into_iter().collect();
            v.sort();
            v
        })
    }

    #[test]
    fn level_one_templates() {
        assert_eq!(m("users://{id}/profile", "users://42/profile"), Some(vec![("id".into(), "42".into())]));
        assert_eq!(m("users://{id}/profile", "users://42/other"), None);
        assert_eq!(m("users://{id}", "users://"), None);
        assert_eq!(
            m("file:///{dir}/{name}", "file:///a/b.txt"),
            Some(vec![("dir".into(), "a".into()), ("name".into(), "b.txt".into())])
        );
        assert_eq!(m("file:///{dir}/{name}", "file:///a/b/c.txt"), None);
        assert_eq!(m("static://x", "static://x"), Some(vec![]));
        assert_eq!(m("log://{+path}", "log://a/b"), Some(vec![("path".into(), "a/b".into())]));
    }
}
