//! Artifact-rule patterns, with the semantics of Python's `fnmatch` (which the in-toto
//! reference uses, and which the spec's examples assume).
//!
//! `*` matches any run of characters **including `/`**, `?` any one character, `[seq]` one
//! character in the set (ranges `a-z`, negation `[!seq]`, `]` literal when first), and an
//! unclosed `[` is a literal. Matching is case-sensitive and covers the whole path. There is
//! no escape character: a backslash is literal, as on POSIX in Python.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    AnyChar,
    AnyRun,
    Class {
        negated: bool,
        items: Vec<(char, char)>,
    },
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    tokens: Vec<Token>,
    /// `Some(text)` when the pattern has no wildcard at all: matching is string equality.
    literal: Option<String>,
}

impl Pattern {
    /// Compiles `pattern`. Every string is a valid pattern, as in Python.
    pub fn new(pattern: &str) -> Self {
        let chars: Vec<char> = pattern.chars().collect();
        let mut tokens = Vec::with_capacity(chars.len());
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            match c {
                '*' => {
                    // Consecutive stars are one star.
                    if tokens.last() != Some(&Token::AnyRun) {
                        tokens.push(Token::AnyRun);
                    }
                }
                '?' => tokens.push(Token::AnyChar),
                '[' => {
                    // Find the closing bracket the way fnmatch.translate does.
                    let mut j = i;
                    if j < chars.len() && chars[j] == '!' {
                        j += 1;
                    }
                    if j < chars.len() && chars[j] == ']' {
                        j += 1;
                    }
                    while j < chars.len() && chars[j] != ']' {
                        j += 1;
                    }
                    if j >= chars.len() {
                        tokens.push(Token::Literal('['));
                        continue;
                    }
                    let mut body = &chars[i..j];
                    i = j + 1;
                    let negated = body.first() == Some(&'!');
                    if negated {
                        body = &body[1..];
                    }
                    tokens.push(Token::Class {
                        negated,
                        items: class_items(body),
                    });
                }
                other => tokens.push(Token::Literal(other)),
            }
        }
        let literal = tokens
            .iter()
            .all(|t| matches!(t, Token::Literal(_)))
            .then(|| pattern.to_owned());
        Pattern { tokens, literal }
    }

    /// True when the pattern has no wildcard (it matches exactly one path).
    pub fn is_literal(&self) -> bool {
        self.literal.is_some()
    }

    /// True when `path` matches the whole pattern.
    pub fn matches(&self, path: &str) -> bool {
        if let Some(lit) = &self.literal {
            return lit == path;
        }
        // Fast path for the very common `*`.
        if let [Token::AnyRun] = self.tokens.as_slice() {
            return true;
        }
        let text: Vec<char> = path.chars().collect();
        self.match_chars(&text)
    }

    /// Classic wildcard matching with single-star backtracking: linear in practice, and every
    /// token other than `*` consumes exactly one character, so this is exact.
    fn match_chars(&self, text: &[char]) -> bool {
        let toks = &self.tokens;
        let (mut t, mut p) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            if p < toks.len() {
                match &toks[p] {
                    Token::AnyRun => {
                        star = Some((p, t));
                        p += 1;
                        continue;
                    }
                    tok if single_matches(tok, text[t]) => {
                        p += 1;
                        t += 1;
                        continue;
                    }
                    _ => {}
                }
            }
            match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            }
        }
        toks[p..].iter().all(|tok| *tok == Token::AnyRun)
    }
}

fn single_matches(tok: &Token, c: char) -> bool {
    match tok {
        Token::Literal(l) => *l == c,
        Token::AnyChar => true,
        Token::AnyRun => true,
        Token::Class { negated, items } => {
            let hit = items.iter().any(|(lo, hi)| *lo <= c && c <= *hi);
            hit != *negated
        }
    }
}

/// Parses a bracket body into inclusive ranges. A `-` between two characters makes a range; a
/// leading or trailing `-` is literal; a reversed range matches nothing (Python drops it).
fn class_items(body: &[char]) -> Vec<(char, char)> {
    let mut items = Vec::new();
    let mut k = 0;
    while k < body.len() {
        if k + 2 < body.len() && body[k + 1] == '-' {
            let (lo, hi) = (body[k], body[k + 2]);
            if lo <= hi {
                items.push((lo, hi));
            }
            k += 3;
        } else {
            items.push((body[k], body[k]));
            k += 1;
        }
    }
    items
}

/// Convenience: does `path` match `pattern`?
pub fn fnmatch(pattern: &str, path: &str) -> bool {
    Pattern::new(pattern).matches(path)
}

#[cfg(test)]
mod tests {
    use super::fnmatch;

    #[test]
    fn star_crosses_slashes_like_python() {
        assert!(fnmatch("*", "a/b/c"));
        assert!(fnmatch("*.py", "src/pkg/mod.py"));
        assert!(fnmatch("src/*", "src/a/b"));
        assert!(!fnmatch("*.py", "mod.pyc"));
        assert!(fnmatch("a*b*c", "aXbYbZc"));
        assert!(!fnmatch("a*b*c", "aXbYbZ"));
        assert!(fnmatch("**", ""));
        assert!(!fnmatch("?", ""));
    }

    #[test]
    fn classes_ranges_and_negation() {
        assert!(fnmatch("file[0-9].txt", "file7.txt"));
        assert!(!fnmatch("file[!0-9].txt", "file7.txt"));
        assert!(fnmatch("file[!0-9].txt", "fileA.txt"));
        assert!(fnmatch("[]]", "]"));
        assert!(fnmatch("[!]]", "a"));
        assert!(fnmatch("[a-]", "-"));
        assert!(fnmatch("[-a]", "-"));
        // Reversed range matches nothing; its neighbours still count.
        assert!(!fnmatch("[z-a]", "m"));
        assert!(fnmatch("[xz-ab]", "b"));
        assert!(!fnmatch("[xz-ab]", "z"));
        // Unclosed bracket is literal.
        assert!(fnmatch("a[b", "a[b"));
        // Backslash is literal.
        assert!(fnmatch("a\\*", "a\\xyz"));
    }

    #[test]
    fn literal_patterns_are_exact_and_case_sensitive() {
        assert!(fnmatch("foo.py", "foo.py"));
        assert!(!fnmatch("foo.py", "Foo.py"));
        assert!(!fnmatch("foo.py", "foo.py2"));
        assert!(fnmatch("d?r/é", "dir/é"));
    }
}
