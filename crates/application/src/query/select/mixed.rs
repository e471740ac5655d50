//! Fields whose type differs between shard groups.
//!
//! InfluxDB checks a field's type per shard group, so a field may be a float one week and
//! an integer the next. A query reads such a field by the highest-ranked type among the
//! shard groups its range touches (float, integer, unsigned, string, boolean), reading
//! integers as floats and leaving values of the other types out.
//!
//! Storage keeps one column per field, of its first type, and puts values of other types
//! into side columns (`hyperbyte_domain::side_field_name`). So:
//! - before the statement is checked, each such field takes the type the query reads it
//!   as ([`QueryService::type_fields_by_range`]): `sum(s)` of a field that is a string in
//!   2000 and a float in 2020 sums the floats;
//! - a source whose read meets values in side columns is read here once, its columns
//!   merged per point, and then evaluated as a subquery's rows are
//!   ([`QueryService::read_mixed_sources`]). Neither aggregates in the engine nor the
//!   recent-data tier (which leaves such tables out) serve it: only these tables pay for
//!   the slower path.

use super::source_cond::{cond_in_source, StatementNames};
use super::*;
use crate::query::decided_by_tags;
use hyperbyte_timeseriesql::ast::TimeRange;

/// InfluxDB's precedence of a field's types (`influxql.DataType.LessThan`): the highest
/// ranked type among the shard groups a query touches is the one it reads.
pub(super) fn rank(t: FieldType) -> u8 {
    match t {
        FieldType::Float => 5,
        FieldType::Integer => 4,
        FieldType::Unsigned => 3,
        FieldType::String => 2,
        FieldType::Boolean => 1,
    }
}

/// A field named by several sources of a statement takes one type, as InfluxDB types it
/// over every shard the statement touches: the highest-ranked one. A source whose values
/// cannot be read as it (strings where floats are read) gives none: `SELECT value FROM
/// f1, f2` with floats in `f1` and strings in `f2` lists `f1` alone. Integers are read
/// where floats are. A field every reference casts to `::string` or `::boolean` takes
/// that type. (After [`QueryService::type_fields_by_range`].)
pub(super) fn one_type_per_field(sources: &mut [Src], stmt: &SelectStatement) {
    let mut types: BTreeMap<String, FieldType> = BTreeMap::new();
    for src in sources.iter().filter(|s| s.rows.is_none()) {
        for (f, &t) in &src.schema.fields {
            let kept = types.entry(f.clone()).or_insert(t);
            if rank(t) > rank(*kept) {
                *kept = t;
            }
        }
    }
    for (f, t) in types.iter_mut() {
        if let Some(cast) = cast_of_every_reference(stmt, f) {
            *t = cast;
        }
    }
    for src in sources.iter_mut().filter(|s| s.rows.is_none()) {
        src.schema.fields.retain(|f, t| {
            types
                .get(f)
                .is_none_or(|&want| *t == want || (t.is_numeric() && want.is_numeric()))
        });
    }
}

/// `::string` or `::boolean` when every reference to `field` in the statement's columns
/// and condition casts it so.
fn cast_of_every_reference(stmt: &SelectStatement, field: &str) -> Option<FieldType> {
    let mut casts: Vec<Option<VarType>> = Vec::new();
    let mut note = |e: &Expr| {
        if let Expr::VarRef { name, data_type } = e {
            if name == field && !casts.contains(data_type) {
                casts.push(*data_type);
            }
        }
    };
    for f in &stmt.fields {
        f.expr.walk(&mut note);
    }
    if let Some(c) = &stmt.condition {
        c.walk(&mut note);
    }
    match casts.as_slice() {
        [Some(VarType::String)] => Some(FieldType::String),
        [Some(VarType::Boolean)] => Some(FieldType::Boolean),
        _ => None,
    }
}

/// The type a query reads a field as, given the types it met.
fn read_type(types: &BTreeSet<FieldType>) -> Option<FieldType> {
    types.iter().copied().max_by_key(|t| rank(*t))
}

/// A stored value read as type `want`: a value of that type as it is, an integer (signed
/// or not) as a float; values of other types are left out.
fn read_as(v: Value, want: FieldType) -> Option<Value> {
    match (v, want) {
        (Value::Integer(i), FieldType::Float) => Some(Value::Float(i as f64)),
        (Value::Unsigned(u), FieldType::Float) => Some(Value::Float(u as f64)),
        (v @ Value::Float(_), FieldType::Float)
        | (v @ Value::Integer(_), FieldType::Integer)
        | (v @ Value::Unsigned(_), FieldType::Unsigned)
        | (v @ Value::String(_), FieldType::String)
        | (v @ Value::Boolean(_), FieldType::Boolean) => Some(v),
        _ => None,
    }
}

