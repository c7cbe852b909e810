//! The hasher of the document's indexes (sections by name, keys by name).
//!
//! Their keys come from the configuration files themselves, which the
//! administrator writes, so the flooding resistance of the standard
//! library's keyed SipHash buys nothing here — and with ~30 lookups per
//! program, SipHash was a quarter of loading 6000 programs (issue 19).
//! This is a multiply-rotate hash over 8-byte words: a few instructions
//! per word.

use std::hash::{BuildHasherDefault, Hasher};

/// A map keyed by names read from a document.
pub(crate) type Index = std::collections::HashMap<String, usize, BuildHasherDefault<WordHasher>>;

/// An odd constant with well-mixed bits (from the golden ratio's
/// fractional part): the multiply spreads every input bit over the high
/// bits, which the table uses first.
const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// See the module documentation.
#[derive(Default, Clone, Copy)]
pub(crate) struct WordHasher(u64);

impl WordHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for chunk in &mut words {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        // A product's low bits depend only on its factors' low bits, and
        // the table picks buckets by the low bits: fold the well-mixed
        // high half into them (without this, 1024 names used 32 buckets).
        self.0 ^ (self.0 >> 32)
    }
}

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, BuildHasherDefault};

    use super::*;

    fn hash(s: &str) -> u64 {
        BuildHasherDefault::<WordHasher>::default().hash_one(s)
    }

    #[test]
    fn names_that_differ_hash_apart() {
        // Same length, one byte apart, in each word position; and a
        // prefix (the `str` hash ends with a terminator byte).
        let names = [
            "program:p00001",
            "program:p00002",
            "program:q00001",
            "program:p0000",
            "program",
            "",
            "command",
            "commanc",
        ];
        let hashes: std::collections::HashSet<u64> = names.iter().map(|n| hash(n)).collect();
        assert_eq!(hashes.len(), names.len());
    }

    /// Names that differ only early (or only late) still spread over the
    /// table's low bits, which pick the bucket.
    #[test]
    fn low_bits_spread() {
        // 1024 random hashes fill about 647 of 1024 buckets.
        for pattern in ["program:p{:05}", "program:p{}", "p{}"] {
            let buckets: std::collections::HashSet<u64> = (0..1024)
                .map(|i| {
                    hash(
                        &pattern
                            .replace("{:05}", &format!("{i:05}"))
                            .replace("{}", &i.to_string()),
                    ) & 1023
                })
                .collect();
            assert!(
                buckets.len() > 580,
                "{pattern}: {} of 1024 buckets",
                buckets.len()
            );
        }
    }

    #[test]
    fn the_index_finds_what_it_holds() {
        let mut index = Index::default();
        for i in 0..10_000 {
            index.insert(format!("program:p{i:05}"), i);
        }
        assert!((0..10_000).all(|i| index.get(&format!("program:p{i:05}")) == Some(&i)));
        assert_eq!(index.get("program:p10000"), None);
    }
}
