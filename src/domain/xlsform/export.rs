//! A definition written as an XLSForm: one group per section, one list per
//! choice question, conditions as XPath. What XLSForm cannot say (yes/no
//! questions, index mappings, the indices, the description, "don't know"
//! on questions without a list) goes into a `hailong` column of JSON,
//! which pyxform ignores and [`super::read`] reads back, so that an
//! exported form imports as the same definition.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::super::questionnaire::{Definition, Question, QuestionType};
use super::super::text::Text;

/// A sheet being written: its columns in order and its rows.
#[derive(Default)]
struct Table {
    columns: Vec<String>,
    rows: Vec<BTreeMap<String, String>>,
}

impl Table {
    fn column(&mut self, name: &str) {
        if !self.columns.iter().any(|c| c == name) {
            self.columns.push(name.to_owned());
        }
    }

    fn push(&mut self, row: BTreeMap<String, String>) {
        for k in row.keys() {
            self.column(k);
        }
        self.rows.push(row);
    }
}

/// `vi` → `Tiếng Việt (vi)`: a header pyxform and Kobo show as a name,
/// with the code [`super::languages::language_code`] reads back.
fn language_header(code: &str) -> String {
    let name = match code {
        "vi" => "Tiếng Việt",
        "en" => "English",
        "fr" => "Français",
        other => other,
    };
    format!("{name} ({code})")
}

fn put_text(row: &mut BTreeMap<String, String>, family: &str, text: &Text) {
    for (lang, value) in &text.0 {
        if !value.trim().is_empty() {
            row.insert(
                format!("{family}::{}", language_header(lang)),
                value.clone(),
            );
        }
    }
}

fn quote(s: &str) -> String {
    if s.contains('\'') {
        format!("\"{s}\"")
    } else {
        format!("'{s}'")
    }
}

fn literal(v: &Value) -> String {
    match v {
        Value::String(s) => quote(s),
        Value::Bool(true) => "'yes'".to_owned(),
        Value::Bool(false) => "'no'".to_owned(),
        other => other.to_string(),
    }
}

/// A condition of the spec (as JSON) as an XLSForm expression.
pub fn xpath(c: &Value) -> String {
    let inner = |v: &Value| {
        let s = xpath(v);
        let ne = v.get("op").and_then(Value::as_str) == Some("ne");
        if v.get("all").is_some() || v.get("any").is_some() || ne {
            format!("({s})")
        } else {
            s
        }
    };
    if let Some(Value::Array(parts)) = c.get("all") {
        return parts.iter().map(inner).collect::<Vec<_>>().join(" and ");
    }
    if let Some(Value::Array(parts)) = c.get("any") {
        return parts.iter().map(inner).collect::<Vec<_>>().join(" or ");
    }
    if let Some(n) = c.get("not") {
        return format!("not({})", xpath(n));
    }
    let q = c.get("question").and_then(Value::as_str).unwrap_or("");
    let mut subject = if q == "." {
        ".".to_owned()
    } else {
        format!("${{{q}}}")
    };
    match c.get("fn").and_then(Value::as_str) {
        Some("count_selected") => subject = format!("count-selected({subject})"),
        Some("string_length") => subject = format!("string-length({subject})"),
        _ => {}
    }
    let value = c.get("value").map(literal).unwrap_or_default();
    match c.get("op").and_then(Value::as_str).unwrap_or("") {
        "answered" => format!("{subject} != ''"),
        "selected" => format!("selected({subject}, {value})"),
        "matches" => format!("regex({subject}, {value})"),
        // Hailong's `ne` needs an answer; XPath's `!=` alone does not.
        "ne" => format!("{subject} != '' and {subject} != {value}"),
        op => {
            let sign = match op {
                "eq" => "=",
                "gt" => ">",
                "gte" => ">=",
                "lt" => "<",
                _ => "<=",
            };
            format!("{subject} {sign} {value}")
        }
    }
}

fn choice_row(list: &str, name: &str, label: &Text) -> BTreeMap<String, String> {
    let mut row = BTreeMap::new();
    row.insert("list_name".to_owned(), list.to_owned());
    row.insert("name".to_owned(), name.to_owned());
    put_text(&mut row, "label", label);
    row
}

fn dk_na(q: &Question, list: &str, choices: &mut Table) {
    if q.dont_know {
        choices.push(choice_row(
            list,
            "dk",
            &Text::vi_en("Không biết", "Don't know"),
        ));
    }
    if q.not_applicable {
        choices.push(choice_row(
            list,
            "na",
            &Text::vi_en("Không áp dụng", "Not applicable"),
        ));
    }
}

