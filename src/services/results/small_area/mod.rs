//! Model-based commune estimates: a Fay–Herriot model per index, element and criterion,
//! fitted once at publication to the engine's commune estimates of the publication's
//! included responses (`hailong_stats::sae`; formulas in the README's `hailong sae` section).
//!
//! # Inputs
//!
//! * **Direct estimates** yᵢ: the commune rows of the design-based engine, before suppression.
//!   Only communes with at least `min_n` respondents to the node enter with their direct
//!   estimate ("sampled"); every other commune of the results enters **non-sampled** and gets
//!   the synthetic estimate xᵢ'β̂ only, so no commune's model-based figure depends on its few
//!   respondents' answers beyond their share in β̂ (fitted on the other communes' direct
//!   estimates only — a non-sampled commune is not in the fit at all). The communes of the
//!   results' provinces (valid on the campaign's opening day, through a district level where
//!   there is one) **without any respondent** enter non-sampled too, when every covariate of
//!   the model is known for them: they get a synthetic estimate, and a place in the results
//!   with no direct number (`n` = 0, "too few respondents") beside it.
//! * **Sampling variances** ψᵢ. A commune's own design variance vᵢ is *stable* when its own
//!   PSUs − strata reach `min_df`, vᵢ > 0 and (for shares) 0 < yᵢ < 1; otherwise it is
//!   replaced by a generalised variance function pooled over the *reliable* communes (sampled,
//!   vᵢ > 0, at least two own PSUs, and 0 < yᵢ < 1 for shares):
//!   - shares (arcsine transform, ψᵢ = 1/(4·n_eff,i)): stable → n_eff,i = yᵢ(1−yᵢ)/vᵢ (the
//!     design's effective sample size); unstable → n_eff,i = nᵢ/d̄ with the pooled design
//!     effect d̄ = Σ vⱼ / Σ yⱼ(1−yⱼ)/nⱼ over the reliable communes; with no reliable commune
//!     at all (one PSU per commune, as in the demo: a single PSU's own design variance is 0
//!     by construction) n_eff,i = nᵢ/dᵢ with Kish's design effect of the commune's weights,
//!     dᵢ = nᵢ·Σw²/(Σw)² (at least 1);
//!   - means and scores (no transform): stable → ψᵢ = vᵢ; unstable → ψᵢ = σ̂²/nᵢ with
//!     σ̂² = mean of nⱼ·vⱼ over the reliable communes (none: the node publishes no model,
//!     `no_reliable_variance`).
//! * **Covariates** xᵢ (an intercept is added), kept when known for every commune with
//!   respondents and not constant or a linear combination of those before them over the
//!   sampled communes (a commune without respondents that lacks one of them is left out): `urban` (the unit is a ward, phường, in the locality list); from the population
//!   frames the commune's own `log_population`, `share_female` and share of the first age
//!   group when every commune has them, otherwise its province's (`province_…`); every
//!   variable of the area-level auxiliary data (`hailong localities auxiliary`).
//!
//! # Benchmarking
//!
//! Where the province's direct estimate of the node is published, the model-based estimates
//! of its communes are ratio-benchmarked (`hailong_stats::sae::ratio_benchmark`) so that their
//! average weighted by the communes' populations equals it; the interval and MSE are scaled
//! by the same factor (f·CI, f²·MSE). The populations are the frame's totals
//! (`hailong localities population`) when every modelled commune of the province has one,
//! otherwise the sums of the design's weights as the direct estimate uses them (calibrated
//! where the campaign calibrates; a commune without respondents then weighs 0 and takes its
//! province's factor). Elsewhere the EBLUPs are published as fitted. The MSE of a
//! benchmarked estimate is approximated by f²·MSE (the benchmarking factor is treated as
//! fixed).
//!
//! # Diagnostics
//!
//! A node whose model fails its diagnostics (`hailong_stats::sae::diagnostics`), cannot be
//! fitted, or has too few sampled communes publishes no model-based row; its
//! [`SmallAreaFit`] records the reason codes (`sae-reason-…` in locales/).

mod area;

use std::collections::{BTreeMap, HashMap};

use hailong_stats::Estimate;
use hailong_stats::sae::{self, AreaInput, Method, SaeOptions, Transform};
use serde::{Deserialize, Serialize};

use super::dataset::Dataset;
use super::design::Hierarchy;
use super::model::{CampaignResults, IndexNode, Level, ResultLocality, ResultRow, Suppression};

