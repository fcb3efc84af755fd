//! The submission parser and validator against fixed questionnaires: the
//! JSON body of `POST /api/v1/campaigns/{slug}/responses` (and the kiosk's),
//! and the same bytes as a survey form body. Any input must give a result or
//! a structured error, never a panic; an accepted submission's stored answers must
//! read back as the same answers.
#![no_main]

use std::sync::LazyLock;

use hailong::domain::answers;
use hailong::domain::questionnaire::Definition;
use hailong::domain::submission::{SubmissionError, parse_submission};
use hailong::domain::flow::parse_form_body;
use libfuzzer_sys::fuzz_target;

static DEFINITIONS: LazyLock<Vec<Definition>> = LazyLock::new(|| {
    [
        include_str!("../../presets/sipas-2640.json"),
        include_str!("../../presets/health-hospital.json"),
    ]
    .iter()
    .map(|json| Definition::parse(json).expect("a preset parses"))
    .collect()
});

fuzz_target!(|data: &[u8]| {
    for def in DEFINITIONS.iter() {
        match parse_submission(def, data) {
            Ok((_, parsed)) => {
                // What is stored reads back as the same answers.
                let stored: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&parsed.to_json_string()).expect("stored JSON parses");
                assert_eq!(answers::parse(def, &stored), Ok(parsed));
            }
            Err(SubmissionError::Fields(errors)) => assert!(!errors.is_empty()),
            Err(SubmissionError::Json(_)) => {}
        }
        if let Ok(fields) = parse_form_body(data) {
            let mut raw = answers::from_form(def, &fields);
            answers::prune_hidden(def, &mut raw);
            let _ = answers::parse_with(def, &raw, |_| true);
        }
    }
});
