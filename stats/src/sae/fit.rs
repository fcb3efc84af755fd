//! Fitting the Fay–Herriot model: σ²ᵥ by REML or ML (Fisher scoring), β by GLS.
//!
//! Model (Fay & Herriot 1979; Rao & Molina 2015, *Small Area Estimation*, 2nd ed., ch. 6):
//! for the m sampled areas, yᵢ = xᵢ'β + vᵢ + eᵢ with vᵢ ~ N(0, σ²ᵥ) and eᵢ ~ N(0, ψᵢ), ψᵢ known,
//! so y ~ N(Xβ, V) with V = diag(vᵢ), vᵢ = σ²ᵥ + ψᵢ.
//!
//! * **GLS** (samplics `EblupAreaModel._fixed_coefficients`): A = X'V⁻¹X = Σ xᵢxᵢ'/vᵢ,
//!   β̂ = A⁻¹ Σ xᵢyᵢ/vᵢ, Cov(β̂) = A⁻¹.
//! * **ML** score and Fisher information (samplics `_partial_derivatives`, `FitMethod.ml`):
//!   s(σ²ᵥ) = −½ Σ 1/vᵢ + ½ Σ (yᵢ − xᵢ'β̂)²/vᵢ², I(σ²ᵥ) = ½ Σ 1/vᵢ².
//! * **REML** (samplics, `FitMethod.reml`, with B = I): with P = V⁻¹ − V⁻¹XA⁻¹X'V⁻¹,
//!   s = −½ tr(P) + ½ y'P²y, I = ½ tr(P²). samplics forms the m × m matrix P; here the same
//!   quantities come in O(m·p²) from Py = V⁻¹(y − Xβ̂), tr(P) = Σ 1/vᵢ − tr(A⁻¹B₂) and
//!   tr(P²) = Σ 1/vᵢ² − 2 tr(A⁻¹B₃) + tr(A⁻¹B₂A⁻¹B₂), where Bₖ = Σ xᵢxᵢ'/vᵢᵏ.
//! * **Fisher scoring** (samplics `_iterative_fisher_scoring`): σ²₍ₖ₊₁₎ = σ²₍ₖ₎ + s/I. samplics
//!   starts at 10⁻⁶, iterates without bounds and truncates at 0 at the end; here the start is
//!   the Prasad–Rao moment estimator (Prasad & Rao 1990, *JASA* 85, 163–171:
//!   σ̃² = max{0, [Σ ûᵢ² − Σ ψᵢ(1 − hᵢᵢ)]/(m − p)}, û the OLS residuals, hᵢᵢ = xᵢ'(X'X)⁻¹xᵢ), and
//!   every iterate is kept non-negative: a step below 0 lands on 0, and when the score at 0
//!   points below 0 again the estimate is 0 (the boundary maximum). It stops when the change
//!   |σ²₍ₖ₊₁₎ − σ²₍ₖ₎| / max(σ²₍ₖ₎, σ²₍ₖ₊₁₎, ψ̄) is at most the tolerance (default 10⁻¹²;
//!   samplics: relative to σ²₍ₖ₎ alone, default 10⁻⁴), ψ̄ the mean sampling variance: a change
//!   that small next to the sampling variances cannot move an estimate, and where σ²ᵥ is
//!   close to 0 scoring converges slowly (the likelihood is flat there), so a purely relative
//!   rule would not stop. A scoring step that lowers the (restricted) log-likelihood is halved
//!   until it does not (by more than 10⁻¹⁰ relative, rounding noise; at most 30 times; samplics takes every step as it comes), so the
//!   iteration cannot oscillate; at a maximum a full step is taken and the fixed point is the
//!   same. The log-likelihoods, up to constants, are ℓ = −½Σ log vᵢ − ½Σ rᵢ²/vᵢ (ML) and
//!   ℓ_R = ℓ − ½ log det(X'V⁻¹X) (REML), rᵢ = yᵢ − xᵢ'β̂(σ²ᵥ) (Rao & Molina 2015, ch. 5–6).
//!   At most 200 iterations (samplics: 100); otherwise
//!   [`SaeError::NotConverged`]. Where the likelihood has one interior maximum, the
//!   result is the same fixed point samplics reaches.

