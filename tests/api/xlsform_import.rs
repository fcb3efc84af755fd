//! XLSForms as ODK and Kobo users write them (issue 14): what is printed
//! where, refusals with their warnings, skip logic kept (or a warning naming
//! the row), and the XLSForm export reading back to the same questionnaire.

use std::collections::BTreeMap;
use std::process::Command;

use hailong::domain::answers::{self, Answer};
use hailong::domain::questionnaire::{Definition, QuestionType};
use hailong::domain::xlsform::{self, Imported, Warning, code};
use hailong::error::warning_line;
use hailong::i18n::Lang;
use rust_xlsxwriter::Workbook;
use serde_json::{Value, json};

use crate::helpers::{count, hailong_bin, spawn_app};

/// A workbook of these sheets, each a grid of cells (first row: headers).
fn book(sheets: &[(&str, &[&[&str]])]) -> Vec<u8> {
    let mut wb = Workbook::new();
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if !cell.is_empty() {
                    ws.write_string(r as u32, c as u16, *cell).unwrap();
                }
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

fn read(sheets: &[(&str, &[&[&str]])]) -> Imported {
    xlsform::read(&book(sheets), "form")
        .unwrap_or_else(|r| panic!("{:?} {:?}", r.error, r.warnings))
}

/// The warning of this code at (sheet, row, XLSForm name, column), if any.
fn warned<'a>(
    imported: &'a Imported,
    (sheet, row, name, column): (&str, usize, &str, &str),
    code: &str,
) -> Option<&'a Warning> {
    imported.warnings.iter().find(|w| {
        (w.sheet, w.row, w.name.as_str(), w.column.as_str(), w.code)
            == (sheet, row, name, column, code)
    })
}

fn answers(pairs: &[(&str, Answer)]) -> BTreeMap<String, Answer> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn shown(def: &Definition, code: &str, given: &BTreeMap<String, Answer>) -> bool {
    def.sections
        .iter()
        .find_map(|s| {
            s.questions
                .iter()
                .find(|q| q.code == code)
                .map(|q| answers::is_shown(s, q, given))
        })
        .unwrap_or_else(|| panic!("no question {code}"))
}

const VI: &str = "label::Tiếng Việt (vi)";

#[test]
fn a_number_literal_on_choice_names_compares_with_the_choice() {
    let survey: &[&[&str]] = &[
        &["type", "name", VI, "relevant"],
        &["select_one ab", "a12", "Câu a12", ""],
        &["text", "why", "Vì sao?", "${a12}=1"],
        &["text", "other", "Khác?", "${a12} != 1"],
    ];
    let choices: &[&[&str]] = &[
        &["list_name", "name", VI],
        &["ab", "1", "Một"],
        &["ab", "2", "Hai"],
    ];
    let imp = read(&[("survey", survey), ("choices", choices)]);
    let def = &imp.definition;
    assert_eq!(def.check(), Ok(()));
    let one = answers(&[("a12", Answer::Choice("1".into()))]);
    let two = answers(&[("a12", Answer::Choice("2".into()))]);
    assert!(shown(def, "why", &one));
    assert!(!shown(def, "why", &two));
    assert!(!shown(def, "other", &one));
    assert!(shown(def, "other", &two));
    // ODK: `!=` holds when a12 is not answered.
    assert!(shown(def, "other", &answers(&[])));
}