pub use area::{AreaData, Unsampled, area_data};
use area::{benchmark_populations, covariates};

/// The fewest sampled communes a model is fitted to.
pub const MIN_SAMPLED: usize = 5;

/// One model-based commune estimate (benchmarked where its province is published).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmallAreaRow {
    pub locality: String,
    pub index: String,
    /// Whether the commune entered the model with its direct estimate (at least `min_n`
    /// respondents); otherwise the estimate is synthetic.
    pub sampled: bool,
    pub estimate: f64,
    /// Root of the estimated MSE.
    pub rmse: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// The EBLUP (or synthetic estimate) before benchmarking.
    pub model_estimate: f64,
    /// The benchmarking factor applied, if its province is published.
    pub benchmark: Option<f64>,
}

/// A model-based estimate in the API (`model_based` of a commune row): marked by its
/// `method` and a note in plain words.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ModelBasedJson {
    /// `fay_herriot_eblup` (the commune's own answers and the model) or
    /// `fay_herriot_synthetic` (fewer than `min_n` respondents: the model only).
    pub method: &'static str,
    pub estimate: f64,
    /// Root of the estimated mean squared error.
    pub rmse: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Whether it was benchmarked to its province's direct estimate.
    pub benchmarked: bool,
    /// The EBLUP (or synthetic estimate) before benchmarking, as `sae.py` reproduces it.
    pub before_benchmark: f64,
    /// What a model-based estimate is, in the request's language.
    pub note: String,
}

impl ModelBasedJson {
    pub fn new(row: &SmallAreaRow, lang: crate::i18n::Lang) -> ModelBasedJson {
        ModelBasedJson {
            method: row.method(),
            estimate: row.estimate,
            rmse: row.rmse,
            ci_low: row.ci_low,
            ci_high: row.ci_high,
            benchmarked: row.benchmark.is_some(),
            before_benchmark: row.model_estimate,
            note: crate::i18n::t(lang, row.note_key(), &[]),
        }
    }
}

impl SmallAreaRow {
    /// `fay_herriot_eblup` or `fay_herriot_synthetic`.
    pub fn method(&self) -> &'static str {
        if self.sampled {
            "fay_herriot_eblup"
        } else {
            "fay_herriot_synthetic"
        }
    }

    /// The translation key of its note.
    pub fn note_key(&self) -> &'static str {
        if self.sampled {
            "sae-note-eblup"
        } else {
            "sae-note-synthetic"
        }
    }
}

/// The model of one node: what was fitted, and whether it is published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmallAreaFit {
    pub index: String,
    pub published: bool,
    /// Why not (stable codes; `sae-reason-<code>` in locales/), empty when published.
    pub reasons: Vec<String>,
    /// `arcsin` or `none`.
    pub transform: String,
    pub sigma2: Option<f64>,
    pub beta: Vec<f64>,
    pub covariates: Vec<String>,
    pub sampled: usize,
    pub non_sampled: usize,
    /// Sampled communes whose own design variance was replaced by the pooled one.
    pub smoothed: usize,
    pub large_residuals: usize,
}

/// One sampled commune's input of one node (for `sae_input.csv`; never shown on pages or
/// in the API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmallAreaInput {
    pub locality: String,
    pub index: String,
    pub direct: f64,
    /// ψᵢ on the model scale (1/(4·n_eff) with the arcsine transform).
    pub psi: f64,
    pub n: u64,
}

/// Everything the publication stores about small areas.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SmallArea {
    pub rows: Vec<SmallAreaRow>,
    pub fits: Vec<SmallAreaFit>,
    pub inputs: Vec<SmallAreaInput>,
    /// Covariate names, in the order of [`AreaCovariates::values`].
    pub covariate_names: Vec<String>,
    /// Every modelled commune's covariates (public area-level data).
    pub covariates: Vec<AreaCovariates>,
}

/// The covariates of one commune.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaCovariates {
    pub locality: String,
    pub values: Vec<f64>,
}

impl SmallArea {
    pub fn row(&self, locality: &str, index: &str) -> Option<&SmallAreaRow> {
        self.rows
            .iter()
            .find(|r| r.locality == locality && r.index == index)
    }

    pub fn fit(&self, index: &str) -> Option<&SmallAreaFit> {
        self.fits.iter().find(|f| f.index == index)
    }

