//! Shared test support: fixtures under testdata/slsa, and a structural validator for SLSA
//! provenance v1 Statements built from the copied protobuf definitions.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use cairn_slsa::{Environment, IdTokenClaims};
use serde_json::Value;

pub fn slsa() -> PathBuf {
    cairn_testkit::testdata().join("slsa")
}

/// Reads a `KEY=VALUE` environment fixture (`#` comments, blank lines skipped).
pub fn env_fixture(name: &str) -> Environment {
    let text = std::fs::read_to_string(slsa().join("env").join(format!("{name}.env"))).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l
                .split_once('=')
                .unwrap_or_else(|| panic!("bad fixture line {l:?}"));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

pub fn claims_fixture(name: &str) -> Option<IdTokenClaims> {
    let path = slsa().join("env").join(format!("{name}.claims.json"));
    let bytes = std::fs::read(path).ok()?;
    match serde_json::from_slice::<Value>(&bytes).unwrap() {
        Value::Object(map) => Some(IdTokenClaims(map)),
        _ => panic!("claims fixture is not an object"),
    }
}

/// A protobuf message: field JSON name → (type, repeated).
#[derive(Debug, Default)]
pub struct Message {
    pub fields: BTreeMap<String, (String, bool)>,
}

/// Parses the messages of the copied .proto files (the subset of proto3 they use).
pub fn protos() -> BTreeMap<String, Message> {
    let dir = slsa().join("vectors/schemas/in-toto-attestation-protos/protos/in_toto_attestation");
    let mut out = BTreeMap::new();
    for rel in [
        "v1/statement.proto",
        "v1/resource_descriptor.proto",
        "predicates/provenance/v1/provenance.proto",
    ] {
        let text = std::fs::read_to_string(dir.join(rel)).unwrap();
        let mut current: Option<(String, Message)> = None;
        for raw in text.lines() {
            let line = raw.split("//").next().unwrap().trim();
            if let Some(rest) = line.strip_prefix("message ") {
                let name = rest.trim_end_matches('{').trim().to_owned();
                current = Some((name, Message::default()));
            } else if line == "}" {
                if let Some((name, msg)) = current.take() {
                    out.insert(name, msg);
                }
            } else if let Some((_, msg)) = current.as_mut()
                && let Some((decl, _)) = line.split_once('=')
            {
                let json_override = line
                    .split_once("json_name = \"")
                    .map(|(_, r)| r.split('"').next().unwrap().to_owned());
                let mut words: Vec<&str> = decl.split_whitespace().collect();
                let field = words.pop().unwrap();
                let repeated = words.first() == Some(&"repeated");
                if repeated {
                    words.remove(0);
                }
                let ty = words.join(" ");
                let json = json_override.unwrap_or_else(|| camel(field));
                msg.fields.insert(json, (ty, repeated));
            }
        }
    }
    out
}

fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in snake.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.push(c.to_ascii_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Checks `value` against message `name`: every key is a declared field (by its JSON name),
/// every value has the declared type. Returns the problems found.
pub fn check_message(
    protos: &BTreeMap<String, Message>,
    name: &str,
    value: &Value,
    path: &str,
    problems: &mut Vec<String>,
) {
    let msg = &protos[name];
    let Some(obj) = value.as_object() else {
        problems.push(format!("{path}: expected an object for {name}"));
        return;
    };
    for (key, v) in obj {
        let here = format!("{path}.{key}");
        let Some((ty, repeated)) = msg.fields.get(key) else {
            problems.push(format!("{here}: not a field of {name}"));
            continue;
        };
        if *repeated {
            match v.as_array() {
                Some(items) => items.iter().enumerate().for_each(|(i, item)| {
                    check_type(protos, ty, item, &format!("{here}[{i}]"), problems)
                }),
                None => problems.push(format!("{here}: expected an array")),
            }
        } else {
            check_type(protos, ty, v, &here, problems);
        }
    }
}

fn check_type(
    protos: &BTreeMap<String, Message>,
    ty: &str,
    v: &Value,
    path: &str,
    problems: &mut Vec<String>,
) {
    let short = ty.rsplit('.').next().unwrap();
    match short {
        "string" if !v.is_string() => problems.push(format!("{path}: expected a string")),
        "string" => {}
        "bytes" if !v.is_string() => problems.push(format!("{path}: expected base64 bytes")),
        "bytes" => {}
        "Struct" if !v.is_object() => problems.push(format!("{path}: expected an object (Struct)")),
        "Struct" => {}
        "Timestamp" => match v.as_str().map(chrono::DateTime::parse_from_rfc3339) {
            Some(Ok(_)) => {}
            _ => problems.push(format!("{path}: expected an RFC 3339 timestamp")),
        },
        _ if ty.starts_with("map<string, string>") || ty.starts_with("map<string,string>") => {
            match v.as_object() {
                Some(m) if m.values().all(Value::is_string) => {}
                _ => problems.push(format!("{path}: expected a map of strings")),
            }
        }
        name if protos.contains_key(name) => check_message(protos, name, v, path, problems),
        other => problems.push(format!("{path}: unknown proto type {other}")),
    }
}

/// Validates a Statement with a SLSA provenance v1 predicate: field names and types against
/// the protos, plus the required fields of the spec and the in-toto Go validators.
pub fn validate_provenance_statement(statement: &Value) -> Vec<String> {
    let protos = protos();
    let mut problems = Vec::new();
    check_message(&protos, "Statement", statement, "$", &mut problems);
    check_message(
        &protos,
        "Provenance",
        &statement["predicate"],
        "$.predicate",
        &mut problems,
    );
    for (ptr, what) in [
        ("/_type", "Statement._type"),
        ("/predicateType", "Statement.predicateType"),
        (
            "/predicate/buildDefinition/buildType",
            "buildDefinition.buildType",
        ),
        (
            "/predicate/buildDefinition/externalParameters",
            "buildDefinition.externalParameters",
        ),
        ("/predicate/runDetails/builder/id", "runDetails.builder.id"),
    ] {
        if statement.pointer(ptr).is_none() {
            problems.push(format!("required field {what} missing"));
        }
    }
    if statement["subject"].as_array().is_none_or(Vec::is_empty) {
        problems.push("no subject".into());
    }
    if let Err(e) = cairn_slsa::verify::validate_statement(statement) {
        problems.push(e.to_string());
    }
    if let Err(e) = cairn_slsa::verify::validate_provenance_v1(&statement["predicate"]) {
        problems.push(e.to_string());
    }
    problems
}
