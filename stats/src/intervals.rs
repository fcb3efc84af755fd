//! Confidence intervals (R: `confint(…, df = degf(design))`, `svyciprop`) and the quantiles
//! they need (statrs, polished with Newton steps so they agree with R's `qt`/`qbeta`).

use statrs::distribution::{Beta, Continuous, ContinuousCDF, StudentsT};

/// How the interval of a "satisfied" share is computed. Means and indices always use
/// `estimate ± t · se`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CiMethod {
    /// Logit interval (R: `svyciprop(method = "logit")`, in closed form):
    /// `expit(logit(p) ∓ t · √v / (p (1 − p)))`. Undefined when `p ∈ {0, 1}` or `v = 0`.
    #[default]
    Logit,
    /// Wilson interval (R ≥ 4.2: `svyciprop(method = "wilson")`): with `n_eff = p(1−p)/v`,
    /// `[p + t²/(2 n_eff) ∓ t/(2 n_eff) · √(4 n_eff p(1−p) + t²)] / (1 + t²/n_eff)`.
    Wilson,
    /// Korn–Graubard (R: `svyciprop(method = "beta")`): `n_eff = p(1−p)/v · (t_{n−1}/t_df)²`
    /// with `n` respondents and the design `df`, then the Clopper–Pearson limits
    /// `qbeta(α/2, n_eff p, n_eff (1−p) + 1)` and `qbeta(1 − α/2, n_eff p + 1, n_eff (1−p))`.
    /// (R 4.1 uses the domain subset's own df; Hailong uses the design df throughout.)
    Beta,
    /// Wald interval on the share: `p ± t · se` (R: `svyciprop(method = "mean")`).
    T,
}

/// `qt(p, df)`: the `p` quantile of Student's t with `df` degrees of freedom. `None` when
/// `df < 1` (no interval can be formed).
pub fn t_quantile(p: f64, df: f64) -> Option<f64> {
    let valid = df >= 1.0 && p > 0.0 && p < 1.0;
    if !valid {
        return None;
    }
    if df > 1000.0 {
        return Some(t_quantile_large_df(p, df));
    }
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    let mut x = dist.inverse_cdf(p);
    if !x.is_finite() {
        return None;
    }
    for _ in 0..4 {
        let f = dist.cdf(x) - p;
        let d = dist.pdf(x);
        if d.is_nan() || d <= 0.0 {
            break;
        }
        let step = f / d;
        x -= step;
        if step.abs() <= 1e-15 * x.abs().max(1e-300) {
            break;
        }
    }
    Some(x)
}

/// Cornish–Fisher expansion of the t quantile around the normal quantile `z` (Abramowitz &
/// Stegun 26.7.5, terms to `ν⁻⁴`); for `ν > 1000` the neglected terms are below 1e−15, where
/// the incomplete beta function of statrs loses digits.
fn t_quantile_large_df(p: f64, df: f64) -> f64 {
    let z = statrs::distribution::Normal::standard().inverse_cdf(p);
    let z2 = z * z;
    let g1 = (z2 + 1.0) * z / 4.0;
    let g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0;
    let g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0;
    let g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0;
    z + g1 / df + g2 / (df * df) + g3 / (df * df * df) + g4 / (df * df * df * df)
}

/// `qbeta(p, a, b)`, `None` for invalid shapes. `a = 0` gives 0 (the degenerate lower limit).
pub fn beta_quantile(p: f64, a: f64, b: f64) -> Option<f64> {
    let valid = p > 0.0 && p < 1.0 && a >= 0.0 && b > 0.0 && a.is_finite() && b.is_finite();
    if !valid {
        return None;
    }
    if a == 0.0 {
        return Some(0.0);
    }
    let dist = Beta::new(a, b).ok()?;
    let mut x = dist.inverse_cdf(p);
    if !x.is_finite() {
        return None;
    }
    for _ in 0..6 {
        let f = dist.cdf(x) - p;
        let d = dist.pdf(x);
        if d.is_nan() || d <= 0.0 || d.is_infinite() {
            break;
        }
        let next = (x - f / d).clamp(0.0, 1.0);
        let done = (next - x).abs() <= 1e-15 * x.abs().max(1e-300);
        x = next;
        if done {
            break;
        }
    }
    Some(x)
}

/// `estimate ± t · se`, when both are finite.
pub fn wald(estimate: f64, se: f64, t: Option<f64>) -> (Option<f64>, Option<f64>) {
    match t {
        Some(t) if estimate.is_finite() && se.is_finite() => {
            (Some(estimate - t * se), Some(estimate + t * se))
        }
        _ => (None, None),
    }
}

