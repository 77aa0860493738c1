//! Tables: results as polars DataFrames, written as Parquet and CSV.
//!
//! Columns: `point_id`, one column per axis (hardware fields by their path, e.g.
//! `memory[dram].bytes_per_s`; knobs such as `quant`, `decode_unit`, `context_tokens`), one per
//! metric (names carry units: `decode_latency_s`, `energy_per_token_j`, `memory_bytes`), one per
//! label (`decode_bound`), then `feasible`, `infeasible_reason` and, in reports, `on_front`.
//! A shard part stores the run's [`ExploreSpec`] as JSON in the Parquet file metadata under
//! [`SPEC_KEY`], so `merge` needs nothing but the parts, and under [`CHECKSUM_KEY`] the SHA-256
//! of the file's data: every byte before the footer (the magic, the column chunks and their
//! page headers). `merge` recomputes it before any page is decoded, so a part truncated, edited
//! or damaged after it was written is refused before the Parquet reader sees its pages (which
//! can make that reader allocate without bound). The footer itself is read by polars, whose
//! panics on a corrupted footer [`read_part`] turns into an error naming the file.

use super::{Analysis, ExploreError, ExploreSpec, Outcome, Results, Session, files};
use crate::search::{Point, Values};
use polars::prelude::*;
use std::path::{Path, PathBuf};

/// Parquet metadata key holding the spec of the run a part belongs to.
pub const SPEC_KEY: &str = "archscope.explore.spec";

/// Parquet metadata key holding the SHA-256 (hex) of a part's data: the file's bytes before
/// its footer.
pub const CHECKSUM_KEY: &str = "archscope.explore.sha256";

/// A Parquet file ends with its footer, the footer's length (4 bytes, little-endian) and `PAR1`.
const PARQUET_MAGIC: &[u8; 4] = b"PAR1";

/// Where the data of the Parquet file `path` ends (its footer starts), from the file's last
/// 8 bytes; an error says why the file cannot be a Parquet file.
fn data_end(path: &Path) -> Result<u64, String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let len = f.metadata().map_err(|e| e.to_string())?.len();
    if len < 12 {
        return Err(format!("{len} bytes, shorter than any Parquet file"));
    }
    let mut tail = [0u8; 8];
    f.seek(SeekFrom::End(-8)).map_err(|e| e.to_string())?;
    f.read_exact(&mut tail).map_err(|e| e.to_string())?;
    if &tail[4..] != PARQUET_MAGIC {
        return Err("it does not end with the Parquet magic `PAR1`".into());
    }
    let footer = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    len.checked_sub(8 + footer)
        .filter(|&end| end >= 4)
        .ok_or_else(|| format!("its footer of {footer} bytes is longer than the file"))
}

/// The SHA-256 (hex) of the data of the Parquet file `path` (every byte before its footer),
/// streamed: the checksum a part carries.
pub fn file_checksum(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let end = data_end(path)?;
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut h = <sha2::Sha256 as sha2::Digest>::new();
    let mut r = std::io::BufReader::new(f).take(end);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = r.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        sha2::Digest::update(&mut h, &buf[..n]);
    }
    Ok(sha2::Digest::finalize(h)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Runs a Parquet read, turning a panic of polars on a corrupted file into `Err(message)`.
fn guarded<T>(read: impl FnOnce() -> PolarsResult<T>) -> Result<T, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)) {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(payload) => Err(payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .map_or_else(
                || "polars failed on it".to_string(),
                |m| format!("polars failed on it ({m})"),
            )),
    }
}

fn table_err(e: PolarsError) -> ExploreError {
    ExploreError::Table(e.to_string())
}

/// A DataFrame of `rows` of `results`. With an analysis, `feasible` and `infeasible_reason`
/// include the limits and `on_front` is added; without, they are the evaluator's own verdict.
pub fn frame<'a>(
    session: &Session,
    results: &'a Results,
    analysis: Option<&'a Analysis>,
    rows: &[usize],
) -> Result<DataFrame, ExploreError> {
    let point = |j: usize| &results.points[rows[j]];
    let outcome = |j: usize| &results.outcomes[rows[j]];
    match analysis {
        Some(a) => {
            let verdict = |j: usize| -> Verdict<'a> {
                let i = rows[j];
                (a.feasible[i], a.reasons[i].as_deref(), a.on_front[i])
            };
            frame_of(session, rows.len(), point, outcome, Some(&verdict))
        }
        None => frame_of(session, rows.len(), point, outcome, None),
    }
}

