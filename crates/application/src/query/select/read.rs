//! Reading points: from a subquery's result, from the recent-data tier when it covers the
//! read, else from storage through a `timeseriesql::sql::RawRead` plan (a column a table
//! lacks reads as absent; the plan is rebuilt against the table's columns when the engine
//! names one missing).

use super::run::RawCut;
use super::*;

/// The `WHERE` condition of a storage read with its names resolved against the table's
/// columns (`has`): a field the table has, else a tag it has, else missing.
pub(super) fn condition_of(
    schema: &MeasurementSchema,
    has: &dyn Fn(&str) -> bool,
    cond: Option<&Expr>,
) -> Option<Condition> {
    let c = cond?;
    let mut columns = BTreeMap::new();
    c.walk(&mut |x| {
        if let Expr::VarRef { name, .. } = x {
            let fcol = naming::field_column(name);
            let tcol = naming::tag_column(name);
            let r = match schema.field_type(name) {
                Some(t) if has(&fcol) => ColumnRef::Field(fcol, t),
                _ if schema.is_tag(name) && has(&tcol) => ColumnRef::Tag(tcol),
                _ => ColumnRef::Missing,
            };
            columns.insert(name.clone(), r);
        }
    });
    Some(Condition {
        expr: c.clone(),
        columns,
    })
}

/// Storage's order of two points' series: their tag values in tag-key order, a missing
/// tag as empty.
fn by_tags(tag_keys: &BTreeSet<String>, a: &Point, b: &Point) -> std::cmp::Ordering {
    tag_keys
        .iter()
        .map(|k| {
            let x = a.tags.get(k).map_or("", String::as_str);
            let y = b.tags.get(k).map_or("", String::as_str);
            x.cmp(y)
        })
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

/// `points` in the order of storage's cut reads: by time, then by tag values in tag-key
/// order (a missing tag as empty), points that compare equal in their given order. (A
/// plain storage read orders by time alone: its readers regroup the rows by series,
/// where any order of one time's rows gives the same answer.)
///
/// The tier hands points out series by series, every point of a series sharing its key.
/// So the series are ranked once by their tags, and the points sorted by (time, rank):
/// comparing two points of equal time had looked their tags up, which was most of a wide
/// raw answer's time (one hour of 100 hosts, 36,000 points: 20% of the CPU in `memcmp`).
pub(super) fn in_storage_order(points: Vec<Point>, tag_keys: &BTreeSet<String>) -> Vec<Point> {
    // The first point of each run of one series (by the key's address), and each point's
    // run.
    let mut firsts: Vec<usize> = Vec::new();
    let mut run_of: Vec<usize> = Vec::with_capacity(points.len());
    for (i, p) in points.iter().enumerate() {
        let same = firsts
            .last()
            .is_some_and(|&f| Arc::ptr_eq(&points[f].key, &p.key));
        if !same {
            firsts.push(i);
        }
        run_of.push(firsts.len() - 1);
    }
    // A run's rank is its place among the runs sorted stably by tags: runs whose tags
    // compare equal keep their given order, so their points at one time do too.
    let mut runs: Vec<usize> = (0..firsts.len()).collect();
    runs.sort_by(|&a, &b| by_tags(tag_keys, &points[firsts[a]], &points[firsts[b]]));
    let mut rank_of_run = vec![0usize; runs.len()];
    for (rank, &r) in runs.iter().enumerate() {
        rank_of_run[r] = rank;
    }
    let mut order: Vec<(i64, usize, usize)> = points
        .iter()
        .enumerate()
        .map(|(i, p)| (p.time, rank_of_run[run_of[i]], i))
        .collect();
    // Every key differs in its index, so the unstable sort gives one order.
    order.sort_unstable();
    let mut slots: Vec<Option<Point>> = points.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|(_, _, i)| slots[i].take())
        .collect()
}

/// The largest cut read series by series: the engine keeps each series' rows as generic
/// values while it aggregates them (and refuses more than 16,777,215 per series), so a
/// cut this large reads the whole range instead.
const MAX_ROWS_PER_SERIES_READ: u64 = 10_000;

/// Whether each series' first `rows` rows read (or all of them, when it has fewer) are
/// rows the answer shows: a row it cannot show would have taken the place of one it
/// shows.
fn every_series_shows_its_first(points: &[Point], shown_by: &[&str], rows: u64) -> bool {
    let mut per: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for p in points {
        let e = per.entry(&*p.key).or_default();
        e.0 += 1;
        e.1 += u64::from(holds_any(p, shown_by));
    }
    per.values()
        .all(|&(read, shown)| read < rows || shown == read)
}

/// The rows of `points` the answer shows, when `points` (a range's first rows up to the
/// cut's last time, ties included) may stand in for the whole range; `None` when a row
/// the answer cannot show (none of the fields its columns name) took a place among the
/// first and storage had more, or rows of one time are left for the heap's structure to
/// order (see [`ties_decided`]).
fn shown_if_standing_in<'p>(points: &'p [Point], cut: &RawCut<'_>) -> Option<Vec<&'p Point>> {
    let shown: Vec<&Point> = points
        .iter()
        .filter(|p| holds_any(p, &cut.shown_by))
        .collect();
    let rows = cut.top.rows;
    let enough = shown.len() as u64 >= rows || (points.len() as u64) < rows;
    (enough && ties_decided(shown.iter().copied(), &cut.aux)).then_some(shown)
}

