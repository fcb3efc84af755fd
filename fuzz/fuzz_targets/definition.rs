//! Questionnaire definition import from JSON (the designer's paste, the
//! API, `hailong questionnaire import`). Any input must give a definition or
//! a list of field errors, never a panic; an accepted definition, exported
//! and imported again, must export the same.
#![no_main]

use hailong::domain::questionnaire::Definition;
use hailong::services::questionnaire_io::{Parsed, parse_file};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Parsed::Ok { definition, .. } = parse_file("fuzz.json", data) {
        let exported = serde_json::to_string_pretty(&definition).expect("export");
        let again = Definition::parse(&exported).expect("an exported definition imports");
        let exported_again = serde_json::to_string_pretty(&again).expect("export");
        assert_eq!(exported, exported_again);
    }
});
