//! Exclude patterns: gitignore syntax (as in-toto's `GitIgnoreSpec`), matched against artifact
//! paths relative to the base path. A directory that matches is not entered.

use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::Error;
use crate::error::PatternError;

/// in-toto's default exclude patterns (`ARTIFACT_EXCLUDE_PATTERNS`): link files, git metadata,
/// python bytecode, editor backups.
pub const DEFAULT_EXCLUDES: &[&str] = &["*.link*", ".git", "*.pyc", "*~"];

/// A compiled set of exclude patterns.
#[derive(Debug, Clone)]
pub struct Excludes {
    matcher: Gitignore,
    patterns: Vec<String>,
}

impl Excludes {
    /// Compiles `patterns` (gitignore lines: `#` comments and blank lines are ignored, `!`
    /// re-includes, a trailing `/` matches directories only, a `/` elsewhere anchors the pattern
    /// at the base path).
    pub fn new<I, S>(patterns: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        // The root only matters for absolute paths; we always match relative ones.
        let mut builder = GitignoreBuilder::new("");
        let mut kept = Vec::new();
        for pattern in patterns {
            let pattern = pattern.as_ref();
            builder
                .add_line(None, pattern)
                .map_err(|e| Error::Pattern {
                    pattern: pattern.to_owned(),
                    source: PatternError(e),
                })?;
            let trimmed = pattern.trim();
            if !trimmed.is_empty() && !trimmed.starts_with('#') {
                kept.push(pattern.to_owned());
            }
        }
        let matcher = builder.build().map_err(|e| Error::Pattern {
            pattern: kept.join(", "),
            source: PatternError(e),
        })?;
        Ok(Excludes {
            matcher,
            patterns: kept,
        })
    }

    /// The default patterns, compiled.
    pub fn defaults() -> Self {
        Excludes::new(DEFAULT_EXCLUDES).expect("the default patterns are valid")
    }

    /// Reads patterns from a file, one per line (gitignore format).
    pub fn read_file(path: &Path) -> Result<Vec<String>, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ExcludeFile {
            path: PathBuf::from(path),
            source,
        })?;
        Ok(text.lines().map(str::to_owned).collect())
    }

    /// The effective patterns (comments and blank lines dropped), in order.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// True when the relative path `rel` is excluded by itself (a directory inside an excluded
    /// directory is not asked: the walk never enters the excluded one).
    pub fn is_excluded(&self, rel: &Path, is_dir: bool) -> bool {
        self.matcher.matched(rel, is_dir).is_ignore()
    }

    /// True when `rel` or one of its parent directories is excluded (for paths named on the
    /// command line, which the walk did not reach from above).
    pub fn is_excluded_or_parent(&self, rel: &Path, is_dir: bool) -> bool {
        if rel.as_os_str().is_empty() {
            return false;
        }
        self.matcher
            .matched_path_or_any_parents(rel, is_dir)
            .is_ignore()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(p: &[&str]) -> Excludes {
        Excludes::new(p).unwrap()
    }

    #[test]
    fn defaults_match_in_toto() {
        let d = Excludes::defaults();
        assert!(d.is_excluded(Path::new("step.link"), false));
        assert!(d.is_excluded(Path::new("a/b/step.abcd1234.link"), false));
        assert!(d.is_excluded(Path::new("a/.step.abcd1234.link-unfinished"), false));
        assert!(d.is_excluded(Path::new(".git"), true));
        assert!(d.is_excluded(Path::new("sub/.git"), true));
        assert!(d.is_excluded(Path::new("x/y.pyc"), false));
        assert!(d.is_excluded(Path::new("notes.txt~"), false));
        assert!(!d.is_excluded(Path::new("src/main.rs"), false));
        assert!(!d.is_excluded(Path::new(".gitignore"), false));
        assert!(d.is_excluded_or_parent(Path::new(".git/config"), false));
        assert!(!d.is_excluded_or_parent(Path::new(""), true));
    }

    #[test]
    fn gitignore_semantics() {
        let e = ex(&[
            "build/",
            "/top.txt",
            "*.o",
            "!keep.o",
            "docs/**/*.tmp",
            "# comment",
            "",
        ]);
        assert!(e.is_excluded(Path::new("build"), true));
        assert!(
            !e.is_excluded(Path::new("build"), false),
            "trailing slash: directories only"
        );
        assert!(e.is_excluded(Path::new("sub/build"), true));
        assert!(e.is_excluded(Path::new("top.txt"), false));
        assert!(
            !e.is_excluded(Path::new("sub/top.txt"), false),
            "leading slash anchors"
        );
        assert!(e.is_excluded(Path::new("a/b.o"), false));
        assert!(
            !e.is_excluded(Path::new("a/keep.o"), false),
            "negation re-includes"
        );
        assert!(e.is_excluded(Path::new("docs/a/b/c.tmp"), false));
        assert!(!e.is_excluded(Path::new("src/c.tmp"), false));
        assert!(e.is_excluded_or_parent(Path::new("build/out/x"), false));
        assert_eq!(e.patterns().len(), 5);
    }

    #[test]
    fn bad_pattern_is_an_error() {
        let err = Excludes::new(["a[z-a]"]).unwrap_err();
        assert!(matches!(err, Error::Pattern { ref pattern, .. } if pattern == "a[z-a]"));
    }
}
