//! The readable side of a ticket's history: a sentence per event in the
//! caller's language, and the history as CSV for spreadsheets.

use actix_web::HttpRequest;
use actix_web::http::header::{Accept, Header};
use std::borrow::Cow;

use serde_json::Value;

use super::i18n::{self, Language, Parameters};

/// The sentence that says what an event did, in `language`, from its
/// payload as rendered for the caller (so masked or erased values stay so).
///
/// Parameters: each payload member by name (a nested object's members as
/// `<member>_<name>`, a list as `<member>_count`, plus the list itself when
/// it holds only text), `actor` (the subject part of the actor id) and
/// `number` (the ticket's).
pub fn summary(language: Language, event_type: &str, payload: &Value, actor: &str, number: &str) -> String {
    let id = i18n::event_message_id(event_type);
    i18n::catalogue()
        .render_with(language, &id, |name| parameter(payload, name, actor, number))
        // Only a type this build does not know (a newer server wrote it)
        // has no sentence; the entry still carries its type and payload.
        .unwrap_or_else(|| event_type.to_owned())
}

/// One parameter of an event's sentence, as [`parameters`] names it: only
/// what the sentence uses is worked out (a history of a thousand notes
/// would otherwise copy every note's text into a map it mostly ignores).
pub fn parameter<'a>(payload: &'a Value, name: &str, actor: &'a str, number: &'a str) -> Option<Cow<'a, str>> {
    match name {
        "actor" => return Some(Cow::Borrowed(short_actor(actor))),
        "number" => return Some(Cow::Borrowed(number)),
        _ => {}
    }
    member_parameter(payload, name, 0)
}

/// `name` among the members of `payload`, as [`parameter_names`] names them.
fn member_parameter<'a>(payload: &'a Value, name: &str, depth: usize) -> Option<Cow<'a, str>> {
    let Value::Object(members) = payload else {
        return None;
    };
    if let Some(value) = members.get(name) {
        match value {
            Value::String(s) => return Some(Cow::Borrowed(s)),
            Value::Bool(_) | Value::Number(_) => return Some(Cow::Owned(value.to_string())),
            Value::Array(items) => {
                let texts: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                if let Some(texts) = texts {
                    return Some(Cow::Owned(texts.join(", ")));
                }
            }
            Value::Null | Value::Object(_) => {}
        }
    }
    if let Some(Value::Array(items)) = name.strip_suffix("_count").and_then(|list| members.get(list)) {
        return Some(Cow::Owned(items.len().to_string()));
    }
    if depth > 0 {
        return None;
    }
    // `<member>_<inner>`: a nested object's member (names hold `_` too,
    // so every split is tried).
    name.match_indices('_').find_map(|(at, _)| {
        let inner = members.get(&name[..at]).filter(|v| v.is_object())?;
        member_parameter(inner, &name[at + 1..], depth + 1)
    })
}

/// The parameters of an event's sentence, all of them (the contract test
/// lists them; [`summary`] asks [`parameter`] for those it uses). The
/// names are listed here; every value comes from [`parameter`].
pub fn parameters(payload: &Value, actor: &str, number: &str) -> Parameters {
    let mut names = vec!["actor".to_owned(), "number".to_owned()];
    if let Value::Object(members) = payload {
        for (name, value) in members {
            parameter_names(name, value, 0, &mut names);
        }
    }
    names
        .into_iter()
        .filter_map(|name| {
            let value = parameter(payload, &name, actor, number)?.into_owned();
            Some((name, value))
        })
        .collect()
}

/// The names a member gives parameters: its own (a list's only when it
/// holds text), `<member>_count` for a list, `<member>_<inner>` for the
/// members of an object one level down.
fn parameter_names(name: &str, value: &Value, depth: usize, out: &mut Vec<String>) {
    match value {
        Value::Null => {}
        Value::String(_) | Value::Bool(_) | Value::Number(_) => out.push(name.to_owned()),
        Value::Array(items) => {
            out.push(format!("{name}_count"));
            if items.iter().all(Value::is_string) {
                out.push(name.to_owned());
            }
        }
        Value::Object(members) if depth == 0 => {
            for (inner, value) in members {
                parameter_names(&format!("{name}_{inner}"), value, depth + 1, out);
            }
        }
        Value::Object(_) => {}
    }
}

/// The subject part of an actor id (`issuer|subject`), which people know
/// each other by; the whole id is in the entry's `actor`.
fn short_actor(actor: &str) -> &str {
    actor.rsplit_once('|').map_or(actor, |(_, subject)| subject)
}

/// Whether the request prefers CSV (`Accept: text/csv`) to JSON.
pub fn wants_csv(req: &HttpRequest) -> bool {
    let Ok(accept) = Accept::parse(req) else {
        return false;
    };
    for preference in accept.ranked() {
        let essence = preference.essence_str();
        if essence == "text/csv" {
            return true;
        }
        if matches!(essence, "application/json" | "*/*" | "application/*") {
            return false;
        }
    }
    false
}

