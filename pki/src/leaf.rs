//! Leaf certificates: what a server or client certificate contains, and
//! signing one in memory. Nothing here touches the disk, so the benchmark
//! and the tests measure exactly key generation, signing and PEM encoding.

use std::net::IpAddr;

use rcgen::{
    CertificateParams, DistinguishedName, DnType, DnValue, ExtendedKeyUsagePurpose, IsCa,
    KeyUsagePurpose, SanType,
};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::{Authority, KeyAlgorithm, serial};

/// How far `notBefore` is backdated, to forgive clocks that are behind.
pub const CLOCK_SKEW: Duration = Duration::hours(1);

/// The role of a leaf certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LeafKind {
    /// Presented by a daemon: serverAuth, SANs for every name it is dialled by.
    Server,
    /// Presented by whoever connects: clientAuth, a DN the daemon allows.
    Client,
}

impl LeafKind {
    /// `server` or `client`, the prefix of the file names.
    pub fn name(self) -> &'static str {
        match self {
            Self::Server => "server",
            Self::Client => "client",
        }
    }
}

/// The subject attributes besides CN, shared by a member's certificates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// Two-letter country code (C).
    pub country: Option<String>,
    /// Organization (O).
    pub organization: Option<String>,
}

/// What to put in one leaf certificate.
#[derive(Debug, Clone)]
pub struct LeafRequest {
    /// The fleet member's name: CN, and the directory under `issued/`.
    pub name: String,
    /// Server or client.
    pub kind: LeafKind,
    /// DNS names for the SAN extension (servers).
    pub dns_names: Vec<String>,
    /// IP addresses for the SAN extension (servers).
    pub ips: Vec<IpAddr>,
    /// C and O of the subject.
    pub subject: Subject,
    /// How long the certificate is valid from now.
    pub validity: Duration,
    /// Key algorithm of the new key.
    pub algorithm: KeyAlgorithm,
}

impl LeafRequest {
    /// A request with one year of validity and an ECDSA P-256 key.
    pub fn new(name: impl Into<String>, kind: LeafKind) -> Self {
        Self {
            name: name.into(),
            kind,
            dns_names: Vec::new(),
            ips: Vec::new(),
            subject: Subject::default(),
            validity: Duration::days(365),
            algorithm: KeyAlgorithm::EcdsaP256,
        }
    }

    /// The DNS names that go into SANs: none for a client; for a server
    /// its own name first, then the given ones, each once.
    pub fn san_dns_names(&self) -> Vec<String> {
        if self.kind == LeafKind::Client {
            return Vec::new();
        }
        let mut names: Vec<String> = Vec::new();
        for name in std::iter::once(&self.name).chain(&self.dns_names) {
            if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                names.push(name.clone());
            }
        }
        names
    }

    /// The IP addresses that go into SANs: none for a client.
    pub fn san_ips(&self) -> Vec<IpAddr> {
        match self.kind {
            LeafKind::Server => self.ips.clone(),
            LeafKind::Client => Vec::new(),
        }
    }
}

/// A freshly signed leaf with its private key.
pub struct SignedLeaf {
    /// The certificate in PEM.
    pub cert_pem: String,
    /// The PKCS#8 private key in PEM; wiped when dropped.
    pub key_pem: Zeroizing<String>,
    /// Serial number bytes.
    pub serial: Vec<u8>,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
}

impl std::fmt::Debug for SignedLeaf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedLeaf")
            .field("serial", &serial::serial_hex(&self.serial))
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// The rcgen parameters of a leaf. Never rcgen's defaults: subject,
/// validity and serial are always set here.
pub fn leaf_params(
    request: &LeafRequest,
    now: OffsetDateTime,
) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(&request.name, &request.subject)?;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.serial_number = Some(serial::random_serial());
    params.not_before = now - CLOCK_SKEW;
    params.not_after = now + request.validity;
    params.use_authority_key_identifier_extension = true;

    match request.kind {
        LeafKind::Server => {
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            params.subject_alt_names = subject_alt_names(request)?;
        }
        LeafKind::Client => {
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        }
    }
    Ok(params)
}

fn distinguished_name(name: &str, subject: &Subject) -> Result<DistinguishedName, rcgen::Error> {
    let mut dn = DistinguishedName::new();
    // X.520 wants countryName as a PrintableString; as a UTF8String (rcgen's
    // default) GnuTLS prints it in hex, `C=#0c024553`, and the allowed-DN
    // globs stop matching.
    if let Some(country) = &subject.country {
        let printable = rcgen::string::PrintableString::try_from(country.as_str())?;
        dn.push(DnType::CountryName, DnValue::PrintableString(printable));
    }
    if let Some(org) = &subject.organization {
        dn.push(DnType::OrganizationName, org.as_str());
    }
    dn.push(DnType::CommonName, name);
    Ok(dn)
}

fn subject_alt_names(request: &LeafRequest) -> Result<Vec<SanType>, rcgen::Error> {
    let mut sans = Vec::new();
    for dns in request.san_dns_names() {
        sans.push(SanType::DnsName(dns.try_into()?));
    }
    sans.extend(request.san_ips().into_iter().map(SanType::IpAddress));
    Ok(sans)
}

impl Authority {
    /// Generates a key and signs a leaf for `request`, in memory.
    pub fn sign_leaf(&self, request: &LeafRequest) -> Result<SignedLeaf, rcgen::Error> {
        let key = request.algorithm.generate()?;
        let params = leaf_params(request, OffsetDateTime::now_utc())?;
        self.sign_params(&params, &key)
    }

    /// Signs prepared parameters for `key`; tests use it to make bad leaves.
    pub(crate) fn sign_params(
        &self,
        params: &CertificateParams,
        key: &rcgen::KeyPair,
    ) -> Result<SignedLeaf, rcgen::Error> {
        let cert = params.signed_by(key, self.issuer())?;
        Ok(SignedLeaf {
            cert_pem: cert.pem(),
            key_pem: Zeroizing::new(key.serialize_pem()),
            serial: params
                .serial_number
                .as_ref()
                .map(|s| s.to_bytes())
                .unwrap_or_default(),
            not_before: params.not_before,
            not_after: params.not_after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_with_extra_names_keeps_its_own_name() {
        let mut request = LeafRequest::new("web1", LeafKind::Server);
        request.dns_names = vec!["web1.example.test".into(), "WEB1".into()];
        request.ips = vec!["192.0.2.1".parse().unwrap()];
        assert_eq!(request.san_dns_names(), vec!["web1", "web1.example.test"]);
    }

    #[test]
    fn server_without_names_gets_its_own_name() {
        let request = LeafRequest::new("host1", LeafKind::Server);
        assert_eq!(request.san_dns_names(), vec!["host1".to_string()]);
        let client = LeafRequest::new("admin", LeafKind::Client);
        assert!(client.san_dns_names().is_empty());
    }

    #[test]
    fn leaf_params_never_use_library_defaults() {
        let now = OffsetDateTime::now_utc();
        let params = leaf_params(&LeafRequest::new("h", LeafKind::Server), now).unwrap();
        assert!(params.serial_number.is_some());
        assert_eq!(params.not_before, now - CLOCK_SKEW);
        assert!(params.distinguished_name.get(&DnType::CommonName).is_some());
        assert!(
            params
                .key_usages
                .contains(&KeyUsagePurpose::KeyEncipherment)
        );
    }
}
