//! The certificate authority: creating it (`init`) and loading it with its
//! private key (`load`). A loaded [`Authority`] signs leaves and CRLs.

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::fsio::{self, PRIVATE_FILE, PUBLIC_FILE};
use crate::keyfile::{self, KeyFileError, Passphrase};
use crate::{Index, KeyAlgorithm, Layout, serial};

/// How to create a CA.
#[derive(Debug, Clone)]
pub struct CaOptions {
    /// Subject CN of the CA certificate.
    pub common_name: String,
    /// Subject O of the CA certificate.
    pub organization: String,
    /// Key algorithm of the CA.
    pub algorithm: KeyAlgorithm,
    /// How long the CA certificate is valid.
    pub validity: Duration,
    /// Replace an existing CA, keeping the old one as a dated backup.
    pub force: bool,
}

impl Default for CaOptions {
    fn default() -> Self {
        Self {
            common_name: "vmctl CA".into(),
            organization: "vmctl".into(),
            algorithm: KeyAlgorithm::EcdsaP256,
            validity: Duration::days(3650),
            force: false,
        }
    }
}

/// Why `init` failed.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// A CA exists and `force` was not set.
    #[error("a CA already exists at {path}")]
    Exists { path: PathBuf },
    /// A validity of less than a day or more than a century.
    #[error("a CA validity of {days} days is out of range: give 1 to {max} days", max = crate::MAX_VALIDITY_DAYS)]
    Validity { days: i64 },
    /// Key generation or signing failed.
    #[error("could not create the CA certificate")]
    Sign(#[source] rcgen::Error),
    /// The key could not be encoded.
    #[error("could not encode the CA key")]
    Key(#[source] KeyFileError),
    /// A file or directory could not be written.
    #[error("could not write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Writing the empty CRL or the index failed.
    #[error("could not write the initial CRL")]
    Crl(#[source] Box<crate::RevokeError>),
}

/// Why `load` failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file of the CA could not be read.
    #[error("could not read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The CA certificate is not a certificate vmctl can use.
    #[error("{path} is not a usable CA certificate")]
    Certificate { path: PathBuf },
    /// The CA key could not be decoded or decrypted.
    #[error("could not load the CA key {path}")]
    Key {
        path: PathBuf,
        #[source]
        source: KeyFileError,
    },
    /// The CA certificate's validity ended: nothing it signs is trusted.
    #[error("the CA certificate {path} expired on {not_after}")]
    Expired { path: PathBuf, not_after: String },
    /// The CA certificate is not valid yet (a clock is off).
    #[error(
        "the CA certificate {path} is not valid before {not_before}; is this machine's clock right?"
    )]
    NotYetValid { path: PathBuf, not_before: String },
    /// The key in `cakey.pem` is not the key of `cacert.pem`.
    #[error("the CA key {path} does not belong to the CA certificate")]
    KeyMismatch { path: PathBuf },
}

/// A loaded CA: its certificate and the key that signs with it.
pub struct Authority {
    layout: Layout,
    cert_pem: String,
    cert_der: Vec<u8>,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority")
            .field("layout", &self.layout)
            .finish_non_exhaustive()
    }
}

/// True when the CA key under `layout` is encrypted (so a passphrase is needed).
pub fn ca_key_is_encrypted(layout: &Layout) -> bool {
    fs::read_to_string(layout.ca_key()).is_ok_and(|pem| keyfile::is_encrypted(&pem))
}

impl Authority {
    /// Creates a new CA under `layout` and returns it loaded.
    pub fn init(
        layout: &Layout,
        options: &CaOptions,
        passphrase: Option<&Passphrase>,
    ) -> Result<Self, InitError> {
        let max = Duration::days(crate::MAX_VALIDITY_DAYS);
        if !(Duration::days(1)..=max).contains(&options.validity) {
            return Err(InitError::Validity {
                days: options.validity.whole_days(),
            });
        }
        Self::create(layout, options, passphrase)
    }

