//! The derived indicators and linear indices of `hailong estimate` (see [`crate::derive`]):
//!
//! * `--cap ITEM=X`: the item's answers above `X` count as `X`;
//! * `--indicator NAME=COL:V1|V2…`: a new 0/1 item, 1 when column `COL`'s text is one of the
//!   values (for a multiple choice written as space-separated options: when one of them is);
//! * `--all-satisfied NAME=ITEM,…`: a new 0/1 item, 1 when every answered item of the list is
//!   satisfied (`≥ --satisfied-min`), missing when none is answered;
//! * `--linear NAME=ITEM:COEF,…[,@C]`: `C + Σ COEF · mean(ITEM)` with the coefficients as given
//!   (any sign): sums and differences of scores, rescaled means (R: `svycontrast`).
//!
//! New items are estimated like the others (their `satisfied` record is the share of 1s, with
//! the interval of `--ci`, as `svyciprop`); they may be used by later flags in the order
//! above (an indicator in an all-satisfied set or a linear index).

use std::collections::HashSet;

use crate::derive::{all_satisfied, capped, option_indicator};
use crate::estimate::{IndexSpec, Item};

use super::load::{column, csv_error, headers, open_csv};
use super::{EstimateArgs, StatsCliError, Survey};

/// `NAME=ITEM[:COEF],…[,@C]`: a linear index (coefficients default to 1, the constant to 0).
pub fn parse_linear(text: &str) -> Result<IndexSpec, String> {
    let (name, list) = split_named(text, "--linear", "NAME=ITEM:COEF,…[,@C]")?;
    let mut items = Vec::new();
    let mut offset = 0.0;
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if let Some(c) = part.strip_prefix('@') {
            offset = number(c, &format!("linear \"{name}\": constant"))?;
            continue;
        }
        let (item, coef) = match part.split_once(':') {
            Some((i, c)) => (
                i.trim(),
                number(c, &format!("linear \"{name}\": coefficient"))?,
            ),
            None => (part, 1.0),
        };
        if coef == 0.0 {
            return Err(format!(
                "linear \"{name}\": the coefficient of \"{item}\" is 0"
            ));
        }
        items.push((item.to_owned(), coef));
    }
    if items.is_empty() {
        return Err(format!("linear \"{name}\" has no items"));
    }
    Ok(IndexSpec::linear(name, items, offset))
}

/// `NAME=ITEM,…`: the items of an all-satisfied indicator.
pub fn parse_all_satisfied(text: &str) -> Result<(String, Vec<String>), String> {
    let (name, list) = split_named(text, "--all-satisfied", "NAME=ITEM,…")?;
    let items: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    if items.is_empty() {
        return Err(format!("all-satisfied \"{name}\" has no items"));
    }
    Ok((name.to_owned(), items))
}

/// `NAME=COL:V1|V2…`: an option indicator.
pub fn parse_indicator(text: &str) -> Result<(String, String, Vec<String>), String> {
    let (name, rest) = split_named(text, "--indicator", "NAME=COL:V1|V2…")?;
    let (col, values) = rest
        .split_once(':')
        .ok_or_else(|| format!("indicator \"{name}\" must look like NAME=COL:V1|V2…"))?;
    let values: Vec<String> = values
        .split('|')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect();
    if col.trim().is_empty() || values.is_empty() {
        return Err(format!("indicator \"{name}\" needs a column and values"));
    }
    Ok((name.to_owned(), col.trim().to_owned(), values))
}

/// `ITEM=X`: a cap.
pub fn parse_cap(text: &str) -> Result<(String, f64), String> {
    let (item, x) = split_named(text, "--cap", "ITEM=X")?;
    Ok((item.to_owned(), number(x, &format!("cap of \"{item}\""))?))
}

fn split_named<'a>(text: &'a str, flag: &str, shape: &str) -> Result<(&'a str, &'a str), String> {
    match text.split_once('=') {
        Some((n, rest)) if !n.trim().is_empty() => Ok((n.trim(), rest)),
        _ => Err(format!("{flag} \"{text}\" must look like {shape}")),
    }
}

fn number(text: &str, what: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("{what} \"{}\" is not a number", text.trim()))
}