use super::Method;
use super::error::SaeError;
use super::linalg::Sym;

/// The fitted model.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Fit {
    /// REML or ML.
    pub method: Method,
    /// σ̂²ᵥ, the variance of the area effects (≥ 0).
    pub sigma2: f64,
    /// β̂ by GLS, intercept first.
    pub beta: Vec<f64>,
    /// Cov(β̂) = (X'V̂⁻¹X)⁻¹, p × p row-major.
    pub beta_cov: Vec<f64>,
    /// Fisher information for σ²ᵥ at σ̂²ᵥ (of the REML or ML likelihood, by `method`).
    pub information: f64,
    /// Fisher-scoring iterations done.
    pub iterations: usize,
    /// Number of areas with a direct estimate that entered the fit.
    pub sampled: usize,
}

impl Fit {
    /// Number of regression coefficients, intercept included.
    pub fn parameters(&self) -> usize {
        self.beta.len()
    }
}

/// The sampled areas on the model's scale: y, ψ and the design rows (intercept first).
#[derive(Debug, Clone)]
pub(crate) struct Data {
    pub(crate) y: Vec<f64>,
    pub(crate) psi: Vec<f64>,
    pub(crate) x: Vec<Vec<f64>>,
}

impl Data {
    pub(crate) fn m(&self) -> usize {
        self.y.len()
    }
    pub(crate) fn p(&self) -> usize {
        self.x.first().map_or(0, Vec::len)
    }
}

/// GLS at a given σ²ᵥ: A⁻¹ = (X'V⁻¹X)⁻¹ and β̂.
pub(crate) struct Gls {
    pub(crate) a_inv: Sym,
    pub(crate) beta: Vec<f64>,
}

