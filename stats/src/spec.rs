//! What is estimated and what comes out: survey items, composite index specifications, domain
//! partitions, the statistic asked for, the options, and one estimate with its uncertainty
//! (the estimators themselves are in [`crate::estimate`]).

use serde::Serialize;

use crate::error::StatsError;
use crate::factor::{Factor, label_order};
use crate::intervals::CiMethod;

/// One survey item: its answers (NaN = missing) and the smallest answer that counts as
/// "satisfied".
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Item code, e.g. `q1`.
    pub name: String,
    /// One answer per row of the design; NaN marks a missing answer.
    pub values: Vec<f64>,
    /// An answer `≥ satisfied_min` counts as satisfied (default 4 on a 1–5 scale).
    pub satisfied_min: f64,
    /// The answer scale `(min, max)`, needed by [`IndexKind::Score`] indices.
    pub scale: Option<(f64, f64)>,
}

impl Item {
    /// An item from answers with NaN for missing, threshold 4.
    pub fn new(name: impl Into<String>, values: Vec<f64>) -> Item {
        Item {
            name: name.into(),
            values,
            satisfied_min: 4.0,
            scale: None,
        }
    }

    /// The same item with another "satisfied" threshold.
    pub fn with_satisfied_min(mut self, min: f64) -> Item {
        self.satisfied_min = min;
        self
    }

    /// The same item with its answer scale (for [`IndexKind::Score`]).
    pub fn with_scale(mut self, min: f64, max: f64) -> Item {
        self.scale = Some((min, max));
        self
    }
}

/// A composite index over some items with weights `a_k`: positive and normalised by their
/// sum, except in a [`IndexKind::Linear`] index, where they are the coefficients as given (any
/// sign, not 0) and `offset` is added; what it combines is its [`IndexKind`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexSpec {
    /// Name of the index (reported as `item`).
    pub name: String,
    /// `(item name, weight)` pairs.
    pub items: Vec<(String, f64)>,
    /// What the index combines.
    pub kind: IndexKind,
    /// Constant added to a [`IndexKind::Linear`] index (0 for every other kind).
    #[serde(skip_serializing_if = "is_zero")]
    pub offset: f64,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

impl IndexSpec {
    /// The weighted mean of the items' "satisfied" shares ([`IndexKind::Shares`]).
    pub fn shares(name: impl Into<String>, items: Vec<(String, f64)>) -> IndexSpec {
        IndexSpec {
            name: name.into(),
            items,
            kind: IndexKind::Shares,
            offset: 0.0,
        }
    }

    /// `offset + Σ_k c_k ȳ_k` with the coefficients as given ([`IndexKind::Linear`]).
    pub fn linear(name: impl Into<String>, items: Vec<(String, f64)>, offset: f64) -> IndexSpec {
        IndexSpec {
            name: name.into(),
            items,
            kind: IndexKind::Linear,
            offset,
        }
    }

    /// The same items combined another way.
    pub fn with_kind(mut self, kind: IndexKind) -> IndexSpec {
        self.kind = kind;
        self
    }
}

/// How an index combines its items (weights `a_k` normalised to sum 1; `o_ik = 1` when row
/// `i` answered item `k`, `s_ik = 1` when that answer is satisfied; each item on its own
/// respondents).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexKind {
    /// `I = Σ_k a_k p_k`, the weighted mean of the items' satisfied shares (SIPAS). R:
    /// `svycontrast(svyratio(~s1+…, ~o1+…, covmat = TRUE), a)`.
    #[default]
    Shares,
    /// Rescaled mean score `I = Σ_k a_k (ȳ_k − min_k) / (max_k − min_k)`, in [0, 1], linear in
    /// the item means (every item needs [`Item::with_scale`]); linearised
    /// `z = Σ_k a_k / (max_k − min_k) · w o_k (y_k − ȳ_k) / N̂_k`. R:
    /// `svycontrast(svyratio(~y1+…, ~o1+…, covmat = TRUE), a / (max − min))` (the constant does
    /// not change the variance).
    Score,
    /// Pooled share satisfied: the ratio of totals `R = Σ_i w_i Σ_k a_k s_ik / Σ_i w_i Σ_k a_k
    /// o_ik` (with equal weights, satisfied answers over all answers given), linearised
    /// `z_i = w_i (y_i − R x_i) / X̂` with `y_i = Σ_k a_k s_ik`, `x_i = Σ_k a_k o_ik` on the
    /// domain's rows. R: `svyratio(~y, ~x, design)` (`svyby(…, svyratio)` for domains).
    /// Estimable where some item was answered.
    PooledShare,
    /// A linear combination of item means, `I = c + Σ_k a_k ȳ_k`, with the coefficients as
    /// given (any sign; not normalised) and the constant `c` of [`IndexSpec::offset`]: sums and
    /// differences of scores, rescaled to a stated range (PAPI: sub-dimension scores summed
    /// into a dimension, dimensions into the aggregate), means of number questions, shares of
    /// 0/1 indicators. Linearised `z = Σ_k a_k w o_k (y_k − ȳ_k) / N̂_k`; interval
    /// `I ± qt(1 − α/2, df) · se`. R: `svycontrast(svyratio(~y1+…, ~o1+…, covmat = TRUE),
    /// a)` plus `c` (the constant does not change the variance).
    Linear,
    /// The "satisfied" share of one item with the interval of the item's own share
    /// ([`crate::CiMethod`], as `svyciprop`): a derived 0/1 indicator such as "satisfied with
    /// every answered item" or "chose one of these options" (threshold 1). Exactly one item.
    Proportion,
}

