//! Server-side rendering with MiniJinja: templates embedded at build time,
//! parsed once per process, strict about undefined values, HTML auto-escaped.

use std::sync::LazyLock;

use minijinja::value::{Kwargs, Serde};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior, Value};
use serde::Serialize;

use crate::i18n::{self, Arg, Lang};

static ENV: LazyLock<Environment<'static>> = LazyLock::new(build_env);

#[allow(clippy::expect_used)] // the embedded-template loader expects valid templates; a unit test loads them all
fn build_env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    minijinja_embed::load_templates!(&mut env);
    env.add_function("t", translate);
    env.add_filter("pct", percent);
    env.add_filter("num", number);
    env.add_filter("est", estimate);
    env
}

/// `t("key", name=value, …)`: the message in the page's `lang`.
fn translate(state: &State, key: &str, kwargs: Kwargs) -> Result<String, Error> {
    let lang = state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::parse))
        .unwrap_or(Lang::Vi);
    let mut args: Vec<(&str, Arg)> = Vec::new();
    for name in kwargs.args() {
        let v: Value = kwargs.get(name)?;
        let arg = if let Some(n) = v.as_i64() {
            Arg::Num(n as f64)
        } else if let Ok(f) = f64::try_from(v.clone()) {
            Arg::Num(f)
        } else {
            Arg::Str(v.to_string())
        };
        args.push((name, arg));
    }
    kwargs.assert_all_used()?;
    Ok(i18n::t(lang, key, &args))
}

/// `0.8712 | pct` → `87.1`.
fn percent(v: Option<f64>, digits: Option<usize>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{:.*}", digits.unwrap_or(1), x * 100.0),
        _ => "–".to_owned(),
    }
}

/// An estimate in its index's unit (`ResultsHeader::unit`): a share or a 0–100 score ×100
/// with one decimal, a value on its own scale (a 1–5 mean, a PAPI dimension) with two.
fn estimate(v: Option<f64>, unit: &str) -> String {
    if unit == "value" {
        number(v, Some(2))
    } else {
        percent(v, None)
    }
}

/// `1.23456 | num(2)` → `1.23`.
fn number(v: Option<f64>, digits: Option<usize>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{:.*}", digits.unwrap_or(2), x),
        _ => "–".to_owned(),
    }
}

/// A problem rendering a page.
#[derive(Debug, thiserror::Error)]
#[error("cannot render template {name}: {source}")]
pub struct RenderError {
    name: String,
    source: Error,
}

/// Renders template `name` with a typed context.
pub fn render<C: Serialize>(name: &str, ctx: &C) -> Result<String, RenderError> {
    let wrap = |source: Error| RenderError {
        name: name.to_owned(),
        source,
    };
    let tmpl = ENV.get_template(name).map_err(wrap)?;
    tmpl.render(Value::from(Serde(ctx))).map_err(wrap)
}

/// True when a template of this name is embedded.
pub fn exists(name: &str) -> bool {
    !matches!(
        ENV.get_template(name).map_err(|e| e.kind()),
        Err(ErrorKind::TemplateNotFound)
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn all_templates_load_and_escape() {
        assert!(ENV.templates().count() > 2);
        assert!(exists("base.html"));
        let env = &*ENV;
        let out = env
            .render_str("{{ x }}", minijinja::context! { x => "<b>&" })
            .unwrap();
        assert_eq!(out, "<b>&", "render_str has no auto-escape by name");
        let tmpl = env.template_from_named_str("x.html", "{{ x }}").unwrap();
        let out = tmpl.render(minijinja::context! { x => "<b>&" }).unwrap();
        assert_eq!(out, "&lt;b&gt;&amp;");
    }

    #[test]
    fn filters_format_numbers() {
        assert_eq!(percent(Some(0.87123), None), "87.1");
        assert_eq!(percent(None, None), "–");
        assert_eq!(number(Some(1.23456), Some(2)), "1.23");
    }
}
