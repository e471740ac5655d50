//! collectd's binary network protocol (what its `network` plugin sends over UDP) and its
//! types database, mapped as InfluxDB 1.x's collectd service maps them.
//!
//! A packet is a sequence of parts (`type: u16, length: u16` big-endian, then the
//! payload). String parts (host, plugin, plugin instance, type, type instance) and time
//! parts set the current identifier; each values part emits one value list with it. The
//! type's data sources come from `types.db`: a value list whose type is not there, or
//! whose value count differs, is skipped (InfluxDB logs and skips it too).
//!
//! Every value becomes one point: measurement `<plugin>_<data source name>` (for example
//! `load_shortterm`, `memory_value`, `cpu_value`), float field `value`, tags `host`,
//! `instance` (plugin instance), `type`, `type_instance`, each only when not empty.
//! A malformed part makes the whole packet invalid and it is dropped, as InfluxDB drops it.
//! Signature and encryption parts are skipped (security level `none` only).

use crate::{float_point, unix_nanos};
use hyperbyte_domain::Point;
use std::collections::BTreeMap;

const PART_HOST: u16 = 0x0000;
const PART_TIME: u16 = 0x0001;
const PART_PLUGIN: u16 = 0x0002;
const PART_PLUGIN_INSTANCE: u16 = 0x0003;
const PART_TYPE: u16 = 0x0004;
const PART_TYPE_INSTANCE: u16 = 0x0005;
const PART_VALUES: u16 = 0x0006;
const PART_INTERVAL: u16 = 0x0007;
const PART_TIME_HR: u16 = 0x0008;
const PART_INTERVAL_HR: u16 = 0x0009;

/// One data source kind of `types.db`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// `GAUGE`: a float.
    Gauge,
    /// `DERIVE`: a signed integer.
    Derive,
    /// `COUNTER`: an unsigned integer.
    Counter,
    /// `ABSOLUTE`: an unsigned integer.
    Absolute,
}

/// collectd's types database: each type's data source names, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TypesDb {
    types: BTreeMap<String, Vec<(String, SourceKind)>>,
}

/// A `types.db` line that does not parse (the file is refused at start-up).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct TypesDbError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl TypesDb {
    /// Parses `types.db` text (`name ds:TYPE:min:max[, ds:TYPE:min:max ...]`, `#`
    /// comments) and adds its types (a later definition of a type replaces an earlier).
    pub fn add(&mut self, text: &str) -> Result<(), TypesDbError> {
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |reason: String| TypesDbError {
                line: i + 1,
                reason,
            };
            let mut words = line.split_whitespace();
            let name = words.next().unwrap_or_default();
            let mut sources = Vec::new();
            for spec in words.flat_map(|w| w.split(',')).filter(|s| !s.is_empty()) {
                let parts: Vec<&str> = spec.split(':').collect();
                let [ds, kind, _min, _max] = parts.as_slice() else {
                    return Err(err(format!(
                        "data source {spec:?} is not name:TYPE:min:max"
                    )));
                };
                let kind = match kind.to_ascii_uppercase().as_str() {
                    "GAUGE" => SourceKind::Gauge,
                    "DERIVE" => SourceKind::Derive,
                    "COUNTER" => SourceKind::Counter,
                    "ABSOLUTE" => SourceKind::Absolute,
                    other => return Err(err(format!("unknown data source type {other:?}"))),
                };
                sources.push((ds.to_string(), kind));
            }
            if sources.is_empty() {
                return Err(err(format!("type {name:?} has no data source")));
            }
            self.types.insert(name.to_string(), sources);
        }
        Ok(())
    }

    /// Parses one `types.db` text.
    pub fn parse(text: &str) -> Result<Self, TypesDbError> {
        let mut db = TypesDb::default();
        db.add(text)?;
        Ok(db)
    }

    /// Types known.
    pub fn len(&self) -> usize {
        self.types.len()
    }

    /// Whether no type is known.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    /// The data sources of `name`.
    pub fn sources(&self, name: &str) -> Option<&[(String, SourceKind)]> {
        self.types.get(name).map(Vec::as_slice)
    }
}

/// Why a packet was dropped as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// A part's length runs past the packet or is below its header.
    #[error("invalid length {0}")]
    Length(usize),
    /// A part's payload is not what its type needs.
    #[error("invalid {0} part")]
    Invalid(&'static str),
}

/// The points of one packet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decoded {
    /// Points, in packet order.
    pub points: Vec<Point>,
    /// Values dropped as invalid points (NaN gauges, ...), one text each.
    pub invalid: Vec<String>,
    /// Value lists skipped because their type is unknown or their value count wrong.
    pub skipped: Vec<String>,
}

#[derive(Debug, Default, Clone)]
struct Identifier {
    host: String,
    plugin: String,
    plugin_instance: String,
    type_: String,
    type_instance: String,
    time: i64,
}

