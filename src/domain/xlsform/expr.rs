//! The subset of XPath that XLSForm conditions are written in: `${x}`, `.`,
//! string and number literals, `= != > >= < <=`, `and`/`or`/`not()`,
//! parentheses, `selected()`, `count-selected()`, `string-length()`,
//! `regex()`, `true()`/`false()`. Anything else is refused with a reason
//! (a [`Reason`] the caller puts into a warning naming the row).

use super::{Reason, code};

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `${name}`
    Ref(String),
    /// `.` (the answer being checked, in a constraint)
    Dot,
    Str(String),
    /// A number literal as written (`1`, `2.5`, `-3`).
    Num(String),
    Bool(bool),
    Cmp(Box<Expr>, CmpOp, Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Call(Func, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl CmpOp {
    /// The same comparison with its sides swapped (`1 < x` is `x > 1`).
    pub fn flipped(self) -> CmpOp {
        match self {
            CmpOp::Eq => CmpOp::Eq,
            CmpOp::Ne => CmpOp::Ne,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Gte => CmpOp::Lte,
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Lte => CmpOp::Gte,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "eq",
            CmpOp::Ne => "ne",
            CmpOp::Gt => "gt",
            CmpOp::Gte => "gte",
            CmpOp::Lt => "lt",
            CmpOp::Lte => "lte",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Selected,
    CountSelected,
    StringLength,
    Regex,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ref(String),
    Dot,
    Str(String),
    Num(String),
    Word(String),
    Op(CmpOp),
    Open,
    Close,
    Comma,
}

/// Longest expression read; real ones are a few hundred characters.
const MAX_LEN: usize = 4_000;
/// Deepest nesting of parentheses and `not()`.
const MAX_DEPTH: usize = 32;

fn tokens(s: &str) -> Result<Vec<Tok>, Reason> {
    if s.len() > MAX_LEN {
        return Err(Reason::new(code::EXPR_TOO_LONG).with("max", MAX_LEN.to_string()));
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '$' if chars.get(i + 1) == Some(&'{') => {
                let start = i + 2;
                let end = chars[start..]
                    .iter()
                    .position(|&c| c == '}')
                    .map(|p| start + p)
                    .ok_or_else(|| Reason::new(code::EXPR_UNCLOSED_REFERENCE))?;
                let name: String = chars[start..end].iter().collect();
                out.push(Tok::Ref(name.trim().to_owned()));
                i = end + 1;
            }
            '\'' | '"' | '‘' | '’' | '“' | '”' => {
                let closers: &[char] = match c {
                    // Word processors turn a closing ' into ’.
                    '\'' => &['\'', '’'],
                    '"' => &['"'],
                    _ => &['’', '‘', '”', '“'],
                };
                let start = i + 1;
                let end = chars[start..]
                    .iter()
                    .position(|c| closers.contains(c))
                    .map(|p| start + p)
                    .ok_or_else(|| Reason::new(code::EXPR_UNCLOSED_QUOTE))?;
                out.push(Tok::Str(chars[start..end].iter().collect()));
                i = end + 1;
            }
            '.' if !chars.get(i + 1).is_some_and(|c| c.is_ascii_digit()) => {
                if chars.get(i + 1) == Some(&'.') {
                    return Err(Reason::new(code::EXPR_PATH));
                }
                out.push(Tok::Dot);
                i += 1;
            }
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '=' => {
                out.push(Tok::Op(CmpOp::Eq));
                i += 1;
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                out.push(Tok::Op(CmpOp::Ne));
                i += 2;
            }
            '<' | '>' => {
                let eq = chars.get(i + 1) == Some(&'=');
                out.push(Tok::Op(match (c, eq) {
                    ('<', true) => CmpOp::Lte,
                    ('<', false) => CmpOp::Lt,
                    ('>', true) => CmpOp::Gte,
                    _ => CmpOp::Gt,
                }));
                i += if eq { 2 } else { 1 };
            }
            c if c.is_ascii_digit()
                || c == '.'
                || (c == '-'
                    && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())
                    && !matches!(
                        out.last(),
                        Some(Tok::Ref(_) | Tok::Num(_) | Tok::Dot | Tok::Close | Tok::Str(_))
                    )) =>
            {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                if text.parse::<f64>().is_err() {
                    return Err(Reason::new(code::EXPR_NUMBER).with("number", text));
                }
                out.push(Tok::Num(text));
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '-' | ':'))
                {
                    i += 1;
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
            other => return Err(Reason::new(code::EXPR_SIGN).with("sign", other.to_string())),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    /// The closing parenthesis.
    fn close(&mut self) -> Result<(), Reason> {
        match self.next() {
            Some(Tok::Close) => Ok(()),
            _ => Err(Reason::new(code::EXPR_MISSING_PARENTHESIS)),
        }
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }

    fn or(&mut self) -> Result<Expr, Reason> {
        let mut parts = vec![self.and()?];
        while self.is_word("or") {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Expr, Reason> {
        let mut parts = vec![self.cmp()?];
        while self.is_word("and") {
            self.pos += 1;
            parts.push(self.cmp()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn cmp(&mut self) -> Result<Expr, Reason> {
        let left = self.primary()?;
        if let Some(Tok::Op(op)) = self.peek().cloned() {
            self.pos += 1;
            let right = self.primary()?;
            if let Some(Tok::Op(_)) = self.peek() {
                return Err(Reason::new(code::EXPR_CHAINED));
            }
            return Ok(Expr::Cmp(Box::new(left), op, Box::new(right)));
        }
        Ok(left)
    }

    fn primary(&mut self) -> Result<Expr, Reason> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Reason::new(code::EXPR_TOO_DEEP).with("max", MAX_DEPTH.to_string()));
        }
        let e = self.primary_inner();
        self.depth -= 1;
        e
    }

    fn primary_inner(&mut self) -> Result<Expr, Reason> {
        match self.next() {
            Some(Tok::Ref(name)) => Ok(Expr::Ref(name)),
            Some(Tok::Dot) => Ok(Expr::Dot),
            Some(Tok::Str(s)) => Ok(Expr::Str(s)),
            Some(Tok::Num(n)) => Ok(Expr::Num(n)),
            Some(Tok::Open) => {
                let e = self.or()?;
                self.close()?;
                Ok(e)
            }
            Some(Tok::Word(w)) => {
                if self.peek() != Some(&Tok::Open) {
                    return Err(Reason::new(code::EXPR_WORD).with("word", w));
                }
                self.pos += 1;
                let mut args = Vec::new();
                if self.peek() != Some(&Tok::Close) {
                    args.push(self.or()?);
                    while self.peek() == Some(&Tok::Comma) {
                        self.pos += 1;
                        args.push(self.or()?);
                    }
                }
                self.close()?;
                let arguments = |w: &str, n: usize| {
                    Reason::new(code::EXPR_ARGUMENTS)
                        .with("function", w)
                        .with("count", n.to_string())
                };
                let arity = |n: usize, e: Expr| {
                    if args.len() == n {
                        Ok(e)
                    } else {
                        Err(arguments(&w, args.len()))
                    }
                };
                match w.as_str() {
                    "true" => arity(0, Expr::Bool(true)),
                    "false" => arity(0, Expr::Bool(false)),
                    "not" if args.len() == 1 => Ok(Expr::Not(Box::new(args.remove(0)))),
                    "selected" | "jr:selected" if args.len() == 2 => {
                        Ok(Expr::Call(Func::Selected, args))
                    }
                    "count-selected" if args.len() == 1 => {
                        Ok(Expr::Call(Func::CountSelected, args))
                    }
                    "string-length" if args.len() == 1 => Ok(Expr::Call(Func::StringLength, args)),
                    "regex" if args.len() == 2 => Ok(Expr::Call(Func::Regex, args)),
                    "not" | "selected" | "jr:selected" | "count-selected" | "string-length"
                    | "regex" => Err(arguments(&w, args.len())),
                    _ => Err(Reason::new(code::EXPR_FUNCTION).with("function", w)),
                }
            }
            Some(Tok::Op(_)) => Err(Reason::new(code::EXPR_NO_LEFT_SIDE)),
            Some(Tok::Close) | Some(Tok::Comma) | None => Err(Reason::new(code::EXPR_INCOMPLETE)),
        }
    }
}

/// Parses an expression of the subset; the error says what is outside it.
pub fn parse(s: &str) -> Result<Expr, Reason> {
    let toks = tokens(s)?;
    if toks.is_empty() {
        return Err(Reason::new(code::EXPR_EMPTY));
    }
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let e = p.or()?;
    if p.pos < p.toks.len() {
        return Err(match p.peek() {
            Some(Tok::Word(w)) => Reason::new(code::EXPR_WORD).with("word", w.clone()),
            _ => Reason::new(code::EXPR_TRAILING),
        });
    }
    Ok(e)
}

/// The `${name}`s an expression refers to, in order.
pub fn refs(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Ref(n) => out.push(n.clone()),
        Expr::Cmp(a, _, b) => {
            refs(a, out);
            refs(b, out);
        }
        Expr::And(v) | Expr::Or(v) | Expr::Call(_, v) => v.iter().for_each(|x| refs(x, out)),
        Expr::Not(x) => refs(x, out),
        Expr::Dot | Expr::Str(_) | Expr::Num(_) | Expr::Bool(_) => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn r(n: &str) -> Box<Expr> {
        Box::new(Expr::Ref(n.to_owned()))
    }

    #[test]
    fn a_compound_condition_is_a_tree_not_a_string() {
        let e = parse("${a} = 'yes' and ${b} = 'no'").unwrap();
        assert_eq!(
            e,
            Expr::And(vec![
                Expr::Cmp(r("a"), CmpOp::Eq, Box::new(Expr::Str("yes".into()))),
                Expr::Cmp(r("b"), CmpOp::Eq, Box::new(Expr::Str("no".into()))),
            ])
        );
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_group() {
        let e = parse("${a}=1 or ${b}>=2 and not(${c} != \"x\")").unwrap();
        let Expr::Or(parts) = e else { panic!() };
        assert_eq!(parts.len(), 2);
        assert!(matches!(&parts[1], Expr::And(v) if matches!(v[1], Expr::Not(_))));
        let e = parse("(${a}=1 or ${b}=2) and ${c}=3").unwrap();
        assert!(matches!(&e, Expr::And(v) if matches!(v[0], Expr::Or(_))));
    }

    #[test]
    fn functions_numbers_and_dot() {
        assert_eq!(
            parse("selected(${q}, 'other')").unwrap(),
            Expr::Call(
                Func::Selected,
                vec![Expr::Ref("q".into()), Expr::Str("other".into())]
            )
        );
        assert!(matches!(
            parse("count-selected(${q}) >= 2").unwrap(),
            Expr::Cmp(_, CmpOp::Gte, n) if *n == Expr::Num("2".into())
        ));
        assert!(matches!(
            parse(". >= -1.5 and . <= 120").unwrap(),
            Expr::And(v) if v[0] == Expr::Cmp(Box::new(Expr::Dot), CmpOp::Gte, Box::new(Expr::Num("-1.5".into())))
        ));
        assert!(matches!(
            parse("regex(., '^[0-9]{10}$')").unwrap(),
            Expr::Call(Func::Regex, _)
        ));
        assert_eq!(parse("true()").unwrap(), Expr::Bool(true));
        assert!(matches!(
            parse("string-length(.) <= 10").unwrap(),
            Expr::Cmp(..)
        ));
        assert!(matches!(
            parse("${age}>17").unwrap(),
            Expr::Cmp(_, CmpOp::Gt, _)
        ));
    }

    #[test]
    fn outside_the_subset_says_what() {
        assert_eq!(
            parse("${a} + 1 > 2").unwrap_err(),
            Reason::new(code::EXPR_SIGN).with("sign", "+")
        );
        assert_eq!(
            parse("today() > ${d}").unwrap_err(),
            Reason::new(code::EXPR_FUNCTION).with("function", "today")
        );
        assert_eq!(
            parse("${a} = 'x").unwrap_err().code,
            code::EXPR_UNCLOSED_QUOTE
        );
        assert_eq!(
            parse("${a}=’x’ or ${a}='y’").unwrap(),
            Expr::Or(vec![
                Expr::Cmp(r("a"), CmpOp::Eq, Box::new(Expr::Str("x".into()))),
                Expr::Cmp(r("a"), CmpOp::Eq, Box::new(Expr::Str("y".into()))),
            ])
        );
        let code_of = |s: &str| parse(s).unwrap_err().code;
        assert_eq!(code_of("${a} ="), code::EXPR_INCOMPLETE);
        assert_eq!(code_of("(${a} = 1"), code::EXPR_MISSING_PARENTHESIS);
        assert_eq!(code_of("${a} = 1 ${b}"), code::EXPR_TRAILING);
        assert_eq!(code_of(""), code::EXPR_EMPTY);
        assert_eq!(code_of("1 < ${a} < 3"), code::EXPR_CHAINED);
        assert_eq!(
            parse("selected(${a})").unwrap_err(),
            Reason::new(code::EXPR_ARGUMENTS)
                .with("function", "selected")
                .with("count", "1")
        );
        let deep = format!("{}${{a}}=1{}", "(".repeat(100), ")".repeat(100));
        assert_eq!(
            parse(&deep).unwrap_err(),
            Reason::new(code::EXPR_TOO_DEEP).with("max", "32")
        );
    }

    #[test]
    fn refs_are_collected() {
        let mut out = vec![];
        refs(&parse("selected(${a}, 'x') or ${b} = 1").unwrap(), &mut out);
        assert_eq!(out, vec!["a", "b"]);
    }
}
