//! Derived 0/1 indicators and capped numbers, computed per respondent from other answers
//! before estimation (the official indicators that are not a plain item mean or share).
//!
//! * **Satisfied with every answered item** (the Ministry of Health's comprehensive
//!   satisfaction index, "tỷ lệ hài lòng chung"): `a_i = 1` when every item respondent `i`
//!   answered is satisfied (`y ≥` its threshold), `0` when one of them is not, missing when
//!   the respondent answered none of them. "Not used / no opinion" (`na`, `dk`) is no answer,
//!   so it neither satisfies nor spoils. Its share is `svyciprop(~I(a == 1), design)` on the
//!   respondents with `a` present.
//! * **An option indicator**: `1` when the answer is one of a set of options (for a multiple
//!   choice: when one of the chosen options is), `0` for any other answer, missing without an
//!   answer.
//! * **A capped number**: `min(y, cap)` (the Ministry's G1, "% of expectations met", may be
//!   capped at 100 when a report says so).

use crate::spec::Item;

/// `1` when every answered item is satisfied, `0` when one is not, NaN when none is answered
/// (see the module documentation). Every item must have as many rows as the first; the
/// result has threshold 1 so that its "satisfied" share is the share of 1s.
pub fn all_satisfied(name: impl Into<String>, items: &[&Item]) -> Item {
    let n = items.first().map_or(0, |i| i.values.len());
    let values = (0..n)
        .map(|row| {
            all_satisfied_row(items.iter().map(|item| {
                (
                    item.values.get(row).copied().unwrap_or(f64::NAN),
                    item.satisfied_min,
                )
            }))
        })
        .collect();
    Item::new(name, values).with_satisfied_min(1.0)
}

/// [`all_satisfied`] of one response, from its `(answer, threshold)` pairs.
pub fn all_satisfied_row(answers: impl IntoIterator<Item = (f64, f64)>) -> f64 {
    let mut answered = false;
    for (y, threshold) in answers {
        if y.is_nan() {
            continue;
        }
        if y < threshold {
            return 0.0;
        }
        answered = true;
    }
    if answered { 1.0 } else { f64::NAN }
}

/// `1` when a respondent's answer (text, `None` when missing) is one of `options`, `0` for
/// another answer, NaN when missing; threshold 1. A multiple choice's answer is given as its
/// chosen options separated by spaces (as XLSForm stores it).
pub fn option_indicator<'a, I>(name: impl Into<String>, answers: I, options: &[&str]) -> Item
where
    I: IntoIterator<Item = Option<&'a str>>,
{
    let values = answers
        .into_iter()
        .map(|a| match a.map(str::trim) {
            None | Some("") => f64::NAN,
            Some(a) if a.split_whitespace().any(|v| options.contains(&v)) => 1.0,
            Some(_) => 0.0,
        })
        .collect();
    Item::new(name, values).with_satisfied_min(1.0)
}

/// The values capped at `cap` (missing stays missing).
pub fn capped(mut item: Item, cap: f64) -> Item {
    for y in &mut item.values {
        if *y > cap {
            *y = cap;
        }
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    const NA: f64 = f64::NAN;

    fn same(got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!(g == w || (g.is_nan() && w.is_nan()), "{got:?} ≠ {want:?}");
        }
    }

    #[test]
    fn every_answered_item_must_be_satisfied_and_no_answer_is_missing() {
        let a = Item::new("a", vec![5.0, 4.0, 3.0, NA, NA, 2.0]);
        let b = Item::new("b", vec![4.0, NA, 5.0, 5.0, NA, 2.0]).with_satisfied_min(5.0);
        let all = all_satisfied("all", &[&a, &b]);
        // Row 0: b = 4 < 5 (its own threshold); row 1: only a, satisfied; row 2: a = 3.
        same(&all.values, &[0.0, 1.0, 0.0, 1.0, NA, 0.0]);
        assert_eq!(all.satisfied_min, 1.0);
    }

    #[test]
    fn an_option_indicator_counts_any_chosen_option_of_the_set() {
        let answers = [
            Some("a"),
            Some("b c"),
            Some("c"),
            None,
            Some(" "),
            Some("d a"),
        ];
        let ind = option_indicator("x", answers, &["a", "b"]);
        same(&ind.values, &[1.0, 1.0, 0.0, NA, NA, 1.0]);
    }

    #[test]
    fn a_cap_lowers_only_what_is_above_it() {
        let item = capped(Item::new("g1", vec![50.0, 120.0, NA, 100.0]), 100.0);
        same(&item.values, &[50.0, 100.0, NA, 100.0]);
    }
}
