#![allow(clippy::unwrap_used)]
use super::*;

fn frame(sizes: &[f64]) -> Vec<FrameUnit> {
    sizes
        .iter()
        .enumerate()
        .map(|(i, s)| FrameUnit {
            code: format!("{i:03}"),
            stratum: "S".into(),
            size: Some(*s),
        })
        .collect()
}

#[test]
fn probabilities_are_proportional_to_size_with_certainty_units() {
    // 100 of 200 in total: the 100-unit is certain, then 2 of [50, 30, 20].
    let p = inclusion_probabilities(&[100.0, 50.0, 30.0, 20.0], 3);
    assert_eq!(p[0], (1.0, true));
    assert!((p[1].0 - 1.0).abs() < 1e-12 && p[1].1, "{p:?}");
    // After 50 is also certain (2·50/100 = 1): 1 of [30, 20].
    assert!((p[2].0 - 0.6).abs() < 1e-12);
    assert!((p[3].0 - 0.4).abs() < 1e-12);
    let sum: f64 = p.iter().map(|x| x.0).sum();
    assert!((sum - 3.0).abs() < 1e-12);
    // Zero sizes are never drawn.
    let p = inclusion_probabilities(&[0.0, 10.0, 30.0], 1);
    assert_eq!(p[0].0, 0.0);
    assert!((p[2].0 - 0.75).abs() < 1e-12);
}

#[test]
fn a_draw_is_reproducible_from_its_seed_and_has_the_wanted_size() {
    let f = frame(&[5.0, 9.0, 1.0, 40.0, 12.0, 7.0, 3.0, 22.0, 8.0, 15.0]);
    let a = draw(&f, |_| 4, 42).unwrap();
    let b = draw(&f, |_| 4, 42).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.len(), 4);
    let mut codes: Vec<&str> = a.iter().map(|d| d.code.as_str()).collect();
    codes.dedup();
    assert_eq!(codes.len(), 4);
    assert!(matches!(
        draw(&f, |_| 11, 1),
        Err(DrawError::TooFewUnits {
            wanted: 11,
            available: 10,
            ..
        })
    ));
}

/// Over many seeded draws, each unit's frequency of selection matches
/// its π within 4.5 binomial standard errors.
#[test]
fn empirical_inclusion_frequencies_match_the_probabilities() {
    let sizes = [
        5.0, 9.0, 1.0, 120.0, 12.0, 7.0, 3.0, 22.0, 8.0, 15.0, 30.0, 2.0, 18.0, 11.0, 6.0,
    ];
    let n = 5;
    let f = frame(&sizes);
    let pis = inclusion_probabilities(&sizes, n);
    assert!(pis[3].1, "the 120-unit is a certainty unit");
    let runs = 20_000u64;
    let mut hits = vec![0u64; sizes.len()];
    for seed in 0..runs {
        let d = draw(&f, |_| n, seed).unwrap();
        assert_eq!(d.len(), n);
        for unit in d {
            hits[unit.code.parse::<usize>().unwrap()] += 1;
        }
    }
    for (i, (pi, _)) in pis.iter().enumerate() {
        let freq = hits[i] as f64 / runs as f64;
        let se = (pi * (1.0 - pi) / runs as f64).sqrt();
        assert!(
            (freq - pi).abs() <= 4.5 * se + 1e-12,
            "unit {i}: frequency {freq} vs π {pi} (se {se})"
        );
    }
}

fn sub(parent: &str, sizes: &[f64]) -> Vec<SubUnit> {
    sizes
        .iter()
        .enumerate()
        .map(|(j, s)| SubUnit {
            line: 0,
            parent: parent.to_owned(),
            code: format!("{parent}-{j:02}"),
            name: String::new(),
            size: *s,
            seat: false,
        })
        .collect()
}

