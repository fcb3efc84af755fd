//! The little dense linear algebra the model needs: p × p symmetric positive definite
//! matrices (p = number of regression coefficients, a handful), stored row-major.

/// A symmetric p × p matrix, row-major.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sym {
    pub(crate) p: usize,
    pub(crate) a: Vec<f64>,
}

impl Sym {
    pub(crate) fn zeros(p: usize) -> Sym {
        Sym {
            p,
            a: vec![0.0; p * p],
        }
    }

    #[inline]
    pub(crate) fn get(&self, i: usize, j: usize) -> f64 {
        self.a[i * self.p + j]
    }

    /// Adds w·x·x' (a weighted outer product).
    pub(crate) fn add_outer(&mut self, w: f64, x: &[f64]) {
        for (row, &xi) in self.a.chunks_exact_mut(self.p).zip(x) {
            let wxi = w * xi;
            for (aij, &xj) in row.iter_mut().zip(x) {
                *aij += wxi * xj;
            }
        }
    }

    /// x' A x.
    pub(crate) fn quad(&self, x: &[f64]) -> f64 {
        self.a
            .chunks_exact(self.p)
            .zip(x)
            .map(|(row, &xi)| xi * row.iter().zip(x).map(|(a, b)| a * b).sum::<f64>())
            .sum()
    }

    /// A·b.
    pub(crate) fn mul_vec(&self, b: &[f64]) -> Vec<f64> {
        (0..self.p)
            .map(|i| (0..self.p).map(|j| self.get(i, j) * b[j]).sum())
            .collect()
    }

    /// tr(A·B) for symmetric A, B.
    pub(crate) fn trace_prod(&self, other: &Sym) -> f64 {
        self.a.iter().zip(&other.a).map(|(x, y)| x * y).sum()
    }

    /// A·B (not symmetric in general; returned row-major as a plain matrix).
    pub(crate) fn mul(&self, other: &Sym) -> Vec<f64> {
        let p = self.p;
        let mut c = vec![0.0; p * p];
        for i in 0..p {
            for k in 0..p {
                let aik = self.get(i, k);
                for j in 0..p {
                    c[i * p + j] += aik * other.get(k, j);
                }
            }
        }
        c
    }

    /// log det A by Cholesky decomposition, or `None` when A is not positive definite.
    pub(crate) fn log_det(&self) -> Option<f64> {
        let p = self.p;
        let mut l = vec![0.0; p * p];
        let mut total = 0.0;
        for j in 0..p {
            let mut d = self.get(j, j);
            for k in 0..j {
                d -= l[j * p + k] * l[j * p + k];
            }
            if d.is_nan() || d <= 0.0 {
                return None;
            }
            let d = d.sqrt();
            total += 2.0 * d.ln();
            l[j * p + j] = d;
            for i in (j + 1)..p {
                let mut s = self.get(i, j);
                for k in 0..j {
                    s -= l[i * p + k] * l[j * p + k];
                }
                l[i * p + j] = s / d;
            }
        }
        Some(total)
    }

    /// The inverse by Cholesky decomposition, or `None` when the matrix is not (numerically)
    /// positive definite: a pivot below 1e-12 times the largest diagonal entry.
    pub(crate) fn inverse(&self) -> Option<Sym> {
        let p = self.p;
        let scale = (0..p).map(|i| self.get(i, i)).fold(0.0_f64, f64::max);
        if !(scale.is_finite() && scale > 0.0) {
            return None;
        }
        // L with A = L L'.
        let mut l = vec![0.0; p * p];
        for j in 0..p {
            let mut d = self.get(j, j);
            for k in 0..j {
                d -= l[j * p + k] * l[j * p + k];
            }
            if d.is_nan() || d <= 1e-12 * scale {
                return None;
            }
            let d = d.sqrt();
            l[j * p + j] = d;
            for i in (j + 1)..p {
                let mut s = self.get(i, j);
                for k in 0..j {
                    s -= l[i * p + k] * l[j * p + k];
                }
                l[i * p + j] = s / d;
            }
        }
        // Solve L L' X = I column by column.
        let mut inv = Sym::zeros(p);
        let mut y = vec![0.0; p];
        for c in 0..p {
            for i in 0..p {
                let mut s = if i == c { 1.0 } else { 0.0 };
                for k in 0..i {
                    s -= l[i * p + k] * y[k];
                }
                y[i] = s / l[i * p + i];
            }
            for i in (0..p).rev() {
                let mut s = y[i];
                for k in (i + 1)..p {
                    s -= l[k * p + i] * inv.a[k * p + c];
                }
                inv.a[i * p + c] = s / l[i * p + i];
            }
        }
        // Symmetrise the rounding.
        for i in 0..p {
            for j in 0..i {
                let m = 0.5 * (inv.a[i * p + j] + inv.a[j * p + i]);
                inv.a[i * p + j] = m;
                inv.a[j * p + i] = m;
            }
        }
        Some(inv)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn inverse_of_a_small_spd_matrix() {
        let m = Sym {
            p: 3,
            a: vec![4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0],
        };
        let inv = m.inverse().unwrap();
        let prod = m.mul(&inv);
        for i in 0..3 {
            for j in 0..3 {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((prod[i * 3 + j] - want).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn singular_matrix_has_no_inverse() {
        let m = Sym {
            p: 2,
            a: vec![1.0, 2.0, 2.0, 4.0],
        };
        assert!(m.inverse().is_none());
        assert!(m.log_det().is_none());
        let d = Sym {
            p: 2,
            a: vec![4.0, 1.0, 1.0, 2.0],
        };
        assert!((d.log_det().unwrap() - 7f64.ln()).abs() < 1e-15);
    }
}