/// The interval of a share `p` with variance `v` by `method`; `t = qt(1 − α/2, df)`, `n` the
/// number of respondents. `None` where the method is undefined (see [`CiMethod`]).
pub fn proportion_interval(
    method: CiMethod,
    p: f64,
    v: f64,
    t: Option<f64>,
    level: f64,
    n: u64,
    df: f64,
) -> Option<(f64, f64)> {
    let t = t?;
    if !p.is_finite() || !v.is_finite() || v < 0.0 {
        return None;
    }
    let se = v.sqrt();
    if method == CiMethod::T {
        return Some((p - t * se, p + t * se));
    }
    let defined = v > 0.0 && p > 0.0 && p < 1.0;
    if !defined {
        return None;
    }
    let pq = p * (1.0 - p);
    match method {
        CiMethod::Logit => {
            let half = t * se / pq;
            let logit = (p / (1.0 - p)).ln();
            Some((expit(logit - half), expit(logit + half)))
        }
        CiMethod::Wilson => {
            let n_eff = pq / v;
            let t2 = t * t;
            let centre = p + t2 / (2.0 * n_eff);
            let half = (t / (2.0 * n_eff)) * (4.0 * n_eff * pq + t2).sqrt();
            let denom = 1.0 + t2 / n_eff;
            Some(((centre - half) / denom, (centre + half) / denom))
        }
        CiMethod::Beta => {
            if n < 2 {
                return None;
            }
            let alpha = 1.0 - level;
            let ratio = t_quantile(alpha / 2.0, (n - 1) as f64)? / t_quantile(alpha / 2.0, df)?;
            let n_eff = pq / v * ratio * ratio;
            let lo = beta_quantile(alpha / 2.0, n_eff * p, n_eff * (1.0 - p) + 1.0)?;
            let hi = beta_quantile(1.0 - alpha / 2.0, n_eff * p + 1.0, n_eff * (1.0 - p))?;
            Some((lo, hi))
        }
        CiMethod::T => Some((p - t * se, p + t * se)),
    }
}

fn expit(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs()
    }

    /// Values from R 4.2: `qt(0.975, df)`, `qt(0.05, 3)`, `qbeta(…)` printed with 17 digits.
    #[test]
    fn quantiles_agree_with_r() {
        let qt975 = [
            (1.0, 12.706_204_736_174_694),
            (2.0, 4.302_652_729_749_462),
            (5.0, 2.570_581_835_636_313_7),
            (30.0, 2.042_272_456_301_237_8),
            (197.0, 1.972_079_033_778_501),
            (1932.0, 1.961_192_624_724_246_4),
            (1e4, 1.960_201_239_890_625_7),
            (1e5, 1.959_987_707_534_608_8),
            (1e6, 1.959_966_356_814_106_6),
            (1e7, 1.959_964_221_767_204_9),
        ];
        for (df, r) in qt975 {
            assert!(rel(t_quantile(0.975, df).unwrap(), r) < 1e-12, "df {df}");
        }
        assert!(rel(t_quantile(0.05, 3.0).unwrap(), -2.353_363_434_801_825_5) < 1e-12);
        assert!(
            rel(
                beta_quantile(0.025, 3.7, 10.2).unwrap(),
                0.078_591_629_101_351_17
            ) < 1e-12
        );
        assert!(
            rel(
                beta_quantile(0.975, 0.5, 20.0).unwrap(),
                0.119_407_023_955_035_66
            ) < 1e-12
        );
        assert!(
            rel(
                beta_quantile(0.025, 150.5, 20.25).unwrap(),
                0.829_026_692_393_284_9
            ) < 1e-12
        );
        assert_eq!(beta_quantile(0.025, 0.0, 3.0), Some(0.0));
        assert_eq!(t_quantile(0.975, 0.0), None);
    }

    #[test]
    fn logit_interval_is_undefined_at_the_bounds_and_for_zero_variance() {
        let t = t_quantile(0.975, 10.0);
        for method in [CiMethod::Logit, CiMethod::Wilson, CiMethod::Beta] {
            assert_eq!(
                proportion_interval(method, 1.0, 0.0, t, 0.95, 20, 10.0),
                None
            );
            assert_eq!(
                proportion_interval(method, 0.3, 0.0, t, 0.95, 20, 10.0),
                None
            );
        }
        assert_eq!(
            proportion_interval(CiMethod::T, 0.3, 0.0, t, 0.95, 20, 10.0),
            Some((0.3, 0.3))
        );
        let (lo, hi) =
            proportion_interval(CiMethod::Logit, 0.9, 0.0004, t, 0.95, 20, 10.0).unwrap();
        assert!(lo > 0.0 && lo < 0.9 && hi > 0.9 && hi < 1.0);
    }
}
