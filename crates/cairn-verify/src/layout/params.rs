//! Layout parameter substitution (in-toto specification v1.0, section 5.1 "parameter
//! substitution"), with the reference's `str.format` semantics for the forms that make sense in
//! a layout: `{NAME}` is replaced by the parameter's value, `{{` and `}}` stand for literal
//! braces. Substitution applies to every element of `expected_command`, of every artifact rule
//! of steps and inspections, and of inspection `run` commands, before rules are parsed (so a
//! parameter may stand for a rule keyword or a step name).
//!
//! As in the reference, substitution only happens when parameters are given at all; then a
//! placeholder without a value, a lone brace, or a format spec (`{X:>4}`, `{X!r}`) is an error.

use std::collections::BTreeMap;

use serde_json::Value;

/// Why substitution failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamError {
    /// A parameter name has characters other than `A-Za-z0-9_-`.
    #[error("parameter name {name:?} may only contain letters, digits, '_' and '-'")]
    BadName {
        /// The name.
        name: String,
    },
    /// The layout uses `{name}` but no value was given.
    #[error(
        "the layout uses {{{name}}} in {location} but no value was given (use --param {name}=VALUE)"
    )]
    Missing {
        /// The placeholder name.
        name: String,
        /// Where (`steps[build].expected_command`).
        location: String,
    },
    /// A brace that is neither `{NAME}`, `{{` nor `}}`.
    #[error("malformed placeholder in {location}: {text:?}")]
    Malformed {
        /// The offending string.
        text: String,
        /// Where.
        location: String,
    },
}

/// Checks parameter names as the reference does (`^[a-zA-Z0-9_-]+$`).
pub fn check_names(params: &BTreeMap<String, String>) -> Result<(), ParamError> {
    for name in params.keys() {
        let ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ok {
            return Err(ParamError::BadName { name: name.clone() });
        }
    }
    Ok(())
}

/// Formats one string.
pub fn format(
    text: &str,
    params: &BTreeMap<String, String>,
    location: &str,
) -> Result<String, ParamError> {
    let malformed = || ParamError::Malformed {
        text: text.to_owned(),
        location: location.to_owned(),
    };
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' => {
                if chars.peek().map(|(_, c)| *c) == Some('{') {
                    chars.next();
                    out.push('{');
                    continue;
                }
                let rest = &text[i + 1..];
                let end = rest.find('}').ok_or_else(malformed)?;
                let name = &rest[..end];
                if name.is_empty() || name.contains(['{', ':', '!', '[', '.']) {
                    return Err(malformed());
                }
                let value = params.get(name).ok_or_else(|| ParamError::Missing {
                    name: name.to_owned(),
                    location: location.to_owned(),
                })?;
                out.push_str(value);
                // Skip the name and the closing brace.
                for _ in 0..=name.chars().count() {
                    chars.next();
                }
            }
            '}' => {
                if chars.peek().map(|(_, c)| *c) == Some('}') {
                    chars.next();
                    out.push('}');
                } else {
                    return Err(malformed());
                }
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

fn format_array(
    value: &mut Value,
    params: &BTreeMap<String, String>,
    location: &str,
) -> Result<(), ParamError> {
    if let Some(items) = value.as_array_mut() {
        for item in items {
            if let Some(s) = item.as_str() {
                *item = Value::String(format(s, params, location)?);
            }
        }
    }
    Ok(())
}

/// Substitutes parameters in a layout's `signed` value (a copy; the signature was checked on
/// the original).
pub fn substitute(signed: &mut Value, params: &BTreeMap<String, String>) -> Result<(), ParamError> {
    check_names(params)?;
    for (list, command_field) in [("steps", "expected_command"), ("inspect", "run")] {
        let Some(items) = signed.get_mut(list).and_then(Value::as_array_mut) else {
            continue;
        };
        for item in items {
            let name = item
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if let Some(cmd) = item.get_mut(command_field) {
                format_array(cmd, params, &format!("{list}[{name}].{command_field}"))?;
            }
            for rules_field in ["expected_materials", "expected_products"] {
                let Some(rules) = item.get_mut(rules_field).and_then(Value::as_array_mut) else {
                    continue;
                };
                for (i, rule) in rules.iter_mut().enumerate() {
                    format_array(rule, params, &format!("{list}[{name}].{rules_field}[{i}]"))?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn replaces_placeholders_and_unescapes_braces() {
        let params = p(&[("EDITOR", "vi"), ("N", "3")]);
        assert_eq!(format("{EDITOR} -n{N}", &params, "x").unwrap(), "vi -n3");
        assert_eq!(format("{{EDITOR}} }}", &params, "x").unwrap(), "{EDITOR} }");
        assert_eq!(format("été {N}é", &params, "x").unwrap(), "été 3é");
    }

    #[test]
    fn missing_and_malformed_are_errors() {
        let params = p(&[("A", "1")]);
        assert!(matches!(
            format("{B}", &params, "x"),
            Err(ParamError::Missing { .. })
        ));
        assert!(matches!(
            format("{A", &params, "x"),
            Err(ParamError::Malformed { .. })
        ));
        assert!(matches!(
            format("A}", &params, "x"),
            Err(ParamError::Malformed { .. })
        ));
        assert!(matches!(
            format("{A:>3}", &params, "x"),
            Err(ParamError::Malformed { .. })
        ));
        assert!(check_names(&p(&[("a b", "1")])).is_err());
    }

    #[test]
    fn substitutes_commands_rules_and_inspection_runs() {
        let mut v: Value = serde_json::json!({
            "steps": [{"name": "s", "expected_command": ["make", "{T}"],
                       "expected_products": [["CREATE", "{T}.bin"]]}],
            "inspect": [{"name": "i", "run": ["check", "{T}"], "expected_materials": [["MATCH", "*", "WITH", "PRODUCTS", "FROM", "{S}"]]}]
        });
        substitute(&mut v, &p(&[("T", "app"), ("S", "s")])).unwrap();
        assert_eq!(v["steps"][0]["expected_command"][1], "app");
        assert_eq!(v["steps"][0]["expected_products"][0][1], "app.bin");
        assert_eq!(v["inspect"][0]["run"][1], "app");
        assert_eq!(v["inspect"][0]["expected_materials"][0][5], "s");
    }
}
