//! One implementation of the metadata port's reads for every store built on a
//! [`Catalog`](crate::Catalog): they all answer reads from the catalog in memory, so the
//! delegation is written once here instead of once per store.

/// Expands, inside an `impl MetadataPort for T` block, to every read of the port, each
/// answered by the [`Catalog`](crate::Catalog) that `self.$catalog()` returns (a read
/// guard or a reference). The store writes only `apply`.
#[macro_export]
macro_rules! metadata_reads_from_catalog {
    ($catalog:ident) => {
        fn databases(&self) -> ::std::vec::Vec<$crate::__domain::Database> {
            self.$catalog().databases()
        }

        fn database(&self, name: &str) -> ::std::option::Option<$crate::__domain::Database> {
            self.$catalog().database(name)
        }

        fn measurements(&self, database: &str) -> ::std::vec::Vec<::std::string::String> {
            self.$catalog().measurements(database)
        }

        fn measurements_with_schema(
            &self,
            database: &str,
        ) -> ::std::vec::Vec<::std::string::String> {
            self.$catalog().measurements_with_schema(database)
        }

        fn schema(
            &self,
            database: &str,
            measurement: &str,
        ) -> ::std::option::Option<$crate::__domain::MeasurementSchema> {
            self.$catalog().schema(database, measurement)
        }

        fn field_shard_type(
            &self,
            database: &str,
            measurement: &str,
            field: &str,
            retention_policy: &str,
            shard_start: i64,
        ) -> ::std::option::Option<$crate::__domain::FieldType> {
            self.$catalog().field_shard_type(
                database,
                measurement,
                field,
                retention_policy,
                shard_start,
            )
        }

        fn field_types_in_shard_groups(
            &self,
            database: &str,
            measurement: &str,
            field: &str,
            retention_policy: &str,
            starts: (i64, i64),
        ) -> ::std::option::Option<::std::collections::BTreeSet<$crate::__domain::FieldType>> {
            self.$catalog().field_types_in_shard_groups(
                database,
                measurement,
                field,
                retention_policy,
                starts,
            )
        }

        fn field_in_retention_policy(
            &self,
            database: &str,
            measurement: &str,
            field: &str,
            retention_policy: &str,
        ) -> bool {
            self.$catalog().field_in_retention_policy(
                database,
                measurement,
                field,
                retention_policy,
            )
        }

        fn shard_group_written(
            &self,
            database: &str,
            retention_policy: &str,
            shard_start: i64,
        ) -> bool {
            self.$catalog()
                .shard_group_written(database, retention_policy, shard_start)
        }

        fn shard_groups(&self) -> ::std::vec::Vec<$crate::__domain::ShardGroup> {
            self.$catalog().shard_groups()
        }

        fn shard_group_span(
            &self,
            database: &str,
            retention_policy: &str,
            time: i64,
        ) -> ::std::option::Option<(i64, i64)> {
            self.$catalog()
                .shard_group_span(database, retention_policy, time)
        }

        fn series(
            &self,
            database: &str,
            measurement: ::std::option::Option<&str>,
        ) -> ::std::vec::Vec<$crate::__ports::SeriesEntry> {
            self.$catalog().series(database, measurement)
        }

        fn has_series(&self, database: &str, key: &str) -> bool {
            self.$catalog().has_series(database, key)
        }

        fn series_count(&self, database: &str) -> usize {
            self.$catalog().series_count(database)
        }

        fn tag_values(
            &self,
            database: &str,
            measurement: &str,
            key: &str,
        ) -> ::std::vec::Vec<::std::string::String> {
            self.$catalog().tag_values(database, measurement, key)
        }

        fn tag_value_count(&self, database: &str, measurement: &str, key: &str) -> usize {
            self.$catalog().tag_value_count(database, measurement, key)
        }

        fn has_tag_value(&self, database: &str, measurement: &str, key: &str, value: &str) -> bool {
            self.$catalog()
                .has_tag_value(database, measurement, key, value)
        }

        fn for_each_series(
            &self,
            database: &str,
            measurement: ::std::option::Option<&str>,
            f: &mut dyn FnMut(&$crate::__ports::SeriesEntry) -> bool,
        ) {
            self.$catalog().for_each_series(database, measurement, f);
        }

        fn series_count_in(&self, database: &str, measurement: &str) -> usize {
            self.$catalog().series_count_in(database, measurement)
        }

        fn series_with_tag(
            &self,
            database: &str,
            measurement: &str,
            key: &str,
            value: &str,
        ) -> ::std::vec::Vec<$crate::__ports::SeriesEntry> {
            self.$catalog()
                .series_with_tag(database, measurement, key, value)
        }

        fn for_each_series_with_tag(
            &self,
            database: &str,
            measurement: &str,
            key: &str,
            value: &str,
            f: &mut dyn FnMut(&$crate::__ports::SeriesEntry) -> bool,
        ) {
            self.$catalog()
                .for_each_series_with_tag(database, measurement, key, value, f);
        }

        fn tag_value_series_count(
            &self,
            database: &str,
            measurement: &str,
            key: &str,
            value: &str,
        ) -> usize {
            self.$catalog()
                .tag_value_series_count(database, measurement, key, value)
        }

        fn tag_keys(
            &self,
            database: &str,
            measurement: &str,
        ) -> ::std::vec::Vec<::std::string::String> {
            self.$catalog().tag_keys(database, measurement)
        }

        fn tombstones(&self, database: &str) -> ::std::vec::Vec<$crate::__domain::Tombstone> {
            self.$catalog().tombstones(database)
        }

        fn continuous_queries(&self) -> ::std::vec::Vec<$crate::__domain::ContinuousQuery> {
            self.$catalog().continuous_queries()
        }

        fn users(&self) -> ::std::vec::Vec<$crate::__domain::User> {
            self.$catalog().users()
        }
    };
}