const YES_NO_LIST: &str = "hailong_yes_no";

/// One question's survey row, and its list in the choices sheet.
fn question_row(
    q: &Question,
    choices: &mut Table,
    yes_no_written: &mut bool,
) -> BTreeMap<String, String> {
    let mut row = BTreeMap::new();
    let mut extra = Map::new();
    let json = serde_json::to_value(q).unwrap_or(Value::Null);
    let kind = match q.kind {
        QuestionType::Scale => {
            row.insert("appearance".to_owned(), "likert".to_owned());
            for p in &q.points {
                choices.push(choice_row(&q.code, &p.value.to_string(), &p.label));
            }
            dk_na(q, &q.code, choices);
            format!("select_one {}", q.code)
        }
        QuestionType::SingleChoice | QuestionType::MultipleChoice => {
            let options = json
                .get("options")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for (o, raw) in q.options.iter().zip(options) {
                let mut c = choice_row(&q.code, &o.value, &o.label);
                if let Some(Value::Object(filters)) = raw.get("filters") {
                    for (col, v) in filters {
                        c.insert(
                            col.clone(),
                            v.as_str()
                                .map(str::to_owned)
                                .unwrap_or_else(|| v.to_string()),
                        );
                    }
                }
                choices.push(c);
            }
            dk_na(q, &q.code, choices);
            let word = if q.kind == QuestionType::SingleChoice {
                "select_one"
            } else {
                "select_multiple"
            };
            format!("{word} {}", q.code)
        }
        QuestionType::YesNo => {
            if !*yes_no_written {
                choices.push(choice_row(YES_NO_LIST, "yes", &Text::vi_en("Có", "Yes")));
                choices.push(choice_row(YES_NO_LIST, "no", &Text::vi_en("Không", "No")));
                *yes_no_written = true;
            }
            extra.insert("type".to_owned(), json!("yes_no"));
            format!("select_one {YES_NO_LIST}")
        }
        QuestionType::Number => "integer".to_owned(),
        QuestionType::ShortText => "text".to_owned(),
        QuestionType::LongText => {
            row.insert("appearance".to_owned(), "multiline".to_owned());
            "text".to_owned()
        }
    };
    if !matches!(
        q.kind,
        QuestionType::Scale | QuestionType::SingleChoice | QuestionType::MultipleChoice
    ) {
        if q.dont_know {
            extra.insert("dont_know".to_owned(), Value::Bool(true));
        }
        if q.not_applicable {
            extra.insert("not_applicable".to_owned(), Value::Bool(true));
        }
    }
    row.insert("type".to_owned(), kind);
    row.insert("name".to_owned(), q.code.clone());
    put_text(&mut row, "label", &q.label);
    put_text(&mut row, "hint", &q.help);
    if q.required {
        row.insert("required".to_owned(), "yes".to_owned());
    }
    let mut constraint = Vec::new();
    if q.kind == QuestionType::Number {
        if let Some(min) = q.min {
            constraint.push(format!(". >= {min}"));
        }
        if let Some(max) = q.max {
            constraint.push(format!(". <= {max}"));
        }
    }
    if let Some(c) = json.get("constraint") {
        constraint.push(xpath(c));
    }
    if !constraint.is_empty() {
        row.insert("constraint".to_owned(), constraint.join(" and "));
    }
    if let Some(c) = json.get("condition") {
        row.insert("relevant".to_owned(), xpath(c));
    }
    if let Some(c) = json.get("required_if") {
        row.insert("required".to_owned(), xpath(c));
    }
    for family in ["constraint_message", "required_message"] {
        if let Some(t) = json
            .get(family)
            .and_then(|v| serde_json::from_value::<Text>(v.clone()).ok())
        {
            put_text(&mut row, family, &t);
        }
    }
    if let Some(d) = json.get("default") {
        let cell = match d {
            Value::String(s) => s.clone(),
            Value::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
            Value::Array(items) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| i.to_string())
                })
                .collect::<Vec<_>>()
                .join(" "),
            other => other.to_string(),
        };
        row.insert("default".to_owned(), cell);
    }
    if json.get("read_only") == Some(&Value::Bool(true)) {
        row.insert("read_only".to_owned(), "yes".to_owned());
    }
    if let Some(f) = json.get("choice_filter") {
        let col = f.get("column").and_then(Value::as_str).unwrap_or("");
        let q = f.get("question").and_then(Value::as_str).unwrap_or("");
        let cell = if f.get("op").and_then(Value::as_str) == Some("selected") {
            format!("selected(${{{q}}}, {col})")
        } else {
            format!("{col}=${{{q}}}")
        };
        row.insert("choice_filter".to_owned(), cell);
    }
    if let Some(ix) = &q.index {
        extra.insert(
            "index".to_owned(),
            serde_json::to_value(ix).unwrap_or(Value::Null),
        );
    }
    if !extra.is_empty() {
        row.insert("hailong".to_owned(), Value::Object(extra).to_string());
    }
    row
}