#[test]
fn a_compound_condition_is_kept_as_a_tree() {
    let survey: &[&[&str]] = &[
        &["type", "name", VI, "relevant"],
        &["select_one yn", "a", "A", ""],
        &["select_one yn", "b", "B", ""],
        &["text", "c", "C", "${a} = 'yes' and ${b} = 'no'"],
        &[
            "text",
            "d",
            "D",
            "(${a} = 'no' or ${b} = 'no') and not(${a} = ${b})",
        ],
    ];
    let choices: &[&[&str]] = &[
        &["list_name", "name", VI],
        &["yn", "yes", "Có"],
        &["yn", "no", "Không"],
    ];
    let imp = read(&[("survey", survey), ("choices", choices)]);
    let def = &imp.definition;
    let c = def.question("c").unwrap();
    assert_eq!(
        serde_json::to_value(&c.condition).unwrap(),
        json!({"all": [
            {"question": "a", "op": "eq", "value": "yes"},
            {"question": "b", "op": "eq", "value": "no"}
        ]})
    );
    let yes_no = answers(&[
        ("a", Answer::Choice("yes".into())),
        ("b", Answer::Choice("no".into())),
    ]);
    let yes_yes = answers(&[
        ("a", Answer::Choice("yes".into())),
        ("b", Answer::Choice("yes".into())),
    ]);
    assert!(shown(def, "c", &yes_no));
    assert!(!shown(def, "c", &yes_yes));
    // Comparing two answers is outside the subset: a warning naming the
    // row and the column, and the question is always shown.
    assert!(def.question("d").unwrap().condition.is_none());
    let w = warned(
        &imp,
        ("survey", 5, "d", "relevant"),
        code::CONDITION_NOT_KEPT,
    )
    .unwrap_or_else(|| panic!("{:?}", imp.warnings));
    assert_eq!(w.params["why"], code::COND_TWO_ANSWERS);
    assert_eq!(w.params["then"], code::THEN_QUESTION_SHOWN);
    assert_eq!(
        w.params["text"],
        "(${a} = 'no' or ${b} = 'no') and not(${a} = ${b})"
    );
}

#[test]
fn a_group_relevant_becomes_the_section_condition() {
    let survey: &[&[&str]] = &[
        &["type", "name", VI, "relevant"],
        &["select_one yn", "consent", "Đồng ý?", ""],
        &[
            "begin group",
            "main_part",
            "Phần chính",
            "${consent} = 'yes'",
        ],
        &["integer", "age", "Tuổi", ""],
        &["begin group", "inner", "Trong", "${age} >= 18"],
        &["text", "job", "Nghề", ""],
        &["end group", "", "", ""],
        &["end group", "", "", ""],
    ];
    let choices: &[&[&str]] = &[
        &["list_name", "name", VI],
        &["yn", "yes", "Có"],
        &["yn", "no", "Không"],
    ];
    let imp = read(&[("survey", survey), ("choices", choices)]);
    let def = &imp.definition;
    assert_eq!(def.sections.len(), 2, "{:?}", def.sections);
    assert_eq!(def.sections[0].code, "main");
    assert_eq!(def.sections[1].code, "main_part");
    assert_eq!(
        serde_json::to_value(&def.sections[1].condition).unwrap(),
        json!({"question": "consent", "op": "eq", "value": "yes"})
    );
    let no = answers(&[("consent", Answer::Choice("no".into()))]);
    let adult = answers(&[
        ("consent", Answer::Choice("yes".into())),
        ("age", Answer::Int(30)),
    ]);
    let child = answers(&[
        ("consent", Answer::Choice("yes".into())),
        ("age", Answer::Int(12)),
    ]);
    assert!(!shown(def, "age", &no));
    assert!(shown(def, "age", &adult));
    assert!(shown(def, "job", &adult));
    // The nested group's condition applies to each of its questions.
    assert!(!shown(def, "job", &child));
}