/// A row's verdict in a report's tables: feasible, why not (limits included), on the front.
pub type Verdict<'a> = (bool, Option<&'a str>, bool);

/// A DataFrame of `n` rows, row `j` being `point(j)` with `outcome(j)`. With `verdict`, its
/// `feasible`, `infeasible_reason` and `on_front` columns; without, the evaluator's own verdict
/// and no `on_front`.
pub fn frame_of<'a>(
    session: &Session,
    n: usize,
    point: impl Fn(usize) -> &'a Point,
    outcome: impl Fn(usize) -> &'a Outcome,
    verdict: Option<&dyn Fn(usize) -> Verdict<'a>>,
) -> Result<DataFrame, ExploreError> {
    let mut cols: Vec<Column> = Vec::new();
    cols.push(Column::new(
        "point_id".into(),
        (0..n).map(|j| point(j).id).collect::<Vec<u64>>(),
    ));
    for (a, axis) in session.space.axes.iter().enumerate() {
        let name: PlSmallStr = axis.name.as_str().into();
        let d = |j: usize| point(j).digits[a] as usize;
        cols.push(match &axis.values {
            Values::Names(v) => Column::new(
                name,
                (0..n).map(|j| v[d(j)].as_str()).collect::<Vec<&str>>(),
            ),
            Values::Ints(v) => Column::new(name, (0..n).map(|j| v[d(j)]).collect::<Vec<u64>>()),
            Values::Reals(v) => Column::new(name, (0..n).map(|j| v[d(j)]).collect::<Vec<f64>>()),
        });
    }
    for (k, m) in session.metrics().iter().enumerate() {
        cols.push(Column::new(
            m.name.into(),
            (0..n)
                .map(|j| outcome(j).metrics[k])
                .collect::<Vec<Option<f64>>>(),
        ));
    }
    for (k, l) in session.evaluator.labels().iter().enumerate() {
        cols.push(Column::new(
            (*l).into(),
            (0..n)
                .map(|j| {
                    let s = outcome(j).labels[k].as_str();
                    (!s.is_empty()).then_some(s)
                })
                .collect::<Vec<Option<&str>>>(),
        ));
    }
    let (feasible, reasons): (Vec<bool>, Vec<Option<&str>>) = match verdict {
        Some(v) => (0..n).map(|j| (v(j).0, v(j).1)).unzip(),
        None => (0..n)
            .map(|j| {
                let r = outcome(j).infeasible.as_deref();
                (r.is_none(), r)
            })
            .unzip(),
    };
    cols.push(Column::new("feasible".into(), feasible));
    cols.push(Column::new("infeasible_reason".into(), reasons));
    if let Some(v) = verdict {
        cols.push(Column::new(
            "on_front".into(),
            (0..n).map(|j| v(j).2).collect::<Vec<bool>>(),
        ));
    }
    DataFrame::new(n, cols).map_err(table_err)
}

/// Rows gathered before a streamed Parquet file gets a row group: polars' own default for a
/// table written whole, so a streamed file is laid out like one written at once.
pub const ROW_GROUP: usize = 512 * 512;

/// What a streamed part's footer holds under [`CHECKSUM_KEY`] until the data is complete: as
/// long as a SHA-256 in hex (64 characters), so the checksum then takes its place byte for byte
/// and the footer keeps its length and layout.
const CHECKSUM_PLACEHOLDER: &str =
    "archscope-checksum-placeholder-000000000000000000000000000000000";

/// A file written into a temporary sibling of its path and renamed into place when complete.
struct Staged {
    path: PathBuf,
    tmp: PathBuf,
}

impl Staged {
    fn new(path: &Path) -> Staged {
        Staged {
            path: path.to_path_buf(),
            tmp: crate::util::output::temp_sibling(path),
        }
    }

    /// The error of a failed write of the file; the temporary file is removed.
    fn err(&self, message: impl std::fmt::Display) -> ExploreError {
        let _ = std::fs::remove_file(&self.tmp);
        ExploreError::Write {
            path: self.path.display().to_string(),
            message: message.to_string(),
        }
    }

    /// Creates the temporary file.
    fn create(&self) -> Result<std::fs::File, ExploreError> {
        std::fs::File::create(&self.tmp).map_err(|e| self.err(e))
    }

    /// Moves the complete temporary file into place.
    fn commit(&self) -> Result<(), ExploreError> {
        std::fs::rename(&self.tmp, &self.path).map_err(|e| self.err(e))
    }
}