    /// Only the rows and inputs of the localities `keep` says yes to.
    pub fn restricted(&self, keep: impl Fn(&str) -> bool) -> SmallArea {
        SmallArea {
            rows: self
                .rows
                .iter()
                .filter(|r| keep(&r.locality))
                .cloned()
                .collect(),
            fits: self.fits.clone(),
            inputs: self
                .inputs
                .iter()
                .filter(|r| keep(&r.locality))
                .cloned()
                .collect(),
            covariate_names: self.covariate_names.clone(),
            covariates: self
                .covariates
                .iter()
                .filter(|r| keep(&r.locality))
                .cloned()
                .collect(),
        }
    }
}

/// A commune's direct estimate of one node, before suppression, with its own df.
#[derive(Debug, Clone)]
pub struct CommuneDirect {
    pub estimate: Estimate,
    pub own_df: i64,
}

/// What the estimation hands to the model: every commune's index estimates before
/// suppression, and the design's weights (calibrated where the campaign calibrates), one per
/// row of the [`Dataset`].
#[derive(Debug, Clone, Default)]
pub struct ModelInputs {
    pub directs: Vec<CommuneDirect>,
    pub weights: Vec<f64>,
}

/// Whether a node's estimates are shares (fitted on the arcsine scale).
fn is_share(node: &IndexNode) -> bool {
    !node.score && node.range.is_none()
}

/// The columns (indices) that add rank to [1, X] over the rows `on`, in order (Gram–Schmidt
/// with a relative tolerance of 1e-6: a column that varies by less than that, e.g. a share
/// rounded from the same fraction everywhere, adds nothing).
// Columns of a row-major matrix: the index is the column, not an element of one slice.
#[allow(clippy::needless_range_loop)]
fn independent_columns(x: &[Vec<f64>], on: &[usize]) -> Vec<usize> {
    let k = x.first().map_or(0, Vec::len);
    let m = on.len();
    let mut basis: Vec<Vec<f64>> = vec![vec![1.0 / (m as f64).sqrt(); m]];
    let mut keep = Vec::new();
    for j in 0..k {
        let mut v: Vec<f64> = on.iter().map(|&i| x[i][j]).collect();
        let norm0 = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        for b in &basis {
            let d: f64 = v.iter().zip(b).map(|(a, c)| a * c).sum();
            for (a, c) in v.iter_mut().zip(b) {
                *a -= d * c;
            }
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if norm > 1e-6 * norm0 && norm > 1e-12 {
            basis.push(v.iter().map(|a| a / norm).collect());
            keep.push(j);
        }
    }
    keep
}

/// A commune of the model: its code and its province's.
pub(crate) type Commune = (String, Option<String>);

/// Fits every node's model and returns what the publication stores.
pub fn fit_all(
    results: &CampaignResults,
    inputs: &ModelInputs,
    data: &Dataset,
    hier: &Hierarchy,
    area: &AreaData,
) -> SmallArea {
    let mut communes: Vec<(String, Option<String>)> = results
        .localities
        .iter()
        .filter(|l| l.level == Level::Commune)
        .map(|l| (l.code.clone(), l.parent.clone()))
        .collect();
    if communes.is_empty() {
        return SmallArea::default();
    }
    let with_respondents = communes.len();
    communes.extend(
        area.unsampled
            .iter()
            .map(|u| (u.unit.code.clone(), Some(u.province.clone()))),
    );
    let (names, rows) = covariates(&communes, with_respondents, hier, area);
    // A commune without respondents whose covariates are not all known is left out.
    let (communes, x): (Vec<Commune>, Vec<Vec<f64>>) = communes
        .into_iter()
        .zip(rows)
        .filter_map(|(c, row)| row.map(|r| (c, r)))
        .unzip();
    let population = benchmark_populations(&communes, &inputs.weights, data, hier, area);
    // Kish's design effect of each commune's weights as the direct estimate uses them
    // (calibrated where the campaign calibrates), n·Σw²/(Σw)².
    let mut sums: HashMap<&str, (f64, f64, f64)> = HashMap::new();
    for (r, &l) in data.locality.iter().enumerate() {
        if let Some(Some(c)) = hier.commune.get(l as usize) {
            let e = sums.entry(c.as_str()).or_default();
            let w = inputs.weights.get(r).copied().unwrap_or(data.weight[r]);
            // A row of groups: its calibrated weight is γ·Σw, so its Σw² is γ²·Σw².
            let gamma = if data.weight[r] > 0.0 {
                w / data.weight[r]
            } else {
                0.0
            };
            let w2 = gamma * gamma * data.weight_squared(r);
            *e = (e.0 + data.count(r) as f64, e.1 + w, e.2 + w2);
        }
    }
    let kish: HashMap<&str, f64> = sums
        .into_iter()
        .filter(|(_, (_, sw, _))| *sw > 0.0)
        .map(|(c, (n, sw, sw2))| (c, (n * sw2 / (sw * sw)).max(1.0)))
        .collect();
    let by_key: HashMap<(&str, &str), &CommuneDirect> = inputs
        .directs
        .iter()
        .map(|d| ((d.estimate.domain.as_str(), d.estimate.item.as_str()), d))
        .collect();
    let mut out = SmallArea {
        covariate_names: names.clone(),
        covariates: communes
            .iter()
            .zip(&x)
            .map(|((c, _), v)| AreaCovariates {
                locality: c.clone(),
                values: v.clone(),
            })
            .collect(),
        ..SmallArea::default()
    };
    for node in &results.nodes {
        let ctx = NodeContext {
            results,
            node,
            communes: &communes,
            x: &x,
            names: &names,
            by_key: &by_key,
            population: &population,
            kish: &kish,
        };
        ctx.fit(&mut out);
    }
    out
}

struct NodeContext<'a> {
    results: &'a CampaignResults,
    node: &'a IndexNode,
    communes: &'a [(String, Option<String>)],
    x: &'a [Vec<f64>],
    names: &'a [String],
    by_key: &'a HashMap<(&'a str, &'a str), &'a CommuneDirect>,
    population: &'a HashMap<String, f64>,
    kish: &'a HashMap<&'a str, f64>,
}

