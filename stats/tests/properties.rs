//! Property tests: invariances every design-based estimator must have, and the reduction of a
//! simple random sample to the textbook formulas.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hailong_stats::{
    Calibration, Design, DesignSpec, Domains, Estimate, EstimateOptions, Estimator, Factor,
    IndexSpec, Item, LonelyPsu, Margin, Stage, Statistic,
};
use proptest::prelude::*;

/// A random stratified cluster sample: rows with (stratum, cluster, weight, 3 answers, domain,
/// cell). Every stratum has at least two clusters.
#[derive(Debug, Clone)]
struct Sample {
    strata: Vec<String>,
    clusters: Vec<String>,
    weights: Vec<f64>,
    answers: Vec<[Option<u8>; 3]>,
    domains: Vec<String>,
    cells: Vec<String>,
}

fn sample() -> impl Strategy<Value = Sample> {
    (1usize..4, 2usize..5, 2usize..6)
        .prop_flat_map(|(n_strata, n_clusters, per_cluster)| {
            let n = n_strata * n_clusters * per_cluster;
            (
                Just((n_strata, n_clusters, per_cluster)),
                prop::collection::vec(0.2f64..5.0, n),
                prop::collection::vec(
                    prop::array::uniform3(prop::option::weighted(0.85, 1u8..=5)),
                    n,
                ),
                prop::collection::vec(0u8..3, n),
                prop::collection::vec(0u8..2, n),
            )
        })
        .prop_map(
            |((n_strata, n_clusters, per_cluster), weights, answers, dom, cell)| {
                let mut strata = Vec::new();
                let mut clusters = Vec::new();
                for h in 0..n_strata {
                    for c in 0..n_clusters {
                        for _ in 0..per_cluster {
                            strata.push(format!("S{h}"));
                            clusters.push(format!("S{h}C{c}"));
                        }
                    }
                }
                Sample {
                    strata,
                    clusters,
                    weights,
                    answers,
                    domains: dom.iter().map(|d| format!("D{d}")).collect(),
                    cells: cell.iter().map(|c| format!("K{c}")).collect(),
                }
            },
        )
}

fn design(s: &Sample, scale: f64, calibrate: bool) -> Design {
    let d = Design::new(DesignSpec {
        weights: s.weights.iter().map(|w| w * scale).collect(),
        strata: Some(Factor::from_labels(&s.strata)),
        stages: vec![Stage {
            clusters: Some(Factor::from_labels(&s.clusters)),
            fpc: None,
        }],
        lonely_psu: LonelyPsu::Fail,
    })
    .unwrap();
    if !calibrate {
        return d;
    }
    let margin = Margin {
        variable: "cell".into(),
        values: Factor::from_labels(&s.cells),
        totals: [("K0", 1000.0), ("K1", 1500.0)]
            .into_iter()
            .filter(|(c, _)| s.cells.iter().any(|x| x == c))
            .map(|(c, t)| (c.to_owned(), t))
            .collect(),
    };
    d.calibrate(&Calibration::new(vec![margin])).unwrap()
}

fn items(s: &Sample) -> Vec<Item> {
    (0..3)
        .map(|k| {
            Item::new(
                format!("q{}", k + 1),
                s.answers
                    .iter()
                    .map(|a| a[k].map_or(f64::NAN, f64::from))
                    .collect(),
            )
        })
        .collect()
}

fn index() -> Vec<IndexSpec> {
    vec![IndexSpec {
        name: "idx".into(),
        items: vec![("q1".into(), 1.0), ("q2".into(), 2.0), ("q3".into(), 1.0)],
        kind: hailong_stats::IndexKind::Shares,
        offset: 0.0,
    }]
}

fn estimates(s: &Sample, scale: f64, calibrate: bool) -> Vec<Estimate> {
    let d = design(s, scale, calibrate);
    let it = items(s);
    let e = Estimator::new(&d, &it, &index(), EstimateOptions::default()).unwrap();
    e.estimate(&Domains::from_labels(&s.domains)).unwrap()
}

fn close(a: Option<f64>, b: Option<f64>, rel: f64) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-13 + rel * x.abs().max(y.abs()),
        (None, None) => true,
        _ => false,
    }
}