#[test]
fn bind_columns_are_read_like_the_plain_ones() {
    let survey: &[&[&str]] = &[
        &[
            "type",
            "name",
            VI,
            "bind::relevant",
            "bind:constraint",
            "bind::required",
            "constraint_message::Tiếng Việt (vi)",
        ],
        &["integer", "age", "Tuổi", "", "", "yes", ""],
        &[
            "text",
            "phone",
            "Điện thoại",
            "${age} > 17",
            "regex(., '^[0-9]{10}$')",
            "${age} >= 60",
            "Mười chữ số",
        ],
    ];
    let imp = read(&[("survey", survey)]);
    let def = &imp.definition;
    assert_eq!(def.check(), Ok(()), "{:?}", imp.warnings);
    let phone = def.question("phone").unwrap();
    assert!(def.question("age").unwrap().required);
    assert_eq!(
        serde_json::to_value(&phone.condition).unwrap(),
        json!({"question": "age", "op": "gt", "value": 17})
    );
    assert_eq!(
        serde_json::to_value(&phone.constraint).unwrap(),
        json!({"question": ".", "op": "matches", "value": "^[0-9]{10}$"})
    );
    assert_eq!(phone.constraint_message.get("vi"), "Mười chữ số");
    let old = answers(&[("age", Answer::Int(70))]);
    let young = answers(&[("age", Answer::Int(20))]);
    assert!(shown(def, "phone", &old));
    assert!(!shown(def, "phone", &answers(&[("age", Answer::Int(17))])));
    assert!(answers::is_required(phone, &old));
    assert!(!answers::is_required(phone, &young));
    assert!(answers::constraint_holds(
        phone,
        &Answer::Text("0912345678".into()),
        &old
    ));
    assert!(!answers::constraint_holds(
        phone,
        &Answer::Text("12".into()),
        &old
    ));
}

#[test]
fn a_cascading_list_offers_only_the_matching_choices() {
    let survey: &[&[&str]] = &[
        &["type", "name", VI, "choice_filter"],
        &["select_one province", "province", "Tỉnh", ""],
        &[
            "select_one district",
            "district",
            "Huyện",
            "province=${province}",
        ],
    ];
    let choices: &[&[&str]] = &[
        &["list_name", "name", VI, "province"],
        &["province", "hn", "Hà Nội", ""],
        &["province", "Huế", "Huế", ""],
        &["district", "ba_dinh", "Ba Đình", "hn"],
        &["district", "hoan_kiem", "Hoàn Kiếm", "hn"],
        &["district", "phu_vang", "Phú Vang", "Huế"],
    ];
    let imp = read(&[("survey", survey), ("choices", choices)]);
    let def = &imp.definition;
    assert_eq!(def.check(), Ok(()), "{:?}", imp.warnings);
    let district = def.question("district").unwrap();
    let offered = |province: &str| -> Vec<String> {
        answers::offered_options(
            district,
            &answers(&[("province", Answer::Choice(province.into()))]),
        )
        .iter()
        .map(|o| o.value.clone())
        .collect()
    };
    assert_eq!(offered("hn"), ["ba_dinh", "hoan_kiem"]);
    // "Huế" got the safe code "Hue"; the filter follows it.
    assert_eq!(offered("Hue"), ["phu_vang"]);
}

#[test]
fn answers_inside_labels_are_warned_with_the_row() {
    let survey: &[&[&str]] = &[
        &["type", "name", VI],
        &["text", "name1", "Tên?"],
        &["text", "greet", "Chào ${name1}, bạn bao nhiêu tuổi?"],
    ];
    let imp = read(&[("survey", survey)]);
    assert!(
        warned(&imp, ("survey", 3, "greet", "label"), code::TEXT_REFERENCE).is_some(),
        "{:?}",
        imp.warnings
    );
}