/// What a storage read hands over of each row.
#[derive(Clone, Copy)]
pub(super) enum RowsRead<'a> {
    /// Every needed field's value.
    Values,
    /// An outline: the values of string fields (they order rows of one time), of the
    /// others only whether the row holds them (the engine reads null maps, not values),
    /// as far as the answer's columns (the names given) tell rows apart by them (see
    /// [`outline_fields`]).
    Outline(&'a [&'a str]),
    /// Every needed field's value, of the rows of these points only (an outline's).
    Of(&'a [&'a Point]),
    /// Every needed field's value, of the rows that may hold a `top()` or `bottom()`
    /// answer only.
    Best(&'a BestRows),
}

/// What an outline reads of `field_cols` (the fields a read needs, as columns of the
/// table): (fields read as values, fields read as presence flags, the field every row is
/// marked as holding instead of flags).
///
/// String fields are read as values (they order rows of one time), the others as
/// whether each row holds them, which only tells the answer's rows (`shown_by`) from the
/// others. Every row read holds one of `field_cols` (all the table's rows do, or the
/// read asks it), so when the answer shows each of them it shows every row read: then no
/// null map is read (a third of the engine's time for the outline of `SELECT * FROM cpu
/// LIMIT 5` over 1,000 hosts x 24 h) and each row is marked as holding the first flagged
/// field.
pub(super) fn outline_fields(
    schema: &MeasurementSchema,
    field_cols: &[String],
    shown_by: &[&str],
) -> (Vec<String>, Vec<String>, Option<Arc<str>>) {
    let (values, present): (Vec<String>, Vec<String>) = field_cols
        .iter()
        .cloned()
        .partition(|f| schema.field_type(f) == Some(FieldType::String));
    if field_cols.iter().all(|f| shown_by.contains(&f.as_str())) {
        let held = present.first().map(|f| Arc::from(f.as_str()));
        return (values, Vec::new(), held);
    }
    (values, present, None)
}

/// The largest cut whose rows are picked from an outline and then read by their keys.
const MAX_ROWS_PICKED: u64 = 1_000;

/// Why reading a source failed.
pub(super) enum ReadError {
    Engine(hyperbyte_ports::QueryError),
    Statement(StatementError),
}