#[test]
fn second_stage_rows_are_checked_line_by_line() {
    let ok = parse_second_stage(
        b"commune_code,unit_code,name,size\n001,V1,Village 1,120\n001,V2,,80.5\n",
    )
    .unwrap();
    assert_eq!(ok.len(), 2);
    assert_eq!(
        (ok[1].line, ok[1].name.as_str(), ok[1].size),
        (3, "V2", 80.5)
    );
    let bad = parse_second_stage(
        b"commune_code,unit_code,name,size\n001,V1,a,10\n001,V1,b,10\n002,V3,c,0\n,V4,d,x\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        bad.contains("line 3, unit_code: duplicate code V1 (first on line 2)"),
        "{bad}"
    );
    assert!(bad.contains("line 4, size: not a positive number"), "{bad}");
    assert!(bad.contains("line 5, commune_code: missing"), "{bad}");
    assert!(bad.contains("line 5, size"), "{bad}");
}

#[test]
fn design_fields_follow_the_certainty_of_each_stage() {
    let first = |certainty| Drawn {
        code: "C".into(),
        stratum: "P".into(),
        size: 1000.0,
        probability: if certainty { 1.0 } else { 0.25 },
        certainty,
        purposive: false,
    };
    let second = |certainty| SubDrawn {
        code: "V".into(),
        name: String::new(),
        size: 200.0,
        probability: if certainty { 1.0 } else { 0.5 },
        certainty,
        purposive: false,
    };
    let one = Selected {
        first: first(false),
        second: None,
    };
    assert_eq!(
        (one.design_stratum(), one.cluster()),
        ("P".into(), Some("C".into()))
    );
    assert_eq!(one.base_weight(None), 4.0);
    assert_eq!(one.base_weight(Some(10)), 4.0 * 100.0);
    let sure = Selected {
        first: first(true),
        second: None,
    };
    assert_eq!(
        (sure.design_stratum(), sure.cluster()),
        ("P/C".into(), None)
    );
    let two = Selected {
        first: first(false),
        second: Some(second(false)),
    };
    assert_eq!(
        (two.design_stratum(), two.cluster()),
        ("P".into(), Some("C".into()))
    );
    assert_eq!(two.probability(), 0.125);
    assert_eq!(two.base_weight(Some(20)), 8.0 * 10.0);
    let under = Selected {
        first: first(true),
        second: Some(second(false)),
    };
    assert_eq!(
        (under.design_stratum(), under.cluster()),
        ("P/C".into(), Some("V".into()))
    );
    let both = Selected {
        first: first(true),
        second: Some(second(true)),
    };
    assert_eq!(
        (both.design_stratum(), both.cluster()),
        ("P/C/V".into(), None)
    );
    // More respondents planned than people: everyone, weight 1/π.
    assert_eq!(both.base_weight(Some(500)), 1.0);
}

/// Both stages: each second-stage unit's frequency over many seeded
/// draws matches π_i·π_j|i within 4 binomial standard errors; certainty
/// units are always drawn; SRS gives m/N.
#[test]
fn two_stage_frequencies_match_the_combined_probabilities() {
    let sizes = [40.0, 300.0, 25.0, 60.0, 35.0, 50.0];
    let f = frame(&sizes);
    let mut villages = Vec::new();
    for (i, u) in f.iter().enumerate() {
        let v: Vec<f64> = (0..(3 + i % 3))
            .map(|j| (j * 7 % 5 + 1) as f64 * 10.0)
            .collect();
        villages.extend(sub(&u.code, &v));
    }
    for method in [Method::Pps, Method::Srs] {
        let stage = SecondStage {
            frame: &villages,
            per_unit: 2,
            method,
        };
        let pi1 = inclusion_probabilities(&sizes, 3);
        assert!(pi1[1].1);
        let runs = 4_000u64;
        let mut hits: HashMap<String, u64> = HashMap::new();
        let mut expected: HashMap<String, f64> = HashMap::new();
        for seed in 0..runs {
            for s in draw_stages(&f, |_| 3, seed, Some(stage)).unwrap() {
                *hits.entry(s.code().to_owned()).or_default() += 1;
                expected.insert(s.code().to_owned(), s.probability());
            }
        }
        for (i, u) in f.iter().enumerate() {
            let within: Vec<&SubUnit> = villages.iter().filter(|v| v.parent == u.code).collect();
            let pi2 = match method {
                Method::Pps => {
                    let s: Vec<f64> = within.iter().map(|v| v.size).collect();
                    inclusion_probabilities(&s, 2)
                }
                Method::Srs => srs_probabilities(within.len(), 2),
            };
            for (v, (p2, _)) in within.iter().zip(&pi2) {
                let pi = pi1[i].0 * p2;
                if let Some(e) = expected.get(&v.code) {
                    assert!((e - pi).abs() < 1e-12, "{} {e} {pi}", v.code);
                }
                let freq = hits.get(&v.code).copied().unwrap_or(0) as f64 / runs as f64;
                let se = (pi * (1.0 - pi) / runs as f64).sqrt();
                assert!(
                    (freq - pi).abs() <= 4.0 * se + 1e-12,
                    "{method:?} {}: frequency {freq} vs π {pi}",
                    v.code
                );
            }
        }
    }
}

