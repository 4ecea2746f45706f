//! Key algorithms the CA and its leaves can use, and key generation for them.

use std::fmt;
use std::str::FromStr;

use rcgen::{KeyPair, RsaKeySize};

/// The key algorithm of a CA or a leaf certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyAlgorithm {
    /// ECDSA on NIST P-256 with SHA-256: small, fast, accepted by libvirt and QEMU.
    #[default]
    EcdsaP256,
    /// ECDSA on NIST P-384 with SHA-384.
    EcdsaP384,
    /// RSA with a 3072-bit modulus and PKCS#1 v1.5 SHA-256 signatures.
    Rsa3072,
}

/// An algorithm name that vmctl does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown key algorithm `{0}`, expected ecdsa-p256, ecdsa-p384 or rsa-3072")]
pub struct UnknownAlgorithm(pub String);

impl KeyAlgorithm {
    /// Every algorithm, in the order they are offered to users.
    pub const ALL: [KeyAlgorithm; 3] = [Self::EcdsaP256, Self::EcdsaP384, Self::Rsa3072];

    /// The name used on the command line and in the index.
    pub fn name(self) -> &'static str {
        match self {
            Self::EcdsaP256 => "ecdsa-p256",
            Self::EcdsaP384 => "ecdsa-p384",
            Self::Rsa3072 => "rsa-3072",
        }
    }

    /// Generates a fresh key pair of this algorithm.
    pub fn generate(self) -> Result<KeyPair, rcgen::Error> {
        match self {
            Self::EcdsaP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
            Self::EcdsaP384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
            Self::Rsa3072 => KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_3072),
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KeyAlgorithm {
    type Err = UnknownAlgorithm;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| UnknownAlgorithm(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for alg in KeyAlgorithm::ALL {
            assert_eq!(alg.name().parse::<KeyAlgorithm>().unwrap(), alg);
        }
        assert!("dsa".parse::<KeyAlgorithm>().is_err());
    }
}