impl QueryService {
    /// Reads the points of one source: time, the needed fields and every tag, filtered by
    /// the time range and condition. A column the table lacks (a tag or field registered
    /// through another retention policy) reads as absent.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn read_points(
        &self,
        src: &Src,
        needed: &BTreeSet<String>,
        cond: Option<&Expr>,
        min: Option<i64>,
        max: Option<i64>,
        budget: &Budget,
    ) -> Result<Vec<Point>, StatementError> {
        if src.is_subquery() {
            return subquery_points(src, needed, cond, false, budget);
        }
        if let Some(rows) = &src.rows {
            // A stored source whose field types differ, read already.
            let points: Vec<Point> = rows
                .iter()
                .filter(|p| min.is_none_or(|m| p.time >= m) && max.is_none_or(|m| p.time <= m))
                .filter(|p| cond.is_none_or(|c| eval_cond(c, p)))
                .filter(|p| needed.iter().any(|n| p.fields.contains_key(n.as_str())))
                .cloned()
                .collect();
            budget.charge_rows(points.len() as u128)?;
            return Ok(points);
        }
        let points = self
            .read_points_capped(src, needed, cond, (min, max), budget.read_cap(), None)
            .await?;
        budget.charge_points(points.len())?;
        Ok(points)
    }

    /// [`Self::read_points`] of the rows that may hold a `top()` or `bottom()` answer
    /// ([`SelectPlan::best_rows`]): `top(usage_user, 3)` over 720k stored points handed
    /// 4,980 to Rust, 1.40 s -> 0.11 s.
    pub(super) async fn read_best_points(
        &self,
        src: &Src,
        needed: &BTreeSet<String>,
        cond: Option<&Expr>,
        range: (Option<i64>, Option<i64>),
        best: &BestRows,
        budget: &Budget,
    ) -> Result<Vec<Point>, StatementError> {
        let bounds = (budget.read_cap(), None);
        let points = self
            .read_points_as(src, needed, cond, range, bounds, RowsRead::Best(best))
            .await?;
        budget.charge_points(points.len())?;
        Ok(points)
    }

    /// [`Self::read_points`] for a raw answer that shows only its first `cut.top.rows`
    /// rows by time: storage hands over those rows (and every row tied with the last)
    /// instead of the whole range. `SELECT * FROM cpu LIMIT 1` had read, sorted and
    /// converted every stored point (measured on 8.64 M rows: 38 s; `ORDER BY time DESC
    /// LIMIT 1` 41 s). Over many series the answer's rows are picked from an outline and
    /// read alone ([`Self::read_first_rows_picked`]), over few the first rows are read
    /// whole ([`Self::read_first_rows_whole`]); when neither may stand in for the whole
    /// range, each series' first rows are read, and failing that everything. A cut per
    /// `GROUP BY` tag group reads each series' first rows at once: a group's first rows
    /// come from its series' first rows as the whole answer's do (`GROUP BY hostname
    /// ORDER BY time DESC LIMIT 1`, each host's latest row, read and merged all 8.64 M
    /// points: 28 s).
    pub(super) async fn read_points_top(
        &self,
        src: &Src,
        needed: &BTreeSet<String>,
        cond: Option<&Expr>,
        (min, max): (Option<i64>, Option<i64>),
        cut: &RawCut<'_>,
        budget: &Budget,
    ) -> Result<Vec<Point>, StatementError> {
        let top = cut.top;
        if !cut.grouped {
            let first = if self.cut_meets_many_series(src, cond, top.rows, budget) {
                self.read_first_rows_picked(src, needed, cond, (min, max), cut, budget)
                    .await?
            } else {
                self.read_first_rows_whole(src, needed, cond, (min, max), cut, budget)
                    .await?
            };
            if let Some(points) = first {
                budget.charge_points(points.len())?;
                return Ok(points);
            }
        }
        if top.rows > MAX_ROWS_PER_SERIES_READ {
            return self.read_points(src, needed, cond, min, max, budget).await;
        }
        // Rows of one time left to the heap's structure, or a cut per group: the merge
        // needs every series' first rows (see `read_hot_top`), which one aggregate gives
        // without sorting the range (8.64 M rows, 1,000 series: 0.8 s in the engine,
        // against 36 s for the whole range read and merged).
        let each = TopRows {
            per_series: true,
            ..top
        };
        let points = self
            .read_points_capped(src, needed, cond, (min, max), budget.read_cap(), Some(each))
            .await?;
        if every_series_shows_its_first(&points, &cut.shown_by, top.rows) {
            budget.charge_points(points.len())?;
            return Ok(points);
        }
        self.read_points(src, needed, cond, min, max, budget).await
    }

    /// Whether the first `rows` rows of `src` under `cond` may fall in more series than
    /// the rows they are, by enough that picking them from an outline (a second engine
    /// query, a few milliseconds) costs less than reading every series' granule whole:
    /// rows of one time from every series of the measurement tie at the cut's last time
    /// whenever writers share an interval, as TSBS's and Telegraf's do.
    /// Not under a series limit: the picked rows show few of the series the query
    /// meets, which InfluxDB counts all.
    fn cut_meets_many_series(
        &self,
        src: &Src,
        cond: Option<&Expr>,
        rows: u64,
        budget: &Budget,
    ) -> bool {
        if rows > MAX_ROWS_PICKED || budget.limits().max_select_series > 0 {
            return false;
        }
        let is_field = |n: &str| src.schema.field_type(n).is_some();
        let series = self.series_bound(&src.db, &src.measurement, cond, &is_field) as u64;
        series > rows.saturating_add(16)
    }

    /// The first `cut.top.rows` rows of the whole range and every row tied with the last
    /// by time, when they may stand in for the whole range (see
    /// [`shown_if_standing_in`]).
    async fn read_first_rows_whole(
        &self,
        src: &Src,
        needed: &BTreeSet<String>,
        cond: Option<&Expr>,
        range: (Option<i64>, Option<i64>),
        cut: &RawCut<'_>,
        budget: &Budget,
    ) -> Result<Option<Vec<Point>>, StatementError> {
        let points = self
            .read_points_capped(src, needed, cond, range, budget.read_cap(), Some(cut.top))
            .await?;
        let stands_in = shown_if_standing_in(&points, cut).is_some();
        Ok(stands_in.then_some(points))
    }

    /// [`Self::read_first_rows_whole`] in two steps: an outline of the rows up to the
    /// cut's last time (time, tags, which fields each row holds), from which the answer's
    /// rows are picked in the merge's order, then those rows alone by their keys.
    /// `SELECT * FROM cpu LIMIT 5` over 1,000 hosts x 24 h had decompressed every
    /// series' first granule of every column for the 1,000 rows tied at the first time.
    /// `None` as there, and when a picked row is gone by the second step.
    async fn read_first_rows_picked(
        &self,
        src: &Src,
        needed: &BTreeSet<String>,
        cond: Option<&Expr>,
        range: (Option<i64>, Option<i64>),
        cut: &RawCut<'_>,
        budget: &Budget,
    ) -> Result<Option<Vec<Point>>, StatementError> {
        let top = cut.top;
        let bounds = (budget.read_cap(), Some(top));
        let outline = self
            .read_points_as(
                src,
                needed,
                cond,
                range,
                bounds,
                RowsRead::Outline(&cut.shown_by),
            )
            .await?;
        // An outline cut short by the read cap neither stands in for the range nor
        // charges what it met: the whole read charges and refuses it.
        if bounds.0.is_some_and(|cap| outline.len() as u64 >= cap) {
            return Ok(None);
        }
        let Some(mut shown) = shown_if_standing_in(&outline, cut) else {
            return Ok(None);
        };
        // The merge's order of rows it shows: by time, then (the ties being decided) by
        // their auxiliary strings; a descending answer shows the last of them.
        shown.sort_by_cached_key(|p| tie_key(p, &cut.aux));
        let n = usize::try_from(top.rows).map_or(shown.len(), |r| r.min(shown.len()));
        let picked = if top.descending {
            &shown[shown.len() - n..]
        } else {
            &shown[..n]
        };
        if picked.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let points = self
            .read_points_as(src, needed, cond, range, (None, None), RowsRead::Of(picked))
            .await?;
        Ok((points.len() == picked.len()).then_some(points))
    }

    /// The tier's rows for a raw answer cut to its first `cut.top.rows` rows: the first
    /// rows of each series, or, over a range the tier holds only the end of, that end
    /// when it holds enough rows and may stand in for the whole range (see
    /// [`RawCut::stands_in`]). `None`: read storage.
    ///
    /// The merge ([`raw_merge`]) pops the least head of the series' heads and pushes that
    /// series' next row; with every series present and its first `top.rows` rows, the
    /// first `top.rows` pops meet the same heap as over all rows (a series runs out early
    /// only at the last of them), so they give the same rows in the same order, however
    /// rows of one time are ordered.
    pub(super) fn read_hot_top(
        &self,
        src: &Src,
        needed: &BTreeSet<String>,
        cond: Option<&Expr>,
        range: (Option<i64>, Option<i64>),
        cut: &RawCut<'_>,
        cap: Option<u64>,
    ) -> Option<Vec<Point>> {
        let first = self.read_hot(src, needed, cond, range, false, (cap, Some(cut.top)));
        if first.is_some() {
            return first;
        }
        if cut.grouped {
            return self.read_hot_end_of_every_series(src, needed, cond, range, cut, cap);
        }
        let points = self.read_hot_newest(src, needed, cond, range, (cap, cut.one_past()))?;
        cut.stands_in(&points).then_some(points)
    }

    /// The tier's end for a descending cut per group, over a range the tier holds only
    /// the end of: each series' last `cut.top.rows` rows, when every series with a point
    /// stored in range before the tier's coverage gave that many (the tier knows those
    /// series: `hot/older.rs`), and all rows read are shown (reads give only rows holding
    /// a field the columns name today; a guard, as in [`every_series_shows_its_first`]).
    /// A series that gave that many has its latest rows in the tier; one that gave fewer
    /// and stored nothing before the coverage gave all its rows. So every group meets each
    /// of its series' last rows, which give its first rows as the whole range would (see
    /// [`Self::read_hot_top`]). `None`: read storage (those series unknown, or one of
    /// them short of rows, a field condition leaving out its rows included).
    fn read_hot_end_of_every_series(
        &self,
        src: &Src,
        needed: &BTreeSet<String>,
        cond: Option<&Expr>,
        range: (Option<i64>, Option<i64>),
        cut: &RawCut<'_>,
        cap: Option<u64>,
    ) -> Option<Vec<Point>> {
        let points = self.read_hot_newest(src, needed, cond, range, (cap, cut.top))?;
        let mut rows: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
        for p in &points {
            if !holds_any(p, &cut.shown_by) {
                return None;
            }
            *rows.entry(&*p.key).or_default() += 1;
        }
        // Asked after the read: the series stored before the coverage then are among
        // these (the tier's record of them only grows until it becomes unknown). Those
        // whose tags the condition rules out have no rows in the answer.
        let is_field = |n: &str| src.schema.field_type(n).is_some();
        let mut filter =
            crate::query::ReadFilter::new(cond, &[], range.0, range.1).with_fields(&is_field);
        let stored_before = self.hot.as_ref()?.series_stored_before_coverage(
            &src.db,
            &src.rp,
            &src.measurement,
            &mut filter,
        )?;
        stored_before
            .iter()
            .all(|key| rows.get(&**key).is_some_and(|&n| n >= cut.top.rows))
            .then_some(points)
    }

    /// [`Self::read_points`] from storage, at most `cap` points (only the `top` rows by
    /// time when given).
    pub(super) async fn read_points_capped(
        &self,
        src: &Src,
        needed: &BTreeSet<String>,
        cond: Option<&Expr>,
        range: (Option<i64>, Option<i64>),
        cap: Option<u64>,
        top: Option<TopRows>,
    ) -> Result<Vec<Point>, StatementError> {
        self.read_points_as(src, needed, cond, range, (cap, top), RowsRead::Values)
            .await
    }

    /// [`Self::read_points_capped`] handing over what `rows` says of each row. A table
    /// that lacks a column the schema names (registered through another retention
    /// policy) is read again with the columns it has.
    async fn read_points_as(
        &self,
        src: &Src,
        needed: &BTreeSet<String>,
        cond: Option<&Expr>,
        (min, max): (Option<i64>, Option<i64>),
        (cap, top): (Option<u64>, Option<TopRows>),
        rows: RowsRead<'_>,
    ) -> Result<Vec<Point>, StatementError> {
        let bounds = (min, max, cap, top);
        match self
            .read_points_with(src, needed, cond, bounds, rows, None)
            .await
        {
            Err(ReadError::Engine(e)) if e.is_missing_table() => Ok(Vec::new()),
            Err(ReadError::Engine(hyperbyte_ports::QueryError::Engine { code: 47, .. })) => {
                let cols = self.table_columns(src).await?;
                match self
                    .read_points_with(src, needed, cond, bounds, rows, Some(&cols))
                    .await
                {
                    Ok(p) => Ok(p),
                    Err(ReadError::Engine(e)) if e.is_missing_table() => Ok(Vec::new()),
                    Err(ReadError::Engine(e)) => Err(e.into()),
                    Err(ReadError::Statement(e)) => Err(e),
                }
            }
            Err(ReadError::Engine(e)) => Err(e.into()),
            Err(ReadError::Statement(e)) => Err(e),
            Ok(p) => Ok(p),
        }
    }

    /// The points of `src` from the recent-data tier, when it holds everything the read
    /// needs (`None`: read storage). Same rows and fields as storage gives, in its cut reads' order.
    /// `latest_only`: for `last()` aggregates, only the points holding each series'
    /// latest value of each field.
    pub(super) fn read_hot(
        &self,
        src: &Src,
        needed: &BTreeSet<String>,
        cond: Option<&Expr>,
        (min, max): (Option<i64>, Option<i64>),
        latest_only: bool,
        (cap, top): (Option<u64>, Option<TopRows>),
    ) -> Option<Vec<Point>> {
        let hot = self.hot.as_ref()?;
        let schema = &src.schema;
        let fields: Vec<String> = needed
            .iter()
            .filter(|n| schema.field_type(n).is_some())
            .cloned()
            .collect();
        if fields.is_empty() {
            return None;
        }
        let is_field = |n: &str| schema.field_type(n).is_some();
        let exact = cond.is_none_or(|c| crate::query::decided_by_tags(c, &is_field));
        // A condition on fields is checked per row, on the fields it reads, before the
        // row is built.
        let mut cond_fields: Vec<String> = Vec::new();
        if let Some(c) = cond.filter(|_| !exact) {
            c.walk(&mut |x| {
                if let Expr::VarRef { name, .. } = x {
                    if is_field(name) && !cond_fields.contains(name) {
                        cond_fields.push(name.clone());
                    }
                }
            });
        }
        let mut keep = |h: crate::hot::HotPoint| {
            let p = Point {
                time: h.time,
                key: h.key,
                tags: h.tags,
                fields: h.fields,
            };
            cond.is_none_or(|c| eval_stored_cond(c, &p, &is_field))
        };
        let check = (!exact).then_some(crate::hot::RowCheck {
            fields: &cond_fields,
            keep: &mut keep,
        });
        let mut filter = crate::query::ReadFilter::new(cond, &fields, min, max)
            .with_fields(&is_field)
            .with_cap(cap)
            .with_top(top);
        let rows = if latest_only {
            if !exact {
                return None;
            }
            hot.read_latest(&src.db, &src.rp, &src.measurement, &mut filter)?
        } else {
            hot.read(&src.db, &src.rp, &src.measurement, &mut filter, check)?
        };
        let points: Vec<Point> = rows
            .into_iter()
            .map(|h| Point {
                time: h.time,
                key: h.key,
                tags: h.tags,
                fields: h.fields,
            })
            .collect();
        Some(in_storage_order(points, &schema.tag_keys))
    }

    /// For the latest `top.rows` rows of a range the tier holds only the end of: the
    /// tier's part, when it alone has that many rows (every stored row before the tier's
    /// coverage is older than all of them, so none of those could be among the latest).
    /// `ORDER BY time DESC LIMIT 1` without a time bound then never reads storage
    /// (measured on 1,000 hosts × 24 h: 452 ms from storage).
    pub(super) fn read_hot_newest(
        &self,
        src: &Src,
        needed: &BTreeSet<String>,
        cond: Option<&Expr>,
        (min, max): (Option<i64>, Option<i64>),
        (cap, top): (Option<u64>, TopRows),
    ) -> Option<Vec<Point>> {
        if !top.descending {
            return None;
        }
        let from = self
            .hot
            .as_ref()?
            .covered_from(&src.db, &src.rp, &src.measurement)?;
        let from = min.map_or(from, |m| m.max(from));
        let points = self.read_hot(
            src,
            needed,
            cond,
            (Some(from), max),
            false,
            (cap, Some(top)),
        )?;
        (points.len() as u64 >= top.rows).then_some(points)
    }

    /// Readies the recent-data tier for the statement's reads: it takes every write
    /// acknowledged so far, without waiting for storage. Without a tier there is nothing
    /// to do (storage reads flush first, `query/visible.rs`); when the tier cannot take
    /// them (no feed, or storage cannot say where a new table's coverage starts), a flush
    /// brings them, since its rounds feed the tier.
    pub(super) async fn ready_tier(&self) {
        if self.hot.is_none() {
            return;
        }
        match self.flush.catch_up_tier().await {
            Ok(true) => return,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(error = %e, "feeding the recent-data tier failed; flushing instead");
            }
        }
        crate::query::visible::make_visible(&self.flush).await;
    }

    /// Whether a read of `src` between `min` and `max` must merge the stored versions of
    /// overwritten points (`FINAL`): only where storage says a point may have been written
    /// twice.
    pub(super) fn must_merge(&self, src: &Src, min: Option<i64>, max: Option<i64>) -> bool {
        self.engine
            .must_merge(&src.db, &src.rp, &src.measurement, min, max)
    }

    pub(super) async fn table_columns(
        &self,
        src: &Src,
    ) -> Result<BTreeSet<String>, StatementError> {
        Ok(self
            .engine
            .table_columns(&src.db, &src.rp, &src.measurement)
            .await?
            .into_iter()
            .collect())
    }

    /// The tags among `tag_cols` that lead the sort key of `src`'s table, in its order,
    /// for a read of each series' first rows ([`RawRead::key`]); empty for other reads,
    /// and when the engine cannot tell or names a column that is not one of them (then
    /// the rows are aggregated, as without the key).
    async fn key_tags(&self, src: &Src, top: Option<TopRows>, tag_cols: &[String]) -> Vec<String> {
        if !top.is_some_and(|t| t.per_series) {
            return Vec::new();
        }
        let leading = self
            .engine
            .leading_key_columns(&src.db, &src.rp, &src.measurement)
            .await
            .unwrap_or_default();
        let tag_of = |column: &String| {
            tag_cols
                .iter()
                .find(|t| naming::tag_column(t) == *column)
                .cloned()
        };
        leading
            .iter()
            .map(tag_of)
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default()
    }

    /// One storage read of `src`: `(min, max, cap, top)` bound it (see
    /// [`Self::read_points_capped`]); `existing`, when known, the table's columns.
    pub(super) async fn read_points_with(
        &self,
        src: &Src,
        needed: &BTreeSet<String>,
        cond: Option<&Expr>,
        (min, max, cap, top): (Option<i64>, Option<i64>, Option<u64>, Option<TopRows>),
        what: RowsRead<'_>,
        existing: Option<&BTreeSet<String>>,
    ) -> Result<Vec<Point>, ReadError> {
        // Before `must_merge` is asked: the flush may store a second version of a point.
        crate::query::visible::make_visible(&self.flush).await;
        let schema = &src.schema;
        let has = |col: &str| existing.is_none_or(|e| e.contains(col));
        let tag_cols: Vec<String> = schema
            .tag_keys
            .iter()
            .filter(|t| has(&naming::tag_column(t)))
            .cloned()
            .collect();
        let field_cols: Vec<String> = needed
            .iter()
            .filter(|n| schema.field_type(n).is_some() && has(&naming::field_column(n)))
            .cloned()
            .collect();
        if field_cols.is_empty() {
            return Ok(Vec::new());
        }
        let best = match what {
            // The table lacks the ranked field (written through another policy): no
            // point holds it, no candidate.
            RowsRead::Best(best) if !field_cols.contains(&best.field) => return Ok(Vec::new()),
            // A tag the table lacks is empty in every row: it ranks nothing apart.
            RowsRead::Best(best) => Some(BestRows {
                by: best
                    .by
                    .iter()
                    .filter(|t| tag_cols.contains(t))
                    .cloned()
                    .collect(),
                ..best.clone()
            }),
            _ => None,
        };
        let (values, present, held) = match what {
            RowsRead::Outline(shown_by) => outline_fields(schema, &field_cols, shown_by),
            _ => (field_cols.clone(), Vec::new(), None),
        };
        let at = match what {
            RowsRead::Of(points) => points
                .iter()
                .map(|p| RowKey {
                    time: p.time,
                    tags: tag_cols
                        .iter()
                        .map(|t| p.tags.get(t).cloned().unwrap_or_default())
                        .collect(),
                })
                .collect(),
            _ => Vec::new(),
        };
        // A row qualifies only when at least one selected field is present: said only
        // when some row may hold none of them (a field left out, or values of another
        // type in side columns); otherwise the term made the engine read every null map.
        let every_row_holds_one = schema.other_types.is_empty()
            && schema
                .fields
                .keys()
                .all(|f| field_cols.contains(f) || !has(&naming::field_column(f)));
        let any_field = if every_row_holds_one {
            Vec::new()
        } else {
            field_cols.clone()
        };
        let read = RawRead {
            table: TableRef::new(&src.db, &src.rp, &src.measurement),
            merge: self.must_merge(src, min, max),
            tags: tag_cols.clone(),
            fields: values,
            filter: RowFilter {
                min,
                max,
                condition: condition_of(schema, &has, cond),
                any_field,
                since: None,
            },
            limit: cap,
            top,
            present,
            at,
            best,
            key: self.key_tags(src, top, &tag_cols).await,
        };
        let sql = read
            .to_sql()
            .map_err(|e| ReadError::Statement(err(e.to_string())))?;
        let rows = self.engine.query(&sql).await.map_err(ReadError::Engine)?;
        let mut out = Vec::with_capacity(rows.rows.len());
        // Rows come ordered by time, so a series' points are not adjacent: each series'
        // key and tags are built once, found by its tag values (a map of ten tags built,
        // compared and dropped per row was most of the time of a 1.44 M-row read after
        // the engine's).
        // (Hashed with the domain's seeded foldhash: SipHash over ten tag values per row
        // was 6% of a 720k-point read's Rust time, and stored tag values are a writer's.)
        let mut series_by_values: hyperbyte_domain::FastMap<Vec<String>, SharedSeries> =
            hyperbyte_domain::FastMap::default();
        // Field names shared by every row's map, in the statement's order.
        let field_names: Vec<Arc<str>> = read
            .fields
            .iter()
            .chain(&read.present)
            .map(|f| Arc::from(f.as_str()))
            .collect();
        for row in rows.rows {
            let mut it = row.into_iter();
            let time = match it.next() {
                Some(Value::Time(t)) => t,
                Some(Value::Integer(t)) => t,
                _ => continue,
            };
            let values: Vec<String> = tag_cols
                .iter()
                .map(|_| match it.next() {
                    Some(Value::String(s)) => s,
                    _ => String::new(),
                })
                .collect();
            let mut fields = BTreeMap::new();
            for f in &field_names {
                let v = it.next().unwrap_or(Value::Null);
                if !v.is_null() {
                    fields.insert(Arc::clone(f), v);
                }
            }
            if let Some(f) = &held {
                fields.insert(Arc::clone(f), Value::Unsigned(1));
            }
            let (key, tags) = match series_by_values.get(&values) {
                Some(series) => series.clone(),
                None => {
                    // A missing tag is stored as the empty string.
                    let tags = tag_cols
                        .iter()
                        .zip(&values)
                        .filter(|(_, v)| !v.is_empty())
                        .map(|(t, v)| (t.clone(), v.clone()))
                        .collect();
                    let series = new_series(&src.measurement, tags);
                    series_by_values.insert(values, series.clone());
                    series
                }
            };
            out.push(Point {
                time,
                key,
                tags,
                fields,
            });
        }
        Ok(out)
    }
}