pub(crate) fn gls(data: &Data, sigma2: f64) -> Result<Gls, SaeError> {
    let p = data.p();
    let mut a = Sym::zeros(p);
    let mut b = vec![0.0; p];
    for ((x, &y), &psi) in data.x.iter().zip(&data.y).zip(&data.psi) {
        let w = 1.0 / (sigma2 + psi);
        a.add_outer(w, x);
        for (bj, xj) in b.iter_mut().zip(x) {
            *bj += w * xj * y;
        }
    }
    let a_inv = a.inverse().ok_or(SaeError::Collinear)?;
    let beta = a_inv.mul_vec(&b);
    Ok(Gls { a_inv, beta })
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Score and Fisher information of the (restricted) log-likelihood at σ²ᵥ.
pub(crate) fn score_information(
    data: &Data,
    method: Method,
    sigma2: f64,
) -> Result<(f64, f64), SaeError> {
    let g = gls(data, sigma2)?;
    let p = data.p();
    let mut sum_inv = 0.0;
    let mut sum_inv2 = 0.0;
    let mut resid2 = 0.0;
    let mut b2 = Sym::zeros(p);
    let mut b3 = Sym::zeros(p);
    for ((x, &y), &psi) in data.x.iter().zip(&data.y).zip(&data.psi) {
        let v = sigma2 + psi;
        let r = (y - dot(x, &g.beta)) / v;
        sum_inv += 1.0 / v;
        sum_inv2 += 1.0 / (v * v);
        resid2 += r * r;
        if method == Method::Reml {
            b2.add_outer(1.0 / (v * v), x);
            b3.add_outer(1.0 / (v * v * v), x);
        }
    }
    Ok(match method {
        Method::Ml => (-0.5 * sum_inv + 0.5 * resid2, 0.5 * sum_inv2),
        Method::Reml => {
            let trace_p = sum_inv - g.a_inv.trace_prod(&b2);
            let c = g.a_inv.mul(&b2);
            let mut trace_cc = 0.0;
            for i in 0..p {
                for j in 0..p {
                    trace_cc += c[i * p + j] * c[j * p + i];
                }
            }
            let trace_p2 = sum_inv2 - 2.0 * g.a_inv.trace_prod(&b3) + trace_cc;
            (-0.5 * trace_p + 0.5 * resid2, 0.5 * trace_p2)
        }
    })
}

/// The profile log-likelihood (ML) or restricted log-likelihood (REML) at σ²ᵥ, up to
/// constants.
pub(crate) fn log_likelihood(data: &Data, method: Method, sigma2: f64) -> Result<f64, SaeError> {
    let g = gls(data, sigma2)?;
    let mut total = 0.0;
    let mut a = Sym::zeros(data.p());
    for ((x, &y), &psi) in data.x.iter().zip(&data.y).zip(&data.psi) {
        let v = sigma2 + psi;
        let r = y - dot(x, &g.beta);
        total += -0.5 * v.ln() - 0.5 * r * r / v;
        if method == Method::Reml {
            a.add_outer(1.0 / v, x);
        }
    }
    if method == Method::Reml {
        total -= 0.5 * a.log_det().ok_or(SaeError::Collinear)?;
    }
    Ok(total)
}

/// The Prasad–Rao moment estimator of σ²ᵥ (the starting value; see the module doc).
pub(crate) fn prasad_rao(data: &Data) -> Result<f64, SaeError> {
    let (m, p) = (data.m(), data.p());
    let mut xtx = Sym::zeros(p);
    let mut xty = vec![0.0; p];
    for (x, &y) in data.x.iter().zip(&data.y) {
        xtx.add_outer(1.0, x);
        for (bj, xj) in xty.iter_mut().zip(x) {
            *bj += xj * y;
        }
    }
    let inv = xtx.inverse().ok_or(SaeError::Collinear)?;
    let beta = inv.mul_vec(&xty);
    let mut total = 0.0;
    for ((x, &y), &psi) in data.x.iter().zip(&data.y).zip(&data.psi) {
        let u = y - dot(x, &beta);
        total += u * u - psi * (1.0 - inv.quad(x));
    }
    Ok((total / (m - p) as f64).max(0.0))
}

/// Fits σ²ᵥ by Fisher scoring and β by GLS (see the module doc).
pub(crate) fn fit(
    data: &Data,
    method: Method,
    tolerance: f64,
    max_iterations: usize,
) -> Result<Fit, SaeError> {
    let (m, p) = (data.m(), data.p());
    if m <= p {
        return Err(SaeError::TooFewAreas {
            sampled: m,
            parameters: p,
        });
    }
    let mut sigma2 = prasad_rao(data)?;
    let psi_mean = data.psi.iter().sum::<f64>() / m as f64;
    let mut change = f64::INFINITY;
    let mut iterations = 0;
    let mut converged = false;
    while iterations < max_iterations {
        iterations += 1;
        let (score, information) = score_information(data, method, sigma2)?;
        let mut next = (sigma2 + score / information).max(0.0);
        if !next.is_finite() {
            break;
        }
        // A drop below rounding noise (near the maximum) is not a reason to halve.
        let here = log_likelihood(data, method, sigma2)?;
        let floor = here - 1e-10 * here.abs().max(1.0);
        let mut halvings = 0;
        while halvings < 30 && next != sigma2 && log_likelihood(data, method, next)? < floor {
            next = 0.5 * (sigma2 + next);
            halvings += 1;
        }
        change = if next == sigma2 {
            0.0
        } else {
            (next - sigma2).abs() / next.max(sigma2).max(psi_mean)
        };
        sigma2 = next;
        if change <= tolerance {
            converged = true;
            break;
        }
    }
    if !converged {
        return Err(SaeError::NotConverged { iterations, change });
    }
    let g = gls(data, sigma2)?;
    let (_, information) = score_information(data, method, sigma2)?;
    Ok(Fit {
        method,
        sigma2,
        beta: g.beta,
        beta_cov: g.a_inv.a,
        information,
        iterations,
        sampled: m,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn data() -> Data {
        let y = [1.2, 0.4, 2.5, 1.9, 0.7, 3.1, 2.2, 1.0];
        let z = [0.1, 0.0, 0.9, 0.6, 0.2, 1.0, 0.7, 0.3];
        let psi = [0.3, 0.5, 0.2, 0.4, 0.6, 0.25, 0.35, 0.45];
        Data {
            y: y.to_vec(),
            psi: psi.to_vec(),
            x: z.iter().map(|&z| vec![1.0, z]).collect(),
        }
    }

    /// The closed forms of the REML score and information equal the matrix forms samplics
    /// computes (P = V⁻¹ − V⁻¹X(X'V⁻¹X)⁻¹X'V⁻¹, s = −½tr P + ½y'PPy, I = ½tr PP).
    #[test]
    fn reml_closed_forms_equal_the_matrix_forms() {
        let d = data();
        let sigma2 = 0.37;
        let m = d.m();
        let g = gls(&d, sigma2).unwrap();
        let vinv: Vec<f64> = d.psi.iter().map(|p| 1.0 / (sigma2 + p)).collect();
        let mut pm = vec![0.0; m * m];
        for i in 0..m {
            for j in 0..m {
                let h = g.a_inv.mul_vec(&d.x[j]);
                pm[i * m + j] =
                    if i == j { vinv[i] } else { 0.0 } - vinv[i] * dot(&d.x[i], &h) * vinv[j];
            }
        }
        let py: Vec<f64> = (0..m)
            .map(|i| (0..m).map(|j| pm[i * m + j] * d.y[j]).sum())
            .collect();
        let trace_p: f64 = (0..m).map(|i| pm[i * m + i]).sum();
        let mut trace_pp = 0.0;
        for i in 0..m {
            for j in 0..m {
                trace_pp += pm[i * m + j] * pm[j * m + i];
            }
        }
        let score = -0.5 * trace_p + 0.5 * dot(&py, &py);
        let info = 0.5 * trace_pp;
        let (s, i) = score_information(&d, Method::Reml, sigma2).unwrap();
        assert!(
            (s - score).abs() < 1e-12 * score.abs().max(1.0),
            "{s} {score}"
        );
        assert!((i - info).abs() < 1e-12 * info, "{i} {info}");
    }

    #[test]
    fn fit_converges_to_a_zero_of_the_score() {
        let d = data();
        for method in [Method::Reml, Method::Ml] {
            let f = fit(&d, method, 1e-12, 100).unwrap();
            let (s, _) = score_information(&d, method, f.sigma2).unwrap();
            assert!(
                f.sigma2 == 0.0 && s <= 0.0 || s.abs() < 1e-9,
                "{method:?} {f:?} {s}"
            );
        }
    }

    #[test]
    fn no_between_area_variation_gives_sigma2_zero() {
        // Direct estimates exactly on the regression line: σ̂²ᵥ = 0 (boundary).
        let mut d = data();
        d.y = d.x.iter().map(|x| 1.0 + 2.0 * x[1]).collect();
        let f = fit(&d, Method::Reml, 1e-10, 100).unwrap();
        assert_eq!(f.sigma2, 0.0);
        assert!((f.beta[0] - 1.0).abs() < 1e-12 && (f.beta[1] - 2.0).abs() < 1e-12);
    }

    #[test]
    fn too_few_areas_and_collinear_covariates_are_errors() {
        let mut d = data();
        d.y.truncate(2);
        d.psi.truncate(2);
        d.x.truncate(2);
        assert!(matches!(
            fit(&d, Method::Reml, 1e-10, 100),
            Err(SaeError::TooFewAreas {
                sampled: 2,
                parameters: 2
            })
        ));
        let mut d = data();
        for x in &mut d.x {
            x[1] = 3.0;
        }
        assert_eq!(fit(&d, Method::Reml, 1e-10, 100), Err(SaeError::Collinear));
    }
}
