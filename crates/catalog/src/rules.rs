//! InfluxDB 1.6's rules on retention policies and its error texts (checked against a real
//! InfluxDB 1.6.7): the only place they are written down, so every metadata store answers
//! the same.

use hyperbyte_domain::RetentionPolicy;
use hyperbyte_ports::MetaError;

/// Nanoseconds in an hour: InfluxDB's minimum retention and shard group duration.
pub(crate) const HOUR: i64 = 3_600_000_000_000;

pub(crate) const ERR_DURATION_TOO_LOW: &str = "retention policy duration must be at least 1h0m0s";
pub(crate) const ERR_INCOMPATIBLE_DURATIONS: &str =
    "retention policy duration must be greater than the shard duration";
pub(crate) const ERR_RP_EXISTS: &str = "retention policy already exists";
pub(crate) const ERR_RP_CONFLICT: &str = "retention policy conflicts with an existing policy";
pub(crate) const ERR_RP_NAME_REQUIRED: &str = "retention policy name required";
pub(crate) const ERR_REPLICATION_TOO_LOW: &str = "replication factor must be greater than 0";
pub(crate) const ERR_CQ_EXISTS: &str = "continuous query already exists";
pub(crate) const ERR_USER_NOT_FOUND: &str = "user not found";
pub(crate) const ERR_USER_EXISTS: &str = "user already exists";

pub(crate) fn db_not_found(db: &str) -> MetaError {
    MetaError::Invalid(format!("database not found: {db}"))
}

pub(crate) fn rp_not_found(rp: &str) -> MetaError {
    MetaError::Invalid(format!("retention policy not found: {rp}"))
}

pub(crate) fn field_type_conflict(
    field: &str,
    measurement: &str,
    new: impl std::fmt::Display,
    have: impl std::fmt::Display,
) -> MetaError {
    MetaError::Invalid(format!(
        "field type conflict: input field \"{field}\" on measurement \"{measurement}\" is type {new}, already exists as type {have}"
    ))
}

pub(crate) fn invalid(msg: &str) -> MetaError {
    MetaError::Invalid(msg.to_string())
}

/// InfluxDB's shard group duration normalisation: `0` means the default for the
/// retention duration, anything below an hour becomes an hour.
pub(crate) fn normalised_shard_duration(sgd: i64, duration: i64) -> i64 {
    if sgd <= 0 {
        RetentionPolicy::default_shard_duration(duration)
    } else if sgd < HOUR {
        HOUR
    } else {
        sgd
    }
}

/// A retention duration InfluxDB refuses (`0` is infinite, hence allowed).
pub(crate) fn duration_too_low(duration: i64) -> bool {
    duration != 0 && duration < HOUR
}

/// InfluxDB's checks on a policy about to be created; normalises its shard duration.
pub(crate) fn validate_new_rp(rp: &mut RetentionPolicy) -> Result<(), MetaError> {
    if rp.name.is_empty() {
        return Err(invalid(ERR_RP_NAME_REQUIRED));
    }
    if rp.replication < 1 {
        return Err(invalid(ERR_REPLICATION_TOO_LOW));
    }
    rp.shard_group_duration = normalised_shard_duration(rp.shard_group_duration, rp.duration);
    if rp.duration > 0 && rp.duration < rp.shard_group_duration {
        return Err(invalid(ERR_INCOMPATIBLE_DURATIONS));
    }
    Ok(())
}

/// Whether an `ALTER RETENTION POLICY` would leave the duration shorter than the shard
/// group duration (`current_sgd` and `current_duration` are the policy's values now).
pub(crate) fn alter_incompatible(
    duration: Option<i64>,
    shard_group_duration: Option<i64>,
    current_duration: i64,
    current_sgd: i64,
) -> bool {
    match (duration, shard_group_duration) {
        (Some(d), sgd) if d > 0 => d < sgd.unwrap_or(current_sgd),
        (None, Some(sgd)) => current_duration > 0 && current_duration < sgd,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: i64 = 24 * HOUR;

    #[test]
    fn shard_durations_normalise_like_influx() {
        assert_eq!(normalised_shard_duration(0, 0), 7 * D);
        assert_eq!(normalised_shard_duration(0, HOUR), HOUR);
        assert_eq!(normalised_shard_duration(0, 7 * D), D);
        assert_eq!(normalised_shard_duration(0, 365 * D), 7 * D);
        assert_eq!(normalised_shard_duration(-5, 7 * D), D);
        assert_eq!(normalised_shard_duration(60_000_000_000, 0), HOUR);
        assert_eq!(normalised_shard_duration(3 * HOUR, 0), 3 * HOUR);
    }

    #[test]
    fn durations_below_an_hour_are_refused_except_infinite() {
        assert!(!duration_too_low(0));
        assert!(duration_too_low(1));
        assert!(duration_too_low(HOUR - 1));
        assert!(!duration_too_low(HOUR));
    }

    #[test]
    fn new_policies_are_validated_in_influx_order() {
        let rp = |name: &str, duration, sgd, replication| RetentionPolicy {
            name: name.into(),
            duration,
            shard_group_duration: sgd,
            replication,
        };
        let text = |mut r: RetentionPolicy| validate_new_rp(&mut r).unwrap_err().to_string();
        assert_eq!(text(rp("", HOUR, 0, 0)), ERR_RP_NAME_REQUIRED);
        assert_eq!(text(rp("r", HOUR, 0, 0)), ERR_REPLICATION_TOO_LOW);
        assert_eq!(
            text(rp("r", 2 * HOUR, 3 * HOUR, 1)),
            ERR_INCOMPATIBLE_DURATIONS
        );
        let mut ok = rp("r", 2 * HOUR, 1, 1);
        assert!(validate_new_rp(&mut ok).is_ok());
        assert_eq!(ok.shard_group_duration, HOUR);
        let mut inf = rp("r", 0, 30 * D, 1);
        assert!(validate_new_rp(&mut inf).is_ok());
        assert_eq!(inf.shard_group_duration, 30 * D);
    }

    #[test]
    fn alter_checks_the_resulting_pair() {
        // New duration against the new or current shard duration.
        assert!(alter_incompatible(Some(HOUR), None, 0, 7 * D));
        assert!(!alter_incompatible(Some(HOUR), Some(HOUR), 0, 7 * D));
        // Infinite duration is always compatible.
        assert!(!alter_incompatible(Some(0), Some(30 * D), HOUR, HOUR));
        // New shard duration against the current duration.
        assert!(alter_incompatible(None, Some(5 * HOUR), 2 * HOUR, HOUR));
        assert!(!alter_incompatible(None, Some(5 * HOUR), 0, HOUR));
        assert!(!alter_incompatible(None, None, HOUR, 7 * D));
    }
}
