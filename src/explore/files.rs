//! File plumbing for reports: SHA-256 of inputs, shell quoting of the command line and file-name
//! slugs. Atomic writes, no-clobber directories and time stamps come from [`crate::util`] and are
//! re-exported here, with their errors turned into [`ExploreError`]s.

use super::ExploreError;
use sha2::{Digest, Sha256};

pub use crate::util::date::{now_stamp, utc_stamp};
pub use crate::util::output::{StagedDir, atomic_write, atomic_write_with, prepare_dir};

impl From<crate::util::output::OutputError> for ExploreError {
    fn from(e: crate::util::output::OutputError) -> Self {
        use crate::util::output::OutputError as O;
        match e {
            O::Io { path, source } => ExploreError::Io { path, source },
            O::Write { path, message } => ExploreError::Write { path, message },
            O::Exists(path) => ExploreError::Exists(path),
            O::NotADirectory(_) | O::Unnamed(_) => ExploreError::Request(e.to_string()),
        }
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Joins arguments into a command line a POSIX shell would split back the same way.
pub fn shell_join<S: AsRef<str>>(args: &[S]) -> String {
    args.iter()
        .map(|a| {
            let a = a.as_ref();
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                a.to_string()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A file-name-safe form of a label: letters, digits, `-` and `_` kept, runs of anything else
/// become one `-`.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc() {
        // FIPS 180-2 appendix B.1.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn shell_quoting_and_slugs() {
        assert_eq!(
            shell_join(&[
                "archscope",
                "--sweep",
                "memory[dram].bytes_per_s=1..2:3",
                "it's"
            ]),
            r"archscope --sweep 'memory[dram].bytes_per_s=1..2:3' 'it'\''s'"
        );
        assert_eq!(slug("memory[dram].bytes_per_s"), "memory-dram-bytes_per_s");
    }

    #[test]
    fn output_errors_keep_the_explore_message() {
        let dir = std::env::temp_dir().join(format!("archscope-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        prepare_dir(&dir, false).unwrap();
        let e: ExploreError = prepare_dir(&dir, false).unwrap_err().into();
        assert!(matches!(e, ExploreError::Exists(_)));
        assert!(e.to_string().contains("or --out to choose another"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