/// The storage columns of one field (its own, then its side columns, each with its
/// type) and the type the query reads it as.
struct FieldColumns {
    field: Arc<str>,
    columns: Vec<(Arc<str>, FieldType)>,
    want: FieldType,
}

impl FieldColumns {
    fn new(field: &str, stored: &MeasurementSchema, want: FieldType) -> Self {
        let columns = stored
            .storage_columns(field)
            .into_iter()
            .map(|(name, t)| (Arc::from(name.as_str()), t))
            .collect();
        FieldColumns {
            field: Arc::from(field),
            columns,
            want,
        }
    }

    /// Moves the field's value out of its columns into the field's name, read as the
    /// query reads it (a point stores one value per field and time: one column at most
    /// holds it).
    fn merge_into(&self, p: &mut Point) {
        let mut value = None;
        for (name, _) in &self.columns {
            if let Some(v) = p.fields.remove(&**name) {
                value = value.or_else(|| read_as(v, self.want));
            }
        }
        if let Some(v) = value {
            p.fields.insert(Arc::clone(&self.field), v);
        }
    }
}

/// The fields `cond` names among `is_field`'s.
fn condition_fields(cond: Option<&Expr>, is_field: &dyn Fn(&str) -> bool) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Some(c) = cond {
        c.walk(&mut |x| {
            if let Expr::VarRef { name, .. } = x {
                if is_field(name) {
                    out.insert(name.clone());
                }
            }
        });
    }
    out
}

impl QueryService {
    /// The shard groups of `src`'s policy that `range` touches
    /// ([`hyperbyte_domain::RetentionPolicy::shard_group_span`]; `None`: no such policy).
    pub(super) fn shard_span(&self, src: &Src, range: TimeRange) -> Option<(i64, i64)> {
        let database = self.meta.database(&src.db)?;
        Some(database.rp(&src.rp)?.shard_group_span(range.min, range.max))
    }

    /// The types `field` has in `src`'s shard groups within `span` ([`Self::shard_span`];
    /// every type of the schema when the span or the metadata store's types per shard
    /// group are unknown).
    pub(super) fn types_met(
        &self,
        src: &Src,
        field: &str,
        span: Option<(i64, i64)>,
    ) -> BTreeSet<FieldType> {
        span.and_then(|span| {
            self.meta
                .field_types_in_shard_groups(&src.db, &src.measurement, field, &src.rp, span)
        })
        .unwrap_or_else(|| src.schema.field_types(field).into_iter().collect())
    }

    /// Gives each field stored under several types the type a read of `range` takes it
    /// as, in the schema of each stored source (before the statement's checks and
    /// wildcards look at the types).
    pub(super) fn type_fields_by_range(&self, sources: &mut [Src], range: TimeRange) {
        for src in sources.iter_mut().filter(|s| s.rows.is_none()) {
            let several: Vec<String> = src
                .schema
                .other_types
                .iter()
                .filter(|(_, others)| !others.is_empty())
                .map(|(f, _)| f.clone())
                .collect();
            let span = self.shard_span(src, range);
            for f in several {
                if let Some(t) = read_type(&self.types_met(src, &f, span)) {
                    src.schema.fields.insert(f, t);
                }
            }
        }
    }

