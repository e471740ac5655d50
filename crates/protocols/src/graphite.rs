//! Graphite plaintext (`<metric path> <value> [<unix time>]`, one per line) mapped to
//! points by InfluxDB 1.x's templates.
//!
//! A template is `[filter] <template> [tag1=v1,tag2=v2]`. The template names each
//! `.`-separated part of the metric path: `measurement` (joined with the separator when
//! repeated), `measurement*` (this part and all after it), `field` / `field*` (the field
//! key, `value` when absent), any other word a tag key (repeated keys are joined with the
//! separator), an empty part skips one. The filter picks the template: its parts match
//! the path's parts exactly or with `*`, the most specific (exact before `*`, searched
//! part by part without backtracking, as InfluxDB's filter tree does) wins, and a
//! template without a filter is the default. Without any, the default layout is
//! `measurement*`: the whole path is the measurement, the field is `value`.
//!
//! Tags come from, by precedence: the path, the template's own tags (joined with a path
//! value of the same key, as InfluxDB does), the listener's `tags`.

use crate::float_point;
use hyperbyte_domain::time::days_from_civil;
use hyperbyte_domain::Point;
use std::collections::BTreeMap;

/// The separator InfluxDB joins with by default.
pub const DEFAULT_SEPARATOR: &str = ".";

/// A template, filter or tag InfluxDB's configuration check refuses (its wording).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Why a line was dropped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LineError {
    /// The value is NaN or infinite (InfluxDB counts these apart: `pointsNaNFail`).
    #[error("field \"{0}\" value: unsupported value (NaN or Inf)")]
    Unsupported(String),
    /// Anything else: the line is malformed (`pointsParseFail`).
    #[error("{0}")]
    Malformed(String),
}

/// The listener's settings that shape parsing.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Joins repeated measurement, field and tag parts (`.` when empty).
    pub separator: String,
    /// Templates, `[filter] <template> [tags]`.
    pub templates: Vec<String>,
    /// Tags added to every point that lacks them, `key=value`.
    pub tags: Vec<String>,
}

#[derive(Debug, Clone)]
struct Template {
    parts: Vec<String>,
    tags: Vec<(String, String)>,
    separator: String,
}

/// The parts a template extracts from one metric path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Applied {
    measurement: String,
    tags: BTreeMap<String, String>,
    field: String,
}

impl Template {
    fn new(pattern: &str, tags: Vec<(String, String)>, separator: &str) -> Self {
        Template {
            parts: pattern.split('.').map(str::to_string).collect(),
            tags,
            separator: separator.to_string(),
        }
    }

    fn apply(&self, path: &str) -> Applied {
        let segments: Vec<&str> = path.split('.').collect();
        let mut measurement: Vec<&str> = Vec::new();
        let mut field: Vec<&str> = Vec::new();
        let mut tags: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for (k, v) in &self.tags {
            tags.entry(k.clone()).or_default().push(v);
        }
        for (i, part) in self.parts.iter().enumerate() {
            let Some(seg) = segments.get(i) else { break };
            match part.as_str() {
                "measurement" => measurement.push(seg),
                "field" => field.push(seg),
                "field*" => {
                    field.extend(&segments[i..]);
                    break;
                }
                "measurement*" => {
                    measurement.extend(&segments[i..]);
                    break;
                }
                "" => {}
                tag => tags.entry(tag.to_string()).or_default().push(seg),
            }
        }
        Applied {
            measurement: measurement.join(&self.separator),
            tags: tags
                .into_iter()
                .map(|(k, v)| (k, v.join(&self.separator)))
                .collect(),
            field: field.join(&self.separator),
        }
    }
}

/// InfluxDB's filter tree: children sorted with `*` last; a search follows the exact
/// child if there is one, otherwise `*`, and never backtracks.
#[derive(Debug, Clone, Default)]
struct Node {
    value: String,
    children: Vec<Node>,
    template: Option<usize>,
}