/// One row of the CSV history.
pub struct CsvRow<'a> {
    pub recorded_at: String,
    pub actor: &'a str,
    pub event_type: &'a str,
    pub version: u64,
    pub summary: &'a str,
    pub path: &'a str,
    pub old: Option<&'a Value>,
    pub new: Option<&'a Value>,
}

/// The CSV header.
pub const CSV_HEADER: [&str; 8] = [
    "time",
    "actor",
    "event_type",
    "version",
    "summary",
    "path",
    "old",
    "new",
];

/// Writes rows as CSV, every cell defused against formula injection.
pub fn write_csv<'a>(rows: impl IntoIterator<Item = CsvRow<'a>>) -> Result<Vec<u8>, csv::Error> {
    // A byte-order mark: spreadsheets otherwise open UTF-8 (Chinese text)
    // in the machine's legacy code page.
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        writer.write_record(CSV_HEADER)?;
        for row in rows {
            let version = row.version.to_string();
            let old = cell_of(row.old);
            let new = cell_of(row.new);
            writer.write_record([
                defuse(&row.recorded_at).as_ref(),
                defuse(row.actor).as_ref(),
                defuse(row.event_type).as_ref(),
                version.as_str(),
                defuse(row.summary).as_ref(),
                defuse(row.path).as_ref(),
                defuse(&old).as_ref(),
                defuse(&new).as_ref(),
            ])?;
        }
        writer.flush()?;
    }
    Ok(out)
}

/// A value as a cell: text as itself, nothing as empty, the rest as JSON.
fn cell_of(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// A cell a spreadsheet would take for a formula (it starts with `=`, `+`,
/// `-`, `@`, a tab or a carriage return) gets a leading apostrophe, as
/// OWASP's guidance on CSV injection says; quoting is the CSV writer's.
fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parameters_flatten_one_level_and_count_lists() {
        let p = parameters(
            &json!({"fault": {"id": "x", "number": "FLT-1"}, "parts": ["a", "b"], "rating": 4, "gone": null,
                    "deep": {"inner": {"x": 1}}}),
            "https://idp|li.na",
            "CMP-1",
        );
        assert_eq!(p["actor"], "li.na");
        assert_eq!(p["fault_number"], "FLT-1");
        assert_eq!((p["parts"].as_str(), p["parts_count"].as_str()), ("a, b", "2"));
        assert_eq!(p["rating"], "4");
        assert!(!p.contains_key("gone") && !p.contains_key("deep_inner_x"));
    }

    #[test]
    fn every_parameter_named_has_a_value_and_nothing_else_does() {
        let payload = json!({"fault": {"id": "x", "number": "FLT-1", "tags": ["p", "q"]}, "parts": ["a", "b"],
                             "rating": 4, "gone": null, "maintenance_type": "corrective", "ok": true,
                             "deep": {"inner": {"x": 1}}, "mixed": [1, "a"]});
        let all: std::collections::BTreeMap<String, String> =
            parameters(&payload, "https://idp|li.na", "CMP-1").into_iter().collect();
        let expected = [
            ("actor", "li.na"),
            ("fault_id", "x"),
            ("fault_number", "FLT-1"),
            ("fault_tags", "p, q"),
            ("fault_tags_count", "2"),
            ("maintenance_type", "corrective"),
            ("mixed_count", "2"),
            ("number", "CMP-1"),
            ("ok", "true"),
            ("parts", "a, b"),
            ("parts_count", "2"),
            ("rating", "4"),
        ];
        let expected: std::collections::BTreeMap<String, String> = expected
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(all, expected);
        for absent in [
            "gone",
            "deep_inner_x",
            "deep_inner",
            "mixed",
            "nothing",
            "fault_nothing",
        ] {
            assert_eq!(parameter(&payload, absent, "a", "n"), None, "{absent}");
        }
    }

    #[test]
    fn cells_that_a_spreadsheet_would_run_are_defused() {
        for evil in ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(defuse(evil), format!("'{evil}"));
        }
        assert_eq!(defuse("更换光猫"), "更换光猫");
        let note = json!("=HYPERLINK(\"http://evil\",\"x\")");
        let csv = write_csv([CsvRow {
            recorded_at: "2026-12-02T08:00:00Z".into(),
            actor: "@agent",
            event_type: "complaint.note_added",
            version: 2,
            summary: "li.na added a note",
            path: "/notes/0",
            old: None,
            new: Some(&note),
        }])
        .expect("csv");
        let text = String::from_utf8(csv).expect("utf-8");
        assert!(text.starts_with('\u{feff}'));
        let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let row = reader.records().next().expect("a row").expect("valid");
        assert_eq!(&row[1], "'@agent");
        assert_eq!(&row[7], "'=HYPERLINK(\"http://evil\",\"x\")");
    }
}
