//! File plumbing for reports: atomic writes (temp file, then rename), output directories that are
//! never overwritten without `--force`, SHA-256 of inputs, UTC time stamps for directory names and
//! shell quoting of the command line.

use super::ExploreError;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

fn io(path: &Path, source: std::io::Error) -> ExploreError {
    ExploreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A temporary sibling of `path` that keeps its extension (some writers pick the format from it).
fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".tmp-{}-{name}", std::process::id()))
}

/// Writes `path` atomically: `write` fills a temporary sibling, which is then renamed over
/// `path`, so readers never see a half-written file.
pub fn atomic_write_with<E>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), ExploreError>
where
    E: std::fmt::Display,
{
    let tmp = temp_sibling(path);
    if let Err(e) = write(&tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(ExploreError::Write {
            path: path.display().to_string(),
            message: e.to_string(),
        });
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(path, e)
    })
}

/// Writes bytes to `path` atomically.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), ExploreError> {
    atomic_write_with(path, |tmp| -> std::io::Result<()> {
        let mut f = std::fs::File::create(tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })
}

/// Creates the report directory `dir`. An existing directory is an error unless `force`, in
/// which case files are written over it (other files in it are left alone).
pub fn prepare_dir(dir: &Path, force: bool) -> Result<(), ExploreError> {
    if dir.exists() {
        if !force {
            return Err(ExploreError::Exists(dir.display().to_string()));
        }
        if !dir.is_dir() {
            return Err(ExploreError::Request(format!(
                "{} exists and is not a directory",
                dir.display()
            )));
        }
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `YYYYMMDD-HHMMSS` in UTC for a time in seconds since the Unix epoch. The date part is Howard
/// Hinnant's `civil_from_days` (proleptic Gregorian calendar).
pub fn utc_stamp(unix_s: u64) -> String {
    let days = (unix_s / 86_400) as i64;
    let secs = unix_s % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!(
        "{y:04}{mo:02}{d:02}-{:02}{:02}{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The current UTC stamp (see [`utc_stamp`]).
pub fn now_stamp() -> String {
    let s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc_stamp(s)
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
    fn utc_stamps() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        // 2000-02-29 12:34:56 UTC = 951827696.
        assert_eq!(utc_stamp(951_827_696), "20000229-123456");
        // 2024-12-31 23:59:59 UTC = 1735689599.
        assert_eq!(utc_stamp(1_735_689_599), "20241231-235959");
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
    fn atomic_write_replaces_and_dirs_need_force() {
        let dir = std::env::temp_dir().join(format!("archscope-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        prepare_dir(&dir, false).unwrap();
        assert!(matches!(
            prepare_dir(&dir, false),
            Err(ExploreError::Exists(_))
        ));
        prepare_dir(&dir, true).unwrap();
        let f = dir.join("a.txt");
        atomic_write(&f, b"one").unwrap();
        atomic_write(&f, b"two").unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"two");
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1, "no temp files left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