impl Node {
    fn insert(&mut self, parts: &[&str], template: usize) {
        let Some((first, rest)) = parts.split_first() else {
            self.template = Some(template);
            return;
        };
        if let Some(child) = self.children.iter_mut().find(|c| c.value == *first) {
            child.insert(rest, template);
            return;
        }
        let mut child = Node {
            value: (*first).to_string(),
            children: Vec::new(),
            // A wildcard child inherits its parent's template (as InfluxDB's does).
            template: if *first == "*" { self.template } else { None },
        };
        child.insert(rest, template);
        self.children.push(child);
        self.children
            .sort_by(|a, b| match (a.value == "*", b.value == "*") {
                (true, false) => std::cmp::Ordering::Greater,
                (false, true) => std::cmp::Ordering::Less,
                _ => a.value.cmp(&b.value),
            });
    }

    fn search(&self, parts: &[&str]) -> Option<usize> {
        let Some((first, rest)) = parts.split_first() else {
            return self.template;
        };
        if self.children.is_empty() {
            return self.template;
        }
        if let Some(child) = self.children.iter().find(|c| c.value == *first) {
            return child.search(rest);
        }
        match self.children.last() {
            Some(wild) if wild.value == "*" => wild.search(rest),
            _ => self.template,
        }
    }
}

/// Parses Graphite lines with a listener's templates.
#[derive(Debug, Clone)]
pub struct Parser {
    templates: Vec<Template>,
    root: Node,
    default: usize,
    tags: Vec<(String, String)>,
}

fn split_tag(kv: &str) -> Result<(String, String), ConfigError> {
    let parts: Vec<&str> = kv.split('=').collect();
    match parts.as_slice() {
        [k, v] if !k.is_empty() && !v.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(ConfigError(format!("invalid template tags: '{kv}'"))),
    }
}

fn check_template(template: &str) -> Result<(), ConfigError> {
    let parts: Vec<&str> = template.split('.').collect();
    if !parts
        .iter()
        .any(|p| *p == "measurement" || *p == "measurement*")
    {
        return Err(ConfigError(format!(
            "no measurement in template `{template}`"
        )));
    }
    if parts.contains(&"measurement*") && parts.contains(&"field*") {
        return Err(ConfigError(format!(
            "either 'field*' or 'measurement*' can be used in each template (but not both together): {template:?}"
        )));
    }
    Ok(())
}

fn check_filter(filter: &str) -> Result<(), ConfigError> {
    for p in filter.split('.') {
        if p.is_empty() {
            return Err(ConfigError(format!(
                "filter contains blank section: {filter}"
            )));
        }
        if p.contains('*') && p != "*" {
            return Err(ConfigError(format!(
                "invalid filter wildcard section: {filter}"
            )));
        }
    }
    Ok(())
}

impl Parser {
    /// Checks the options as InfluxDB's configuration check does and builds the parser.
    pub fn new(options: &Options) -> Result<Self, ConfigError> {
        let separator = match options.separator.as_str() {
            "" => DEFAULT_SEPARATOR,
            s => s,
        };
        // The built-in default keeps InfluxDB's own separator whatever the listener's.
        let mut templates = vec![Template::new("measurement*", Vec::new(), DEFAULT_SEPARATOR)];
        let mut root = Node::default();
        let mut default = 0;
        let mut filters = std::collections::HashSet::new();
        for (i, spec) in options.templates.iter().enumerate() {
            let parts: Vec<&str> = spec.split_whitespace().collect();
            let (filter, template, tags) = match parts.as_slice() {
                [] => {
                    return Err(ConfigError(format!("missing template at position: {i}")));
                }
                [t] => ("", *t, ""),
                [t, tags] if tags.contains('=') => ("", *t, *tags),
                [f, t] => (*f, *t, ""),
                [f, t, tags] => (*f, *t, *tags),
                _ => return Err(ConfigError(format!("invalid template format: '{spec}'"))),
            };
            check_template(template)?;
            if !filters.insert(filter) {
                return Err(ConfigError(format!(
                    "duplicate filter '{filter}' found at position: {i}"
                )));
            }
            let tags = match tags {
                "" => Vec::new(),
                t => t.split(',').map(split_tag).collect::<Result<_, _>>()?,
            };
            templates.push(Template::new(template, tags, separator));
            let idx = templates.len() - 1;
            if filter.is_empty() {
                default = idx;
            } else {
                check_filter(filter)?;
                root.insert(&filter.split('.').collect::<Vec<_>>(), idx);
            }
        }
        let tags = options
            .tags
            .iter()
            .map(|t| split_tag(t))
            .collect::<Result<_, _>>()?;
        Ok(Parser {
            templates,
            root,
            default,
            tags,
        })
    }