/// A sampled commune's direct estimate, variance and counts.
struct Sampled {
    y: f64,
    v: Option<f64>,
    n: f64,
    own_df: i64,
}

impl NodeContext<'_> {
    fn fit(&self, out: &mut SmallArea) {
        let key = self.node.key.as_str();
        let share = is_share(self.node);
        let min_n = u64::from(self.results.min_n.max(1));
        let min_df = i64::from(self.results.min_df);
        let sampled: Vec<Option<Sampled>> = self
            .communes
            .iter()
            .map(|(c, _)| {
                let d = self.by_key.get(&(c.as_str(), key))?;
                let e = &d.estimate;
                let y = e.estimate.filter(|y| y.is_finite())?;
                (e.n >= min_n).then(|| Sampled {
                    y,
                    v: e.se.map(|s| s * s).filter(|v| v.is_finite()),
                    n: e.n as f64,
                    own_df: d.own_df,
                })
            })
            .collect();
        let mut fit = SmallAreaFit {
            index: key.to_owned(),
            published: false,
            reasons: Vec::new(),
            transform: if share { "arcsin" } else { "none" }.to_owned(),
            sigma2: None,
            beta: Vec::new(),
            covariates: Vec::new(),
            sampled: sampled.iter().flatten().count(),
            non_sampled: sampled.iter().filter(|s| s.is_none()).count(),
            smoothed: 0,
            large_residuals: 0,
        };
        let on: Vec<usize> = (0..sampled.len())
            .filter(|&i| sampled[i].is_some())
            .collect();
        let mut cols = independent_columns(self.x, &on);
        // Keep at least three degrees of freedom for σ²ᵥ.
        cols.truncate(on.len().saturating_sub(4));
        if on.len() < MIN_SAMPLED {
            fit.reasons.push("too_few_sampled_areas".to_owned());
            out.fits.push(fit);
            return;
        }
        // Pooled variance function over the reliable communes.
        let reliable = |s: &Sampled| {
            s.v.is_some_and(|v| v > 0.0) && s.own_df >= 1 && (!share || (s.y > 0.0 && s.y < 1.0))
        };
        let pool: Vec<&Sampled> = sampled.iter().flatten().filter(|s| reliable(s)).collect();
        if pool.is_empty() && !share {
            fit.reasons.push("no_reliable_variance".to_owned());
            out.fits.push(fit);
            return;
        }
        // Shares without any reliable commune variance (one PSU per commune, whose own
        // design variance is 0 by construction): the design effect within a commune is that
        // of its weights alone (Kish), d_i = n·Σw²/(Σw)².
        let deff = if pool.is_empty() {
            None
        } else {
            Some(
                pool.iter().filter_map(|s| s.v).sum::<f64>()
                    / pool.iter().map(|s| s.y * (1.0 - s.y) / s.n).sum::<f64>(),
            )
        };
        let unit_variance =
            pool.iter().map(|s| s.n * s.v.unwrap_or(0.0)).sum::<f64>() / pool.len().max(1) as f64;
        let stable = |s: &Sampled| {
            s.own_df >= min_df
                && s.v.is_some_and(|v| v > 0.0)
                && (!share || (s.y > 0.0 && s.y < 1.0))
        };
        let mut inputs = Vec::with_capacity(self.communes.len());
        let mut psis = Vec::with_capacity(self.communes.len());
        for (i, (code, _)) in self.communes.iter().enumerate() {
            let covariates: Vec<f64> = cols.iter().map(|&j| self.x[i][j]).collect();
            let Some(s) = &sampled[i] else {
                inputs.push(AreaInput {
                    code: code.clone(),
                    direct: None,
                    variance: None,
                    covariates,
                    n: None,
                });
                psis.push(None);
                continue;
            };
            let own = stable(s);
            if !own {
                fit.smoothed += 1;
            }
            let (variance, n_eff) = if share {
                let n_eff = match (s.v, deff) {
                    (Some(v), _) if own => s.y * (1.0 - s.y) / v,
                    (_, Some(d)) => s.n / d,
                    (_, None) => s.n / self.kish.get(code.as_str()).copied().unwrap_or(1.0),
                };
                (None, Some(n_eff))
            } else {
                let v = match s.v {
                    Some(v) if own => v,
                    _ => unit_variance / s.n,
                };
                (Some(v), None)
            };
            psis.push(Some(match (variance, n_eff) {
                (Some(v), _) => v,
                (None, Some(n)) => sae::transform::arcsin_variance(n),
                _ => f64::NAN,
            }));
            inputs.push(AreaInput {
                code: code.clone(),
                direct: Some(s.y),
                variance,
                covariates,
                n: n_eff,
            });
        }
        fit.covariates = cols.iter().map(|&j| self.names[j].clone()).collect();
        let options = SaeOptions {
            method: Method::Reml,
            transform: if share {
                Transform::Arcsin
            } else {
                Transform::None
            },
            ..SaeOptions::default()
        };
        let result = match sae::estimate(&inputs, &options) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(index = key, "small-area model not fitted: {e}");
                fit.reasons.push(
                    match e {
                        sae::SaeError::Collinear => "collinear_covariates",
                        sae::SaeError::TooFewAreas { .. } => "too_few_sampled_areas",
                        sae::SaeError::NotConverged { .. } => "not_converged",
                        _ => "fit_failed",
                    }
                    .to_owned(),
                );
                out.fits.push(fit);
                return;
            }
        };
        fit.sigma2 = Some(result.fit.sigma2);
        fit.beta = result.fit.beta.clone();
        fit.large_residuals = result.diagnostics.large_residuals;
        if !result.diagnostics.passed {
            fit.reasons = result
                .diagnostics
                .reasons
                .iter()
                .map(|r| r.code.to_owned())
                .collect();
            out.fits.push(fit);
            return;
        }
        fit.published = true;
        for (i, input) in inputs.iter().enumerate() {
            if let (Some(direct), Some(psi)) = (input.direct, psis[i]) {
                out.inputs.push(SmallAreaInput {
                    locality: input.code.clone(),
                    index: key.to_owned(),
                    direct,
                    psi,
                    n: sampled[i].as_ref().map_or(0, |s| s.n as u64),
                });
            }
        }
        let factors = self.benchmarks(&result.areas);
        for (a, (_, province)) in result.areas.iter().zip(self.communes) {
            let f = province.as_ref().and_then(|p| factors.get(p)).copied();
            let k = f.unwrap_or(1.0);
            let clamp = |v: f64| if share { v.clamp(0.0, 1.0) } else { v };
            out.rows.push(SmallAreaRow {
                locality: a.code.clone(),
                index: key.to_owned(),
                sampled: a.sampled,
                estimate: a.eblup * k,
                rmse: a.mse.max(0.0).sqrt() * k,
                ci_low: clamp(a.ci_low * k),
                ci_high: clamp(a.ci_high * k),
                model_estimate: a.eblup,
                benchmark: f,
            });
        }
        out.fits.push(fit);
    }

    /// The benchmarking factor of each province whose direct estimate of the node is
    /// published.
    fn benchmarks(&self, areas: &[sae::AreaEstimate]) -> HashMap<String, f64> {
        let mut by_province: BTreeMap<&str, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
        for (a, (code, province)) in areas.iter().zip(self.communes) {
            if let Some(p) = province {
                let e = by_province.entry(p.as_str()).or_default();
                e.0.push(a.eblup);
                e.1.push(self.population.get(code.as_str()).copied().unwrap_or(0.0));
            }
        }
        let mut out = HashMap::new();
        for (p, (estimates, weights)) in by_province {
            let Some(target) = self
                .results
                .row(p, &self.node.key)
                .filter(|r| !r.suppressed)
                .and_then(|r| r.estimate)
            else {
                continue;
            };
            if let Ok(b) = sae::ratio_benchmark(&estimates, &weights, target) {
                out.insert(p.to_owned(), b.factor);
            }
        }
        out
    }
}