    /// `init` without the validity check (tests make expired CAs with it).
    fn create(
        layout: &Layout,
        options: &CaOptions,
        passphrase: Option<&Passphrase>,
    ) -> Result<Self, InitError> {
        prepare_ca_dir(layout, options.force)?;

        let key = options.algorithm.generate().map_err(InitError::Sign)?;
        let params = ca_params(options, OffsetDateTime::now_utc());
        let cert = params.self_signed(&key).map_err(InitError::Sign)?;
        let key_pem = keyfile::encode(&key, passphrase).map_err(InitError::Key)?;

        write(&layout.ca_key(), key_pem.as_bytes(), PRIVATE_FILE)?;
        write(&layout.ca_cert(), cert.pem().as_bytes(), PUBLIC_FILE)?;
        tracing::info!(dir = %layout.root().display(), "created CA");

        let authority = Self {
            layout: layout.clone(),
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            issuer: Issuer::new(params, key),
        };
        authority
            .write_crl(&Index::default())
            .map_err(|e| InitError::Crl(Box::new(e)))?;
        Ok(authority)
    }

    /// Loads the CA under `layout`, decrypting its key with `passphrase`.
    pub fn load(layout: &Layout, passphrase: Option<&Passphrase>) -> Result<Self, LoadError> {
        let cert_path = layout.ca_cert();
        let cert_pem = read(&cert_path)?;
        let cert_der = pem_certificate_der(&cert_pem).ok_or_else(|| LoadError::Certificate {
            path: cert_path.clone(),
        })?;
        check_validity(&cert_path, &cert_der, OffsetDateTime::now_utc())?;

        let key_path = layout.ca_key();
        let key_pem = zeroize::Zeroizing::new(read(&key_path)?);
        let key = keyfile::decode(&key_pem, passphrase).map_err(|source| LoadError::Key {
            path: key_path.clone(),
            source,
        })?;
        if public_key_of(&cert_der).as_deref() != Some(key.public_key_raw()) {
            return Err(LoadError::KeyMismatch { path: key_path });
        }

        let issuer = Issuer::from_ca_cert_der(&cert_der.as_slice().into(), key)
            .map_err(|_| LoadError::Certificate { path: cert_path })?;
        Ok(Self {
            layout: layout.clone(),
            cert_pem,
            cert_der,
            issuer,
        })
    }

    /// The layout of the PKI directory this CA lives in.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The CA certificate in PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate in DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    pub(crate) fn issuer(&self) -> &Issuer<'static, KeyPair> {
        &self.issuer
    }
}

/// The parameters of a CA certificate. Never rcgen's defaults.
fn ca_params(options: &CaOptions, now: OffsetDateTime) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, options.organization.as_str());
    dn.push(DnType::CommonName, options.common_name.as_str());
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.serial_number = Some(serial::random_serial());
    params.not_before = now - Duration::hours(1);
    params.not_after = now + options.validity;
    params
}

/// Makes sure `ca/` can be written: refuses or backs up an existing CA.
fn prepare_ca_dir(layout: &Layout, force: bool) -> Result<(), InitError> {
    let ca_dir = layout.ca_dir();
    if layout.ca_cert().exists() || layout.ca_key().exists() {
        if !force {
            return Err(InitError::Exists { path: ca_dir });
        }
        backup_old_ca(layout)?;
    }
    fsio::ensure_private_dir(&ca_dir).map_err(|source| InitError::Write {
        path: ca_dir,
        source,
    })
}

/// Moves `ca/` and `issued/` aside as `ca.backup-STAMP`, `issued.backup-STAMP`.
fn backup_old_ca(layout: &Layout) -> Result<(), InitError> {
    let stamp = OffsetDateTime::now_utc().unix_timestamp();
    for dir in [layout.ca_dir(), layout.root().join("issued")] {
        if !dir.exists() {
            continue;
        }
        let backup = dir.with_file_name(format!(
            "{}.backup-{stamp}",
            dir.file_name().unwrap_or_default().to_string_lossy()
        ));
        fs::rename(&dir, &backup).map_err(|source| InitError::Write {
            path: dir.clone(),
            source,
        })?;
        tracing::warn!(backup = %backup.display(), "kept the previous CA files as a backup");
    }
    Ok(())
}