/// A unit's second stage depends on the seed and its code only: the
/// certainty unit 000 gets the same villages whatever else is drawn.
#[test]
fn a_units_second_stage_does_not_depend_on_the_other_units_drawn() {
    let small = frame(&[500.0, 10.0, 12.0, 9.0]);
    let large = frame(&[500.0, 3.0, 40.0, 2.0, 25.0, 30.0]);
    let mut villages = sub("000", &[5.0, 7.0, 9.0, 11.0, 13.0, 4.0]);
    for code in ["001", "002", "003", "004", "005"] {
        villages.extend(sub(code, &[1.0, 2.0, 3.0]));
    }
    let stage = SecondStage {
        frame: &villages,
        per_unit: 2,
        method: Method::Pps,
    };
    let mut seen = HashSet::new();
    for seed in 0..50 {
        let of_000 = |f: &[FrameUnit], n: usize| -> Vec<String> {
            draw_stages(f, |_| n, seed, Some(stage))
                .unwrap()
                .into_iter()
                .filter(|s| s.first.code == "000")
                .map(|s| s.code().to_owned())
                .collect()
        };
        let a = of_000(&small, 2);
        assert_eq!(a.len(), 2);
        assert_eq!(a, of_000(&large, 3), "seed {seed}");
        seen.insert(a);
    }
    assert!(seen.len() > 1, "the villages drawn vary with the seed");
}

#[test]
fn a_drawn_unit_without_second_stage_units_is_an_error() {
    let f = frame(&[10.0, 10.0]);
    let villages = sub("000", &[5.0, 6.0]);
    let stage = SecondStage {
        frame: &villages,
        per_unit: 1,
        method: Method::Pps,
    };
    let r = draw_stages(&f, |_| 2, 1, Some(stage));
    assert_eq!(r, Err(DrawError::NoSubUnits("001".into())));
}

fn strata_frame() -> Vec<FrameUnit> {
    (0..3)
        .flat_map(|h| {
            (0..12).map(move |i| FrameUnit {
                code: format!("{h}{i:02}"),
                stratum: format!("P{h}"),
                size: Some(((h * 37 + i * 53) % 90 + 10) as f64 * 10.0),
            })
        })
        .collect()
}

