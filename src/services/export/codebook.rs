//! The microdata's codebook: what every column and every coded value means, in both
//! languages.

use crate::domain::questionnaire::{Question, QuestionType};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::services::campaigns::OpenCampaign;

use super::csv_string;

/// `variable,value,label_vi,label_en`: one row per column (value empty, the question text),
/// then one row per labelled value.
pub(super) fn codebook(
    campaign: &OpenCampaign,
    questions: &[&Question],
    cal_vars: &[String],
) -> Result<String, AppError> {
    let mut rows: Vec<Vec<String>> = vec![vec![
        "variable".into(),
        "value".into(),
        "label_vi".into(),
        "label_en".into(),
    ]];
    let mut add = |v: &str, value: &str, vi: &str, en: &str| {
        rows.push(vec![
            v.to_owned(),
            value.to_owned(),
            vi.to_owned(),
            en.to_owned(),
        ]);
    };
    let t = |lang, key: &str| crate::i18n::t(lang, key, &[]);
    for col in [
        "row",
        "province",
        "commune",
        "stratum",
        "psu",
        "base_weight",
        "weight",
    ] {
        let key = format!("export-col-{}", col.replace('_', "-"));
        add(col, "", &t(Lang::Vi, &key), &t(Lang::En, &key));
    }
    for v in cal_vars {
        let key = "export-col-cal";
        add(
            &format!("cal_{v}"),
            "",
            &format!("{} ({v})", t(Lang::Vi, key)),
            &format!("{} ({v})", t(Lang::En, key)),
        );
    }
    for q in questions {
        let vi = q.label.get("vi");
        let en = q.label.get("en");
        match q.kind {
            QuestionType::ShortText | QuestionType::LongText => {}
            QuestionType::MultipleChoice => {
                for o in &q.options {
                    add(
                        &format!("{}.{}", q.code, o.value),
                        "",
                        &format!("{vi}: {}", o.label.get("vi")),
                        &format!("{en}: {}", o.label.get("en")),
                    );
                    add(
                        &format!("{}.{}", q.code, o.value),
                        "1",
                        &t(Lang::Vi, "export-chosen"),
                        &t(Lang::En, "export-chosen"),
                    );
                    add(
                        &format!("{}.{}", q.code, o.value),
                        "0",
                        &t(Lang::Vi, "export-not-chosen"),
                        &t(Lang::En, "export-not-chosen"),
                    );
                }
            }
            _ => {
                add(&q.code, "", vi, en);
                for p in &q.points {
                    add(
                        &q.code,
                        &p.value.to_string(),
                        p.label.get("vi"),
                        p.label.get("en"),
                    );
                }
                for o in &q.options {
                    add(&q.code, &o.value, o.label.get("vi"), o.label.get("en"));
                }
                if q.kind == QuestionType::YesNo {
                    add(
                        &q.code,
                        "1",
                        &t(Lang::Vi, "export-yes"),
                        &t(Lang::En, "export-yes"),
                    );
                    add(
                        &q.code,
                        "0",
                        &t(Lang::Vi, "export-no"),
                        &t(Lang::En, "export-no"),
                    );
                }
            }
        }
    }
    let _ = campaign;
    csv_string(&rows)
}