#[test]
fn kobo_and_odk_shapes_import_with_warnings_not_refusals() {
    let survey: &[&[&str]] = &[
        &[
            "type",
            "name",
            "label::English",
            "label::Français",
            "relevant",
        ],
        &["start", "start", "", "", ""],
        &["imei", "device", "", "", ""],
        &["select one from yn", "consent", "Consent?", "Accord ?", ""],
        &["note", "intro", "Welcome", "Bienvenue", ""],
        &[
            "begin repeat",
            "kids",
            "Children",
            "Enfants",
            "selected(${consent}, 'yes')",
        ],
        &["string", "_name", "Name", "Nom", ""],
        &[
            "select all that apply from fruit or specify other",
            "fruit",
            "Fruit",
            "Fruit",
            "",
        ],
        &["gps", "where", "Where", "Où", ""],
        &["end repeat", "", "", "", ""],
        &["select_one_external city", "city", "City", "Ville", ""],
        &["string", "_name", "Name again", "Nom", ""],
    ];
    let choices: &[&[&str]] = &[
        &["list name", "name", "label::English", "label::Français"],
        &["yn", "yes", "Yes", "Oui"],
        &["yn", "no", "No", "Non"],
        &["yn", "dk", "Don't know", "Ne sait pas"],
        &["fruit", "apple pie", "Apple pie", "Tarte"],
        &["fruit", "kiwi", "Kiwi", "Kiwi"],
    ];
    let settings: &[&[&str]] = &[&["form_id", "default_language"], &["my form", "English"]];
    let imp = read(&[
        ("survey", survey),
        ("choices", choices),
        ("settings", settings),
    ]);
    let def = &imp.definition;
    assert_eq!(def.code, "my_form");
    assert!(
        imp.translation_needed,
        "no Vietnamese: a draft to translate"
    );
    assert_eq!(
        imp.warnings
            .iter()
            .filter(|w| w.code == code::NO_VIETNAMESE)
            .count(),
        1,
        "printed once: {:?}",
        imp.warnings
    );
    let consent = def.question("consent").unwrap();
    assert_eq!(consent.kind, QuestionType::SingleChoice);
    assert!(consent.dont_know, "dk is Hailong's don't know");
    assert_eq!(consent.label.get("en"), "Consent?");
    assert_eq!(
        consent.label.0.get("fr").map(String::as_str),
        Some("Accord ?")
    );
    assert!(consent.help.is_empty());
    // The note (last of its section) is shown in the section's description.
    assert!(
        def.sections[0].description.get("en").contains("Welcome"),
        "{def:?}"
    );
    assert!(def.question("name_2").is_some(), "renamed with a warning");
    let fruit = def.question("fruit").unwrap();
    let values: Vec<&str> = fruit.options.iter().map(|o| o.value.as_str()).collect();
    assert_eq!(values, ["apple_pie", "kiwi", "other"]);
    assert!(def.question("fruit_other").is_some());
    for (row, name, column, code) in [
        (2, "start", "type", code::METADATA_LEFT_OUT),
        (3, "device", "type", code::METADATA_LEFT_OUT),
        (6, "kids", "type", code::REPEAT_ASKED_ONCE),
        (9, "where", "type", code::TYPE_LEFT_OUT),
        (11, "city", "type", code::TYPE_LEFT_OUT),
        (12, "_name", "name", code::RENAMED_NAME_USED),
        (8, "fruit", "type", code::OR_OTHER),
    ] {
        assert!(
            warned(&imp, ("survey", row, name, column), code).is_some(),
            "{code} at row {row} not in {:?}",
            imp.warnings
        );
    }
    let renamed = warned(
        &imp,
        ("survey", 12, "_name", "name"),
        code::RENAMED_NAME_USED,
    );
    assert_eq!(renamed.unwrap().params["code"], "name_2");
    // Every warning reads in both languages, with every value filled in.
    for w in &imp.warnings {
        let (vi, en) = (warning_line(Lang::Vi, w), warning_line(Lang::En, w));
        assert_ne!(vi, en);
        for line in [&vi, &en] {
            assert!(!line.contains("{$") && !line.contains("xlsform-"), "{line}");
        }
    }
}

#[test]
fn every_preset_survives_an_xlsform_export_and_import() {
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/presets")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let def = Definition::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let bytes = xlsform::export::to_xlsx(&def).unwrap();
        let back = xlsform::read(&bytes, "other")
            .unwrap_or_else(|r| panic!("{}: {:?} {:?}", path.display(), r.error, r.warnings));
        assert_eq!(back.definition, def, "{}", path.display());
        assert!(
            back.warnings.is_empty(),
            "{}: {:?}",
            path.display(),
            back.warnings
        );
    }
}