fn permute(s: &Sample, perm: &[usize]) -> Sample {
    let pick = |v: &Vec<String>| perm.iter().map(|&i| v[i].clone()).collect();
    Sample {
        strata: pick(&s.strata),
        clusters: pick(&s.clusters),
        weights: perm.iter().map(|&i| s.weights[i]).collect(),
        answers: perm.iter().map(|&i| s.answers[i]).collect(),
        domains: pick(&s.domains),
        cells: pick(&s.cells),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn scaling_all_weights_leaves_estimates_and_ses_unchanged(
        s in sample(), scale in 0.01f64..100.0, calibrate in any::<bool>()
    ) {
        let a = estimates(&s, 1.0, calibrate);
        let b = estimates(&s, scale, calibrate);
        prop_assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            prop_assert_eq!((&x.domain, &x.item, x.statistic, x.n), (&y.domain, &y.item, y.statistic, y.n));
            prop_assert!(close(x.estimate, y.estimate, 1e-9), "{:?} vs {:?}", x, y);
            prop_assert!(close(x.se, y.se, 1e-9), "{:?} vs {:?}", x, y);
            prop_assert!(close(x.ci_low, y.ci_low, 1e-9), "{:?} vs {:?}", x, y);
        }
    }

    #[test]
    fn permuting_rows_changes_nothing(
        s in sample(), seed in any::<u64>(), calibrate in any::<bool>()
    ) {
        let n = s.weights.len();
        let mut perm: Vec<usize> = (0..n).collect();
        let mut state = seed | 1;
        for i in (1..n).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            perm.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let a = estimates(&s, 1.0, calibrate);
        let b = estimates(&permute(&s, &perm), 1.0, calibrate);
        prop_assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            prop_assert_eq!((&x.domain, &x.item, x.statistic, x.n), (&y.domain, &y.item, y.statistic, y.n));
            for (u, v) in [(x.estimate, y.estimate), (x.se, y.se), (x.ci_low, y.ci_low),
                           (x.ci_high, y.ci_high), (x.deff, y.deff)] {
                prop_assert!(close(u, v, 1e-9), "{:?} vs {:?}", x, y);
            }
        }
    }

    /// Simple random sample without replacement from N: mean ȳ, variance s²/n · (1 − n/N);
    /// the share p has variance p(1−p)/(n−1) · (1 − n/N). Without fpc, 1 − n/N = 1.
    #[test]
    fn simple_random_sample_reduces_to_textbook_formulas(
        ys in prop::collection::vec(1u8..=5, 2..200), extra in prop::option::of(0usize..5000)
    ) {
        let n = ys.len();
        let population = extra.map(|e| (n + e) as f64);
        let d = Design::new(DesignSpec {
            weights: vec![1.0; n],
            stages: vec![Stage { clusters: None, fpc: population.map(|p| vec![p; n]) }],
            ..DesignSpec::default()
        }).unwrap();
        prop_assert_eq!(d.df(), n as i64 - 1);
        let y: Vec<f64> = ys.iter().map(|&v| f64::from(v)).collect();
        let it = vec![Item::new("y", y.clone())];
        let e = Estimator::new(&d, &it, &[], EstimateOptions::default()).unwrap();
        let r = e.estimate(&Domains::all(n)).unwrap();
        let nf = n as f64;
        let fpc = population.map_or(1.0, |p| 1.0 - nf / p);
        let mean = y.iter().sum::<f64>() / nf;
        let s2 = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (nf - 1.0);
        prop_assert!(close(r[0].estimate, Some(mean), 1e-12));
        prop_assert!(close(r[0].se, Some((s2 / nf * fpc).sqrt()), 1e-9), "{:?}", r[0]);
        let p = y.iter().filter(|&&v| v >= 4.0).count() as f64 / nf;
        prop_assert_eq!(r[1].statistic, Statistic::Satisfied);
        prop_assert!(close(r[1].estimate, Some(p), 1e-12));
        prop_assert!(close(r[1].se, Some((p * (1.0 - p) / (nf - 1.0) * fpc).sqrt()), 1e-9), "{:?}", r[1]);
    }
}

#[test]
fn one_domain_estimates_equal_whole_sample_when_every_row_is_in_it() {
    let s = Sample {
        strata: vec!["A".into(); 6],
        clusters: ["a", "a", "b", "b", "c", "c"].map(String::from).to_vec(),
        weights: vec![1.0, 2.0, 3.0, 1.0, 2.0, 3.0],
        answers: vec![[Some(5), Some(1), None]; 6],
        domains: vec!["D0".into(); 6],
        cells: vec!["K0".into(); 6],
    };
    let r = estimates(&s, 1.0, false);
    assert_eq!(r[0].domain, "D0");
    assert_eq!(r[0].estimate, Some(5.0));
    assert_eq!(r[0].se, Some(0.0));
    // q3 has no answer: n = 0, nothing estimable, and neither is the index that uses it.
    assert_eq!(r[4].n, 0);
    assert!(r[4].estimate.is_none() && r[4].se.is_none());
    assert_eq!(r[6].statistic, Statistic::Index);
    assert!(r[6].estimate.is_none());
}
