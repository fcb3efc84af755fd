//! XLSForm question types as pyxform knows them (its `question_type_dictionary`
//! and `aliases`, old spellings included) and what each becomes here.

/// What a survey row's `type` cell means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowType {
    BeginGroup,
    EndGroup,
    /// `begin repeat`, `begin loop`, …: asked once here.
    BeginRepeat,
    EndRepeat,
    Select {
        multiple: bool,
        list: String,
        or_other: bool,
    },
    /// `rank list`: asked as a multiple choice (the order is not kept).
    Rank(String),
    Text,
    Integer,
    Decimal,
    /// `range` (its `parameters` give start/end/step).
    Range,
    /// `date`, `time`, `dateTime`: asked as short text.
    DateTime(String),
    /// `acknowledge`, `trigger`: asked as yes/no.
    Acknowledge,
    Note,
    /// Filled by the device (`start`, `deviceid`, …): never stored, by the
    /// anonymity rule.
    Metadata(String),
    /// `calculate`, `hidden`: no answer to store.
    Calculate(String),
    /// Location, media, barcode, external lists, `osm`: left out.
    Unsupported(String),
    Unknown(String),
}

/// Lowercased with spaces and underscores removed: how pyxform's spellings compare.
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

const METADATA: &[&str] = &[
    "start",
    "end",
    "today",
    "deviceid",
    "imei",
    "subscriberid",
    "simserial",
    "simid",
    "phonenumber",
    "username",
    "email",
    "audit",
    "starttime",
    "endtime",
    "getstarttime",
    "getendtime",
    "gettoday",
    "getdeviceid",
    "getsubscriberid",
    "getsimid",
    "getphonenumber",
    "uri:subscriberid",
    "uri:phonenumber",
    "uri:simserial",
    "uri:deviceid",
    "uri:username",
    "uri:email",
    "start-geopoint",
    "background-audio",
    "background-geopoint",
];

const UNSUPPORTED: &[&str] = &[
    "geopoint",
    "geotrace",
    "geoshape",
    "gps",
    "location",
    "qgeopoint",
    "qgeotrace",
    "qgeoshape",
    "qlocation",
    "addlocationprompt",
    "photo",
    "image",
    "qpicture",
    "qimage",
    "addimageprompt",
    "addphotoprompt",
    "audio",
    "qaudio",
    "addaudioprompt",
    "video",
    "qvideo",
    "addvideoprompt",
    "file",
    "addfileprompt",
    "barcode",
    "qbarcode",
    "addbarcodeprompt",
    "osm",
    "xml-external",
    "csv-external",
    "selectoneexternal",
];

