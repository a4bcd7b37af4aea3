//! SHA-256 helpers: lowercase hex digests (indexes, caches) and the RECORD-style
//! `sha256=<urlsafe-base64-nopad>` form used inside wheels.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Lowercase hex encoding of arbitrary bytes.
pub fn hex_encode(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 0x0f) as usize] as char);
    }
    out
}

/// URL-safe base64 without padding, as RECORD files use.
pub fn urlsafe_b64_nopad(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex_encode(&Sha256::digest(data))
}

/// The RECORD-style hash of `data`: `sha256=<urlsafe-base64-nopad>`.
pub fn record_hash(data: &[u8]) -> String {
    format!("sha256={}", urlsafe_b64_nopad(&Sha256::digest(data)))
}

/// Incremental SHA-256 for data that arrives in chunks (downloads, zip entries).
#[derive(Clone, Default)]
pub struct Sha256Hasher {
    inner: Sha256,
    len: u64,
}

impl Sha256Hasher {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed more bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
        self.len += data.len() as u64;
    }

    /// Number of bytes fed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no byte was fed yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The raw 32-byte digest.
    pub fn finalize_bytes(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(&self.inner.finalize());
        out
    }

    /// The lowercase hex digest.
    pub fn finalize_hex(self) -> String {
        hex_encode(&self.finalize_bytes())
    }

    /// The RECORD-style `sha256=<urlsafe-base64-nopad>` digest.
    pub fn finalize_record(self) -> String {
        format!("sha256={}", urlsafe_b64_nopad(&self.finalize_bytes()))
    }
}

impl std::io::Write for Sha256Hasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // Python: base64.urlsafe_b64encode(hashlib.sha256(b"").digest()).rstrip(b"=")
        assert_eq!(
            record_hash(b""),
            "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
        );
    }

    #[test]
    fn streaming_matches_one_shot() {
        let mut h = Sha256Hasher::new();
        h.update(b"a");
        h.update(b"bc");
        assert_eq!(h.len(), 3);
        let h2 = h.clone();
        assert_eq!(h.finalize_hex(), sha256_hex(b"abc"));
        assert_eq!(h2.finalize_record(), record_hash(b"abc"));
    }
}