/// A purposive unit is taken in every draw with π = 1 in a stratum of
/// its own; the rest of its stratum is n − 1 units drawn by PPS among
/// the others, whose frequencies match (n − 1)·M/ΣM'.
#[test]
fn a_purposive_unit_is_always_taken_and_the_rest_drawn_among_the_others() {
    let f = strata_frame();
    let taken: HashSet<String> = ["005".to_owned(), "111".to_owned()].into();
    let others: Vec<&FrameUnit> = f
        .iter()
        .filter(|u| u.stratum == "P0" && u.code != "005")
        .collect();
    let sizes: Vec<f64> = others.iter().map(|u| u.size.unwrap()).collect();
    let pis = inclusion_probabilities(&sizes, 2);
    let runs = 6_000u64;
    let mut hits: HashMap<String, u64> = HashMap::new();
    for seed in 0..runs {
        let plan = Plan {
            frame: &f,
            seed,
            second: None,
            purposive: &taken,
            replacements: 0,
        };
        let sample = draw_sample(&plan, |_| 3).unwrap();
        assert_eq!(sample.selected.len(), 9);
        for code in ["005", "111"] {
            let s = sample
                .selected
                .iter()
                .find(|s| s.first.code == code)
                .unwrap_or_else(|| panic!("seed {seed}: {code} missing"));
            assert_eq!(s.probability(), 1.0);
            assert!(s.first.purposive && s.first.certainty);
            assert_eq!(
                s.design_stratum(),
                format!("{}#take:{code}", s.first.stratum)
            );
            assert_eq!(s.cluster(), None);
        }
        for s in &sample.selected {
            *hits.entry(s.first.code.clone()).or_default() += 1;
        }
    }
    for (u, (pi, _)) in others.iter().zip(&pis) {
        let freq = hits.get(&u.code).copied().unwrap_or(0) as f64 / runs as f64;
        let se = (pi * (1.0 - pi) / runs as f64).sqrt();
        assert!(
            (freq - pi).abs() <= 4.5 * se + 1e-12,
            "{}: {freq} vs {pi}",
            u.code
        );
    }
    // More purposive units than the stratum's allocation: refused.
    let two: HashSet<String> = ["001".to_owned(), "002".to_owned()].into();
    let plan = Plan {
        frame: &f,
        seed: 1,
        second: None,
        purposive: &two,
        replacements: 0,
    };
    assert_eq!(
        draw_sample(&plan, |_| 1).unwrap_err(),
        DrawError::TooManyPurposive {
            within: "stratum P0".into(),
            purposive: 2,
            wanted: 1
        }
    );
    // Without purposive units the draw is the plain draw.
    let none = HashSet::new();
    let plan = Plan {
        frame: &f,
        seed: 9,
        second: None,
        purposive: &none,
        replacements: 0,
    };
    let plain: Vec<Drawn> = draw(&f, |_| 3, 9).unwrap();
    let firsts: Vec<Drawn> = draw_sample(&plan, |_| 3)
        .unwrap()
        .selected
        .into_iter()
        .map(|s| s.first)
        .collect();
    assert_eq!(firsts, plain);
}

/// Replacement lists: reproducible, K per non-certain unit in rank
/// order, disjoint from the sample and from each other, within the
/// unit's stratum; asking for them leaves the sample as it was.
#[test]
fn replacement_lists_are_disjoint_ordered_and_leave_the_sample_unchanged() {
    let f = strata_frame();
    let taken: HashSet<String> = ["005".to_owned()].into();
    let stratum_of: HashMap<&str, &str> = f
        .iter()
        .map(|u| (u.code.as_str(), u.stratum.as_str()))
        .collect();
    for seed in 0..200 {
        let plan = |k| Plan {
            frame: &f,
            seed,
            second: None,
            purposive: &taken,
            replacements: k,
        };
        let a = draw_sample(&plan(2), |_| 3).unwrap();
        assert_eq!(a, draw_sample(&plan(2), |_| 3).unwrap());
        assert_eq!(a.selected, draw_sample(&plan(0), |_| 3).unwrap().selected);
        let mut seen: HashSet<&str> = a.selected.iter().map(|s| s.code()).collect();
        for (s, list) in a.selected.iter().zip(&a.replacements) {
            if s.first.certainty {
                assert!(list.is_empty());
                continue;
            }
            assert_eq!(list.iter().map(|r| r.rank).collect::<Vec<_>>(), [1, 2]);
            for r in list {
                assert!(seen.insert(&r.code), "seed {seed}: {} twice", r.code);
                assert_eq!(stratum_of[r.code.as_str()], s.first.stratum);
            }
        }
    }
    // Second stage: replacements from the unit's own first-stage unit;
    // a `seat` village always taken with π_j|i = 1.
    let mut villages = Vec::new();
    for u in &f {
        let mut v = sub(&u.code, &[30.0, 50.0, 20.0, 40.0, 60.0, 10.0, 25.0]);
        v[3].seat = true;
        villages.extend(v);
    }
    let plan = Plan {
        frame: &f,
        seed: 4,
        second: Some(SecondStage {
            frame: &villages,
            per_unit: 2,
            method: Method::Pps,
        }),
        purposive: &taken,
        replacements: 3,
    };
    let b = draw_sample(&plan, |_| 3).unwrap();
    assert_eq!(b.selected.len(), 18);
    let mut seen: HashSet<&str> = b.selected.iter().map(|s| s.code()).collect();
    for (s, list) in b.selected.iter().zip(&b.replacements) {
        let v = s.second.as_ref().unwrap();
        if v.code.ends_with("-03") {
            assert!(v.purposive && v.probability == 1.0 && list.is_empty());
            let label = if s.first.purposive {
                format!("P0#take:005#take:{}", v.code)
            } else {
                s.first.stratum.clone()
            };
            assert_eq!(s.design_stratum(), label);
        } else {
            assert_eq!(list.len(), 3);
        }
        for r in list {
            assert!(r.code.starts_with(&s.first.code));
            assert!(seen.insert(&r.code));
        }
    }
}