fn string_part(payload: &[u8]) -> Result<String, PacketError> {
    match payload.split_last() {
        Some((0, s)) => Ok(String::from_utf8_lossy(s).into_owned()),
        _ => Err(PacketError::Invalid("string")),
    }
}

fn int_part(payload: &[u8]) -> Result<u64, PacketError> {
    let b: [u8; 8] = payload
        .try_into()
        .map_err(|_| PacketError::Invalid("numeric"))?;
    Ok(u64::from_be_bytes(b))
}

/// collectd's high-resolution time (2^-30 s units) as nanoseconds, rounded.
fn cdtime_nanos(t: u64) -> Option<i64> {
    let secs = i64::try_from(t >> 30).ok()?;
    let frac = i64::try_from(t & 0x3fff_ffff).ok()?;
    let nanos = (frac * 1_000_000_000 + (1 << 29)) >> 30;
    unix_nanos(secs, nanos)
}

fn values_part(payload: &[u8]) -> Result<Vec<f64>, PacketError> {
    let invalid = || PacketError::Invalid("values");
    let (count, rest) = payload.split_first_chunk::<2>().ok_or_else(invalid)?;
    let n = usize::from(u16::from_be_bytes(*count));
    if rest.len() != n * 9 {
        return Err(invalid());
    }
    let (kinds, data) = rest.split_at(n);
    let mut out = Vec::with_capacity(n);
    for (kind, raw) in kinds.iter().zip(data.chunks_exact(8)) {
        let b: [u8; 8] = raw.try_into().map_err(|_| invalid())?;
        out.push(match kind {
            0 | 3 => u64::from_be_bytes(b) as f64,
            1 => f64::from_le_bytes(b),
            2 => i64::from_be_bytes(b) as f64,
            _ => return Err(invalid()),
        });
    }
    Ok(out)
}

/// Decodes one packet. `now` stamps value lists that carry no time.
pub fn decode(packet: &[u8], types: &TypesDb, now: i64) -> Result<Decoded, PacketError> {
    let mut out = Decoded::default();
    let mut id = Identifier::default();
    let mut rest = packet;
    while !rest.is_empty() {
        let Some((header, _)) = rest.split_first_chunk::<4>() else {
            return Err(PacketError::Length(rest.len()));
        };
        let kind = u16::from_be_bytes([header[0], header[1]]);
        let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
        if len < 5 || len > rest.len() {
            return Err(PacketError::Length(len));
        }
        let (part, tail) = rest.split_at(len);
        rest = tail;
        let payload = &part[4..];
        match kind {
            PART_HOST => id.host = string_part(payload)?,
            PART_PLUGIN => id.plugin = string_part(payload)?,
            PART_PLUGIN_INSTANCE => id.plugin_instance = string_part(payload)?,
            PART_TYPE => id.type_ = string_part(payload)?,
            PART_TYPE_INSTANCE => id.type_instance = string_part(payload)?,
            PART_TIME => {
                let secs = i64::try_from(int_part(payload)?).unwrap_or(i64::MAX);
                id.time = unix_nanos(secs, 0).ok_or(PacketError::Invalid("time"))?;
            }
            PART_TIME_HR => {
                id.time = cdtime_nanos(int_part(payload)?).ok_or(PacketError::Invalid("time"))?;
            }
            PART_INTERVAL | PART_INTERVAL_HR => {
                int_part(payload)?;
            }
            PART_VALUES => {
                let values = values_part(payload)?;
                emit(&id, &values, types, now, &mut out);
            }
            // Notifications, signatures, encryption and unknown parts are skipped.
            _ => {}
        }
    }
    Ok(out)
}

/// One value list's points, named by the types database.
fn emit(id: &Identifier, values: &[f64], types: &TypesDb, now: i64, out: &mut Decoded) {
    let Some(sources) = types.sources(&id.type_) else {
        out.skipped
            .push(format!("unable to find {:?} in TypesDB", id.type_));
        return;
    };
    if sources.len() != values.len() {
        out.skipped.push(format!(
            "type {:?} has {} data sources, the packet {} values",
            id.type_,
            sources.len(),
            values.len()
        ));
        return;
    }
    let time = if id.time == 0 { now } else { id.time };
    let tags: Vec<(String, String)> = [
        ("host", &id.host),
        ("instance", &id.plugin_instance),
        ("type", &id.type_),
        ("type_instance", &id.type_instance),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for ((ds, _), v) in sources.iter().zip(values) {
        let name = format!("{}_{}", id.plugin, ds);
        match float_point(&name, tags.clone(), "value", *v, time) {
            Ok(p) => out.points.push(p),
            Err(e) => out.invalid.push(format!("{name}: {e}")),
        }
    }
}

#[cfg(test)]
mod tests;
