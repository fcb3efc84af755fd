//! Questionnaire definition import from JSON (the designer's paste, the
//! API, `hailong questionnaire import`). Any input must give a definition or
//! a list of field errors, never a panic; an accepted definition, exported
//! and imported again by the same path (a draft may still lack Vietnamese
//! texts), must export the same.
#![no_main]

use hailong::services::questionnaire_io::{Parsed, parse_file};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Parsed::Ok { definition, .. } = parse_file("fuzz.json", data) {
        let exported = serde_json::to_string_pretty(&definition).expect("export");
        let Parsed::Ok { definition: again, .. } = parse_file("fuzz.json", exported.as_bytes())
        else {
            panic!("an exported definition does not import again: {exported}");
        };
        let exported_again = serde_json::to_string_pretty(&again).expect("export");
        assert_eq!(exported, exported_again);
    }
});
