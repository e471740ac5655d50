//! Prometheus' remote storage messages (`prompb`: `WriteRequest`, `ReadRequest`,
//! `ReadResponse` and their parts), with the field numbers of Prometheus' `remote.proto`
//! and `types.proto`, encoded and decoded by `prost`.
//!
//! Why hand-written `prost::Message` impls instead of `#[derive(prost::Message)]`: the
//! derive's proc-macro pulls `itertools` with its default features, which cargo unifies
//! with the `itertools` that `bindgen` builds RocksDB's bindings with, so adding it
//! rebuilds RocksDB from C++ (about 15 minutes on the project's machines). The impls
//! below call the same `prost::encoding` functions the derive would generate calls to.
//! Fields not declared here (exemplars, native histograms, metadata, read hints, response
//! types) are skipped on decoding, as `prost` skips unknown fields.
//!
//! Self-contained (only `prost`), so that the end-to-end tests, which may not depend on
//! any workspace crate, include this very file to build and read bodies.

use prost::bytes::{Buf, BufMut};
use prost::encoding::{self, DecodeContext, WireType};
use prost::DecodeError;

/// `prometheus.WriteRequest`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct WriteRequest {
    /// Field 1.
    pub(crate) timeseries: Vec<TimeSeries>,
}

/// `prometheus.TimeSeries`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TimeSeries {
    /// Field 1.
    pub(crate) labels: Vec<Label>,
    /// Field 2.
    pub(crate) samples: Vec<Sample>,
}

/// `prometheus.Label`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Label {
    /// Field 1.
    pub(crate) name: String,
    /// Field 2.
    pub(crate) value: String,
}

/// `prometheus.Sample`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Sample {
    /// Field 1.
    pub(crate) value: f64,
    /// Field 2, milliseconds.
    pub(crate) timestamp: i64,
}

/// `prometheus.ReadRequest` (`accepted_response_types`, field 2, is skipped).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ReadRequest {
    /// Field 1.
    pub(crate) queries: Vec<Query>,
}

/// `prometheus.Query` (`hints`, field 4, is skipped).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Query {
    /// Field 1.
    pub(crate) start_timestamp_ms: i64,
    /// Field 2.
    pub(crate) end_timestamp_ms: i64,
    /// Field 3.
    pub(crate) matchers: Vec<LabelMatcher>,
}

/// `prometheus.LabelMatcher`; `type`: 0 `=`, 1 `!=`, 2 `=~`, 3 `!~`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LabelMatcher {
    /// Field 1.
    pub(crate) r#type: i32,
    /// Field 2.
    pub(crate) name: String,
    /// Field 3.
    pub(crate) value: String,
}

/// `prometheus.ReadResponse`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ReadResponse {
    /// Field 1.
    pub(crate) results: Vec<QueryResult>,
}

/// `prometheus.QueryResult`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct QueryResult {
    /// Field 1.
    pub(crate) timeseries: Vec<TimeSeries>,
}

/// A message whose fields are all repeated messages of one type, by field number.
macro_rules! repeated_messages {
    ($ty:ty { $($tag:literal => $field:ident),+ $(,)? }) => {
        impl prost::Message for $ty {
            fn encode_raw(&self, buf: &mut impl BufMut) {
                $(encoding::message::encode_repeated($tag, &self.$field, buf);)+
            }

            fn merge_field(
                &mut self,
                tag: u32,
                wire_type: WireType,
                buf: &mut impl Buf,
                ctx: DecodeContext,
            ) -> Result<(), DecodeError> {
                match tag {
                    $($tag => encoding::message::merge_repeated(wire_type, &mut self.$field, buf, ctx),)+
                    _ => encoding::skip_field(wire_type, tag, buf, ctx),
                }
            }

            fn encoded_len(&self) -> usize {
                0 $(+ encoding::message::encoded_len_repeated($tag, &self.$field))+
            }

            fn clear(&mut self) {
                $(self.$field.clear();)+
            }
        }
    };
}