#[tokio::test]
async fn json_output_holds_only_the_definition_and_warnings_go_to_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("my form.xlsx");
    let survey: &[&[&str]] = &[
        &["type", "name", VI, "relevant", "calculation"],
        &["begin group", "g", "Nhóm", "", ""],
        &["integer", "a12", "Tuổi", "", ""],
        &["calculate", "c", "", "", "${a12} * 2"],
        &["text", "x", "X", "${c} > 3", ""],
        &["end group", "", "", "", ""],
    ];
    std::fs::write(&file, book(&[("survey", survey)])).unwrap();
    let import = |lang: &str| {
        Command::new(hailong_bin())
            .args(["questionnaire", "import", "--format", "json", "--dry-run"])
            .arg(&file)
            .env("LANG", lang)
            .output()
            .unwrap()
    };
    // `<prefix> <path>/my form.xlsx: <rest>` on a line of its own.
    let printed = |stderr: &str, prefix: &str, rest: &str| {
        stderr
            .lines()
            .any(|l| l.starts_with(prefix) && l.ends_with(&format!("my form.xlsx: {rest}")))
    };
    let out = import("en_US.UTF-8");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let def: Value = serde_json::from_slice(&out.stdout).expect("stdout is the definition alone");
    assert_eq!(def["code"], "my_form", "a code from the file name, cleaned");
    assert!(
        printed(
            &stderr,
            "warning: ",
            "survey row 4 (c), column calculation: \"calculate\" (${a12} * 2): \
             calculations are not supported; left out"
        ),
        "{stderr}"
    );
    assert!(
        printed(
            &stderr,
            "warning: ",
            "survey row 5 (x), column relevant: \"${c} > 3\" cannot be kept (${c} is not \
             asked here (a calculation)): the question is always shown"
        ),
        "{stderr}"
    );
    // A Vietnamese terminal: the same warnings, in Vietnamese; the names,
    // types and expressions of the form as written.
    let out = import("vi_VN.UTF-8");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        printed(
            &stderr,
            "cảnh báo: ",
            "trang survey, dòng 4 (c), cột calculation: \"calculate\" (${a12} * 2): \
             không hỗ trợ phép tính; bị bỏ qua"
        ),
        "{stderr}"
    );
    assert!(
        printed(
            &stderr,
            "cảnh báo: ",
            "trang survey, dòng 5 (x), cột relevant: không giữ được \"${c} > 3\" (${c} \
             không được hỏi ở đây (một phép tính)): câu hỏi luôn được hiển thị"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("survey row"), "{stderr}");
}

#[tokio::test]
async fn a_refusal_exits_1_with_its_warnings_and_a_one_line_summary() {
    let app = spawn_app().await;
    let file = app.db.dir.path().join("broken.xlsx");
    let survey: &[&[&str]] = &[
        &["type", "name", VI],
        &["start", "start", ""],
        &["hologram", "h", "H"],
        &["select_one nolist", "s", "S"],
    ];
    std::fs::write(&file, book(&[("survey", survey)])).unwrap();
    let import = |lang: &str| {
        Command::new(hailong_bin())
            .args([
                "questionnaire",
                "import",
                "--format",
                "json",
                "--database-url",
                &app.db.url,
            ])
            .arg(&file)
            .env("LANG", lang)
            .output()
            .unwrap()
    };
    let out = import("en_US.UTF-8");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning:") && stderr.contains("survey row 2 (start)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("survey row 3 (h)") && stderr.contains("hologram"),
        "{stderr}"
    );
    assert!(
        stderr.contains("survey row 4 (s)") && stderr.contains("nolist"),
        "{stderr}"
    );
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.contains("nothing was imported"))
            .count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.lines().any(|l| l.ends_with(
            "broken.xlsx: nothing was imported: 3 problem(s) above must be fixed (2 warning(s))"
        )),
        "{stderr}"
    );
    // In Vietnamese: the warnings and the summary.
    let out = import("vi_VN.UTF-8");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("cảnh báo: ") && l.contains("trang survey, dòng 2 (start)")),
        "{stderr}"
    );
    assert!(
        stderr.lines().any(|l| l.ends_with(
            "broken.xlsx: không có gì được nhập: cần sửa 3 vấn đề nêu trên (2 cảnh báo)"
        )),
        "{stderr}"
    );
    let db = app.db.connect().await;
    assert_eq!(count(&db, "questionnaires").await, 0);
}

