//! Random certificate serial numbers: 16 bytes from the OS generator,
//! positive, with a non-zero leading byte so every serial has full length.

use rand::RngCore;
use rcgen::SerialNumber;

/// A fresh random serial of about 126 bits.
pub fn random_serial() -> SerialNumber {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    SerialNumber::from_slice(&bytes)
}

/// The serial as lowercase hex without separators, as the index stores it.
pub fn serial_hex(bytes: &[u8]) -> String {
    let trimmed = match bytes.iter().position(|b| *b != 0) {
        Some(first) => &bytes[first..],
        None => &bytes[bytes.len().saturating_sub(1)..],
    };
    trimmed.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_positive_distinct_and_full_length() {
        let a = random_serial().to_bytes();
        let b = random_serial().to_bytes();
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
        assert!(a[0] & 0x80 == 0 && a[0] != 0);
    }

    #[test]
    fn hex_drops_leading_zero_bytes() {
        assert_eq!(serial_hex(&[0, 0x4a, 0x01]), "4a01");
        assert_eq!(serial_hex(&[0]), "00");
    }
}
