//! Revocation: marking a member's certificates revoked and writing the
//! signed CRL that libvirt (`cacrl.pem`) and QEMU (`ca-crl.pem`) read.

use std::path::PathBuf;

use rcgen::{CertificateRevocationListParams, KeyIdMethod, RevokedCertParams, SerialNumber};
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::Authority;
use crate::fsio::{self, PUBLIC_FILE};
use crate::index::{Index, IndexEntry, IndexError};

/// How long a CRL is declared good for. Hosts only get a new CRL when vmctl
/// pushes one, so a short `nextUpdate` would only make daemons refuse it.
pub const CRL_LIFETIME: Duration = Duration::days(3650);

/// Why `revoke` or writing the CRL failed.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    /// Nothing unrevoked was issued to this name.
    #[error("no unrevoked certificate was issued to {name}")]
    NotIssued { name: String },
    /// The index could not be read or written.
    #[error("could not update the index")]
    Index(#[from] IndexError),
    /// Signing the CRL failed.
    #[error("could not sign the CRL")]
    Sign(#[source] rcgen::Error),
    /// Writing the CRL failed.
    #[error("could not write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Authority {
    /// Revokes every unrevoked certificate of `name` and writes a new CRL.
    /// Returns the certificates it revoked.
    pub fn revoke(&self, name: &str) -> Result<Vec<IndexEntry>, RevokeError> {
        let mut index = Index::read(self.layout())?;
        let now = OffsetDateTime::now_utc();
        let mut revoked = Vec::new();
        for entry in index.certificates.iter_mut().filter(|e| e.name == name) {
            if entry.revoked_at.is_none() {
                entry.revoked_at = Some(now);
                revoked.push(entry.clone());
            }
        }
        if revoked.is_empty() {
            return Err(RevokeError::NotIssued {
                name: name.to_owned(),
            });
        }
        self.write_crl(&index)?;
        tracing::info!(name, count = revoked.len(), "revoked certificates");
        Ok(revoked)
    }

    /// Signs a CRL listing every revoked certificate of `index`, writes it
    /// to `ca/crl.pem`, and saves `index` with the CRL number advanced.
    pub fn write_crl(&self, index: &Index) -> Result<(), RevokeError> {
        let mut index = index.clone();
        index.crl_number += 1;
        let now = OffsetDateTime::now_utc();
        let params = CertificateRevocationListParams {
            this_update: now - Duration::minutes(5),
            next_update: now + CRL_LIFETIME,
            crl_number: SerialNumber::from_slice(&index.crl_number.to_be_bytes()),
            issuing_distribution_point: None,
            revoked_certs: index.revoked().filter_map(revoked_params).collect(),
            key_identifier_method: self.key_id_method(),
        };
        let crl = params.signed_by(self.issuer()).map_err(RevokeError::Sign)?;
        let pem = crl.pem().map_err(RevokeError::Sign)?;

        let path = self.layout().crl();
        fsio::write_atomic(&path, pem.as_bytes(), PUBLIC_FILE)
            .map_err(|source| RevokeError::Write { path, source })?;
        index.write(self.layout())?;
        Ok(())
    }

    /// The CA's own subject key identifier, so the CRL's authority key
    /// identifier matches it exactly.
    fn key_id_method(&self) -> KeyIdMethod {
        let ski = X509Certificate::from_der(self.cert_der())
            .ok()
            .and_then(|(_, cert)| {
                cert.extensions()
                    .iter()
                    .find_map(|ext| match ext.parsed_extension() {
                        x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(id) => {
                            Some(id.0.to_vec())
                        }
                        _ => None,
                    })
            });
        ski.map_or(KeyIdMethod::Sha256, KeyIdMethod::PreSpecified)
    }
}

fn revoked_params(entry: &IndexEntry) -> Option<RevokedCertParams> {
    Some(RevokedCertParams {
        serial_number: SerialNumber::from_slice(&hex_bytes(&entry.serial)?),
        revocation_time: entry.revoked_at?,
        reason_code: None,
        invalidity_date: None,
    })
}

fn hex_bytes(hex: &str) -> Option<Vec<u8>> {
    let padded = if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else {
        hex.to_owned()
    };
    (0..padded.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&padded[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CaOptions, Layout, LeafKind, LeafRequest, Reuse};

    #[test]
    fn revoke_marks_index_and_lists_serial_in_crl() {
        let dir = tempfile::tempdir().unwrap();
        let ca = Authority::init(&Layout::new(dir.path()), &CaOptions::default(), None).unwrap();
        let issued = ca
            .issue(&LeafRequest::new("host1", LeafKind::Client), Reuse::Never)
            .unwrap();
        let revoked = ca.revoke("host1").unwrap();
        assert_eq!(revoked[0].serial, issued.entry().serial);
        assert!(matches!(
            ca.revoke("host1"),
            Err(RevokeError::NotIssued { .. })
        ));

        let pem = std::fs::read(ca.layout().crl()).unwrap();
        let (_, block) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
        let (_, crl) = x509_parser::parse_x509_crl(&block.contents).unwrap();
        let serials: Vec<String> = crl
            .iter_revoked_certificates()
            .map(|r| crate::serial::serial_hex(r.raw_serial()))
            .collect();
        assert_eq!(serials, vec![issued.entry().serial.clone()]);
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(hex_bytes("4a01"), Some(vec![0x4a, 0x01]));
        assert_eq!(hex_bytes("a01"), Some(vec![0x0a, 0x01]));
        assert_eq!(hex_bytes("zz"), None);
    }
}
