//! The small-area files of the microdata export: `sae_input.csv` (the Fay–Herriot model's
//! input as published: only communes with at least `min_n` respondents to the node, with
//! their direct estimate, the sampling variance ψ used on the model's scale, n and the
//! covariates) and `sae.py`, a script for Python `samplics` that refits every published
//! model and prints the model-based estimates before benchmarking (see
//! [`crate::services::results::small_area`]). Communes under `min_n` are in neither file: their
//! published estimate is the synthetic x'β̂, which the printed β̂ and `sae_covariates.csv`
//! give.

use std::collections::HashMap;

use crate::error::AppError;
use crate::services::campaigns::OpenCampaign;
use crate::services::results::small_area::SmallArea;

use super::{csv_err, num};

/// The files, from the campaign's latest publication (none when it has no model).
pub(super) async fn files(
    db: &sea_orm::DatabaseConnection,
    campaign: &OpenCampaign,
) -> Result<Vec<(&'static str, String)>, AppError> {
    let published = crate::services::publication::published(db, campaign).await?;
    let sa = &published.results.small_area;
    if sa.fits.iter().all(|f| !f.published) {
        return Ok(Vec::new());
    }
    Ok(vec![
        ("sae_input.csv", input_csv(sa)?),
        ("sae_covariates.csv", covariates_csv(sa)?),
        ("sae.py", script(sa)),
    ])
}

fn write(rows: Vec<Vec<String>>) -> Result<String, AppError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(&r).map_err(csv_err)?;
    }
    String::from_utf8(w.into_inner().map_err(csv_err)?).map_err(csv_err)
}

/// `index,code,direct,psi,n,transform,<covariates…>`, one row per sampled commune of each
/// published model.
fn input_csv(sa: &SmallArea) -> Result<String, AppError> {
    let covariates: HashMap<&str, &Vec<f64>> = sa
        .covariates
        .iter()
        .map(|c| (c.locality.as_str(), &c.values))
        .collect();
    let transform: HashMap<&str, &str> = sa
        .fits
        .iter()
        .map(|f| (f.index.as_str(), f.transform.as_str()))
        .collect();
    let mut header: Vec<String> = ["index", "code", "direct", "psi", "n", "transform"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    header.extend(sa.covariate_names.iter().cloned());
    let mut rows = vec![header];
    for i in &sa.inputs {
        let mut row = vec![
            i.index.clone(),
            i.locality.clone(),
            num(Some(i.direct)),
            num(Some(i.psi)),
            i.n.to_string(),
            transform
                .get(i.index.as_str())
                .copied()
                .unwrap_or("none")
                .to_owned(),
        ];
        if let Some(values) = covariates.get(i.locality.as_str()) {
            row.extend(values.iter().map(|v| num(Some(*v))));
        }
        rows.push(row);
    }
    write(rows)
}

/// `code,<covariates…>` of every modelled commune (public area-level data).
fn covariates_csv(sa: &SmallArea) -> Result<String, AppError> {
    let mut header = vec!["code".to_owned()];
    header.extend(sa.covariate_names.iter().cloned());
    let mut rows = vec![header];
    for c in &sa.covariates {
        let mut row = vec![c.locality.clone()];
        row.extend(c.values.iter().map(|v| num(Some(*v))));
        rows.push(row);
    }
    write(rows)
}

/// A Python string literal (JSON's string syntax is Python's for these texts).
fn py(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

fn script(sa: &SmallArea) -> String {
    let models: Vec<String> = sa
        .fits
        .iter()
        .filter(|f| f.published)
        .map(|f| {
            let covs: Vec<String> = f.covariates.iter().map(|c| py(c)).collect();
            format!(
                "    {}: ({}, [{}]),",
                py(&f.index),
                py(&f.transform),
                covs.join(", ")
            )
        })
        .collect();
    SCRIPT.replace("{{MODELS}}", &models.join("\n"))
}

const SCRIPT: &str = r#"#!/usr/bin/env python3
"""Refits Hailong's published Fay-Herriot models with Python samplics and prints the
model-based estimates of the communes in sae_input.csv, before benchmarking.

    python3 -m venv venv && venv/bin/pip install samplics==0.6.1
    venv/bin/python sae.py [sae_input.csv] > sae_estimates.csv

Per model (index, element or criterion): REML, an intercept and the covariates listed below.
With transform `arcsin` the direct share p is modelled as asin(sqrt(p)) with the given
variance psi = 1/(4 n_eff); the EBLUP theta is taken back to the share scale with the bias
correction 1/2 - 1/2 exp(-2 g1) cos(2 theta), g1 = sigma2 psi / (sigma2 + psi) (Hailong's
README, `hailong sae`). The published estimate is this value times the benchmarking factor
of the commune's province (the `model_based.before_benchmark` field of the API is this one).
Output CSV: index,code,estimate,mse_model_scale.
"""
import math
import sys

import numpy as np
import pandas as pd
from samplics.sae import EblupAreaModel
from samplics.utils.types import FitMethod

# index: (transform, covariates)
MODELS = {
{{MODELS}}
}


def main(path):
    data = pd.read_csv(path, dtype={"code": str, "index": str})
    print("index,code,estimate,mse_model_scale")
    for index, (transform, covariates) in MODELS.items():
        d = data[data["index"] == index]
        if d.empty:
            continue
        direct = d["direct"].to_numpy(dtype=float)
        psi = d["psi"].to_numpy(dtype=float)
        y = np.arcsin(np.sqrt(direct)) if transform == "arcsin" else direct
        area = d["code"].to_numpy()
        X = d[covariates].to_numpy(dtype=float) if covariates else np.zeros((len(d), 0))
        model = EblupAreaModel(method=FitMethod.reml)
        model.fit(yhat=y, X=X, area=area, error_std=np.sqrt(psi), intercept=True,
                  tol=1e-14, maxiter=1000)
        model.predict(X=X, area=area, intercept=True)
        sigma2 = float(np.ravel(model.re_std)[0] ** 2)
        for code, p in zip(area, psi):
            theta = float(np.ravel(model.area_est[code])[0])
            mse = float(np.ravel(model.area_mse[code])[0])
            if transform == "arcsin":
                g1 = sigma2 * p / (sigma2 + p)
                estimate = 0.5 - 0.5 * math.exp(-2 * g1) * math.cos(2 * theta)
            else:
                estimate = theta
            print(f"{index},{code},{estimate!r},{mse!r}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sae_input.csv")
"#;