    /// Reads each stored source whose read of `range` meets values of `needed` or of the
    /// condition's fields in side columns: the points, their fields merged and read as
    /// the schema's types say, filtered by `cond`, become the source's rows.
    pub(super) async fn read_mixed_sources(
        &self,
        sources: &mut [Src],
        (needed, names): (&BTreeSet<String>, StatementNames<'_>),
        statement_cond: Option<&Expr>,
        range: TimeRange,
        budget: &Budget,
    ) -> Result<(), StatementError> {
        for src in sources.iter_mut().filter(|s| s.rows.is_none()) {
            if src.schema.other_types.values().all(BTreeSet::is_empty) {
                continue;
            }
            let cond = statement_cond.map(|c| cond_in_source(c, src, names));
            let cond = cond.as_deref();
            let Some(stored) = self.meta.schema(&src.db, &src.measurement) else {
                continue;
            };
            let is_field = |n: &str| src.schema.field_type(n).is_some();
            let mut fields = condition_fields(cond, &is_field);
            fields.extend(needed.iter().filter(|n| is_field(n)).cloned());
            let span = self.shard_span(src, range);
            let meets_side_values = fields.iter().any(|f| {
                let primary = stored.field_type(f);
                self.types_met(src, f, span)
                    .iter()
                    .any(|t| Some(*t) != primary)
            });
            if !meets_side_values {
                continue;
            }
            let columns: Vec<FieldColumns> = fields
                .iter()
                .filter_map(|f| Some(FieldColumns::new(f, &stored, src.schema.field_type(f)?)))
                .collect();
            let mut read_src = src.clone();
            let mut names = BTreeSet::new();
            for (name, t) in columns.iter().flat_map(|c| &c.columns) {
                read_src.schema.fields.insert(name.to_string(), *t);
                names.insert(name.to_string());
            }
            // A condition on tags alone is the engine's; one on fields is checked on the
            // merged values.
            let by_tags = cond.filter(|c| decided_by_tags(c, &is_field));
            let cap = budget.read_cap();
            let read = self
                .read_points_capped(
                    &read_src,
                    &names,
                    by_tags,
                    (range.min, range.max),
                    cap,
                    None,
                )
                .await?;
            let mut points = Vec::with_capacity(read.len());
            for mut p in read {
                for c in &columns {
                    c.merge_into(&mut p);
                }
                if cond.is_none_or(|c| eval_stored_cond(c, &p, &is_field)) {
                    points.push(p);
                }
            }
            budget.charge_points(points.len())?;
            // Rows of one time in the order storage's readers give them.
            let points = in_storage_order(points, &src.schema.tag_keys);
            src.rows = Some(Arc::new(points));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_ranked_type_is_read() {
        let types = |ts: &[FieldType]| ts.iter().copied().collect::<BTreeSet<_>>();
        use FieldType::*;
        assert_eq!(read_type(&types(&[Integer, Float, Boolean])), Some(Float));
        assert_eq!(read_type(&types(&[String, Boolean])), Some(String));
        assert_eq!(read_type(&types(&[Unsigned, String])), Some(Unsigned));
        assert_eq!(read_type(&types(&[Unsigned, Integer])), Some(Integer));
        assert_eq!(read_type(&types(&[])), None);
    }

    #[test]
    fn integers_read_as_floats_and_other_types_are_left_out() {
        use FieldType::*;
        assert_eq!(read_as(Value::Integer(7), Float), Some(Value::Float(7.0)));
        assert_eq!(read_as(Value::Unsigned(7), Float), Some(Value::Float(7.0)));
        assert_eq!(read_as(Value::Float(1.5), Float), Some(Value::Float(1.5)));
        assert_eq!(read_as(Value::Boolean(true), Float), None);
        assert_eq!(read_as(Value::String("x".into()), Float), None);
        assert_eq!(read_as(Value::Float(1.5), Integer), None);
        assert_eq!(
            read_as(Value::Boolean(true), Boolean),
            Some(Value::Boolean(true))
        );
    }

    #[test]
    fn a_point_takes_the_value_of_whichever_column_holds_it() {
        let mut stored = MeasurementSchema::default();
        stored.fields.insert("f".into(), FieldType::Integer);
        stored
            .other_types
            .insert("f".into(), [FieldType::Float, FieldType::Boolean].into());
        let columns = FieldColumns::new("f", &stored, FieldType::Float);
        let point = |name: &str, v: Value| {
            let mut fields = BTreeMap::new();
            fields.insert(Arc::from(name), v);
            fields.insert(Arc::from("g"), Value::Integer(1));
            Point {
                time: 0,
                key: Arc::from("m"),
                tags: Arc::new(BTreeMap::new()),
                fields,
            }
        };
        let merged = |mut p: Point| {
            columns.merge_into(&mut p);
            p.fields
        };
        let side = |t| hyperbyte_domain::side_field_name("f", t);
        let f = merged(point("f", Value::Integer(3)));
        assert_eq!(f.get("f"), Some(&Value::Float(3.0)));
        let f = merged(point(&side(FieldType::Float), Value::Float(2.5)));
        assert_eq!(f.get("f"), Some(&Value::Float(2.5)));
        assert!(!f.contains_key(&*side(FieldType::Float)));
        let f = merged(point(&side(FieldType::Boolean), Value::Boolean(true)));
        assert_eq!(f.get("f"), None);
        assert_eq!(f.len(), 1, "{f:?}");
    }
}