/// The three sheets of the XLSForm of a definition.
fn tables(def: &Definition) -> (Table, Table, Table) {
    let mut survey = Table::default();
    let mut choices = Table::default();
    let mut settings = Table::default();
    for c in ["type", "name"] {
        survey.column(c);
    }
    for c in ["list_name", "name"] {
        choices.column(c);
    }
    let mut yes_no_written = false;
    for s in &def.sections {
        let mut row = BTreeMap::new();
        row.insert("type".to_owned(), "begin_group".to_owned());
        row.insert("name".to_owned(), s.code.clone());
        put_text(&mut row, "label", &s.title);
        put_text(&mut row, "hint", &s.description);
        if !s.lead_in.is_empty() {
            let extra = serde_json::json!({ "lead_in": s.lead_in });
            row.insert("hailong".to_owned(), extra.to_string());
        }
        if let Some(c) = serde_json::to_value(s)
            .ok()
            .as_ref()
            .and_then(|v| v.get("condition"))
        {
            row.insert("relevant".to_owned(), xpath(c));
        }
        survey.push(row);
        for q in &s.questions {
            let row = question_row(q, &mut choices, &mut yes_no_written);
            survey.push(row);
        }
        let mut end = BTreeMap::new();
        end.insert("type".to_owned(), "end_group".to_owned());
        survey.push(end);
    }
    let mut row = BTreeMap::new();
    row.insert("form_id".to_owned(), def.code.clone());
    row.insert("form_title".to_owned(), def.title.get("vi").to_owned());
    row.insert("default_language".to_owned(), language_header("vi"));
    let mut extra = Map::new();
    extra.insert(
        "title".to_owned(),
        serde_json::to_value(&def.title).unwrap_or(Value::Null),
    );
    if !def.description.is_empty() {
        extra.insert(
            "description".to_owned(),
            serde_json::to_value(&def.description).unwrap_or(Value::Null),
        );
    }
    if !def.indices.is_empty() {
        extra.insert(
            "indices".to_owned(),
            serde_json::to_value(&def.indices).unwrap_or(Value::Null),
        );
    }
    if let Some(source) = &def.source {
        extra.insert(
            "source".to_owned(),
            serde_json::to_value(source).unwrap_or(Value::Null),
        );
    }
    row.insert("hailong".to_owned(), Value::Object(extra).to_string());
    settings.push(row);
    (survey, choices, settings)
}

/// The bytes of an .xlsx XLSForm of `def`.
pub fn to_xlsx(def: &Definition) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let (survey, choices, settings) = tables(def);
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (name, table) in [
        ("survey", survey),
        ("choices", choices),
        ("settings", settings),
    ] {
        let ws = wb.add_worksheet();
        ws.set_name(name)?;
        for (c, col) in table.columns.iter().enumerate() {
            let c = u16::try_from(c).unwrap_or(u16::MAX);
            ws.write_string(0, c, col)?;
            for (r, row) in table.rows.iter().enumerate() {
                if let Some(v) = row.get(col) {
                    let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
                    ws.write_string(r, c, v)?;
                }
            }
        }
    }
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_are_written_as_xpath() {
        let c = json!({"all": [
            {"question": "a12", "op": "eq", "value": "1"},
            {"any": [
                {"question": "age", "op": "gt", "value": 17},
                {"not": {"question": "city", "op": "selected", "value": "hue"}}
            ]},
            {"question": "ok", "op": "eq", "value": true},
            {"question": "c", "op": "gte", "value": 2, "fn": "count_selected"},
            {"question": "t", "op": "answered"}
        ]});
        assert_eq!(
            xpath(&c),
            "${a12} = '1' and (${age} > 17 or not(selected(${city}, 'hue'))) and ${ok} = 'yes' and count-selected(${c}) >= 2 and ${t} != ''"
        );
    }
}
