//! Output files that never leave a half-written file and never overwrite what the user has
//! without `--force`: atomic writes (a temporary sibling, then a rename), no-clobber files (a
//! hard link, which fails if the name appeared meanwhile) and report directories, which are
//! written in a temporary sibling and renamed into place when complete ([`StagedDir`]).

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
    /// A report directory given as `.`, `..` or `/`: it is replaced as a whole, so it needs a
    /// name of its own.
    #[error(
        "{0}: a report directory needs a name of its own (not `.`, `..` or `/`), e.g. out/run1"
    )]
    Unnamed(String),
}

fn io(path: &Path, source: std::io::Error) -> OutputError {
    OutputError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A temporary sibling of `path` that keeps its extension (some writers pick the format from it).
pub fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".tmp-{}-{name}", std::process::id()))
}

/// Has `write` fill a temporary sibling of `path` ([`temp_sibling`]) and returns its path; when
/// `write` fails, the sibling is removed and the error names `path`.
fn write_temp<E>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<PathBuf, OutputError>
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
    Ok(tmp)
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
    let tmp = write_temp(path, write)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(path, e)
    })
}

/// Writes bytes to `path` atomically (see [`atomic_write_with`]).
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    atomic_write_with(path, |tmp| write_synced(tmp, bytes))
}

/// Creates `path` holding `bytes`, synced to disk.
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
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
    write_new_with(path, force, |tmp| write_synced(tmp, bytes))
}

/// As [`write_new`], with `write` filling the temporary sibling (which keeps `path`'s
/// extension, for writers that pick the format from it).
pub fn write_new_with<E>(
    path: &Path,
    force: bool,
    write: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), OutputError>