/// The domain of every row: a code into `labels`, or [`Domains::OUTSIDE`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domains {
    pub(crate) codes: Vec<u32>,
    pub(crate) labels: Vec<String>,
}

impl Domains {
    /// Code of a row that belongs to no domain.
    pub const OUTSIDE: u32 = u32::MAX;

    /// One domain, `ALL`, holding every row.
    pub fn all(n_rows: usize) -> Domains {
        Domains {
            codes: vec![0; n_rows],
            labels: vec!["ALL".to_owned()],
        }
    }

    /// Domains from codes and labels (codes must be `< labels.len()` or `OUTSIDE`).
    pub fn new(codes: Vec<u32>, labels: Vec<String>) -> Result<Domains, StatsError> {
        if let Some(row) = codes
            .iter()
            .position(|&c| c != Domains::OUTSIDE && c as usize >= labels.len())
        {
            return Err(StatsError::Value {
                row,
                column: "domain".into(),
                message: format!("domain code {} but {} domains", codes[row], labels.len()),
            });
        }
        Ok(Domains { codes, labels })
    }

    /// Domains from a factor, ordered as R orders factor levels (numerically when every label
    /// is a number, else by text), which is the order results come in.
    pub fn from_factor(factor: Factor) -> Domains {
        let (codes, levels) = factor.into_parts();
        let order = label_order(&levels);
        let mut new_code = vec![0u32; levels.len()];
        for (new, &old) in order.iter().enumerate() {
            new_code[old] = new as u32;
        }
        let labels = order.iter().map(|&o| levels[o].clone()).collect();
        let codes = codes.into_iter().map(|c| new_code[c as usize]).collect();
        Domains { codes, labels }
    }

    /// Domains from one label per row (sorted as in [`Domains::from_factor`]).
    pub fn from_labels<I, S>(labels: I) -> Domains
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Domains::from_factor(Factor::from_labels(labels))
    }

    /// Domain code of each row.
    pub fn codes(&self) -> &[u32] {
        &self.codes
    }

    /// Domain labels.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Number of domains.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there is no domain.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The code of a label.
    pub fn code_of(&self, label: &str) -> Option<u32> {
        self.labels
            .iter()
            .position(|l| l == label)
            .map(|p| p as u32)
    }
}

/// Which statistic an [`Estimate`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Statistic {
    /// Weighted mean of the answers.
    Mean,
    /// Weighted share of answers ≥ the item's threshold.
    Satisfied,
    /// Composite index.
    Index,
}

impl Statistic {
    /// The name used in output (`mean`, `satisfied`, `index`).
    pub fn as_str(self) -> &'static str {
        match self {
            Statistic::Mean => "mean",
            Statistic::Satisfied => "satisfied",
            Statistic::Index => "index",
        }
    }
}

/// One estimate: a statistic of an item (or index) in a domain. Numbers that are not
/// estimable or not finite are `None`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// Domain label (`ALL` for the whole sample; `A - B` for a difference).
    pub domain: String,
    /// Item code or index name.
    pub item: String,
    /// Which statistic.
    pub statistic: Statistic,
    /// Unweighted number of respondents (valid answer, weight > 0); for an index, respondents
    /// who answered at least one of its items.
    pub n: u64,
    /// Point estimate.
    pub estimate: Option<f64>,
    /// Linearised standard error.
    pub se: Option<f64>,
    /// Design degrees of freedom.
    pub df: i64,
    /// Lower confidence limit.
    pub ci_low: Option<f64>,
    /// Upper confidence limit.
    pub ci_high: Option<f64>,
    /// Design effect as `svymean(deff = TRUE)`.
    pub deff: Option<f64>,
    /// Effective sample size (see the module documentation).
    pub n_eff: Option<f64>,
}

/// Options of an estimation run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EstimateOptions {
    /// Interval for "satisfied" shares.
    pub ci: CiMethod,
    /// Confidence level, e.g. 0.95.
    pub level: f64,
}

impl Default for EstimateOptions {
    fn default() -> Self {
        EstimateOptions {
            ci: CiMethod::Logit,
            level: 0.95,
        }
    }
}
