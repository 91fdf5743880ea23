//! Rendering of errors for people: `error: ...`, one `caused by: ...` per source, then hints.

use crate::output::Ctx;

/// Adds a `hint:` line (advice, not a cause) to an error.
#[allow(dead_code)]
pub fn with_hint(err: anyhow::Error, hint: impl Into<String>) -> anyhow::Error {
    err.context(HintedError(hint.into()))
}

/// True when `err` already carries a hint.
pub fn has_hint(err: &anyhow::Error) -> bool {
    err.downcast_ref::<HintedError>().is_some()
}

#[derive(Debug)]
struct HintedError(String);

impl std::fmt::Display for HintedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Prints `err` and its chain of causes to stderr.
pub fn render_error(ctx: &Ctx, err: &anyhow::Error) {
    let mut hints = Vec::new();
    let mut lines = Vec::new();
    if let Some(h) = err.downcast_ref::<HintedError>() {
        hints.push(h.0.clone());
    }
    for cause in err.chain() {
        let text = cause.to_string();
        if hints.contains(&text) {
            continue;
        }
        // Sources often repeat their own source's text ("x: y" then "y"); show each once.
        if lines
            .last()
            .is_some_and(|prev: &String| prev.ends_with(&text))
        {
            continue;
        }
        lines.push(text);
    }
    let mut iter = lines.into_iter();
    let first = iter.next().unwrap_or_else(|| "unknown error".to_string());
    eprintln!("{} {first}", ctx.paint_err("error:", "1;31"));
    for cause in iter {
        eprintln!("  {} {cause}", ctx.paint_err("caused by:", "2"));
    }
    for hint in hints {
        eprintln!("{} {hint}", ctx.paint_err("hint:", "36"));
    }
}

/// True when the error comes from writing to a closed pipe (`cairn ... | head`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
