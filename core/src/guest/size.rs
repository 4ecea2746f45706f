//! Sizes on the command line: `512M`, `2G`, `1GiB`, always binary units.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// A size in bytes, parsed from `NUMBER[UNIT]`. Units are binary: `K`,
/// `M`, `G`, `T`, each also written `KB`/`KiB` and so on; a bare number is
/// MiB, as libvirt's memory sizes usually are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Size(u64);

/// Why a size could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// No digits in front.
    #[error("{input:?} is not a size (expected e.g. 512M, 2G, 1GiB)")]
    NoNumber { input: String },
    /// A unit vmctl does not know.
    #[error("{input:?} has an unknown unit {unit:?} (use K, M, G or T, e.g. 512M, 2G, 1GiB)")]
    UnknownUnit { input: String, unit: String },
    /// Too large for 64 bits.
    #[error("{input:?} is too large")]
    TooLarge { input: String },
    /// Zero bytes.
    #[error("{input:?} is zero")]
    Zero { input: String },
}

impl Size {
    /// A size of `bytes` bytes.
    pub fn from_bytes(bytes: u64) -> Self {
        Self(bytes)
    }

    /// A size of `kib` KiB.
    pub fn from_kib(kib: u64) -> Self {
        Self(kib.saturating_mul(1024))
    }

    /// The size in bytes.
    pub fn bytes(self) -> u64 {
        self.0
    }

    /// The size in KiB, rounded up (libvirt counts memory in KiB).
    pub fn kib(self) -> u64 {
        self.0.div_ceil(1024)
    }
}

fn unit_shift(unit: &str) -> Option<u32> {
    let unit = unit.to_ascii_uppercase();
    let letter = unit.trim_end_matches("IB").trim_end_matches('B');
    if unit != "B" && letter.is_empty() {
        return None;
    }
    match letter {
        "" => Some(0),
        "K" => Some(10),
        "M" => Some(20),
        "G" => Some(30),
        "T" => Some(40),
        _ => None,
    }
}

impl FromStr for Size {
    type Err = SizeError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let owned = || input.to_owned();
        let s = input.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (digits, unit) = s.split_at(split);
        let number: u64 = digits
            .parse()
            .map_err(|_| SizeError::NoNumber { input: owned() })?;
        let shift = match unit.trim() {
            "" => 20,
            u => unit_shift(u).ok_or_else(|| SizeError::UnknownUnit {
                input: owned(),
                unit: u.to_owned(),
            })?,
        };
        let bytes = number
            .checked_mul(1u64 << shift)
            .ok_or(SizeError::TooLarge { input: owned() })?;
        if bytes == 0 {
            return Err(SizeError::Zero { input: owned() });
        }
        Ok(Self(bytes))
    }
}

impl fmt::Display for Size {
    /// The largest binary unit the size reaches: whole when exact, else
    /// with one decimal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units = [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")];
        let Some((shift, name)) = units.into_iter().find(|(s, _)| self.0 >= 1 << s) else {
            return write!(f, "{}B", self.0);
        };
        let unit = 1u64 << shift;
        if self.0.is_multiple_of(unit) {
            write!(f, "{}{name}", self.0 / unit)
        } else {
            write!(f, "{:.1}{name}", self.0 as f64 / unit as f64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(s: &str) -> u64 {
        s.parse::<Size>().unwrap().bytes()
    }

    #[test]
    fn binary_units_in_every_spelling() {
        assert_eq!(size("512M"), 512 << 20);
        assert_eq!(size("2G"), 2 << 30);
        assert_eq!(size("1GiB"), 1 << 30);
        assert_eq!(size("4kb"), 4096);
        assert_eq!(size("256"), 256 << 20);
        assert_eq!(size("10B"), 10);
    }

    #[test]
    fn unknown_units_and_nonsense_are_refused() {
        let err = "12Q".parse::<Size>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"12Q\" has an unknown unit \"Q\" (use K, M, G or T, e.g. 512M, 2G, 1GiB)"
        );
        assert!(matches!(
            "G".parse::<Size>(),
            Err(SizeError::NoNumber { .. })
        ));
        assert!(matches!("0M".parse::<Size>(), Err(SizeError::Zero { .. })));
        assert!(matches!(
            "iB".parse::<Size>(),
            Err(SizeError::NoNumber { .. })
        ));
        assert!(matches!(
            "99999999999T".parse::<Size>(),
            Err(SizeError::TooLarge { .. })
        ));
    }

    #[test]
    fn displays_whole_units() {
        assert_eq!(Size::from_kib(512 * 1024).to_string(), "512MiB");
        assert_eq!(Size::from_bytes(3 << 30).to_string(), "3GiB");
        assert_eq!(Size::from_kib(1536 * 1024 + 1).to_string(), "1.5GiB");
        assert_eq!(Size::from_kib(24_683_784).to_string(), "23.5GiB");
        assert_eq!(Size::from_bytes(100).to_string(), "100B");
    }
}