/// Reads a `type` cell: `select_one yes_no`, `select one from yes_no`,
/// `select_multiple list or_other`, `begin group`, `integer`, ….
pub fn classify(cell: &str) -> RowType {
    let words: Vec<String> = cell.split_whitespace().map(str::to_lowercase).collect();
    let joined = words.join(" ");
    // Groups and repeats.
    let control = |prefix: &str| -> Option<String> {
        joined
            .strip_prefix(prefix)
            .map(|rest| rest.trim_start_matches(['_', ' ']).to_owned())
    };
    for (prefix, begin) in [("begin", true), ("end", false)] {
        if let Some(rest) = control(prefix) {
            let rest = rest.split(' ').collect::<Vec<_>>();
            let what = rest.first().copied().unwrap_or("");
            let group = match what {
                "group" => Some(true),
                "repeat" | "loop" | "lgroup" => Some(false),
                "looped" if rest.get(1) == Some(&"group") => Some(false),
                _ => None,
            };
            match (group, begin) {
                (Some(true), true) => return RowType::BeginGroup,
                (Some(true), false) => return RowType::EndGroup,
                (Some(false), true) => return RowType::BeginRepeat,
                (Some(false), false) => return RowType::EndRepeat,
                (None, _) => {}
            }
        }
    }
    // Selects: the list name is the last word after the type words, then
    // an optional `or_other` / `or specify other`.
    let mut words = words;
    let mut or_other = false;
    if words.last().is_some_and(|w| w == "or_other") {
        words.pop();
        or_other = true;
    } else if words.len() >= 3 && words[words.len() - 3..] == ["or", "specify", "other"] {
        words.truncate(words.len() - 3);
        or_other = true;
    }
    if words.len() >= 2 {
        let head = squash(&words[..words.len() - 1].join(" "));
        // The list name keeps its case.
        let list = cell
            .split_whitespace()
            .nth(words.len() - 1)
            .unwrap_or("")
            .to_owned();
        let one = [
            "selectone",
            "select1",
            "selectonefrom",
            "selectoneusing",
            "addselectonepromptusing",
            "qselect1",
        ];
        let many = [
            "selectmultiple",
            "selectallthatapply",
            "selectallthatapplyfrom",
            "selectmultiplefrom",
            "selectmultipleusing",
            "addselectmultiplepromptusing",
            "qselect",
        ];
        if one.contains(&head.as_str()) || many.contains(&head.as_str()) {
            return RowType::Select {
                multiple: many.contains(&head.as_str()),
                list,
                or_other,
            };
        }
        if head == "osm" {
            return RowType::Unsupported(joined);
        }
        if head == "rank" {
            return RowType::Rank(list);
        }
        if head.starts_with("selectonefromfile")
            || head.starts_with("selectmultiplefromfile")
            || head.starts_with("selectoneexternal")
        {
            return RowType::Unsupported(joined);
        }
    }
    let key = squash(&joined);
    let key = key.as_str();
    match key {
        "text" | "string" | "qstring" | "addtextprompt" => RowType::Text,
        "integer"
        | "int"
        | "qint"
        | "addintegerprompt"
        | "percentage"
        | "numberofdaysinlastmonth"
        | "numberofdaysinlastsixmonths"
        | "numberofdaysinlastyear" => RowType::Integer,
        "decimal" | "qdecimal" | "adddecimalprompt" => RowType::Decimal,
        "range" => RowType::Range,
        "date" | "time" | "datetime" | "qdate" | "qdatetime" | "adddateprompt"
        | "adddatetimeprompt" | "addtimeprompt" => RowType::DateTime(joined),
        "acknowledge" | "qacknowledge" | "addacknowledgeprompt" | "trigger" => RowType::Acknowledge,
        "note" | "qnote" | "addnoteprompt" => RowType::Note,
        "calculate" | "qcalculate" | "addcalculateprompt" | "hidden" => RowType::Calculate(joined),
        _ if METADATA.contains(&key) => RowType::Metadata(joined),
        _ if UNSUPPORTED.contains(&key) => RowType::Unsupported(joined),
        _ => RowType::Unknown(cell.trim().to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn select(multiple: bool, list: &str, or_other: bool) -> RowType {
        RowType::Select {
            multiple,
            list: list.to_owned(),
            or_other,
        }
    }

    #[test]
    fn old_and_new_spellings_of_selects() {
        assert_eq!(
            classify("select_one yes_no"),
            select(false, "yes_no", false)
        );
        assert_eq!(classify("select one from yn"), select(false, "yn", false));
        assert_eq!(classify("select1 yn"), select(false, "yn", false));
        assert_eq!(classify("Select One yn"), select(false, "yn", false));
        assert_eq!(
            classify("select all that apply x"),
            select(true, "x", false)
        );
        assert_eq!(
            classify("select all that apply from x"),
            select(true, "x", false)
        );
        assert_eq!(
            classify("select_multiple x or_other"),
            select(true, "x", true)
        );
        assert_eq!(
            classify("select one from x or specify other"),
            select(false, "x", true)
        );
        assert_eq!(
            classify("add select one prompt using x"),
            select(false, "x", false)
        );
        assert_eq!(classify("rank x"), RowType::Rank("x".into()));
        assert!(matches!(
            classify("select_one_external x"),
            RowType::Unsupported(_)
        ));
        assert!(matches!(
            classify("select_one_from_file a.csv"),
            RowType::Unsupported(_)
        ));
    }

    #[test]
    fn groups_repeats_and_loops() {
        assert_eq!(classify("begin group"), RowType::BeginGroup);
        assert_eq!(classify("begin_group"), RowType::BeginGroup);
        assert_eq!(classify("end group"), RowType::EndGroup);
        assert_eq!(classify("begin repeat"), RowType::BeginRepeat);
        assert_eq!(classify("begin_repeat"), RowType::BeginRepeat);
        assert_eq!(classify("begin loop over x"), RowType::BeginRepeat);
        assert_eq!(classify("end loop"), RowType::EndRepeat);
        assert_eq!(classify("begin looped group"), RowType::BeginRepeat);
    }

    #[test]
    fn plain_types_and_their_aliases() {
        for t in ["text", "string", "add text prompt"] {
            assert_eq!(classify(t), RowType::Text, "{t}");
        }
        for t in ["integer", "int", "add integer prompt"] {
            assert_eq!(classify(t), RowType::Integer, "{t}");
        }
        assert_eq!(classify("decimal"), RowType::Decimal);
        assert_eq!(classify("note"), RowType::Note);
        assert!(matches!(classify("dateTime"), RowType::DateTime(_)));
        assert!(matches!(classify("imei"), RowType::Metadata(_)));
        assert!(matches!(classify("start-geopoint"), RowType::Metadata(_)));
        assert!(matches!(classify("start"), RowType::Metadata(_)));
        assert!(matches!(classify("gps"), RowType::Unsupported(_)));
        assert!(matches!(classify("photo"), RowType::Unsupported(_)));
        assert!(matches!(classify("osm"), RowType::Unsupported(_)));
        assert!(matches!(classify("osm road_tags"), RowType::Unsupported(_)));
        assert_eq!(classify("trigger"), RowType::Acknowledge);
        assert!(matches!(classify("calculate"), RowType::Calculate(_)));
        assert_eq!(classify("hologram"), RowType::Unknown("hologram".into()));
    }
}
