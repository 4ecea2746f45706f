//! Private keys on disk: PKCS#8 PEM, optionally encrypted with a
//! passphrase (PBES2: scrypt and AES-256-CBC), and the passphrase itself,
//! which is wiped from memory when dropped and never printed.

use std::fmt;

use pkcs8::{EncryptedPrivateKeyInfo, LineEnding, PrivateKeyInfo, SecretDocument};
use rcgen::KeyPair;
use zeroize::Zeroizing;

const ENCRYPTED_LABEL: &str = "ENCRYPTED PRIVATE KEY";

/// A passphrase protecting the CA key. Its `Debug` output hides it.
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// Wraps a passphrase typed by a person or read from the environment.
    pub fn new(secret: String) -> Self {
        Self(Zeroizing::new(secret))
    }

    fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(..)")
    }
}

/// Why a key file could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The key is encrypted and no passphrase was given.
    #[error("the key is encrypted and no passphrase was given")]
    PassphraseRequired,
    /// Decryption failed: almost always a wrong passphrase.
    #[error("the passphrase does not decrypt the key")]
    WrongPassphrase,
    /// The file is not a PEM private key vmctl can read.
    #[error("not a PKCS#8, SEC1 or PKCS#1 private key in PEM")]
    Malformed,
    /// Encryption failed.
    #[error("could not encrypt the key")]
    Encrypt,
}

/// True when the PEM text holds an encrypted PKCS#8 key.
pub fn is_encrypted(pem: &str) -> bool {
    pem.contains(&format!("-----BEGIN {ENCRYPTED_LABEL}-----"))
}

/// Encodes `key` as PEM, encrypted when a passphrase is given.
pub fn encode(
    key: &KeyPair,
    passphrase: Option<&Passphrase>,
) -> Result<Zeroizing<String>, KeyFileError> {
    let Some(passphrase) = passphrase else {
        return Ok(Zeroizing::new(key.serialize_pem()));
    };
    let der = Zeroizing::new(key.serialize_der());
    let info = PrivateKeyInfo::try_from(der.as_slice()).map_err(|_| KeyFileError::Encrypt)?;
    let doc = info
        .encrypt(rand::rngs::OsRng, passphrase.as_bytes())
        .map_err(|_| KeyFileError::Encrypt)?;
    doc.to_pem(ENCRYPTED_LABEL, LineEnding::LF)
        .map_err(|_| KeyFileError::Encrypt)
}

/// Decodes a PEM private key, decrypting it when it is encrypted.
pub fn decode(pem: &str, passphrase: Option<&Passphrase>) -> Result<KeyPair, KeyFileError> {
    if !is_encrypted(pem) {
        return KeyPair::from_pem(pem).map_err(|_| KeyFileError::Malformed);
    }
    let passphrase = passphrase.ok_or(KeyFileError::PassphraseRequired)?;
    let (_, doc) = SecretDocument::from_pem(pem).map_err(|_| KeyFileError::Malformed)?;
    let info =
        EncryptedPrivateKeyInfo::try_from(doc.as_bytes()).map_err(|_| KeyFileError::Malformed)?;
    let plain = info
        .decrypt(passphrase.as_bytes())
        .map_err(|_| KeyFileError::WrongPassphrase)?;
    KeyPair::try_from(plain.as_bytes()).map_err(|_| KeyFileError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyAlgorithm;

    #[test]
    fn encrypted_key_round_trips_and_rejects_wrong_passphrase() {
        let key = KeyAlgorithm::EcdsaP256.generate().unwrap();
        let pass = Passphrase::new("correct horse".into());
        let pem = encode(&key, Some(&pass)).unwrap();
        assert!(is_encrypted(&pem));

        let back = decode(&pem, Some(&pass)).unwrap();
        assert_eq!(back.public_key_raw(), key.public_key_raw());

        let wrong = Passphrase::new("battery staple".into());
        assert!(matches!(
            decode(&pem, Some(&wrong)),
            Err(KeyFileError::WrongPassphrase)
        ));
        assert!(matches!(
            decode(&pem, None),
            Err(KeyFileError::PassphraseRequired)
        ));
    }

    #[test]
    fn passphrase_debug_hides_secret() {
        let pass = Passphrase::new("hunter2".into());
        assert!(!format!("{pass:?}").contains("hunter2"));
    }
}
