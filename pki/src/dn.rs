//! Distinguished names as GnuTLS prints them, which is what libvirt's
//! `tls_allowed_dn_list` globs are matched against.
//!
//! GnuTLS 3.7 (Debian 12) prints the RDNs in the order they appear in the
//! certificate, joined by `,`, with RFC 4514 escaping of values:
//! `C=ES,O=Lab,CN=admin` for a subject written C, O, CN. Tests compare this
//! with `virt-pki-query-dn`.

use x509_parser::prelude::{FromDer, X509Certificate, X509Name};

use crate::verify::first_pem_block;

/// Why a DN could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DnError {
    /// The text is not a PEM certificate.
    #[error("not a PEM certificate")]
    NotACertificate,
    /// An attribute value is not a string vmctl can print.
    #[error("the subject holds a value that is not a string")]
    UnprintableValue,
}

/// The subject DN of a PEM certificate as GnuTLS and libvirt print it.
pub fn gnutls_dn(cert_pem: &str) -> Result<String, DnError> {
    let block = first_pem_block(cert_pem.as_bytes())
        .filter(|b| b.label == "CERTIFICATE")
        .ok_or(DnError::NotACertificate)?;
    let (_, cert) = X509Certificate::from_der(&block.der).map_err(|_| DnError::NotACertificate)?;
    format_name(cert.subject())
}

fn format_name(name: &X509Name<'_>) -> Result<String, DnError> {
    let mut rdns = Vec::new();
    for rdn in name.iter() {
        let mut parts = Vec::new();
        for attr in rdn.iter() {
            let key = attribute_key(attr.attr_type());
            let value = attr.as_str().map_err(|_| DnError::UnprintableValue)?;
            parts.push(format!("{key}={}", escape(value)));
        }
        rdns.push(parts.join("+"));
    }
    Ok(rdns.join(","))
}

fn attribute_key(oid: &x509_parser::der_parser::oid::Oid<'_>) -> String {
    let short = match oid.to_id_string().as_str() {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        other => return other.to_owned(),
    };
    short.to_owned()
}

/// RFC 4514 escaping: special characters get a backslash; a leading `#`
/// or space and a trailing space too.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let edge_space = c == ' ' && (i == 0 || i == last);
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || edge_space
            || (i == 0 && c == '#')
        {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_specials() {
        assert_eq!(escape("Lab, Inc"), "Lab\\, Inc");
        assert_eq!(escape("#1 "), "\\#1\\ ");
        assert_eq!(escape("plain"), "plain");
    }

    #[test]
    fn rejects_non_certificates() {
        assert!(
            gnutls_dn("-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n").is_err()
        );
    }
}
