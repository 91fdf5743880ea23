//! RFC 3339 timestamps that keep the text they were read from.
//!
//! A timestamp inside signed data (a layout's `expires`, a VSA's `timeVerified`) must be written
//! back exactly as received, yet compared as a point in time. [`Timestamp`] holds both.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time with its original RFC 3339 text.
///
/// Equality is on the text (two spellings of one instant are different values, as they are
/// different signed bytes); compare instants with [`Timestamp::to_datetime`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    text: String,
    at: DateTime<Utc>,
}

/// The text is not an RFC 3339 date-time.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{text:?} is not an RFC 3339 date-time")]
pub struct TimestampError {
    /// The text that was rejected.
    pub text: String,
}

impl Timestamp {
    /// Parses RFC 3339 text (any offset, optional fractional seconds); the text is kept.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let at = DateTime::parse_from_rfc3339(text).map_err(|_| TimestampError {
            text: text.to_owned(),
        })?;
        Ok(Timestamp {
            text: text.to_owned(),
            at: at.with_timezone(&Utc),
        })
    }

    /// A timestamp written as `YYYY-MM-DDTHH:MM:SSZ`, truncated to whole seconds: the only form
    /// securesystemslib's `ISO8601_DATETIME_SCHEMA` (and so in-toto python) accepts in layouts.
    pub fn from_datetime(at: DateTime<Utc>) -> Self {
        let text = at.to_rfc3339_opts(SecondsFormat::Secs, true);
        Timestamp::parse(&text).expect("chrono writes valid RFC 3339")
    }

    /// A timestamp written with as many fractional digits as needed (protobuf JSON style),
    /// e.g. for SLSA and VSA predicates.
    pub fn from_datetime_precise(at: DateTime<Utc>) -> Self {
        let text = at.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        Timestamp::parse(&text).expect("chrono writes valid RFC 3339")
    }

    /// The text as read or written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The point in time, in UTC.
    pub fn to_datetime(&self) -> DateTime<Utc> {
        self.at
    }

    /// True when the text is in the strict `YYYY-MM-DDTHH:MM:SSZ` form in-toto python requires.
    pub fn is_iso8601_seconds_utc(&self) -> bool {
        let b = self.text.as_bytes();
        b.len() == 20
            && b.iter().enumerate().all(|(i, c)| match i {
                4 | 7 => *c == b'-',
                10 => *c == b'T',
                13 | 16 => *c == b':',
                19 => *c == b'Z',
                _ => c.is_ascii_digit(),
            })
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse(&text).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn keeps_text_and_compares_as_time() {
        let a = Timestamp::parse("2030-11-18T16:06:36Z").unwrap();
        let b = Timestamp::parse("2030-11-18T17:06:36+01:00").unwrap();
        assert_eq!(a.to_datetime(), b.to_datetime());
        assert_eq!(b.as_str(), "2030-11-18T17:06:36+01:00");
        assert!(a.is_iso8601_seconds_utc());
        assert!(!b.is_iso8601_seconds_utc());
        assert!(Timestamp::parse("2030-11-18").is_err());
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn from_datetime_writes_the_python_form() {
        let t = Utc.with_ymd_and_hms(2026, 12, 28, 13, 26, 15).unwrap()
            + chrono::Duration::milliseconds(250);
        assert_eq!(Timestamp::from_datetime(t).as_str(), "2026-12-28T13:26:15Z");
        assert_eq!(
            Timestamp::from_datetime_precise(t).as_str(),
            "2026-12-28T13:26:15.250Z"
        );
    }
}
