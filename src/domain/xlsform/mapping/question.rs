//! One survey row into its question(s): type, texts, options, conditions, constraints,
//! defaults and everything that cannot be kept, said as a warning.

use super::*;

impl<'b> Mapper<'b> {
    /// The question(s) a row becomes: none (with a warning), one, or two
    /// (a choice with `or_other` and its follow-up).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn question(
        &mut self,
        line: usize,
        row: &[String],
        cols: &Columns,
        name: &str,
        rt: RowType,
        relevant: Option<(&str, &str)>,
        outer: Vec<Value>,
        section: &mut BuiltSection,
    ) -> Vec<Built> {
        let book = self.book;
        let survey = &book.survey;
        match &rt {
            RowType::Metadata(t) => {
                self.warn(
                    Warning::new("survey", line, name, "type", code::METADATA_LEFT_OUT)
                        .with("type", t.as_str()),
                );
                self.scope
                    .not_asked
                    .insert(name.to_owned(), Reason::new(code::NOT_ASKED_METADATA));
                return vec![];
            }
            RowType::Calculate(t) => {
                let formula = cols.get(row, "calculation");
                self.warn(if formula.is_empty() {
                    Warning::new(
                        "survey",
                        line,
                        name,
                        "calculation",
                        code::CALCULATE_LEFT_OUT,
                    )
                    .with("type", t.as_str())
                } else {
                    Warning::new(
                        "survey",
                        line,
                        name,
                        "calculation",
                        code::CALCULATE_WITH_FORMULA_LEFT_OUT,
                    )
                    .with("type", t.as_str())
                    .with("calculation", formula)
                });
                self.scope
                    .not_asked
                    .insert(name.to_owned(), Reason::new(code::NOT_ASKED_CALCULATION));
                return vec![];
            }
            RowType::Unsupported(t) => {
                self.warn(
                    Warning::new("survey", line, name, "type", code::TYPE_LEFT_OUT)
                        .with("type", t.as_str()),
                );
                self.scope.not_asked.insert(
                    name.to_owned(),
                    Reason::new(code::NOT_ASKED_TYPE).with("type", t.as_str()),
                );
                return vec![];
            }
            RowType::Unknown(t) => {
                self.errors.push(
                    FieldError::new(
                        format!("survey row {line} ({name})"),
                        "xlsform_unknown_type",
                    )
                    .with("type", t.clone()),
                );
                return vec![];
            }
            RowType::Note => {
                let text = self.langs.texts(survey, row, "label");
                self.scope
                    .not_asked
                    .insert(name.to_owned(), Reason::new(code::NOT_ASKED_NOTE));
                let note = if relevant.is_some() {
                    code::NOTE_CONDITION_DROPPED
                } else {
                    code::NOTE
                };
                self.warn(Warning::new("survey", line, name, "type", note));
                self.check_label_refs(line, name, &text);
                if !text.is_empty() {
                    section.note = Some(match section.note.take() {
                        Some(prev) => join_texts(&prev, &text),
                        None => text,
                    });
                }
                return vec![];
            }
            _ => {}
        }
        // A name with spaces is refused by pyxform too: left as it is, so
        // that the problem names it; others (`_uuid`, accents) are cleaned.
        let base = if name.contains(char::is_whitespace) {
            name.to_owned()
        } else {
            names::clean(name, &format!("q{line}"))
        };
        let code = self.question_codes.unique(&base);
        if code != name {
            let why = if self.question_codes.contains(&base) && code != base {
                code::RENAMED_NAME_USED
            } else {
                code::RENAMED_NOT_A_CODE
            };
            self.warn(Warning::new("survey", line, name, "name", why).with("code", code.as_str()));
        }
        let appearance = cols.get(row, "appearance").to_lowercase();
        let mut label = self.langs.texts(survey, row, "label");
        if label.is_empty() {
            self.warn(
                Warning::new("survey", line, name, "label", code::NO_LABEL).with("name", name),
            );
            label.0.insert(self.langs.default.clone(), name.to_owned());
        }
        self.check_label_refs(line, name, &label);
        let mut help = self.langs.texts(survey, row, "hint");
        self.check_label_refs(line, name, &help);
        if let Some(note) = section.note.take() {
            help = if help.is_empty() {
                note
            } else {
                join_texts(&note, &help)
            };
        }
        let mut q = Question {
            code: code.clone(),
            kind: QuestionType::ShortText,
            required: false,
            label,
            help,
            min: None,
            max: None,
            points: vec![],
            options: vec![],
            dont_know: false,
            not_applicable: false,
            condition: None,
            index: None,
            ..Default::default()
        };
        let mut b_extras: Vec<(String, Value, &'static str)> = vec![];
        let mut option_rows = vec![];
        let mut choices: HashMap<String, String> = HashMap::new();
        let mut yes = None;
        let mut filter_list: Option<(String, Options)> = None;
        let mut or_other_follow = false;
        match &rt {
            RowType::Select {
                multiple,
                list,
                or_other,
            } => {
                let Some(opts) = self.lists.get(list).map(|rows| options_of(rows)) else {
                    self.errors.push(
                        FieldError::new(
                            format!("survey row {line} ({name})"),
                            "xlsform_unknown_list",
                        )
                        .with("list", list.clone()),
                    );
                    return vec![];
                };
                q.dont_know = opts.dk;
                q.not_applicable = opts.na;
                choices = opts.names.clone();
                let numbers: Option<Vec<i64>> =
                    opts.raw.iter().map(|n| n.trim().parse().ok()).collect();
                let contiguous = numbers.as_ref().is_some_and(|n| {
                    let mut s = n.clone();
                    s.sort_unstable();
                    s.len() >= 2
                        && s.len() <= 21
                        && s.windows(2).all(|w| w[0].checked_add(1) == Some(w[1]))
                });
                if !multiple && appearance.contains("likert") && contiguous && !or_other {
                    let values = numbers.unwrap_or_default();
                    q.kind = QuestionType::Scale;
                    q.min = values.iter().min().copied();
                    q.max = values.iter().max().copied();
                    q.points = opts
                        .options
                        .iter()
                        .zip(values)
                        .map(|(c, v)| ScalePoint {
                            value: v,
                            label: c.label.clone(),
                        })
                        .collect();
                    option_rows = opts.rows.clone();
                } else if opts.options.len() == 1 && !or_other {
                    q.kind = QuestionType::YesNo;
                    let only = opts
                        .names
                        .iter()
                        .find(|(_, c)| **c == opts.options[0].value)
                        .map(|(n, _)| n.clone())
                        .unwrap_or_default();
                    yes = Some(only.clone());
                    self.warn(
                        Warning::new("survey", line, name, "type", code::ONE_CHOICE_YES_NO)
                            .with("choice", only.as_str()),
                    );
                } else {
                    q.kind = if *multiple {
                        QuestionType::MultipleChoice
                    } else {
                        QuestionType::SingleChoice
                    };
                    if !opts.renamed.is_empty() && self.warned_lists.insert(list.clone()) {
                        let first_row = opts.rows.first().copied().unwrap_or(0);
                        self.warn(
                            Warning::new("choices", first_row, list, "name", code::CHOICES_RENAMED)
                                .with("renamed", opts.renamed.join(", ")),
                        );
                    }
                    q.options = opts.options.clone();
                    option_rows = opts.rows.clone();
                    if *or_other && !opts.names.contains_key("other") {
                        let mut taken = Taken::default();
                        for o in &q.options {
                            taken.unique(&o.value);
                        }
                        let other = taken.unique("other");
                        q.options.push(Choice {
                            value: other.clone(),
                            label: Text::vi_en("Khác", "Other"),
                            filters: Default::default(),
                        });
                        choices.insert("other".to_owned(), other);
                    }
                    or_other_follow = *or_other;
                    filter_list = Some((list.clone(), opts));
                }
            }
            RowType::Rank(list) => {
                let Some(opts) = self.lists.get(list).map(|rows| options_of(rows)) else {
                    self.errors.push(
                        FieldError::new(
                            format!("survey row {line} ({name})"),
                            "xlsform_unknown_list",
                        )
                        .with("list", list.clone()),
                    );
                    return vec![];
                };
                self.warn(Warning::new("survey", line, name, "type", code::RANK));
                q.kind = QuestionType::MultipleChoice;
                choices = opts.names.clone();
                q.options = opts.options;
                option_rows = opts.rows;
            }
            RowType::Text => {
                q.kind = if appearance.contains("multiline") {
                    QuestionType::LongText
                } else {
                    QuestionType::ShortText
                };
            }
            RowType::Integer => q.kind = QuestionType::Number,
            RowType::Decimal => {
                q.kind = QuestionType::Number;
                self.warn(Warning::new("survey", line, name, "type", code::DECIMAL));
            }
            RowType::Range => {
                q.kind = QuestionType::Number;
                let params = cols.get(row, "parameters");
                let mut start = 1i64;
                let mut end = 10i64;
                for p in params.split(|c: char| c.is_whitespace() || c == ';' || c == ',') {
                    if let Some((k, v)) = p.split_once('=') {
                        match (k.trim(), v.trim().parse::<f64>()) {
                            ("start", Ok(x)) => start = x as i64,
                            ("end", Ok(x)) => end = x as i64,
                            ("step", Ok(x)) if x != 1.0 => self.warn(
                                Warning::new("survey", line, name, "parameters", code::RANGE_STEP)
                                    .with("step", x.to_string()),
                            ),
                            _ => {}
                        }
                    }
                }
                q.min = Some(start.min(end));
                q.max = Some(start.max(end));
                self.warn(Warning::new("survey", line, name, "type", code::RANGE));
            }
            RowType::DateTime(t) => {
                q.kind = QuestionType::ShortText;
                self.warn(
                    Warning::new("survey", line, name, "type", code::DATE_TIME)
                        .with("type", t.as_str()),
                );
            }
            RowType::Acknowledge => {
                q.kind = QuestionType::YesNo;
                yes = Some("OK".to_owned());
                self.warn(Warning::new(
                    "survey",
                    line,
                    name,
                    "type",
                    code::ACKNOWLEDGE,
                ));
            }
            _ => {}
        }
        // Hailong's own column: what XLSForm cannot say (from an export).
        if let Some((extra, col)) = cols.field(row, "hailong") {
            match serde_json::from_str::<serde_json::Map<String, Value>>(extra) {
                Ok(m) => {
                    if m.get("type").and_then(Value::as_str) == Some("yes_no") {
                        q.kind = QuestionType::YesNo;
                        q.options.clear();
                        option_rows.clear();
                        yes = Some("yes".to_owned());
                    }
                    if let Some(ix) = m.get("index") {
                        match serde_json::from_value::<IndexMapping>(ix.clone()) {
                            Ok(ix) => q.index = Some(ix),
                            Err(e) => self.warn(
                                Warning::new("survey", line, name, col, code::INDEX_NOT_READ)
                                    .with("detail", e.to_string()),
                            ),
                        }
                    }
                    if m.get("dont_know") == Some(&Value::Bool(true)) {
                        q.dont_know = true;
                    }
                    if m.get("not_applicable") == Some(&Value::Bool(true)) {
                        q.not_applicable = true;
                    }
                }
                Err(e) => self.warn(
                    Warning::new("survey", line, name, col, code::HAILONG_NOT_READ)
                        .with("detail", e.to_string()),
                ),
            }
        }
        let target = Target {
            code: code.clone(),
            kind: q.kind,
            choices: choices.clone(),
            yes,
        };
        // Required: a constant or an expression.
        if let Some((req, col)) = cols.field(row, "required") {
            match truthy(req) {
                Some(b) => q.required = b,
                None => {
                    if let Some(c) =
                        self.condition(line, name, (req, col), None, code::THEN_OPTIONAL)
                    {
                        b_extras.push(("required_if".to_owned(), c, "required"));
                    }
                }
            }
        }
        let msg = self.langs.texts(survey, row, "required_message");
        if !msg.is_empty() {
            b_extras.push((
                "required_message".to_owned(),
                serde_json::to_value(&msg).unwrap_or(Value::Null),
                "required_message",
            ));
        }
        // Constraint: whole-number bounds, else a condition on ".".
        if let Some((c, col)) = cols.field(row, "constraint") {
            match number_bounds(c) {
                Some((min, max)) if q.kind == QuestionType::Number => {
                    q.min = min.or(q.min);
                    q.max = max.or(q.max);
                }
                _ => {
                    if let Some(v) =
                        self.condition(line, name, (c, col), Some(&target), code::THEN_ANY_ANSWER)
                    {
                        b_extras.push(("constraint".to_owned(), v, "constraint"));
                    }
                }
            }
        }
        let msg = self.langs.texts(survey, row, "constraint_message");
        if !msg.is_empty() {
            b_extras.push((
                "constraint_message".to_owned(),
                serde_json::to_value(&msg).unwrap_or(Value::Null),
                "constraint_message",
            ));
        }
        // Relevant: the question's own, with the enclosing nested groups'.
        let own =
            relevant.and_then(|r| self.condition(line, name, r, None, code::THEN_QUESTION_SHOWN));
        let mut parts = outer;
        parts.extend(own);
        let cond = merge_all(parts);
        if let Some(c) = cond.clone() {
            b_extras.push(("condition".to_owned(), c, "relevant"));
        }
        if let Some((d, col)) = cols.field(row, "default") {
            match default_value(&target, d) {
                Ok(v) => b_extras.push(("default".to_owned(), v, "default")),
                Err(why) => self.warn(
                    Warning::new("survey", line, name, col, code::DEFAULT_NOT_KEPT)
                        .with("value", d)
                        .with_part("why", why),
                ),
            }
        }
        if let Some((ro, col)) = cols.field(row, "read_only") {
            match truthy(ro) {
                Some(true) => {
                    b_extras.push(("read_only".to_owned(), Value::Bool(true), "read_only"))
                }
                Some(false) => {}
                None => self.warn(
                    Warning::new("survey", line, name, col, code::READ_ONLY_EXPRESSION)
                        .with("value", ro),
                ),
            }
        }
        if let Some((calc, col)) = cols.field(row, "calculation") {
            self.warn(
                Warning::new("survey", line, name, col, code::CALCULATION_NOT_SUPPORTED)
                    .with("calculation", calc),
            );
        }
        for a in appearance.split_whitespace() {
            if !matches!(a, "multiline" | "likert") {
                self.warn(
                    Warning::new("survey", line, name, "appearance", code::APPEARANCE_UNUSED)
                        .with("appearance", a),
                );
            }
        }
        for (i, h) in survey.headers.iter().enumerate() {
            let (family, _) = split_header(h);
            let media = matches!(family.as_str(), "image" | "audio" | "video" | "big-image")
                || family.starts_with("media");
            if media && row.get(i).is_some_and(|v| !v.trim().is_empty()) {
                self.warn(Warning::new("survey", line, name, h, code::MEDIA));
            }
        }
        // Cascading list.
        if let Some((cf, col)) = cols.field(row, "choice_filter") {
            match conditions::choice_filter(cf, &self.scope) {
                Ok((column, question, op)) => {
                    let has_column = filter_list.as_ref().is_some_and(|(_, opts)| {
                        opts.extra.iter().any(|e| e.contains_key(&column))
                    });
                    if filter_list.is_some() && !has_column {
                        self.warn(
                            Warning::new("survey", line, name, col, code::FILTER_NO_COLUMN)
                                .with("filter", cf)
                                .with("column", column.as_str()),
                        );
                    } else if let Some((_, opts)) = &filter_list {
                        // The filter values are the parent's choice names: use its codes.
                        let parent = self
                            .scope
                            .targets
                            .values()
                            .find(|t| t.code == question)
                            .map(|t| t.choices.clone())
                            .unwrap_or_default();
                        let with_filters: Vec<Value> = q
                            .options
                            .iter()
                            .enumerate()
                            .map(|(i, o)| {
                                let mut v = serde_json::to_value(o).unwrap_or(Value::Null);
                                if let Some(f) = opts.extra.get(i).and_then(|e| e.get(&column))
                                    && let Value::Object(m) = &mut v
                                {
                                    let f = parent.get(f).cloned().unwrap_or_else(|| f.clone());
                                    m.insert("filters".to_owned(), json!({ column.clone(): f }));
                                }
                                v
                            })
                            .collect();
                        b_extras.push((
                            "options".to_owned(),
                            Value::Array(with_filters),
                            "choice_filter",
                        ));
                        b_extras.push((
                            "choice_filter".to_owned(),
                            json!({"column": column, "question": question, "op": op}),
                            "choice_filter",
                        ));
                    } else {
                        self.warn(Warning::new(
                            "survey",
                            line,
                            name,
                            col,
                            code::FILTER_WITHOUT_CHOICES,
                        ));
                    }
                }
                Err(why) => self.warn(
                    Warning::new("survey", line, name, col, code::FILTER_NOT_KEPT)
                        .with("filter", cf)
                        .with_part("why", why),
                ),
            }
        }
        self.scope.targets.insert(name.to_owned(), target);
        let mut out = vec![Built {
            q,
            row: line,
            name: name.to_owned(),
            option_rows,
            extras: b_extras,
        }];
        if or_other_follow {
            let other_code = self.question_codes.unique(&format!("{code}_other"));
            let op = if matches!(rt, RowType::Select { multiple: true, .. }) {
                "selected"
            } else {
                "eq"
            };
            let value = choices
                .get("other")
                .cloned()
                .unwrap_or_else(|| "other".to_owned());
            let mut parts: Vec<Value> = cond.into_iter().collect();
            parts.push(json!({"question": code, "op": op, "value": value}));
            self.warn(
                Warning::new("survey", line, name, "type", code::OR_OTHER)
                    .with("code", other_code.as_str()),
            );
            out.push(Built {
                q: Question {
                    code: other_code.clone(),
                    kind: QuestionType::ShortText,
                    required: false,
                    label: Text::vi_en("Khác, xin ghi rõ", "Other, please specify"),
                    help: Text::default(),
                    min: None,
                    max: None,
                    points: vec![],
                    options: vec![],
                    dont_know: false,
                    not_applicable: false,
                    condition: None,
                    index: None,
                    ..Default::default()
                },
                row: line,
                name: format!("{name}_other"),
                option_rows: vec![],
                extras: merge_all(parts)
                    .map(|c| ("condition".to_owned(), c, "type"))
                    .into_iter()
                    .collect(),
            });
            self.scope.targets.insert(
                format!("{name}_other"),
                Target {
                    code: other_code,
                    kind: QuestionType::ShortText,
                    choices: HashMap::new(),
                    yes: None,
                },
            );
        }
        out
    }
}