repeated_messages!(WriteRequest { 1 => timeseries });
repeated_messages!(TimeSeries { 1 => labels, 2 => samples });
repeated_messages!(ReadRequest { 1 => queries });
repeated_messages!(ReadResponse { 1 => results });
repeated_messages!(QueryResult { 1 => timeseries });

impl prost::Message for Label {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        if !self.name.is_empty() {
            encoding::string::encode(1, &self.name, buf);
        }
        if !self.value.is_empty() {
            encoding::string::encode(2, &self.value, buf);
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        match tag {
            1 => encoding::string::merge(wire_type, &mut self.name, buf, ctx),
            2 => encoding::string::merge(wire_type, &mut self.value, buf, ctx),
            _ => encoding::skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        let mut n = 0;
        if !self.name.is_empty() {
            n += encoding::string::encoded_len(1, &self.name);
        }
        if !self.value.is_empty() {
            n += encoding::string::encoded_len(2, &self.value);
        }
        n
    }

    fn clear(&mut self) {
        *self = Label::default();
    }
}

impl prost::Message for Sample {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        // proto3: a zero is not sent (`0.0`, not `-0.0`, whose bits differ).
        if self.value.to_bits() != 0 {
            encoding::double::encode(1, &self.value, buf);
        }
        if self.timestamp != 0 {
            encoding::int64::encode(2, &self.timestamp, buf);
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        match tag {
            1 => encoding::double::merge(wire_type, &mut self.value, buf, ctx),
            2 => encoding::int64::merge(wire_type, &mut self.timestamp, buf, ctx),
            _ => encoding::skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        let mut n = 0;
        if self.value.to_bits() != 0 {
            n += encoding::double::encoded_len(1, &self.value);
        }
        if self.timestamp != 0 {
            n += encoding::int64::encoded_len(2, &self.timestamp);
        }
        n
    }

    fn clear(&mut self) {
        *self = Sample::default();
    }
}

impl prost::Message for Query {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        if self.start_timestamp_ms != 0 {
            encoding::int64::encode(1, &self.start_timestamp_ms, buf);
        }
        if self.end_timestamp_ms != 0 {
            encoding::int64::encode(2, &self.end_timestamp_ms, buf);
        }
        encoding::message::encode_repeated(3, &self.matchers, buf);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        match tag {
            1 => encoding::int64::merge(wire_type, &mut self.start_timestamp_ms, buf, ctx),
            2 => encoding::int64::merge(wire_type, &mut self.end_timestamp_ms, buf, ctx),
            3 => encoding::message::merge_repeated(wire_type, &mut self.matchers, buf, ctx),
            _ => encoding::skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        let mut n = encoding::message::encoded_len_repeated(3, &self.matchers);
        if self.start_timestamp_ms != 0 {
            n += encoding::int64::encoded_len(1, &self.start_timestamp_ms);
        }
        if self.end_timestamp_ms != 0 {
            n += encoding::int64::encoded_len(2, &self.end_timestamp_ms);
        }
        n
    }

    fn clear(&mut self) {
        *self = Query::default();
    }
}

impl prost::Message for LabelMatcher {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        if self.r#type != 0 {
            encoding::int32::encode(1, &self.r#type, buf);
        }
        if !self.name.is_empty() {
            encoding::string::encode(2, &self.name, buf);
        }
        if !self.value.is_empty() {
            encoding::string::encode(3, &self.value, buf);
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        match tag {
            1 => encoding::int32::merge(wire_type, &mut self.r#type, buf, ctx),
            2 => encoding::string::merge(wire_type, &mut self.name, buf, ctx),
            3 => encoding::string::merge(wire_type, &mut self.value, buf, ctx),
            _ => encoding::skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        let mut n = 0;
        if self.r#type != 0 {
            n += encoding::int32::encoded_len(1, &self.r#type);
        }
        if !self.name.is_empty() {
            n += encoding::string::encoded_len(2, &self.name);
        }
        if !self.value.is_empty() {
            n += encoding::string::encoded_len(3, &self.value);
        }
        n
    }

    fn clear(&mut self) {
        *self = LabelMatcher::default();
    }
}