/// A Parquet file written chunk by chunk (row groups of [`ROW_GROUP`] rows) into a temporary
/// sibling, renamed into place by [`finish`](ParquetStream::finish). With a spec (a part, or a
/// report's `points.parquet`), its footer carries the spec and the SHA-256 of the data: the
/// footer is written with a placeholder of the checksum's length, the data (every byte before
/// the footer) is then hashed and the placeholder overwritten in place.
pub struct ParquetStream {
    file: Staged,
    spec: Option<String>,
    writer: Option<polars::io::parquet::write::BatchedWriter<std::io::BufWriter<std::fs::File>>>,
    pending: Option<DataFrame>,
}

impl ParquetStream {
    /// A stream into `path`; `spec` is stored in the metadata with the checksum.
    pub fn create(path: &Path, spec: Option<&ExploreSpec>) -> Result<ParquetStream, ExploreError> {
        let spec = spec
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| ExploreError::Table(e.to_string()))?;
        Ok(ParquetStream {
            file: Staged::new(path),
            spec,
            writer: None,
            pending: None,
        })
    }

    /// Appends rows (every chunk with the same columns).
    pub fn add(&mut self, df: DataFrame) -> Result<(), ExploreError> {
        let stacked = match &mut self.pending {
            Some(p) => p.vstack_mut_owned(df).map(|_| ()),
            None => {
                self.pending = Some(df);
                Ok(())
            }
        };
        stacked.map_err(|e| self.file.err(e))?;
        if self
            .pending
            .as_ref()
            .is_some_and(|p| p.height() >= ROW_GROUP)
        {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the pending rows as one row group (the writer opens on the first).
    fn flush(&mut self) -> Result<(), ExploreError> {
        let Some(mut df) = self.pending.take() else {
            return Ok(());
        };
        df.rechunk_mut_par();
        if self.writer.is_none() {
            let f = self.file.create()?;
            let kv = self.spec.as_ref().map(|spec| {
                KeyValueMetadata::from_static(vec![
                    (SPEC_KEY.to_string(), spec.clone()),
                    (CHECKSUM_KEY.to_string(), CHECKSUM_PLACEHOLDER.to_string()),
                ])
            });
            let w = ParquetWriter::new(std::io::BufWriter::new(f))
                .with_key_value_metadata(kv)
                .batched(df.schema())
                .map_err(|e| self.file.err(e))?;
            self.writer = Some(w);
        }
        let w = self.writer.as_mut().expect("opened above");
        w.write_batch(&df)
            .map_err(|e| e.to_string())
            .map_err(|e| self.file.err(e))
    }

    /// Writes the footer, puts the checksum in it (with a spec) and moves the file into place;
    /// `empty` gives the columns when no row was added.
    pub fn finish(mut self, empty: DataFrame) -> Result<(), ExploreError> {
        if self.writer.is_none() && self.pending.is_none() {
            self.pending = Some(empty);
        }
        self.flush()?;
        let w = self.writer.take().expect("flushed above");
        let ended = w.finish();
        drop(w);
        ended.map_err(|e| self.file.err(e))?;
        if self.spec.is_some() {
            self.seal().map_err(|e| self.file.err(e))?;
        }
        self.file.commit()
    }

    /// Overwrites the checksum placeholder in the footer with the SHA-256 of the data.
    fn seal(&self) -> Result<(), String> {
        use std::io::{Read, Seek, SeekFrom, Write};
        let sum = file_checksum(&self.file.tmp)?;
        let end = data_end(&self.file.tmp)?;
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.file.tmp)
            .map_err(|e| e.to_string())?;
        let mut footer = Vec::new();
        f.seek(SeekFrom::Start(end)).map_err(|e| e.to_string())?;
        f.read_to_end(&mut footer).map_err(|e| e.to_string())?;
        let needle = CHECKSUM_PLACEHOLDER.as_bytes();
        let at: Vec<usize> = footer
            .windows(needle.len())
            .enumerate()
            .filter(|(_, w)| *w == needle)
            .map(|(i, _)| i)
            .collect();
        let [at] = at[..] else {
            return Err(format!(
                "the footer holds the checksum placeholder {} times, not once",
                at.len()
            ));
        };
        f.seek(SeekFrom::Start(end + at as u64))
            .map_err(|e| e.to_string())?;
        f.write_all(sum.as_bytes()).map_err(|e| e.to_string())?;
        f.sync_all().map_err(|e| e.to_string())?;
        drop(f);
        match file_checksum(&self.file.tmp)? {
            again if again == sum => Ok(()),
            again => Err(format!(
                "the data changed while its checksum was written (sha256 {sum}, then {again})"
            )),
        }
    }
}

