//! A statement's condition as one of its sources reads it.
//!
//! InfluxDB types each name of a condition once for the whole statement, over every
//! source of its `FROM`, and then reads it in each source with that type. So a name that
//! some source has as a field is a field in every source: in a measurement without that
//! field it has no value, and a comparison naming it holds nowhere, even where the
//! measurement carries a tag of that name (`FROM cpu, mem WHERE s !~ /z/` keeps no point
//! of `mem`, which has no field `s`; alone, `FROM mem WHERE s !~ /z/` compares the
//! missing tag `s` and keeps them all). The evaluators of each read path decide field or
//! tag by the source's own schema, so each source gets its condition rewritten here
//! first. Checked against InfluxDB 1.6.7 (recorded in
//! `query-semantics--names-typed-per-statement`):
//! - `::tag` reads the tag, also where the source has a field of that name (no tag: the
//!   empty string);
//! - `::float`, `::integer`, `::unsigned`, `::string`, `::boolean` read a field;
//! - `::field` reads a field when some source has the name as a field or a tag, and the
//!   (empty) tag otherwise (`nosuch::field = ''` holds);
//! - without a cast, a field when some source has one of that name, else a tag.

use super::Src;
use hyperbyte_domain::FieldType;
use hyperbyte_timeseriesql::ast::{BinaryOp, Expr, VarType};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// The fields and tags of every source of a statement.
pub(super) type StatementNames<'a> = (&'a BTreeMap<String, FieldType>, &'a BTreeSet<String>);

/// `cond` as `src` reads it: comparisons naming a field `src` lacks are false, and a
/// name read as a tag where `src` has only a field of that name is the empty string.
/// Borrowed when nothing changes (the usual case: one source, or sources alike).
pub(super) fn cond_in_source<'c>(
    cond: &'c Expr,
    src: &Src,
    names: StatementNames<'_>,
) -> Cow<'c, Expr> {
    let mut touched = false;
    cond.walk(&mut |x| {
        if let Expr::VarRef { name, data_type } = x {
            touched |= reading(name, *data_type, src, names) != Reading::AsIs;
        }
    });
    if !touched {
        return Cow::Borrowed(cond);
    }
    Cow::Owned(rewrite(cond, src, names))
}

/// How a name of the condition reads in one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// As the source's own schema says (the evaluators decide).
    AsIs,
    /// A field the source lacks: no value.
    NoValue,
    /// A tag the source lacks where it has a field of the name: the empty string.
    EmptyTag,
}

fn reading(
    name: &str,
    cast: Option<VarType>,
    src: &Src,
    (fields, tags): StatementNames<'_>,
) -> Reading {
    if name == "time" {
        return Reading::AsIs;
    }
    let is_field = match cast {
        Some(VarType::Tag) => false,
        Some(VarType::Field) => fields.contains_key(name) || tags.contains(name),
        Some(_) => true,
        None => fields.contains_key(name),
    };
    let here = src.schema.field_type(name).is_some();
    match (is_field, here) {
        (true, false) => Reading::NoValue,
        (false, true) if !src.schema.is_tag(name) => Reading::EmptyTag,
        _ => Reading::AsIs,
    }
}

fn rewrite(e: &Expr, src: &Src, names: StatementNames<'_>) -> Expr {
    match e {
        Expr::Paren(inner) => Expr::Paren(Box::new(rewrite(inner, src, names))),
        Expr::Binary { op, lhs, rhs } if matches!(op, BinaryOp::And | BinaryOp::Or) => {
            Expr::binary(*op, rewrite(lhs, src, names), rewrite(rhs, src, names))
        }
        leaf => {
            let mut no_value = false;
            leaf.walk(&mut |x| {
                if let Expr::VarRef { name, data_type } = x {
                    no_value |= reading(name, *data_type, src, names) == Reading::NoValue;
                }
            });
            if no_value {
                return Expr::Boolean(false);
            }
            let mut out = leaf.clone();
            out.walk_mut(&mut |x| {
                if let Expr::VarRef { name, data_type } = x {
                    if reading(name, *data_type, src, names) == Reading::EmptyTag {
                        *x = Expr::String(String::new());
                    }
                }
            });
            out
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hyperbyte_domain::MeasurementSchema;

    fn src(fields: &[(&str, FieldType)], tags: &[&str]) -> Src {
        let mut schema = MeasurementSchema::default();
        for (f, t) in fields {
            schema.fields.insert(f.to_string(), *t);
        }
        for t in tags {
            schema.tag_keys.insert(t.to_string());
        }
        Src {
            db: "db".into(),
            rp: "autogen".into(),
            measurement: "m".into(),
            schema,
            rows: None,
            tag_fields: BTreeSet::new(),
            pushed_tags: BTreeSet::new(),
        }
    }

    fn cond(text: &str) -> Expr {
        hyperbyte_timeseriesql::parser::parse_expr(text).unwrap()
    }

    fn read(text: &str, src: &Src, fields: &[&str], tags: &[&str]) -> String {
        let fields: BTreeMap<String, FieldType> = fields
            .iter()
            .map(|f| (f.to_string(), FieldType::String))
            .collect();
        let tags: BTreeSet<String> = tags.iter().map(|t| t.to_string()).collect();
        let c = cond(text);
        cond_in_source(&c, src, (&fields, &tags)).to_string()
    }

    #[test]
    fn a_field_of_another_source_has_no_value_here_even_where_this_one_has_the_tag() {
        // mem has tag `host` only; cpu has a field `s` and a tag `host`.
        let mem = src(&[("free", FieldType::Integer)], &["host", "k"]);
        let (f, t) = (&["s", "free", "k"][..], &["host", "k"][..]);
        assert_eq!(read("s !~ /z/", &mem, f, t), "false");
        assert_eq!(read("k = 'a' OR free > 1", &mem, f, t), "false OR free > 1");
        assert_eq!(
            read("(host = 'a' AND s = host)", &mem, f, t),
            "(host = 'a' AND false)"
        );
        assert_eq!(read("k::tag = 'a'", &mem, f, t), "k::tag = 'a'");
        // Borrowed when nothing is another source's.
        let c = cond("host = 'a' AND free > 1");
        let fields = BTreeMap::from([("free".to_string(), FieldType::Integer)]);
        let tags = BTreeSet::from(["host".to_string()]);
        assert!(matches!(
            cond_in_source(&c, &mem, (&fields, &tags)),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn casts_decide_as_influxdb_does() {
        let t1 = src(&[("f", FieldType::Float)], &["k"]);
        let t2 = src(&[("f", FieldType::Float), ("k", FieldType::String)], &[]);
        let (f, t) = (&["f", "k"][..], &["k"][..]);
        // `::tag` in a source with only a field of the name: the empty tag.
        assert_eq!(read("k::tag = 'a'", &t2, f, t), "'' = 'a'");
        assert_eq!(read("k::tag = 'a'", &t1, f, t), "k::tag = 'a'");
        // `::field` of a name only tags carry: a field, absent.
        assert_eq!(read("k::field = 'a'", &t1, &["f"], t), "false");
        // `::field` of a name nothing carries, and no cast: the (empty) tag.
        assert_eq!(
            read("nosuch::field = ''", &t1, &["f"], t),
            "nosuch::field = ''"
        );
        assert_eq!(read("nosuch = ''", &t1, &["f"], t), "nosuch = ''");
        // A concrete type: a field, absent.
        assert_eq!(read("nosuch::string = ''", &t1, &["f"], t), "false");
        assert_eq!(read("f::integer > 1", &t1, f, t), "f::integer > 1");
    }
}
