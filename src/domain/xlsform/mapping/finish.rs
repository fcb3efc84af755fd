//! The rows mapped so far into a checked [`Definition`]: the spec's extra fields set one by
//! one, problems located by sheet row, the settings sheet's `hailong` column read back.

use super::*;

impl<'b> Mapper<'b> {
    pub(super) fn finish(
        mut self,
        code: String,
        title: Text,
        sections: Vec<BuiltSection>,
    ) -> Result<Imported, Refused> {
        let mut out_sections = Vec::new();
        let mut rows: Vec<SectionRows> = Vec::new();
        let mut pending: Vec<Pending> = Vec::new();
        let mut section_conditions = Vec::new();
        for s in sections {
            if s.questions.is_empty() {
                if !s.name.is_empty() {
                    self.warn(Warning::new(
                        "survey",
                        s.row,
                        &s.name,
                        "type",
                        code::GROUP_EMPTY,
                    ));
                }
                continue;
            }
            let si = out_sections.len();
            let mut section = s.section;
            let mut qrows = Vec::new();
            for (qi, b) in s.questions.into_iter().enumerate() {
                qrows.push(QuestionRows {
                    row: b.row,
                    name: b.name.clone(),
                    options: b.option_rows,
                });
                if !b.extras.is_empty() {
                    pending.push(Pending {
                        section: si,
                        question: qi,
                        extras: b.extras,
                        row: b.row,
                        name: b.name,
                    });
                }
                section.questions.push(b.q);
            }
            if let Some(c) = s.condition {
                section_conditions.push((si, c, s.row, s.name.clone()));
            }
            rows.push(SectionRows {
                row: s.row,
                name: s.name,
                questions: qrows,
            });
            out_sections.push(section);
        }
        if out_sections.is_empty() && !self.book.survey.rows.is_empty() {
            self.warn(Warning::new("survey", 0, "", "", code::NOTHING_TO_IMPORT));
        }
        let extras = self.settings_extras();
        let mut definition = Definition {
            code,
            title: extras.title.unwrap_or(title),
            description: extras.description,
            sections: out_sections,
            indices: extras.indices,
            source: extras.source,
        };
        // The spec's fields, one by one: what this version cannot store is said.
        for Pending {
            section: si,
            question: qi,
            extras,
            row,
            name,
        } in pending
        {
            for (key, value, column) in extras {
                let q = &mut definition.sections[si].questions[qi];
                if let Err(e) = set_field(q, &key, value) {
                    self.warn(
                        Warning::new("survey", row, &name, column, code::FIELD_NOT_STORED)
                            .with("field", key.as_str())
                            .with("detail", e),
                    );
                }
            }
        }
        for (si, c, row, name) in section_conditions {
            let s = &mut definition.sections[si];
            if let Err(e) = set_field(s, "condition", c) {
                self.warn(
                    Warning::new(
                        "survey",
                        row,
                        &name,
                        "relevant",
                        code::GROUP_CONDITION_NOT_STORED,
                    )
                    .with("detail", e),
                );
            }
        }
        let mut translation_needed = false;
        if let Err(list) = definition.check() {
            let (missing, other): (Vec<_>, Vec<_>) = list
                .into_iter()
                .partition(|e| e.code == "missing_vietnamese");
            if !missing.is_empty() {
                translation_needed = true;
                let first = place(&missing[0].field, &rows);
                self.warn(
                    Warning::new("settings", 0, "", "label", code::NO_VIETNAMESE)
                        .with("count", missing.len().to_string())
                        .with_part("first", first.part()),
                );
            }
            for mut e in other {
                e.field = locate(&e.field, &rows);
                self.errors.push(e);
            }
        }
        if self.errors.is_empty() {
            Ok(Imported {
                definition,
                warnings: self.warnings,
                translation_needed,
            })
        } else {
            Err(Refused {
                error: XlsFormError::Invalid(self.errors),
                warnings: self.warnings,
            })
        }
    }

    /// The settings sheet's `hailong` column (from an export): the
    /// description and the indices.
    pub(super) fn settings_extras(&mut self) -> SettingsExtras {
        let book = self.book;
        let Some(settings) = &book.settings else {
            return SettingsExtras::default();
        };
        let cols = Columns::new(settings);
        let Some(row) = settings.rows.first() else {
            return SettingsExtras::default();
        };
        let Some((text, col)) = cols.field(row, "hailong") else {
            return SettingsExtras::default();
        };
        match serde_json::from_str::<SettingsExtras>(text) {
            Ok(e) => e,
            Err(e) => {
                self.warn(
                    Warning::new("settings", 2, "", col, code::HAILONG_NOT_READ)
                        .with("detail", e.to_string()),
                );
                SettingsExtras::default()
            }
        }
    }
}

/// What the settings sheet's `hailong` column holds.
#[derive(Default, serde::Deserialize)]
pub(super) struct SettingsExtras {
    #[serde(default)]
    title: Option<Text>,
    #[serde(default)]
    description: Text,
    #[serde(default)]
    indices: Vec<IndexDefinition>,
    /// The official instrument a preset transcribes (see `domain::instrument`).
    #[serde(default)]
    source: Option<Box<crate::domain::instrument::Source>>,
}

/// Fields of the condition spec waiting to be set on a question.
pub(super) struct Pending {
    section: usize,
    question: usize,
    extras: Vec<(String, Value, &'static str)>,
    row: usize,
    name: String,
}

/// Sets a field of the condition spec on a question or section through its
/// JSON; an error when this version of the model does not know it.
pub(super) fn set_field<T: serde::Serialize + serde::de::DeserializeOwned>(
    item: &mut T,
    key: &str,
    value: Value,
) -> Result<(), String> {
    let mut v = serde_json::to_value(&*item).map_err(|e| e.to_string())?;
    if let Value::Object(m) = &mut v {
        m.insert(key.to_owned(), value);
    }
    *item = serde_json::from_value(v).map_err(|e| e.to_string())?;
    Ok(())
}