impl Drop for ParquetStream {
    /// A stream dropped before it finished (an error on the way) leaves no temporary file.
    fn drop(&mut self) {
        if self.writer.is_some() {
            self.writer = None;
            let _ = std::fs::remove_file(&self.file.tmp);
        }
    }
}

/// A CSV file written chunk by chunk (the header with the first) into a temporary sibling,
/// renamed into place by [`finish`](CsvStream::finish).
pub struct CsvStream {
    file: Staged,
    out: Option<std::io::BufWriter<std::fs::File>>,
}

impl CsvStream {
    /// A stream into `path`.
    pub fn create(path: &Path) -> CsvStream {
        CsvStream {
            file: Staged::new(path),
            out: None,
        }
    }

    /// Appends rows; the first call writes the header.
    pub fn add(&mut self, df: &mut DataFrame) -> Result<(), ExploreError> {
        let first = self.out.is_none();
        if first {
            let f = self.file.create()?;
            self.out = Some(std::io::BufWriter::new(f));
        }
        let out = self.out.as_mut().expect("opened above");
        let r = CsvWriter::new(out).include_header(first).finish(df);
        r.map_err(|e| self.file.err(e))
    }

    /// Flushes and moves the file into place; `empty` gives the header when no row was added.
    pub fn finish(mut self, mut empty: DataFrame) -> Result<(), ExploreError> {
        if self.out.is_none() {
            self.add(&mut empty)?;
        }
        let out = self.out.take().expect("opened above");
        let f = out.into_inner().map_err(|e| self.file.err(e.error()))?;
        f.sync_all().map_err(|e| self.file.err(e))?;
        drop(f);
        self.file.commit()
    }
}

impl Drop for CsvStream {
    /// A stream dropped before it finished (an error on the way) leaves no temporary file.
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(&self.file.tmp);
        }
    }
}

/// Writes `df` as Parquet, atomically; a part (`spec` given) carries the spec and the checksum
/// of its data in the file metadata. The data is written once without the checksum to learn
/// it, then again with it: the writer lays out the same data the same way, and the second
/// file's checksum is checked against the first.
pub fn write_parquet(
    path: &Path,
    df: &mut DataFrame,
    spec: Option<&ExploreSpec>,
) -> Result<(), ExploreError> {
    let write = |tmp: &Path, df: &mut DataFrame, kv: Option<Vec<(String, String)>>| {
        let f = std::fs::File::create(tmp).map_err(|e| e.to_string())?;
        ParquetWriter::new(f)
            .with_key_value_metadata(kv.map(KeyValueMetadata::from_static))
            .finish(df)
            .map_err(|e| e.to_string())
            .map(|_| ())
    };
    let Some(spec) = spec else {
        return Ok(files::atomic_write_with(path, |tmp| write(tmp, df, None))?);
    };
    let spec_kv = (
        SPEC_KEY.to_string(),
        serde_json::to_string(spec).map_err(|e| ExploreError::Table(e.to_string()))?,
    );
    Ok(files::atomic_write_with(
        path,
        |tmp| -> Result<(), String> {
            write(tmp, df, Some(vec![spec_kv.clone()]))?;
            let sum = file_checksum(tmp)?;
            write(
                tmp,
                df,
                Some(vec![
                    spec_kv.clone(),
                    (CHECKSUM_KEY.to_string(), sum.clone()),
                ]),
            )?;
            match file_checksum(tmp)? {
                again if again == sum => Ok(()),
                again => Err(format!(
                    "the Parquet writer laid out the same table differently (sha256 {sum}, then {again})"
                )),
            }
        },
    )?)
}

/// Writes `df` as CSV with a header, atomically.
pub fn write_csv(path: &Path, df: &mut DataFrame) -> Result<(), ExploreError> {
    Ok(files::atomic_write_with(
        path,
        |tmp| -> Result<(), String> {
            let f = std::fs::File::create(tmp).map_err(|e| e.to_string())?;
            CsvWriter::new(f)
                .include_header(true)
                .finish(df)
                .map_err(|e| e.to_string())
        },
    )?)
}

/// File name of shard `i` of `n`.
pub fn part_name(i: u32, n: u32) -> String {
    format!("part-{i}-of-{n}.parquet")
}