where
    E: std::fmt::Display,
{
    refuse_existing(path, force)?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let tmp = write_temp(path, write)?;
    let result = (|| {
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

/// Prefix of a report directory being written (`.staging-NAME-PID`) and of one being replaced
/// (`.replaced-NAME-PID`), both siblings of the report.
const STAGING: &str = ".staging-";
const REPLACED: &str = ".replaced-";

/// Whether process `pid` is still running. Where `/proc` is not there to tell, every process is
/// taken as running, so nothing of a live run is ever removed.
fn running(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

/// A report directory written in a temporary sibling and renamed into place by
/// [`commit`](StagedDir::commit), so that a report directory is always complete: a run that
/// fails or is killed leaves no half-written report, and nothing that blocks a rerun. Staging
/// directories of runs that are no longer running are removed by the next run into the same
/// parent. With `force` an existing report is replaced as a whole (its old files do not
/// survive); without it an existing path is an error, also one that appears while writing.
#[derive(Debug)]
pub struct StagedDir {
    dir: PathBuf,
    staging: PathBuf,
    force: bool,
    done: bool,
}

impl StagedDir {
    /// Checks `dir` (an error if it exists and `force` is not set, or if it is a file), removes
    /// stale staging directories beside it, and creates this run's staging directory.
    pub fn begin(dir: &Path, force: bool) -> Result<StagedDir, OutputError> {
        if dir.exists() {
            if !dir.is_dir() {
                return Err(OutputError::NotADirectory(dir.display().to_string()));
            }
            if !force {
                return Err(OutputError::Exists(dir.display().to_string()));
            }
        }
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| OutputError::Unnamed(dir.display().to_string()))?;
        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        Self::clean_stale(parent, &name);
        let staging = parent.join(format!("{STAGING}{name}-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| io(&staging, e))?;
        }
        std::fs::create_dir(&staging).map_err(|e| io(&staging, e))?;
        Ok(StagedDir {
            dir: dir.to_path_buf(),
            staging,
            force,
            done: false,
        })
    }

    /// Removes `.staging-NAME-PID` and `.replaced-NAME-PID` siblings whose process has ended.
    fn clean_stale(parent: &Path, name: &str) {
        let Ok(entries) = std::fs::read_dir(parent) else {
            return;
        };
        for e in entries.flatten() {
            let file = e.file_name().to_string_lossy().into_owned();
            let pid = [STAGING, REPLACED]
                .iter()
                .filter_map(|p| file.strip_prefix(p))
                .filter_map(|rest| rest.strip_prefix(name))
                .filter_map(|rest| rest.strip_prefix('-'))
                .find_map(|pid| pid.parse::<u32>().ok());
            if let Some(pid) = pid
                && pid != std::process::id()
                && !running(pid)
            {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }

    /// Where to write the report's files until [`commit`](StagedDir::commit).
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// The report directory the files will be in.
    pub fn target(&self) -> &Path {
        &self.dir
    }

    /// Renames the staging directory into place; with `force`, an existing report is first
    /// moved aside and removed after.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        let dir = self.dir.clone();
        let mut old = None;
        if dir.exists() {
            if !self.force {
                return Err(OutputError::Exists(dir.display().to_string()));
            }
            if !dir.is_dir() {
                return Err(OutputError::NotADirectory(dir.display().to_string()));
            }
            let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
            let aside = dir.with_file_name(format!(
                "{REPLACED}{}-{}",
                name.unwrap_or_default(),
                std::process::id()
            ));
            std::fs::rename(&dir, &aside).map_err(|e| io(&dir, e))?;
            old = Some(aside);
        }
        if let Err(e) = std::fs::rename(&self.staging, &dir) {
            // Put the old report back rather than leave nothing.
            if let Some(aside) = &old {
                let _ = std::fs::rename(aside, &dir);
            }
            return Err(io(&dir, e));
        }
        self.done = true;
        if let Some(aside) = old {
            let _ = std::fs::remove_dir_all(aside);
        }
        Ok(dir)
    }
}

impl Drop for StagedDir {
    /// A report that was not committed (an error on the way) leaves nothing behind.
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
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
    fn staged_dirs_appear_whole_and_force_replaces_the_old_report() {
        let root = scratch("staged");
        let dir = root.join("report");
        // Nothing appears until the commit.
        let s = StagedDir::begin(&dir, false).unwrap();
        std::fs::write(s.path().join("a.txt"), "one").unwrap();
        assert!(!dir.exists());
        assert_eq!(s.commit().unwrap(), dir);
        assert_eq!(std::fs::read_to_string(dir.join("a.txt")).unwrap(), "one");
        // Without force an existing report is an error at the start.
        let e = StagedDir::begin(&dir, false).unwrap_err();
        assert!(matches!(e, OutputError::Exists(_)), "{e}");
        // With force the new report replaces the old one whole: a.txt does not survive.
        let s = StagedDir::begin(&dir, true).unwrap();
        std::fs::write(s.path().join("b.txt"), "two").unwrap();
        s.commit().unwrap();
        assert!(!dir.join("a.txt").exists());
        assert_eq!(std::fs::read_to_string(dir.join("b.txt")).unwrap(), "two");
        // A run that fails (the staged directory dropped) leaves nothing behind.
        let s = StagedDir::begin(&root.join("failed"), false).unwrap();
        let staging = s.path().to_path_buf();
        drop(s);
        assert!(!staging.exists() && !root.join("failed").exists());
        // A killed run's staging directory (a process that is not running) is removed by the
        // next run; pid u32::MAX is above Linux's pid_max (2^22), so it never runs.
        let stale = root.join(format!(".staging-report-{}", u32::MAX));
        std::fs::create_dir_all(stale.join("x")).unwrap();
        let s = StagedDir::begin(&dir, true).unwrap();
        if Path::new("/proc").is_dir() {
            assert!(!stale.exists(), "a stale staging directory is cleaned");
        }
        drop(s);
        let names: Vec<String> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".staging-report"))
            .collect();
        assert!(
            names.is_empty() || !Path::new("/proc").is_dir(),
            "{names:?}"
        );
        // `.` has no name of its own.
        let e = StagedDir::begin(Path::new("."), true).unwrap_err();
        assert!(matches!(e, OutputError::Unnamed(_)), "{e}");
        // A file where the report should go.
        std::fs::write(root.join("file"), "x").unwrap();
        let e = StagedDir::begin(&root.join("file"), true).unwrap_err();
        assert!(matches!(e, OutputError::NotADirectory(_)), "{e}");
        let _ = std::fs::remove_dir_all(&root);
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
