//! Which storage tables the metadata knows of: every measurement of a database in every
//! one of its retention policies (a table may be empty or missing in storage; callers
//! that care ask storage). Anti-entropy compares them between members; the recent-data
//! tier's warm-up reads them back after a restart.

use hyperbyte_ports::{MetadataPort, TableRef};

/// Every (database, retention policy, measurement) the metadata knows of.
pub(crate) fn known_tables(meta: &dyn MetadataPort) -> Vec<TableRef> {
    let mut out = Vec::new();
    for db in meta.databases() {
        let measurements = meta.measurements_with_schema(&db.name);
        for rp in &db.retention_policies {
            for m in &measurements {
                out.push(TableRef {
                    database: db.name.clone(),
                    retention_policy: rp.name.clone(),
                    measurement: m.clone(),
                });
            }
        }
    }
    out
}
