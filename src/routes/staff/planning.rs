//! `/staff/plan`: the sample planner over the population frame, for every
//! staff role that may read campaigns. It only computes: a GET form.

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};

use crate::auth::{Access, Area};
use crate::domain::locality::LEVELS;
use crate::domain::planning::{self, Allocation, Assumptions, Budget, PlanError, Stratum};
use crate::error::AppError;
use crate::i18n::{self, Arg, Lang};
use crate::routes::extract::StaffUser;
use crate::routes::state::AppState;
use crate::services::planning::frame;

use crate::views::staff::planning::{PlanPage, PlanRow};

use super::render;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(index);
}

/// The form, as typed (echoed back on errors).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct PlanQuery {
    level: String,
    on: String,
    moe: String,
    expected: String,
    deff: String,
    response_rate: String,
    confidence: String,
    budget: String,
    allocation: String,
    minimum: String,
    take: String,
    priors: String,
}

fn number(lang: Lang, text: &str, label: &str, errors: &mut Vec<String>) -> Option<f64> {
    let t = text.trim().replace(',', ".");
    if t.is_empty() {
        return None;
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Some(v),
        _ => {
            errors.push(i18n::t(
                lang,
                "plan-error-number",
                &[("field", Arg::from(i18n::t(lang, label, &[])))],
            ));
            None
        }
    }
}

fn plan_error(lang: Lang, e: &PlanError) -> String {
    match e {
        PlanError::OutOfRange(name, ..) => i18n::t(
            lang,
            "plan-error-range",
            &[(
                "field",
                Arg::from(i18n::t(lang, &format!("plan-{name}"), &[])),
            )],
        ),
        PlanError::BudgetBelowMinimums { needed, .. } => i18n::t(
            lang,
            "plan-error-budget",
            &[("needed", Arg::from(*needed as f64))],
        ),
        PlanError::NoStrata => i18n::t(lang, "plan-error-no-strata", &[]),
        PlanError::MissingPrior(code) => i18n::t(
            lang,
            "plan-error-prior",
            &[("code", Arg::from(code.clone()))],
        ),
        PlanError::NoPopulation(code) => i18n::t(
            lang,
            "plan-error-population",
            &[("code", Arg::from(code.clone()))],
        ),
    }
}

#[get("/plan")]
pub async fn index(
    state: web::Data<AppState>,
    user: StaffUser,
    q: web::Query<PlanQuery>,
) -> Result<HttpResponse, AppError> {
    user.require(Area::Campaigns, Access::Read)?;
    let lang = user.lang;
    let mut form = q.into_inner();
    let submitted = !form.moe.trim().is_empty() || !form.budget.trim().is_empty();
    for (field, default) in [
        (&mut form.level, "province"),
        (&mut form.expected, "80"),
        (&mut form.deff, "1.5"),
        (&mut form.response_rate, "100"),
        (&mut form.confidence, "95"),
        (&mut form.allocation, "proportional"),
        (&mut form.minimum, "0"),
    ] {
        if field.trim().is_empty() {
            *field = default.to_owned();
        }
    }
    let mut page = PlanPage {
        levels: LEVELS.to_vec(),
        allocations: Allocation::ALL.iter().map(|a| a.as_str()).collect(),
        rows: vec![],
        total_required: None,
        total_allocated: None,
        total_clusters: None,
        errors: vec![],
        notice: None,
        form,
    };
    if submitted {
        compute(&state, lang, &mut page).await?;
    }
    render(&user, "staff/plan.html", "/staff/plan", page)
}

async fn compute(
    state: &AppState,
    lang: Lang,
    page: &mut PlanPage<PlanQuery>,
) -> Result<(), AppError> {
    let f = &page.form;
    let mut errors = Vec::new();
    let moe = number(lang, &f.moe, "plan-moe", &mut errors);
    let expected = number(lang, &f.expected, "plan-p", &mut errors).unwrap_or(80.0);
    let deff = number(lang, &f.deff, "plan-deff", &mut errors).unwrap_or(1.5);
    let rr = number(lang, &f.response_rate, "plan-response_rate", &mut errors).unwrap_or(100.0);
    let confidence = number(lang, &f.confidence, "plan-confidence", &mut errors).unwrap_or(95.0);
    let budget = number(lang, &f.budget, "plan-budget", &mut errors);
    let minimum = number(lang, &f.minimum, "plan-minimum", &mut errors).unwrap_or(0.0);
    let take = number(lang, &f.take, "plan-take", &mut errors).map(|t| t.round() as u64);
    let method = Allocation::parse(&f.allocation).unwrap_or(Allocation::Proportional);
    let on = match f.on.trim() {
        "" => chrono::Utc::now().date_naive(),
        s => match s.parse() {
            Ok(d) => d,
            Err(_) => {
                errors.push(i18n::t(
                    lang,
                    "plan-error-number",
                    &[("field", Arg::from(i18n::t(lang, "plan-on", &[])))],
                ));
                chrono::Utc::now().date_naive()
            }
        },
    };
    let level = if LEVELS.contains(&f.level.as_str()) {
        f.level.clone()
    } else {
        "province".to_owned()
    };
    let mut priors = std::collections::HashMap::new();
    for line in f.priors.lines() {
        let mut parts = line.split([',', ';', '\t', ' ']).filter(|s| !s.is_empty());
        if let (Some(code), Some(p)) = (parts.next(), parts.next())
            && let Some(p) = number(lang, p, "plan-priors", &mut errors)
        {
            priors.insert(code.to_owned(), p / 100.0);
        }
    }
    if !errors.is_empty() {
        page.errors = errors;
        return Ok(());
    }
    let units = frame(&state.db, &level, on).await?;
    let strata: Vec<Stratum> = units
        .iter()
        .map(|u| Stratum {
            code: u.code.clone(),
            population: u.population.unwrap_or(0.0),
            prior_p: priors.get(&u.code).copied(),
        })
        .collect();
    let result =
        Assumptions::new(confidence / 100.0, expected / 100.0, deff, rr / 100.0).and_then(|a| {
            if strata.is_empty() {
                return Err(PlanError::NoStrata);
            }
            planning::plan(
                &a,
                &strata,
                moe.map(|m| m / 100.0),
                budget.map(|b| Budget {
                    total: b.round() as u64,
                    method,
                    minimum: minimum.round() as u64,
                }),
                take,
            )
        });
    match result {
        Err(e) => page.errors.push(plan_error(lang, &e)),
        Ok(rows) => {
            page.total_required = rows.iter().map(|r| r.required).sum();
            page.total_allocated = rows.iter().map(|r| r.allocated).sum();
            page.total_clusters = rows.iter().map(|r| r.clusters).sum();
            page.rows = rows
                .into_iter()
                .zip(&units)
                .map(|(r, u)| PlanRow {
                    code: r.code,
                    name: match lang {
                        Lang::Vi => u.name_vi.clone(),
                        Lang::En => u.name_en.clone(),
                    },
                    population: format!("{:.0}", r.population),
                    required: r.required,
                    allocated: r.allocated,
                    moe: r.expected_moe.map(|m| format!("±{:.1}", m * 100.0)),
                    clusters: r.clusters,
                })
                .collect();
        }
    }
    Ok(())
}