fn write(path: &std::path::Path, contents: &[u8], mode: u32) -> Result<(), InitError> {
    fsio::write_atomic(path, contents, mode).map_err(|source| InitError::Write {
        path: path.to_owned(),
        source,
    })
}

fn read(path: &std::path::Path) -> Result<String, LoadError> {
    fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_owned(),
        source,
    })
}

/// The DER of the first CERTIFICATE block of a PEM text.
pub(crate) fn pem_certificate_der(pem: &str) -> Option<Vec<u8>> {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).ok()?;
    (block.label == "CERTIFICATE").then_some(block.contents)
}

/// Refuses a CA certificate that is not valid at `now`.
fn check_validity(path: &Path, der: &[u8], now: OffsetDateTime) -> Result<(), LoadError> {
    let Ok((_, cert)) = X509Certificate::from_der(der) else {
        return Err(LoadError::Certificate {
            path: path.to_owned(),
        });
    };
    let validity = cert.validity();
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    let stamp = |t: &x509_parser::time::ASN1Time| {
        let when = t.to_datetime();
        when.format(format).unwrap_or_else(|_| when.to_string())
    };
    if now > validity.not_after.to_datetime() {
        return Err(LoadError::Expired {
            path: path.to_owned(),
            not_after: stamp(&validity.not_after),
        });
    }
    if now < validity.not_before.to_datetime() {
        return Err(LoadError::NotYetValid {
            path: path.to_owned(),
            not_before: stamp(&validity.not_before),
        });
    }
    Ok(())
}

/// The raw subject public key of a DER certificate.
pub(crate) fn public_key_of(der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    Some(cert.public_key().subject_public_key.data.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_then_load_with_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path().join("pki"));
        let pass = Passphrase::new("s3cret".into());
        let created = Authority::init(&layout, &CaOptions::default(), Some(&pass)).unwrap();
        let loaded = Authority::load(&layout, Some(&pass)).unwrap();
        assert_eq!(created.cert_pem(), loaded.cert_pem());
        assert!(ca_key_is_encrypted(&layout));
        assert_eq!(fsio::mode_of(&layout.ca_key()).unwrap(), 0o600);
        assert_eq!(fsio::mode_of(&layout.ca_dir()).unwrap(), 0o700);
    }

    #[test]
    fn init_refuses_existing_ca_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        Authority::init(&layout, &CaOptions::default(), None).unwrap();
        let again = Authority::init(&layout, &CaOptions::default(), None);
        assert!(matches!(again, Err(InitError::Exists { .. })));

        let forced = CaOptions {
            force: true,
            ..CaOptions::default()
        };
        Authority::init(&layout, &forced, None).unwrap();
        let backups = fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("ca.backup-")
            })
            .count();
        assert_eq!(backups, 1);
    }

    #[test]
    fn load_rejects_a_key_of_another_ca() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (
            Layout::new(dir.path().join("a")),
            Layout::new(dir.path().join("b")),
        );
        Authority::init(&a, &CaOptions::default(), None).unwrap();
        Authority::init(&b, &CaOptions::default(), None).unwrap();
        fs::copy(b.ca_key(), a.ca_key()).unwrap();
        assert!(matches!(
            Authority::load(&a, None),
            Err(LoadError::KeyMismatch { .. })
        ));
    }

    #[test]
    fn load_refuses_an_expired_ca() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        let expired = CaOptions {
            validity: Duration::minutes(-30),
            ..CaOptions::default()
        };
        assert!(matches!(
            Authority::init(&layout, &expired, None),
            Err(InitError::Validity { .. })
        ));
        Authority::create(&layout, &expired, None).unwrap();
        let err = Authority::load(&layout, None).unwrap_err();
        assert!(matches!(err, LoadError::Expired { .. }), "{err:?}");
        assert!(err.to_string().contains("expired on"), "{err}");
    }

    #[test]
    fn ca_certificate_is_a_constrained_ca() {
        let params = ca_params(&CaOptions::default(), OffsetDateTime::now_utc());
        assert!(matches!(params.is_ca, IsCa::Ca(_)));
        assert!(params.key_usages.contains(&KeyUsagePurpose::KeyCertSign));
        assert!(params.serial_number.is_some());
    }
}