/// A series' key and tags, shared by its points.
type SharedSeries = (Arc<str>, Arc<BTreeMap<String, String>>);

/// The series met so far, by tag set (one measurement).
type SeriesCache = BTreeMap<BTreeMap<String, String>, SharedSeries>;

/// The shared key and tags of the series of `measurement` with `tags`, built once.
fn shared_series(
    cache: &mut SeriesCache,
    measurement: &str,
    tags: BTreeMap<String, String>,
) -> SharedSeries {
    cache
        .entry(tags)
        .or_insert_with_key(|tags| new_series(measurement, tags.clone()))
        .clone()
}

/// The rows of a subquery source that meet the outer condition. The subquery ran over the
/// outer time range already, so its rows are not cut by it again (a window's start may lie
/// before the range, and counts). `every_row`: a raw outer query prints every row, also
/// one without a value in its columns (InfluxDB reads a subquery's rows whole); otherwise
/// only rows holding a `needed` field take part.
pub(super) fn subquery_points(
    src: &Src,
    needed: &BTreeSet<String>,
    cond: Option<&Expr>,
    every_row: bool,
    budget: &Budget,
) -> Result<Vec<Point>, StatementError> {
    let rows = src.rows.as_deref().map(Vec::as_slice).unwrap_or_default();
    let points: Vec<Point> = rows
        .iter()
        .filter(|p| cond.is_none_or(|c| eval_cond(c, p)))
        .filter(|p| every_row || needed.iter().any(|n| p.fields.contains_key(n.as_str())))
        .cloned()
        .collect();
    // A subquery's rows were charged when it built them; copying them into the outer
    // query materialises them once more.
    budget.charge_rows(points.len() as u128)?;
    Ok(points)
}

