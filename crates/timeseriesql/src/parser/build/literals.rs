//! Identifiers, strings, durations and integers: the leaves every statement is built from.
//!
//! Why it exists: InfluxDB unescapes identifiers and strings its own way, accepts bound
//! parameters in place of any literal, and answers out-of-range numbers and bad durations
//! with Go's `strconv` texts; keeping the leaves in one place keeps those rules consistent.

use super::{Builder, R};
use crate::parser::errors::at;
use crate::parser::{ParamValue, ParseError, Rule};
use hyperbyte_domain::time::parse_influxql_duration;
use pest::iterators::Pair;

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Builder<'_> {
    pub(super) fn ident(&self, p: Pair<'_, Rule>) -> String {
        if let Some(ParamValue::Identifier(name)) =
            self.bindings.at.get(&self.pos(&p)).map(|b| &b.value)
        {
            return name.clone();
        }
        let inner = match p.as_rule() {
            Rule::ident => p.into_inner().next(),
            _ => Some(p),
        };
        match inner {
            Some(q) if q.as_rule() == Rule::quoted_ident => {
                let s = q.as_str();
                unescape(&s[1..s.len().saturating_sub(1)])
            }
            Some(b) => b.as_str().to_string(),
            None => String::new(),
        }
    }

    pub(super) fn string_lit(&self, p: Pair<'_, Rule>) -> String {
        if let Some(ParamValue::String(s)) = self.bindings.at.get(&self.pos(&p)).map(|b| &b.value) {
            return s.clone();
        }
        p.into_inner()
            .next()
            .map(|s| unescape(s.as_str()))
            .unwrap_or_default()
    }

    pub(super) fn duration_lit(&self, p: &Pair<'_, Rule>, positioned: bool) -> R<i64> {
        let text = match self.bound(p)? {
            Some(ParamValue::Duration(text)) => text.as_str(),
            Some(_) => {
                return Err(at(
                    self.input,
                    self.pos(p),
                    "bound parameter of the wrong type",
                ))
            }
            None => p.as_str(),
        };
        parse_influxql_duration(text).map_err(|e| {
            if positioned {
                at(self.input, self.pos(p), e.to_string())
            } else {
                ParseError::Message(e.to_string())
            }
        })
    }

    /// `duration_value` (`duration` or `INF`).
    pub(super) fn duration_value(&self, p: Pair<'_, Rule>) -> R<i64> {
        match p.into_inner().next() {
            Some(d) if d.as_rule() == Rule::duration => self.duration_lit(&d, true),
            _ => Ok(0),
        }
    }

    pub(super) fn uint(&self, p: &Pair<'_, Rule>) -> R<u64> {
        let text = self.number_text(p)?;
        text.parse::<u64>().map_err(|_| {
            at(
                self.input,
                self.pos(p),
                format!("strconv.ParseUint: parsing \"{text}\": value out of range"),
            )
        })
    }

    /// `LIMIT`-style integer: InfluxDB treats 0 as "not set".
    pub(super) fn limit_value(&self, p: Pair<'_, Rule>) -> R<Option<u64>> {
        let mut it = p.into_inner();
        let keyword = it.next().map(|k| k.as_str().to_ascii_uppercase());
        let Some(n) = it.next() else {
            return Ok(None);
        };
        let v = self
            .number_text(&n)?
            .parse::<i64>()
            .map_err(|_| at(self.input, self.pos(&n), "unable to parse integer"))?;
        if v < 0 {
            // Only a bound parameter can be negative here.
            let keyword = keyword.unwrap_or_default();
            return Err(at(
                self.input,
                self.pos(&n),
                format!("{keyword} must be >= 0"),
            ));
        }
        Ok((v > 0).then_some(v as u64))
    }

    /// Replication factor: `1 <= n <= 2147483647`.
    pub(super) fn replication(&self, p: Pair<'_, Rule>) -> R<u32> {
        let pos = self.pos(&p);
        let text = self.number_text(&p)?;
        match text.parse::<i64>() {
            Ok(n) if (1..=i64::from(i32::MAX)).contains(&n) => Ok(n as u32),
            Ok(n) => Err(at(
                self.input,
                pos,
                format!("invalid value {n}: must be 1 <= n <= 2147483647"),
            )),
            Err(_) => Err(at(
                self.input,
                pos,
                format!("strconv.Atoi: parsing \"{text}\": value out of range"),
            )),
        }
    }
}
