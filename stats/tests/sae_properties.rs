//! Properties of the Fay–Herriot engine on random input: it never panics, its estimates lie
//! where the model puts them, and it is equivariant under a shift along a covariate.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hailong_stats::sae::{AreaInput, Method, SaeOptions, Transform, estimate};
use proptest::prelude::*;

fn any_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => -5.0..5.0f64,
        1 => Just(0.0),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(-1.0),
    ]
}

prop_compose! {
    fn any_area()(direct in proptest::option::of(any_value()), variance in proptest::option::of(any_value()),
                  x in proptest::collection::vec(any_value(), 0..3), n in proptest::option::of(any_value()))
                  -> (Option<f64>, Option<f64>, Vec<f64>, Option<f64>) {
        (direct, variance, x, n)
    }
}

prop_compose! {
    /// 6–30 valid areas with one covariate, some without sample.
    fn valid_areas()(rows in proptest::collection::vec(
        (proptest::option::weighted(0.85, -3.0..3.0f64), 0.05..2.0f64, -2.0..2.0f64), 6..30))
        -> Vec<AreaInput> {
        rows.into_iter().enumerate().map(|(i, (direct, v, x))| AreaInput {
            code: format!("a{i}"),
            direct,
            variance: Some(v),
            covariates: vec![x],
            n: None,
        }).collect()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_input_gives_a_result_or_an_error_never_a_panic(
        rows in proptest::collection::vec(any_area(), 0..12),
        arcsin in any::<bool>(),
        ml in any::<bool>(),
    ) {
        let areas: Vec<AreaInput> = rows
            .into_iter()
            .enumerate()
            .map(|(i, (direct, variance, covariates, n))| AreaInput {
                code: format!("a{}", i % 9),
                direct,
                variance,
                covariates,
                n,
            })
            .collect();
        let options = SaeOptions {
            method: if ml { Method::Ml } else { Method::Reml },
            transform: if arcsin { Transform::Arcsin } else { Transform::None },
            ..SaeOptions::default()
        };
        if let Ok(r) = estimate(&areas, &options) {
            prop_assert!(r.fit.sigma2 >= 0.0);
            for a in &r.areas {
                prop_assert!(a.eblup.is_finite() && a.mse.is_finite());
            }
        }
    }

    #[test]
    fn eblup_lies_between_direct_and_synthetic(areas in valid_areas(), ml in any::<bool>()) {
        let options = SaeOptions {
            method: if ml { Method::Ml } else { Method::Reml },
            ..SaeOptions::default()
        };
        let Ok(r) = estimate(&areas, &options) else { return Ok(()) };
        prop_assert!(r.fit.sigma2 >= 0.0);
        for a in &r.areas {
            let s = a.model.synthetic;
            let d = a.direct.unwrap_or(s);
            let (lo, hi) = (d.min(s), d.max(s));
            let slack = 1e-9 * (1.0 + lo.abs().max(hi.abs()));
            prop_assert!(lo - slack <= a.eblup && a.eblup <= hi + slack, "{a:?}");
            prop_assert!((0.0..=1.0).contains(&a.gamma));
            prop_assert!(a.mse > 0.0);
            prop_assert!(a.ci_low <= a.eblup && a.eblup <= a.ci_high);
        }
    }

    /// Adding c·x to every direct estimate changes the slope by c and nothing else.
    #[test]
    fn shifting_along_a_covariate_moves_only_the_slope(areas in valid_areas(), c in -3.0..3.0f64) {
        let options = SaeOptions::default();
        let Ok(before) = estimate(&areas, &options) else { return Ok(()) };
        let shifted: Vec<AreaInput> = areas
            .iter()
            .map(|a| AreaInput {
                direct: a.direct.map(|d| d + c * a.covariates[0]),
                ..a.clone()
            })
            .collect();
        let after = estimate(&shifted, &options).unwrap();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * (1.0 + a.abs().max(b.abs()));
        prop_assert!(close(before.fit.sigma2, after.fit.sigma2), "{} {}", before.fit.sigma2, after.fit.sigma2);
        prop_assert!(close(before.fit.beta[1] + c, after.fit.beta[1]));
        for ((a, b), input) in before.areas.iter().zip(&after.areas).zip(&areas) {
            prop_assert!(close(a.eblup + c * input.covariates[0], b.eblup));
            prop_assert!(close(a.mse, b.mse));
        }
    }
}