    /// The fields the matching template extracts from `path`.
    fn apply(&self, path: &str) -> Applied {
        let idx = self
            .root
            .search(&path.split('.').collect::<Vec<_>>())
            .unwrap_or(self.default);
        match self.templates.get(idx) {
            Some(t) => t.apply(path),
            // Not reached: every index in the tree names a template.
            None => Template::new("measurement*", Vec::new(), DEFAULT_SEPARATOR).apply(path),
        }
    }

    /// Parses one line (`now` stamps lines without a time or with `-1`). `Ok(None)`: a
    /// blank line.
    pub fn parse_line(&self, line: &str, now: i64) -> Result<Option<Point>, LineError> {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (path, value, time) = match fields.as_slice() {
            [] => return Ok(None),
            [p, v] => (*p, *v, None),
            [p, v, t] => (*p, *v, Some(*t)),
            _ => {
                return Err(LineError::Malformed(format!(
                    "received {line:?} which doesn't have required fields"
                )))
            }
        };
        let applied = self.apply(path);
        let measurement = if applied.measurement.is_empty() {
            path
        } else {
            &applied.measurement
        };
        let v: f64 = value.parse().map_err(|_| {
            LineError::Malformed(format!(
                "field \"{path}\" value: strconv.ParseFloat: parsing {value:?}: invalid syntax"
            ))
        })?;
        if !v.is_finite() {
            return Err(LineError::Unsupported(path.to_string()));
        }
        let timestamp = match time {
            None => now,
            Some(t) => parse_time(path, t, now)?,
        };
        let mut tags = applied.tags;
        for (k, v) in &self.tags {
            tags.entry(k.clone()).or_insert_with(|| v.clone());
        }
        let field = if applied.field.is_empty() {
            "value"
        } else {
            &applied.field
        };
        float_point(measurement, tags.into_iter().collect(), field, v, timestamp)
            .map(Some)
            .map_err(LineError::Malformed)
    }
}

/// Graphite's time: Unix seconds, possibly fractional; `-1` means now. InfluxDB keeps it
/// between 1901-12-13 and 2038-01-19 (its `MinDate`/`MaxDate`).
fn parse_time(path: &str, t: &str, now: i64) -> Result<i64, LineError> {
    let secs: f64 = t.parse().map_err(|_| {
        LineError::Malformed(format!(
            "field \"{path}\" time: strconv.ParseFloat: parsing {t:?}: invalid syntax"
        ))
    })?;
    if secs == -1.0 {
        return Ok(now);
    }
    let min = days_from_civil(1901, 12, 13) * 86_400;
    let max = days_from_civil(2038, 1, 19) * 86_400;
    let out_of_range = || LineError::Malformed("timestamp out of range".to_string());
    if !secs.is_finite() || secs < (min - 1) as f64 || secs > (max + 1) as f64 {
        return Err(out_of_range());
    }
    // Go's `time.Unix(int64(t), int64((t-floor(t))*1e9))`: whole seconds truncate
    // towards zero, the fraction is taken from the floor.
    let whole = secs.trunc() as i64;
    let frac = ((secs - secs.floor()) * 1e9) as i64;
    let nanos = crate::unix_nanos(whole, frac).ok_or_else(out_of_range)?;
    if nanos < min * 1_000_000_000 || nanos > max * 1_000_000_000 {
        return Err(out_of_range());
    }
    Ok(nanos)
}

#[cfg(test)]
mod tests;
