//! What a certificate may be asked to carry: DNS names a TLS client
//! can match, and validities an X.509 date can hold.

use time::Duration;

/// The longest validity vmctl issues, in days (100 years; X.509 dates end
/// in 9999, and no fleet member lives this long).
pub const MAX_VALIDITY_DAYS: i64 = 36_500;

/// True when `validity` is at least a day and at most
/// [`MAX_VALIDITY_DAYS`].
pub fn validity_in_range(validity: Duration) -> bool {
    (Duration::DAY..=Duration::days(MAX_VALIDITY_DAYS)).contains(&validity)
}

/// True for a DNS name made of RFC 1123 labels (letters, digits and `-`
/// inside, 1 to 63 characters each, 253 in all), optionally after a
/// leading `*.` wildcard.
pub fn is_dns_name(name: &str) -> bool {
    let rest = name.strip_prefix("*.").unwrap_or(name);
    !rest.is_empty() && name.len() <= 253 && rest.split('.').all(is_label)
}

fn is_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    (1..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes.first() != Some(&b'-')
        && bytes.last() != Some(&b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_are_rfc_1123_labels_with_an_optional_wildcard() {
        for good in [
            "web1",
            "web1.example.test",
            "*.example.test",
            "a-b.c",
            "1host",
        ] {
            assert!(is_dns_name(good), "{good}");
        }
        let long_label = "a".repeat(64);
        for bad in [
            "",
            "bad name!",
            "-a",
            "a-",
            "a..b",
            "*",
            "*.",
            "a.*.b",
            "é",
            &long_label,
        ] {
            assert!(!is_dns_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn validities_from_a_day_to_a_century_are_in_range() {
        assert!(validity_in_range(Duration::days(1)));
        assert!(validity_in_range(Duration::days(MAX_VALIDITY_DAYS)));
        assert!(!validity_in_range(Duration::ZERO));
        assert!(!validity_in_range(Duration::days(-1)));
        assert!(!validity_in_range(Duration::days(99_999_999_999)));
    }
}
