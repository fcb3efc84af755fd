//! Unit tests of the editor's form handling.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use super::*;

fn form(fields: &[(&str, &str)]) -> Form {
    fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn codes(def: &Definition, section: usize) -> Vec<&str> {
    def.sections[section]
        .questions
        .iter()
        .map(|q| q.code.as_str())
        .collect()
}

/// `blank` with a second section, and questions q1, q2, q3 in the first.
fn sample() -> Definition {
    let mut def = blank("d", Text::vi_en("Khảo sát", "Survey"));
    for code in ["q2", "q3"] {
        def.sections[0]
            .questions
            .push(scale_question(code, Text::vi_en(code, code)));
    }
    def.sections.push(Section {
        code: "s2".to_owned(),
        title: Text::vi_en("Phần 2", "Part 2"),
        description: Text::default(),
        lead_in: Text::default(),
        questions: vec![scale_question("r1", Text::vi_en("r1", "r1"))],
        condition: None,
    });
    def
}

#[test]
fn a_blank_definition_is_valid_and_starts_with_a_five_point_scale() {
    let def = blank("csat", Text::vi_en("Khảo sát", "Survey"));
    def.check().unwrap();
    let q = &def.sections[0].questions[0];
    assert_eq!(q.kind, QuestionType::Scale);
    assert_eq!(
        q.points.iter().map(|p| p.value).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!((q.min, q.max), (Some(1), Some(5)));
    assert_eq!(q.points[4].label.get("en"), "Very satisfied");
}

#[test]
fn options_are_lines_of_value_and_labels() {
    let options = parse_options("1 | Nam | Male\n\n  2|Nữ  \n   \nx\n");
    assert_eq!(options.len(), 3);
    assert_eq!(options[0].value, "1");
    assert_eq!(options[0].label, Text::vi_en("Nam", "Male"));
    assert_eq!(options[1].value, "2");
    assert_eq!(options[1].label, Text::vi_en("Nữ", ""));
    assert!(!options[1].label.0.contains_key("en"));
    assert_eq!(options[2].value, "x");
    assert_eq!(options[2].label.get("vi"), "");
    assert!(options.iter().all(|o| o.filters.is_empty()));
}

#[test]
fn options_text_reads_back_the_same_options() {
    let mut q = scale_question("q", Text::vi_en("q", "q"));
    q.options = parse_options("1 | Nam | Male\n2 | Nữ | Female");
    assert_eq!(options_text(&q), "1 | Nam | Male\n2 | Nữ | Female");
    assert_eq!(parse_options(&options_text(&q)), q.options);
}

#[test]
fn a_condition_comes_from_question_operator_and_value() {
    assert_eq!(condition_of(&form(&[("cond_op", "eq")])).unwrap(), None);
    let c = condition_of(&form(&[
        ("cond_question", " q1 "),
        ("cond_op", "gte"),
        ("cond_value", "4"),
    ]))
    .unwrap();
    assert_eq!(
        c,
        Some(Condition::leaf("q1", ConditionOp::Gte, Some(json!(4))))
    );
    let c = condition_of(&form(&[
        ("cond_question", "q2"),
        ("cond_op", "eq"),
        ("cond_value", "true"),
    ]))
    .unwrap();
    assert_eq!(
        c,
        Some(Condition::leaf("q2", ConditionOp::Eq, Some(json!(true))))
    );
    let c = condition_of(&form(&[
        ("cond_question", "q3"),
        ("cond_op", "ne"),
        ("cond_value", "other"),
    ]))
    .unwrap();
    assert_eq!(
        c,
        Some(Condition::leaf("q3", ConditionOp::Ne, Some(json!("other"))))
    );
    // "Answered" takes no value, whatever the form says.
    let c = condition_of(&form(&[("cond_question", "q1"), ("cond_value", "3")])).unwrap();
    assert_eq!(c, Some(Condition::leaf("q1", ConditionOp::Answered, None)));
}

#[test]
fn an_unknown_operator_names_the_operator_field() {
    let e = condition_of(&form(&[("cond_question", "q1"), ("cond_op", "like")])).unwrap_err();
    assert_eq!((e.field.as_str(), e.code.as_str()), ("cond_op", NO_SUCH));
    assert_eq!(detail(&e), "no such condition");
}

#[test]
fn a_new_choice_question_takes_its_options_and_drops_the_scale() {
    let q = new_question(
        &form(&[
            ("code", "sex"),
            ("type", "single_choice"),
            ("label_vi", "Giới tính"),
            ("label_en", "Sex"),
            ("options", "1 | Nam | Male\n2 | Nữ | Female"),
        ]),
        "code",
    )
    .unwrap();
    assert_eq!(q.code, "sex");
    assert_eq!(q.kind, QuestionType::SingleChoice);
    assert_eq!(q.label, Text::vi_en("Giới tính", "Sex"));
    assert!(q.points.is_empty());
    assert_eq!((q.min, q.max), (None, None));
    assert_eq!(q.options.len(), 2);

    let q = new_question(&form(&[("code", "a"), ("type", "scale")]), "code").unwrap();
    assert_eq!(q.points.len(), 5);
    assert!(q.options.is_empty());
}

#[test]
fn a_new_question_of_unknown_type_names_the_type_field() {
    let e = new_question(&form(&[("code", "a"), ("type", "essay")]), "code").unwrap_err();
    assert_eq!((e.field.as_str(), e.code.as_str()), ("type", NO_SUCH));
    assert_eq!(detail(&e), "no such question type");
}

#[test]
fn adding_a_question_appends_it_to_its_section() {
    let mut def = sample();
    apply(
        &mut def,
        &form(&[
            ("op", "add_question"),
            ("section", "1"),
            ("code", "r2"),
            ("type", "yes_no"),
            ("label_vi", "Có?"),
        ]),
    )
    .unwrap();
    assert_eq!(codes(&def, 1), ["r1", "r2"]);
    assert_eq!(def.sections[1].questions[1].kind, QuestionType::YesNo);
    def.check().unwrap();
}

#[test]
fn adding_a_section_brings_its_first_question() {
    let mut def = sample();
    apply(
        &mut def,
        &form(&[
            ("op", "add_section"),
            ("code", "s3"),
            ("title_vi", "Phần 3"),
            ("question_code", "t1"),
            ("type", "short_text"),
            ("label_vi", "Ý kiến"),
        ]),
    )
    .unwrap();
    assert_eq!(def.sections.len(), 3);
    assert_eq!(def.sections[2].code, "s3");
    assert_eq!(def.sections[2].title.get("vi"), "Phần 3");
    assert_eq!(codes(&def, 2), ["t1"]);
}

#[test]
fn moving_a_question_swaps_it_with_its_neighbour_within_bounds() {
    let mut def = sample();
    let mv = |dir: &str, at: &str| {
        form(&[
            ("op", "move_question"),
            ("section", "0"),
            ("question", at),
            ("dir", dir),
        ])
    };
    apply(&mut def, &mv("up", "2")).unwrap();
    assert_eq!(codes(&def, 0), ["q1", "q3", "q2"]);
    apply(&mut def, &mv("down", "0")).unwrap();
    assert_eq!(codes(&def, 0), ["q3", "q1", "q2"]);
    // At an end, nothing moves.
    apply(&mut def, &mv("up", "0")).unwrap();
    apply(&mut def, &mv("down", "2")).unwrap();
    assert_eq!(codes(&def, 0), ["q3", "q1", "q2"]);
}

#[test]
fn editing_a_section_sets_its_title_and_lead_in() {
    let mut def = sample();
    apply(
        &mut def,
        &form(&[
            ("op", "edit_section"),
            ("section", "1"),
            ("title_vi", "Thủ tục"),
            ("title_en", "Procedures"),
            ("lead_in_vi", "Ông/Bà đánh giá thế nào về:"),
            ("lead_in_en", ""),
        ]),
    )
    .unwrap();
    assert_eq!(def.sections[1].title.get("en"), "Procedures");
    assert_eq!(
        def.sections[1].lead_in.get("vi"),
        "Ông/Bà đánh giá thế nào về:"
    );
    assert!(
        def.sections[0].lead_in.is_empty(),
        "the other section unchanged"
    );
}

#[test]
fn moving_and_deleting_sections() {
    let mut def = sample();
    apply(
        &mut def,
        &form(&[("op", "move_section"), ("section", "1"), ("dir", "up")]),
    )
    .unwrap();
    assert_eq!(def.sections[0].code, "s2");
    apply(
        &mut def,
        &form(&[("op", "delete_section"), ("section", "0")]),
    )
    .unwrap();
    assert_eq!(def.sections.len(), 1);
    assert_eq!(def.sections[0].code, "s1");
}

#[test]
fn deleting_a_question_removes_only_it() {
    let mut def = sample();
    apply(
        &mut def,
        &form(&[
            ("op", "delete_question"),
            ("section", "0"),
            ("question", "1"),
        ]),
    )
    .unwrap();
    assert_eq!(codes(&def, 0), ["q1", "q3"]);
    assert_eq!(codes(&def, 1), ["r1"]);
}

#[test]
fn editing_a_question_sets_texts_flags_condition_and_index() {
    let mut def = sample();
    apply(
        &mut def,
        &form(&[
            ("op", "edit_question"),
            ("section", "0"),
            ("question", "1"),
            ("label_vi", "Mới"),
            ("label_en", "New"),
            ("required", "on"),
            ("dont_know", "on"),
            ("cond_question", "q1"),
            ("cond_op", "lte"),
            ("cond_value", "2"),
            ("element", "e1"),
            ("criterion", "c1"),
            ("satisfied_min", "5"),
        ]),
    )
    .unwrap();
    let q = &def.sections[0].questions[1];
    assert_eq!(q.label, Text::vi_en("Mới", "New"));
    assert!(q.help.is_empty());
    assert!(q.required && q.dont_know && !q.not_applicable);
    assert_eq!(
        q.condition,
        Some(Condition::leaf("q1", ConditionOp::Lte, Some(json!(2))))
    );
    let index = q.index.as_ref().unwrap();
    assert_eq!(
        (index.element.as_str(), index.criterion.as_str()),
        ("e1", "c1")
    );
    assert_eq!(
        (index.satisfied_min, index.weight, index.reverse),
        (5, 1.0, false)
    );
}

#[test]
fn editing_keeps_a_compound_condition_and_options_filters() {
    let mut def = sample();
    let compound = Condition::Not {
        not: Box::new(Condition::leaf("q1", ConditionOp::Answered, None)),
    };
    let q = &mut def.sections[0].questions[2];
    q.kind = QuestionType::SingleChoice;
    q.points.clear();
    q.condition = Some(compound.clone());
    q.options = parse_options("hn | Hà Nội\nhcm | TP HCM");
    q.options[0]
        .filters
        .insert("region".to_owned(), "north".to_owned());
    assert!(has_compound_condition(q));
    apply(
        &mut def,
        &form(&[
            ("op", "edit_question"),
            ("section", "0"),
            ("question", "2"),
            ("label_vi", "Tỉnh"),
            ("options", "hn | Hà Nội | Hanoi\ndn | Đà Nẵng"),
        ]),
    )
    .unwrap();
    let q = &def.sections[0].questions[2];
    assert_eq!(q.condition, Some(compound));
    assert_eq!(q.options.len(), 2);
    assert_eq!(q.options[0].label, Text::vi_en("Hà Nội", "Hanoi"));
    assert_eq!(q.options[0].filters.get("region").unwrap(), "north");
    assert!(q.options[1].filters.is_empty());
}

/// One question of each type that can feed an index, in a definition whose index
/// "ix" has element "E" with the criteria YN, CH and NUM (each fed by a scale too,
/// so that the definition is valid before and after the mappings change).
fn typed() -> Definition {
    use crate::domain::questionnaire::{
        Aggregation, IndexCriterion, IndexDefinition, IndexElement,
    };
    let mut def = blank("d", Text::vi_en("Khảo sát", "Survey"));
    let criteria = ["YN", "CH", "NUM"];
    def.indices.push(IndexDefinition {
        code: "ix".to_owned(),
        name: Text::vi_en("Chỉ số", "Index"),
        aggregation: Aggregation::Mean,
        family: None,
        basis: None,
        range: None,
        elements: vec![IndexElement {
            code: "E".to_owned(),
            name: Text::vi_en("Yếu tố", "Element"),
            weight: 1.0,
            criteria: criteria
                .iter()
                .map(|c| IndexCriterion {
                    code: (*c).to_owned(),
                    name: Text::vi_en(c, c),
                    weight: 1.0,
                })
                .collect(),
        }],
    });
    let questions = &mut def.sections[0].questions;
    questions.clear();
    for c in criteria {
        let mut q = scale_question(&format!("s_{c}"), Text::vi_en(c, c));
        q.index = Some(IndexMapping {
            index: None,
            element: "E".to_owned(),
            criterion: c.to_owned(),
            weight: 1.0,
            reverse: false,
            satisfied_min: 4,
            options: vec![],
            cap: None,
        });
        questions.push(q);
    }
    for (code, kind) in [
        ("yn", "yes_no"),
        ("ch", "multiple_choice"),
        ("num", "number"),
        ("txt", "short_text"),
    ] {
        let q = new_question(
            &form(&[
                ("code", code),
                ("type", kind),
                ("label_vi", code),
                ("options", "a | A\nb | B\nc | C"),
            ]),
            "code",
        )
        .unwrap();
        questions.push(q);
    }
    def.check().unwrap();
    def
}

/// The edit form of question `at` of the first section, with these fields.
fn edit(def: &mut Definition, at: usize, fields: &[(&str, &str)]) -> Result<(), FieldError> {
    let at = at.to_string();
    let mut f = form(&[
        ("op", "edit_question"),
        ("section", "0"),
        ("question", &at),
        ("label_vi", "Câu hỏi"),
        ("options", "a | A\nb | B\nc | C"),
    ]);
    f.extend(form(fields));
    apply(def, &f)
}

const YN: usize = 3;
const CH: usize = 4;
const NUM: usize = 5;
const TXT: usize = 6;

fn mapping(def: &Definition, at: usize) -> Option<&IndexMapping> {
    def.sections[0].questions[at].index.as_ref()
}

#[test]
fn a_yes_no_question_is_mapped_with_the_answer_that_counts() {
    let mut def = typed();
    edit(
        &mut def,
        YN,
        &[("element", "E"), ("criterion", "YN"), ("counts", "no")],
    )
    .unwrap();
    let m = mapping(&def, YN).unwrap();
    assert_eq!((m.element.as_str(), m.criterion.as_str()), ("E", "YN"));
    assert!(m.reverse, "\"no\" counts: stored as reverse");
    assert!(m.options.is_empty() && m.cap.is_none());
    assert_eq!(m.weight, 1.0);
    def.check().unwrap();

    // Changed: "yes" counts; the index code and weight set elsewhere are kept.
    def.sections[0].questions[YN].index.as_mut().unwrap().weight = 2.0;
    def.sections[0].questions[YN].index.as_mut().unwrap().index = Some("ix".to_owned());
    edit(
        &mut def,
        YN,
        &[("element", "E"), ("criterion", "YN"), ("counts", "yes")],
    )
    .unwrap();
    let m = mapping(&def, YN).unwrap();
    assert!(!m.reverse);
    assert_eq!((m.weight, m.index.as_deref()), (2.0, Some("ix")));
    // Without the field (an older form), "yes" counts.
    edit(&mut def, YN, &[("element", "E"), ("criterion", "YN")]).unwrap();
    assert!(!mapping(&def, YN).unwrap().reverse);
    def.check().unwrap();

    // Cleared.
    edit(&mut def, YN, &[("element", ""), ("criterion", " ")]).unwrap();
    assert_eq!(mapping(&def, YN), None);
    def.check().unwrap();
}

#[test]
fn a_choice_question_is_mapped_with_the_options_that_count() {
    let mut def = typed();
    edit(
        &mut def,
        CH,
        &[
            ("element", "E"),
            ("criterion", "CH"),
            ("count.c", "1"),
            ("count.a", "1"),
            ("count.b", ""),
        ],
    )
    .unwrap();
    let m = mapping(&def, CH).unwrap();
    assert_eq!(
        m.options,
        ["a", "c"],
        "ticked ones, in the question's order"
    );
    assert!(!m.reverse && m.cap.is_none());
    def.check().unwrap();

    // Changed.
    edit(
        &mut def,
        CH,
        &[("element", "E"), ("criterion", "CH"), ("count.b", "1")],
    )
    .unwrap();
    assert_eq!(mapping(&def, CH).unwrap().options, ["b"]);
    def.check().unwrap();

    // Cleared.
    edit(&mut def, CH, &[("count.b", "1")]).unwrap();
    assert_eq!(mapping(&def, CH), None);
    def.check().unwrap();
}

#[test]
fn a_choice_mapping_naming_an_unknown_or_no_option_is_refused_by_name() {
    let mut def = typed();
    // "b" is ticked while the same form drops it from the options; "zz" never was.
    let mut f = form(&[
        ("op", "edit_question"),
        ("section", "0"),
        ("question", "4"),
        ("label_vi", "Câu hỏi"),
        ("options", "a | A\nc | C"),
        ("element", "E"),
        ("criterion", "CH"),
        ("count.a", "1"),
        ("count.zz", "1"),
        ("count.b", "1"),
    ]);
    apply(&mut def, &f).unwrap();
    let errors = def.check().unwrap_err();
    let unknown: Vec<(&str, &str)> = errors
        .iter()
        .filter(|e| e.code == "index_unknown_option")
        .map(|e| (e.field.as_str(), e.params["code"].as_str()))
        .collect();
    assert_eq!(
        unknown,
        [
            ("sections[0].questions[4].index.options[1]", "b"),
            ("sections[0].questions[4].index.options[2]", "zz"),
        ]
    );
    // Nothing ticked: the mapping needs at least one option.
    f.retain(|k, _| !k.starts_with(COUNT_PREFIX));
    let mut def = typed();
    apply(&mut def, &f).unwrap();
    let errors = def.check().unwrap_err();
    assert!(
        errors.iter().any(|e| e.code == "index_needs_options"
            && e.field == "sections[0].questions[4].index.options"),
        "{errors:?}"
    );
}

#[test]
fn a_number_question_is_mapped_with_an_optional_cap() {
    let mut def = typed();
    edit(
        &mut def,
        NUM,
        &[("element", "E"), ("criterion", "NUM"), ("cap", "100")],
    )
    .unwrap();
    let m = mapping(&def, NUM).unwrap();
    assert_eq!(m.cap, Some(100.0));
    assert!(m.options.is_empty() && !m.reverse);
    def.check().unwrap();

    // Changed: another cap, then none; the threshold the form does not show is kept.
    def.sections[0].questions[NUM]
        .index
        .as_mut()
        .unwrap()
        .satisfied_min = 80;
    edit(
        &mut def,
        NUM,
        &[("element", "E"), ("criterion", "NUM"), ("cap", " 12.5 ")],
    )
    .unwrap();
    assert_eq!(mapping(&def, NUM).unwrap().cap, Some(12.5));
    edit(
        &mut def,
        NUM,
        &[("element", "E"), ("criterion", "NUM"), ("cap", "")],
    )
    .unwrap();
    let m = mapping(&def, NUM).unwrap();
    assert_eq!((m.cap, m.satisfied_min), (None, 80));
    def.check().unwrap();

    // A cap that is not a number names its field; nothing changes.
    let before = def.clone();
    let e = edit(
        &mut def,
        NUM,
        &[("element", "E"), ("criterion", "NUM"), ("cap", "lots")],
    )
    .unwrap_err();
    assert_eq!((e.field.as_str(), e.code.as_str()), ("cap", NOT_A_NUMBER));
    assert_eq!(detail(&e), "cap is not a number");
    assert_eq!(
        def.sections[0].questions[NUM].index,
        before.sections[0].questions[NUM].index
    );

    // Cleared.
    edit(&mut def, NUM, &[("cap", "100")]).unwrap();
    assert_eq!(mapping(&def, NUM), None);
    def.check().unwrap();
}

#[test]
fn a_scale_mapping_is_unchanged_and_text_keeps_what_it_had() {
    let mut def = typed();
    def.sections[0].questions[0].index.as_mut().unwrap().weight = 3.0;
    edit(
        &mut def,
        0,
        &[
            ("element", "E"),
            ("criterion", "YN"),
            ("satisfied_min", "3"),
            ("reverse", "1"),
            // Fields of other types are ignored on a scale.
            ("counts", "no"),
            ("count.a", "1"),
            ("cap", "9"),
        ],
    )
    .unwrap();
    let m = mapping(&def, 0).unwrap();
    assert_eq!(
        (m.criterion.as_str(), m.satisfied_min, m.reverse, m.weight),
        ("YN", 3, true, 3.0)
    );
    assert!(m.options.is_empty() && m.cap.is_none());

    // A text question's form has no mapping fields: whatever it had stays.
    edit(&mut def, TXT, &[("element", "E"), ("criterion", "CH")]).unwrap();
    assert_eq!(mapping(&def, TXT), None);
}

#[test]
fn bad_positions_and_numbers_name_their_field() {
    let mut def = sample();
    let before = def.clone();
    let e = apply(
        &mut def,
        &form(&[("op", "delete_question"), ("section", "x")]),
    )
    .unwrap_err();
    assert_eq!(
        (e.field.as_str(), e.code.as_str()),
        ("section", NOT_A_POSITION)
    );
    assert_eq!(detail(&e), "section is not a position");

    let e = apply(
        &mut def,
        &form(&[
            ("op", "delete_question"),
            ("section", "0"),
            ("question", "9"),
        ]),
    )
    .unwrap_err();
    assert_eq!((e.field.as_str(), e.code.as_str()), ("question", NO_SUCH));
    assert_eq!(detail(&e), "no such question");

    let e = apply(&mut def, &form(&[("op", "edit_section"), ("section", "5")])).unwrap_err();
    assert_eq!(detail(&e), "no such section");
    assert_eq!(def, before);

    let mut number = sample();
    number.sections[0].questions[0].kind = QuestionType::Number;
    let e = apply(
        &mut number,
        &form(&[
            ("op", "edit_question"),
            ("section", "0"),
            ("question", "0"),
            ("min", "1.5"),
        ]),
    )
    .unwrap_err();
    assert_eq!(
        (e.field.as_str(), e.code.as_str()),
        ("min", NOT_A_WHOLE_NUMBER)
    );
    assert_eq!(detail(&e), "min is not a whole number");
}

#[test]
fn an_unknown_operation_is_refused() {
    let mut def = sample();
    let e = apply(&mut def, &form(&[("op", "explode")])).unwrap_err();
    assert_eq!(
        (e.field.as_str(), e.code.as_str()),
        ("op", UNKNOWN_OPERATION)
    );
    assert_eq!(detail(&e), "unknown operation \"explode\"");
}

#[test]
fn retitling_sets_both_languages() {
    let mut def = sample();
    apply(
        &mut def,
        &form(&[("op", "title"), ("title_vi", " Mới "), ("title_en", "New")]),
    )
    .unwrap();
    assert_eq!(def.title, Text::vi_en("Mới", "New"));
}
