//! Output files that never leave a half-written file and never overwrite what the user has
//! without `--force`: atomic writes (a temporary sibling, then a rename), no-clobber files (a
//! hard link, which fails if the name appeared meanwhile) and report directories.

use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why an output could not be written. Every variant names the path.
#[derive(Debug, Error)]
pub enum OutputError {
    /// The file system refused.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The writer that fills the file failed (a table, plot or page encoder).
    #[error("{path}: cannot write: {message}")]
    Write {
        /// The file.
        path: String,
        /// Cause.
        message: String,
    },
    /// The path exists and `--force` was not given.
    #[error("{0} already exists; pass --force to write over it")]
    Exists(String),
    /// An output directory's path is a file.
    #[error("{0} exists and is not a directory")]
    NotADirectory(String),
}

fn io(path: &Path, source: std::io::Error) -> OutputError {
    OutputError::Io {
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
) -> Result<(), OutputError>
where
    E: std::fmt::Display,
{
    let tmp = temp_sibling(path);
    if let Err(e) = write(&tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(OutputError::Write {
            path: path.display().to_string(),
            message: e.to_string(),
        });
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(path, e)
    })
}

/// Writes bytes to `path` atomically (see [`atomic_write_with`]).
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    atomic_write_with(path, |tmp| -> std::io::Result<()> {
        let mut f = std::fs::File::create(tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })
}

/// An error when `path` exists and `force` is not set: for commands that would spend time
/// before writing, so they refuse at once rather than at the end.
pub fn refuse_existing(path: &Path, force: bool) -> Result<(), OutputError> {
    if !force && path.exists() {
        return Err(OutputError::Exists(path.display().to_string()));
    }
    Ok(())
}

/// Writes bytes to `path` atomically, creating its directory. Without `force` an existing `path`
/// is an error, also one that appears while writing (the temporary file is hard-linked into
/// place, which fails on an existing name); with `force` it is replaced.
pub fn write_new(path: &Path, bytes: &[u8], force: bool) -> Result<(), OutputError> {
    refuse_existing(path, force)?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let tmp = temp_sibling(path);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        if force {
            std::fs::rename(&tmp, path)
        } else {
            std::fs::hard_link(&tmp, path).and_then(|_| std::fs::remove_file(&tmp))
        }
    })();
    match result {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Err(OutputError::Exists(path.display().to_string()))
            } else {
                Err(io(path, e))
            }
        }
    }
}

/// Creates the output directory `dir`. An existing directory is an error unless `force`, in
/// which case files are written over it (other files in it are left alone).
pub fn prepare_dir(dir: &Path, force: bool) -> Result<(), OutputError> {
    if dir.exists() {
        if !force {
            return Err(OutputError::Exists(dir.display().to_string()));
        }
        if !dir.is_dir() {
            return Err(OutputError::NotADirectory(dir.display().to_string()));
        }
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("archscope-util-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn atomic_write_replaces_and_dirs_need_force() {
        let dir = scratch("atomic");
        prepare_dir(&dir, false).unwrap();
        assert!(matches!(
            prepare_dir(&dir, false),
            Err(OutputError::Exists(_))
        ));
        prepare_dir(&dir, true).unwrap();
        let f = dir.join("a.txt");
        atomic_write(&f, b"one").unwrap();
        atomic_write(&f, b"two").unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"two");
        assert!(matches!(
            prepare_dir(&f, true),
            Err(OutputError::NotADirectory(_))
        ));
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1, "no temp files left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn write_new_refuses_to_clobber_without_force() {
        let dir = scratch("new");
        let f = dir.join("sub").join("host.toml");
        write_new(&f, b"one", false).unwrap();
        let e = write_new(&f, b"two", false).unwrap_err();
        assert!(e.to_string().contains("pass --force"), "{e}");
        assert_eq!(std::fs::read(&f).unwrap(), b"one");
        write_new(&f, b"two", true).unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"two");
        let left: Vec<_> = std::fs::read_dir(f.parent().unwrap()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temp files left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