/// The key and tags of the series of `measurement` with `tags`.
fn new_series(measurement: &str, tags: BTreeMap<String, String>) -> SharedSeries {
    let tag_vec: Vec<(String, String)> = tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let key = hyperbyte_domain::SeriesKey::new(measurement, &tag_vec).0;
    (Arc::from(key.as_str()), Arc::new(tags))
}

/// A subquery's series become the points of virtual sources, one per series name: the
/// columns become fields (`tag_columns`, the tags the inner query selected, too) and the
/// series tags stay tags. The points are kept oldest first; rows of one time keep the
/// order the subquery gave them, except that a subquery that ran `descending` has each
/// series' rows reversed: the outer query reverses its oldest-first rows back, which
/// restores one series' rows as the subquery gave them and leaves rows of one time from
/// several series in the reverse of its (backwards) series order, as InfluxDB's
/// reduction emits a window's groups: forwards.
pub(super) fn series_to_sources(
    series: Vec<Series>,
    tag_columns: &BTreeSet<String>,
    descending: bool,
) -> Vec<Src> {
    let mut by_name: BTreeMap<String, (MeasurementSchema, Vec<Point>)> = BTreeMap::new();
    for s in series {
        let name = s.name.clone().unwrap_or_default();
        let entry = by_name.entry(name.clone()).or_default();
        entry.0.tag_keys.extend(s.tags.keys().cloned());
        let mut series_of = SeriesCache::new();
        // Column names shared by every row's map.
        let names: Vec<Arc<str>> = s.columns.iter().map(|c| Arc::from(c.as_str())).collect();
        // Of columns sharing a name (`max(v) AS m, min(v) AS m`), the outer query reads
        // the first, as InfluxDB's does.
        let mut seen_names = BTreeSet::new();
        let first: Vec<bool> = s
            .columns
            .iter()
            .map(|c| seen_names.insert(c.as_str()))
            .collect();
        let mut rows = s.values;
        if descending {
            // Oldest first within the series; the series keep the order they came in.
            rows.reverse();
        }
        for row in rows {
            let mut fields = BTreeMap::new();
            let mut row_tags: Option<BTreeMap<String, String>> = None;
            let mut time = 0;
            for (((c, name), v), _) in s
                .columns
                .iter()
                .zip(&names)
                .zip(row)
                .zip(&first)
                .filter(|(_, first)| **first)
            {
                if c == "time" {
                    if let Value::Time(t) = v {
                        time = t;
                    }
                    continue;
                }
                if v.is_null() {
                    continue;
                }
                if tag_columns.contains(c) {
                    // A tag the inner query selected is a field outside, as in InfluxDB
                    // (wildcards list it as one, also beside `GROUP BY` it); its points
                    // carry it as a tag too, for an outer `GROUP BY` naming it.
                    if let Value::String(tv) = &v {
                        if !tv.is_empty() {
                            row_tags
                                .get_or_insert_with(|| s.tags.clone())
                                .insert(c.clone(), tv.clone());
                        }
                    }
                }
                let t = match &v {
                    Value::Float(_) => FieldType::Float,
                    Value::Integer(_) | Value::Time(_) => FieldType::Integer,
                    Value::Unsigned(_) => FieldType::Unsigned,
                    Value::Boolean(_) => FieldType::Boolean,
                    _ => FieldType::String,
                };
                entry.0.fields.entry(c.clone()).or_insert(t);
                fields.insert(Arc::clone(name), v);
            }
            let row_tags = row_tags.unwrap_or_else(|| s.tags.clone());
            let (key, tags) = shared_series(&mut series_of, &name, row_tags);
            entry.1.push(Point {
                time,
                key,
                tags,
                fields,
            });
        }
    }
    by_name
        .into_iter()
        .map(|(name, (schema, mut points))| {
            points.sort_by_key(|p| p.time);
            let tag_fields = schema
                .fields
                .keys()
                .filter(|f| tag_columns.contains(*f))
                .cloned()
                .collect();
            Src {
                db: String::new(),
                rp: String::new(),
                measurement: name,
                schema,
                rows: Some(std::sync::Arc::new(points)),
                tag_fields,
                pushed_tags: BTreeSet::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The order storage reads give, as the tier's points were sorted before ranks.
    fn by_comparing_tags(mut points: Vec<Point>, tag_keys: &BTreeSet<String>) -> Vec<Point> {
        points.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| by_tags(tag_keys, a, b)));
        points
    }

    fn ids(points: &[Point]) -> Vec<i64> {
        points
            .iter()
            .map(|p| match p.fields.get("id") {
                Some(Value::Integer(i)) => *i,
                _ => -1,
            })
            .collect()
    }

    proptest! {
        #[test]
        fn ranks_give_the_order_of_comparing_tags(
            // Per series: host (absent, "" or a letter) and region (absent or a letter):
            // distinct series may compare equal (absent and "" alike).
            series in prop::collection::vec((0u8..4, 0u8..3), 1..6),
            // Points as (series, time), in any order: runs of one series and repeats.
            picks in prop::collection::vec((0usize..6, 0i64..4), 0..40),
        ) {
            let tag_keys: BTreeSet<String> = ["host".to_string(), "region".to_string()].into();
            let made = super::super::tests::coded_series(&series);
            let points: Vec<Point> = picks
                .iter()
                .enumerate()
                .map(|(id, (s, time))| {
                    let (key, tags) = &made[s % made.len()];
                    let mut fields = BTreeMap::new();
                    fields.insert(Arc::from("id"), Value::Integer(id as i64));
                    Point { time: *time, key: Arc::clone(key), tags: Arc::clone(tags), fields }
                })
                .collect();
            let want = ids(&by_comparing_tags(points.clone(), &tag_keys));
            prop_assert_eq!(ids(&in_storage_order(points, &tag_keys)), want);
        }
    }
}