/// On a generated frame with respondents, nonrespondents and ineligible
/// units, the adjusted weights of the respondents sum to each
/// stratum's frame total less its ineligible units' weight (the frame
/// total itself when none is ineligible), to 1e-9.
#[test]
fn adjusted_weights_sum_to_the_frame_totals() {
    let f = strata_frame();
    let taken: HashSet<String> = ["005".to_owned(), "207".to_owned()].into();
    for seed in 0..50 {
        let plan = Plan {
            frame: &f,
            seed,
            second: None,
            purposive: &taken,
            replacements: 0,
        };
        let sample = draw_sample(&plan, |s| if s == "P1" { 5 } else { 4 }).unwrap();
        // Unit-level weights M/π (a take of m people: w·m = M/π).
        let statuses = [
            Status::Respondent,
            Status::Nonrespondent,
            Status::Respondent,
        ];
        let slots: Vec<Slot> = sample
            .selected
            .iter()
            .enumerate()
            .map(|(k, s)| Slot {
                class: s.first.stratum.clone(),
                weight: s.size() / s.probability(),
                status: if (k as u64 + seed) % 7 == 3 {
                    Status::Ineligible
                } else {
                    statuses[(k + seed as usize) % 3]
                },
            })
            .collect();
        let adjusted = adjust_for_nonresponse(&slots).unwrap();
        for h in ["P0", "P1", "P2"] {
            let frame_total: f64 = f
                .iter()
                .filter(|u| u.stratum == h)
                .map(|u| u.size.unwrap())
                .sum();
            let in_h = |s: &&Slot| s.class == h;
            let sample_total: f64 = slots.iter().filter(in_h).map(|s| s.weight).sum();
            assert!((sample_total / frame_total - 1.0).abs() < 1e-9);
            let ineligible: f64 = slots
                .iter()
                .filter(in_h)
                .filter(|s| s.status == Status::Ineligible)
                .map(|s| s.weight)
                .sum();
            let respondents: f64 = slots
                .iter()
                .zip(&adjusted)
                .filter(|(s, _)| s.class == h)
                .map(|(_, w)| *w)
                .sum();
            assert!(
                (respondents - (frame_total - ineligible)).abs() < 1e-9 * frame_total,
                "seed {seed} {h}: {respondents} vs {frame_total} − {ineligible}"
            );
        }
        for (s, w) in slots.iter().zip(&adjusted) {
            assert_eq!(*w == 0.0, s.status != Status::Respondent);
        }
    }
    let lost = [Slot {
        class: "P9".into(),
        weight: 3.0,
        status: Status::Nonrespondent,
    }];
    assert_eq!(
        adjust_for_nonresponse(&lost),
        Err(AdjustError::NoRespondent("P9".into()))
    );
}

#[test]
fn outcomes_parse_from_their_codes_and_aapor_numbers() {
    for o in Outcome::ALL {
        assert_eq!(Outcome::parse(o.as_str()), Some(o));
        assert_eq!(Outcome::parse(o.aapor()), Some(o));
    }
    assert_eq!(Outcome::parse("Non-contact"), Some(Outcome::NonContact));
    assert_eq!(Outcome::parse("gone"), None);
}