/// Writes this shard's results as `part-I-of-N.parquet` in `dir`; an existing part is only
/// replaced with `force`.
pub fn write_part(
    session: &Session,
    results: &Results,
    dir: &Path,
    force: bool,
) -> Result<PathBuf, ExploreError> {
    let s = session.spec.shard;
    let path = dir.join(part_name(s.index, s.count));
    if path.exists() && !force {
        return Err(ExploreError::Exists(path.display().to_string()));
    }
    let rows: Vec<usize> = (0..results.points.len()).collect();
    let mut df = frame(session, results, None, &rows)?;
    write_parquet(&path, &mut df, Some(&session.spec))?;
    Ok(path)
}

/// Reads a part: its spec (from the metadata) and its table. The checksum of its data must
/// match the one in its metadata before any page is decoded.
pub fn read_part(path: &Path) -> Result<(ExploreSpec, DataFrame), ExploreError> {
    let f = std::fs::File::open(path).map_err(|e| ExploreError::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    let bad = |why: String| ExploreError::Merge(format!("{}: {why}", path.display()));
    data_end(path).map_err(|e| bad(format!("not a Parquet file: {e}")))?;
    let mut reader = ParquetReader::new(f);
    let meta = guarded(|| reader.get_metadata().cloned())
        .map_err(|e| bad(format!("not a Parquet file: {e}")))?;
    let value = |key: &str| {
        meta.key_value_metadata()
            .as_ref()
            .and_then(|kv| kv.iter().find(|k| k.key == key))
            .and_then(|k| k.value.clone())
    };
    let text = value(SPEC_KEY)
        .ok_or_else(|| bad("not an archscope part (no run spec in its metadata)".into()))?;
    let sum = value(CHECKSUM_KEY).ok_or_else(|| {
        bad(format!(
            "no `{CHECKSUM_KEY}` checksum in its metadata (a part of an older archscope: rerun that shard)"
        ))
    })?;
    let found = file_checksum(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    if found != sum {
        return Err(bad(format!(
            "its data does not match the checksum in its metadata (sha256 {found}, expected {sum}): the file was changed or damaged after it was written; rerun that shard"
        )));
    }
    let spec: ExploreSpec =
        serde_json::from_str(&text).map_err(|e| bad(format!("unreadable run spec: {e}")))?;
    // Checked before anything is sized by it (merge keeps one slot per shard).
    spec.shard
        .check()
        .map_err(|why| bad(format!("run spec in its metadata: {why}")))?;
    let df = guarded(|| reader.finish()).map_err(|e| bad(format!("cannot read the table: {e}")))?;
    Ok((spec, df))
}

/// Points and outcomes of a part's table, read by column name.
pub fn outcomes_from_part(
    session: &Session,
    df: &DataFrame,
) -> Result<(Vec<Point>, Vec<Outcome>), ExploreError> {
    let col = |name: &str| {
        df.column(name)
            .map_err(|e| ExploreError::Merge(format!("part lacks column `{name}`: {e}")))
    };
    let ids: Vec<u64> = col("point_id")?
        .u64()
        .map_err(table_err)?
        .iter()
        .map(|v| v.ok_or_else(|| ExploreError::Merge("null point_id".into())))
        .collect::<Result<_, _>>()?;
    let total = session.space.total()?;
    if let Some(bad) = ids.iter().find(|&&id| id >= total) {
        return Err(ExploreError::Merge(format!(
            "point_id {bad} is outside the run's space of {total} points"
        )));
    }
    let metrics: Vec<Vec<Option<f64>>> = session
        .metrics()
        .iter()
        .map(|m| {
            Ok(col(m.name)?
                .f64()
                .map_err(table_err)?
                .iter()
                .collect::<Vec<_>>())
        })
        .collect::<Result<_, ExploreError>>()?;
    let labels: Vec<Vec<String>> = session
        .evaluator
        .labels()
        .iter()
        .map(|l| {
            Ok(col(l)?
                .str()
                .map_err(table_err)?
                .iter()
                .map(|s| s.unwrap_or("").to_string())
                .collect::<Vec<_>>())
        })
        .collect::<Result<_, ExploreError>>()?;
    let reasons: Vec<Option<String>> = col("infeasible_reason")?
        .str()
        .map_err(table_err)?
        .iter()
        .map(|s| s.map(str::to_string))
        .collect();
    let points = ids.iter().map(|&id| session.space.point(id)).collect();
    let outcomes = (0..ids.len())
        .map(|r| Outcome {
            metrics: metrics.iter().map(|c| c[r]).collect(),
            labels: labels.iter().map(|c| c[r].clone()).collect(),
            infeasible: reasons[r].clone(),
        })
        .collect();
    Ok((points, outcomes))
}