#[tokio::test]
async fn a_stored_questionnaire_exports_as_an_xlsform_that_imports_back() {
    let app = spawn_app().await;
    let preset = concat!(env!("CARGO_MANIFEST_DIR"), "/presets/sipas-2640.json");
    let run = |args: &[&str]| {
        Command::new(hailong_bin())
            .args(args)
            .args(["--database-url", &app.db.url])
            .output()
            .unwrap()
    };
    let out = run(&["questionnaire", "import", preset]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xlsx = app.db.dir.path().join("sipas.xlsx");
    let out = run(&[
        "questionnaire",
        "export",
        "sipas-2640",
        "--format",
        "xlsform",
        "--out",
        xlsx.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&[
        "questionnaire",
        "import",
        "--dry-run",
        "--format",
        "json",
        xlsx.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let back: Value = serde_json::from_slice(&out.stdout).unwrap();
    let original =
        serde_json::to_value(Definition::parse(&std::fs::read_to_string(preset).unwrap()).unwrap())
            .unwrap();
    assert_eq!(back, original);
    // An existing file is never overwritten.
    let out = run(&[
        "questionnaire",
        "export",
        "sipas-2640",
        "--format",
        "xlsform",
        "--out",
        xlsx.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
}

/// A `multipart/form-data` body with the CSRF token and one file.
fn multipart(csrf: &str, file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----hailongtestboundary7MA4YWxk";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn the_designer_imports_an_xlsform_file_and_lists_its_warnings() {
    let app = spawn_app().await;
    app.add_user("designer@example.vn", "designer").await;
    let c = app.login("designer@example.vn").await;
    let csrf = app.page_csrf(&c, "/staff/questionnaires").await;
    let survey: &[&[&str]] = &[
        &["type", "name", VI],
        &["start", "start", ""],
        &["text", "ten", "Tên?"],
        &["text", "chao", "Chào ${ten}"],
    ];
    let post = |csrf: String, bytes: Vec<u8>, lang: &str| {
        let (kind, body) = multipart(&csrf, "khao sat.xlsx", &bytes);
        c.post(app.url(&format!("/staff/questionnaires/import-file?lang={lang}")))
            .header("content-type", kind)
            .body(body)
            .send()
    };
    let res = post(csrf.clone(), book(&[("survey", survey)]), "vi")
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("trang survey, dòng 2 (start), cột type:"),
        "{html}"
    );
    assert!(
        html.contains("trang survey, dòng 4 (chao), cột label: văn bản có chứa ${…}"),
        "{html}"
    );
    // The same import in English (the designer's language).
    let res = post(csrf.clone(), book(&[("survey", survey)]), "en")
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("survey row 2 (start), column type:"),
        "{html}"
    );
    assert!(
        html.contains("survey row 4 (chao), column label: the text contains ${…}"),
        "{html}"
    );
    let db = app.db.connect().await;
    assert_eq!(count(&db, "questionnaires").await, 1);

    // A refusal lists the problems and the warnings, and stores nothing.
    let broken: &[&[&str]] = &[
        &["type", "name", VI],
        &["start", "start", ""],
        &["hologram", "h", "H"],
    ];
    let res = post(csrf.clone(), book(&[("survey", broken)]), "en")
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("survey row 3 (h)") && html.contains("hologram"),
        "{html}"
    );
    assert!(html.contains("survey row 2 (start)"), "{html}");
    assert_eq!(count(&db, "questionnaires").await, 1);

    // Without the session's CSRF token: refused.
    let res = post("forged".to_owned(), book(&[("survey", survey)]), "vi")
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(count(&db, "questionnaires").await, 1);

    // Over 10 MiB of file: 413 with a message, nothing stored.
    let res = post(csrf.clone(), vec![b'x'; 10 * 1024 * 1024 + 1], "en")
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    assert!(res.text().await.unwrap().contains("too large"));
    assert_eq!(count(&db, "questionnaires").await, 1);

    // Not a multipart body: a 400 page, nothing stored.
    let res = c
        .post(app.url("/staff/questionnaires/import-file?lang=en"))
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(count(&db, "questionnaires").await, 1);
}
