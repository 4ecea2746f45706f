//! Small certificate facts shared by reuse and validation: decoding PEM,
//! checking a signature against the CA, and whether a key fits a certificate.

use rcgen::KeyPair;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::serial;

/// One PEM block: its label and DER contents.
pub struct PemBlock {
    /// The label, e.g. `CERTIFICATE` or `PRIVATE KEY`.
    pub label: String,
    /// The decoded contents.
    pub der: Vec<u8>,
}

/// The first PEM block of `text`, if there is one.
pub fn first_pem_block(text: &[u8]) -> Option<PemBlock> {
    let (_, block) = x509_parser::pem::parse_x509_pem(text).ok()?;
    Some(PemBlock {
        label: block.label,
        der: block.contents,
    })
}

/// True when `cert` carries a signature made by the CA certificate `ca`.
pub fn signed_by(cert: &X509Certificate<'_>, ca: &X509Certificate<'_>) -> bool {
    cert.verify_signature(Some(ca.public_key())).is_ok()
}

/// True when the private key `key` is the key of `cert`.
pub fn key_fits(cert: &X509Certificate<'_>, key: &KeyPair) -> bool {
    cert.public_key().subject_public_key.data.as_ref() == key.public_key_raw()
}

/// True when `cert_pem` has serial `serial_hex`, is signed by the CA
/// certificate `ca_der`, and `key_pem` is its key.
pub fn leaf_matches(ca_der: &[u8], cert_pem: &str, key_pem: &str, serial_hex: &str) -> bool {
    let Some(block) = first_pem_block(cert_pem.as_bytes()) else {
        return false;
    };
    let (Ok((_, cert)), Ok((_, ca))) = (
        X509Certificate::from_der(&block.der),
        X509Certificate::from_der(ca_der),
    ) else {
        return false;
    };
    let Ok(key) = KeyPair::from_pem(key_pem) else {
        return false;
    };
    serial::serial_hex(cert.raw_serial()) == serial_hex
        && signed_by(&cert, &ca)
        && key_fits(&cert, &key)
}
