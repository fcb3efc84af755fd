//! Categorical columns (strata, clusters, domains, calibration cells).

use std::collections::HashMap;

use crate::error::StatsError;

/// A categorical column: one code per row, indexing [`Factor::levels`].
///
/// Codes are dense (`0..levels.len()`). Labels are kept as text so that error messages and
/// output can name a stratum, a cluster or a domain exactly as the data spell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Factor {
    codes: Vec<u32>,
    levels: Vec<String>,
}

impl Factor {
    /// Builds a factor from one label per row; levels are numbered in order of first appearance.
    pub fn from_labels<I, S>(labels: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut index: HashMap<String, u32> = HashMap::new();
        let mut levels = Vec::new();
        let mut codes = Vec::new();
        for label in labels {
            let label = label.as_ref();
            let code = match index.get(label) {
                Some(&c) => c,
                None => {
                    let c = levels.len() as u32;
                    index.insert(label.to_owned(), c);
                    levels.push(label.to_owned());
                    c
                }
            };
            codes.push(code);
        }
        Factor { codes, levels }
    }

    /// Builds a factor from codes and level labels, checking that every code names a level.
    pub fn from_codes(codes: Vec<u32>, levels: Vec<String>) -> Result<Self, StatsError> {
        if let Some((row, &c)) = codes
            .iter()
            .enumerate()
            .find(|(_, c)| **c as usize >= levels.len())
        {
            return Err(StatsError::Value {
                row,
                column: "factor".into(),
                message: format!("code {c} but only {} levels", levels.len()),
            });
        }
        Ok(Factor { codes, levels })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// True when the factor has no rows.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The code of each row.
    pub fn codes(&self) -> &[u32] {
        &self.codes
    }

    /// The level labels, indexed by code.
    pub fn levels(&self) -> &[String] {
        &self.levels
    }

    /// Number of levels.
    pub fn n_levels(&self) -> usize {
        self.levels.len()
    }

    /// The label of a row.
    pub fn label(&self, row: usize) -> Option<&str> {
        self.codes
            .get(row)
            .and_then(|&c| self.levels.get(c as usize))
            .map(String::as_str)
    }

    /// Splits the factor into its codes and levels.
    pub fn into_parts(self) -> (Vec<u32>, Vec<String>) {
        (self.codes, self.levels)
    }
}

/// Orders labels as R orders the levels of a factor built from them: numerically when every
/// label is a number, otherwise by text (byte order).
pub fn label_order(labels: &[String]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..labels.len()).collect();
    let numbers: Option<Vec<f64>> = labels
        .iter()
        .map(|l| l.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
        .collect();
    match numbers {
        Some(v) => idx.sort_by(|&a, &b| {
            v[a].total_cmp(&v[b])
                .then_with(|| labels[a].cmp(&labels[b]))
        }),
        None => idx.sort_by(|&a, &b| labels[a].cmp(&labels[b])),
    }
    idx
}