/// Gives each commune without respondents that has a model-based estimate its place in the
/// results: a locality with 0 responses and, per node it has an estimate of, a row with no
/// direct number (`n` = 0, too few respondents), so every page, table, map, download and the
/// API show its model-based estimate as they show any suppressed commune's.
pub fn place_unsampled(results: &mut CampaignResults, area: &AreaData) {
    let mut added = false;
    for u in &area.unsampled {
        let code = u.unit.code.as_str();
        let nodes: Vec<String> = results
            .small_area
            .rows
            .iter()
            .filter(|r| r.locality == code)
            .map(|r| r.index.clone())
            .collect();
        if nodes.is_empty() {
            continue;
        }
        added = true;
        results.localities.push(ResultLocality {
            code: code.to_owned(),
            level: Level::Commune,
            parent: Some(u.province.clone()),
            name_vi: u.unit.name_vi.clone(),
            name_en: u.unit.name_en.clone(),
            responses: 0,
        });
        for index in nodes {
            results.rows.push(ResultRow {
                level: Level::Commune,
                locality: code.to_owned(),
                index,
                estimate: None,
                se: None,
                ci_low: None,
                ci_high: None,
                df: results.df,
                n: 0,
                deff: None,
                own_df: 0,
                suppressed: true,
                reason: Some(Suppression::TooFewRespondents),
            });
        }
    }
    if added {
        results
            .localities
            .sort_by(|a, b| (a.level as u8, &a.code).cmp(&(b.level as u8, &b.code)));
        results
            .rows
            .sort_by(|a, b| (a.level as u8, &a.locality).cmp(&(b.level as u8, &b.locality)));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn constant_duplicate_and_nearly_constant_covariates_are_left_out() {
        // Columns: constant, varying, twice the varying one, varying by 1e-9 relative, another.
        let x: Vec<Vec<f64>> = (0..6)
            .map(|i| {
                let v = f64::from(i);
                vec![3.0, v, 2.0 * v, 0.38 + 1e-10 * v, (v * v) % 5.0]
            })
            .collect();
        let all: Vec<usize> = (0..6).collect();
        assert_eq!(independent_columns(&x, &all), [1, 4]);
        // Over fewer rows a column can become constant.
        assert_eq!(independent_columns(&x, &[0]), Vec::<usize>::new());
    }

    #[test]
    fn a_restricted_view_keeps_only_its_localities() {
        let row = |code: &str| SmallAreaRow {
            locality: code.to_owned(),
            index: "I".to_owned(),
            sampled: true,
            estimate: 0.5,
            rmse: 0.1,
            ci_low: 0.3,
            ci_high: 0.7,
            model_estimate: 0.5,
            benchmark: None,
        };
        let sa = SmallArea {
            rows: vec![row("00004"), row("20194")],
            ..SmallArea::default()
        };
        let mine = sa.restricted(|c| c == "20194");
        assert_eq!(mine.rows.len(), 1);
        assert!(mine.row("00004", "I").is_none());
        assert_eq!(
            mine.row("20194", "I").unwrap().method(),
            "fay_herriot_eblup"
        );
    }

    #[test]
    fn results_stored_before_small_areas_read_back_without_them() {
        let old = r#"{"rows":[],"localities":[],"nodes":[],"main_index":null,"responses":0,
            "df":0,"min_n":30,"min_df":8,"calibration":{"status":"none"},"skipped_indices":[]}"#;
        let r: CampaignResults = serde_json::from_str(old).unwrap();
        assert!(r.small_area.rows.is_empty() && r.small_area.fits.is_empty());
    }
}
