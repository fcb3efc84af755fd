//! Questionnaires shipped with Hailong (`presets/`), embedded in the binary.

use crate::domain::questionnaire::Definition;

/// The preset files: SIPAS one-stop desk, public hospital patients, public
/// school parents, and a PAPI-style governance index.
pub const FILES: [(&str, &str); 4] = [
    (
        "sipas-one-stop.json",
        include_str!("../presets/sipas-one-stop.json"),
    ),
    (
        "health-hospital.json",
        include_str!("../presets/health-hospital.json"),
    ),
    (
        "education-school-parents.json",
        include_str!("../presets/education-school-parents.json"),
    ),
    (
        "papi-governance.json",
        include_str!("../presets/papi-governance.json"),
    ),
];

/// Every preset that parses (a unit test checks that all of them do).
pub fn all() -> Vec<(&'static str, Definition)> {
    FILES
        .iter()
        .filter_map(|(name, json)| Definition::parse(json).ok().map(|d| (*name, d)))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_preset_parses() {
        assert_eq!(super::all().len(), super::FILES.len());
    }
}