/// Adds the caps, indicators, all-satisfied items and linear indices of `args` to a loaded
/// survey (indicators read their columns as text in a second pass over the file).
pub fn apply(args: &EstimateArgs, survey: &mut Survey) -> Result<(), StatsCliError> {
    let arg = |m: String| StatsCliError::Argument(m);
    if !(args.cap.is_empty() && args.indicator.is_empty() && args.all_satisfied.is_empty()) {
        survey.answer_values();
        survey.answer_codes = None;
    }
    for (name, cap) in &args.cap {
        let k = position(&survey.items, name)
            .ok_or_else(|| arg(format!("--cap {name}: \"{name}\" is not one of --items")))?;
        let item = std::mem::replace(&mut survey.items[k], Item::new("", Vec::new()));
        survey.items[k] = capped(item, *cap);
    }
    let mut names: HashSet<String> = survey.items.iter().map(|i| i.name.clone()).collect();
    let mut fresh = |name: &str| {
        if names.insert(name.to_owned()) {
            Ok(())
        } else {
            Err(arg(format!("\"{name}\" names an item twice")))
        }
    };
    if !args.indicator.is_empty() {
        let path = args.input.as_path();
        let mut reader = open_csv(path)?;
        let header = headers(path, &mut reader)?;
        let cols: Vec<usize> = args
            .indicator
            .iter()
            .map(|(_, c, _)| column(path, &header, c))
            .collect::<Result<_, _>>()?;
        let mut texts: Vec<Vec<Option<String>>> = vec![Vec::new(); cols.len()];
        for rec in reader.records() {
            let rec = rec.map_err(|e| csv_error(path, e))?;
            for (t, &c) in texts.iter_mut().zip(&cols) {
                t.push(rec.get(c).map(str::to_owned));
            }
        }
        for ((name, _, values), t) in args.indicator.iter().zip(texts) {
            fresh(name)?;
            let options: Vec<&str> = values.iter().map(String::as_str).collect();
            let item = option_indicator(name.clone(), t.iter().map(|s| s.as_deref()), &options);
            survey.items.push(item);
        }
    }
    for (name, list) in &args.all_satisfied {
        fresh(name)?;
        let mut parts = Vec::with_capacity(list.len());
        for item in list {
            let k = position(&survey.items, item)
                .ok_or_else(|| arg(format!("--all-satisfied {name}: \"{item}\" is not an item")))?;
            parts.push(&survey.items[k]);
        }
        let derived = all_satisfied(name.clone(), &parts);
        survey.items.push(derived);
    }
    survey.indices.extend(args.linear.iter().cloned());
    Ok(())
}

fn position(items: &[Item], name: &str) -> Option<usize> {
    items.iter().position(|i| i.name == name)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::estimate::IndexKind;

    #[test]
    fn a_linear_index_keeps_its_coefficients_and_constant() {
        let spec = parse_linear("D1=q1:0.5, q2:-0.25 ,q3,@1.5").unwrap();
        assert_eq!(spec.kind, IndexKind::Linear);
        assert_eq!(spec.offset, 1.5);
        assert_eq!(
            spec.items,
            [
                ("q1".to_owned(), 0.5),
                ("q2".to_owned(), -0.25),
                ("q3".to_owned(), 1.0)
            ]
        );
        for bad in ["D1", "=q1", "D1=q1:x", "D1=q1:0", "D1=@2", "D1=q1,@y"] {
            assert!(parse_linear(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn indicators_caps_and_all_satisfied_sets_parse_or_say_why() {
        assert_eq!(
            parse_indicator("bribe=paid:yes|1").unwrap(),
            (
                "bribe".into(),
                "paid".into(),
                vec!["yes".into(), "1".into()]
            )
        );
        assert!(parse_indicator("bribe=paid").is_err());
        assert!(parse_indicator("bribe=paid:").is_err());
        assert_eq!(parse_cap("g1=100").unwrap(), ("g1".into(), 100.0));
        assert!(parse_cap("g1=lots").is_err());
        assert_eq!(
            parse_all_satisfied("all=a,b").unwrap(),
            ("all".into(), vec!["a".into(), "b".into()])
        );
        assert!(parse_all_satisfied("all=").is_err());
    }
}
