//! OFA's latency look-up tables: YAML files, one per input resolution, mapping a layer key to
//! measured `{count, mean, std}` (ms; ProxylessNAS tables have `var` instead of `std`).
//!
//! A network's latency is the plain sum of its layers' means, as in OFA's
//! `LatencyTable.predict_network_latency`: the stem conv (`Conv`), every MBConv
//! (`expanded_conv`), the final expand (`Conv_1`), and the head (`AvgPool2D`, `Conv_2`, `Logits`
//! for MBv3; `Logits` over the feature map for Proxyless). Keys follow OFA's format:
//! `expanded_conv-input:HxHxC-output:HxHxC-expand:E-kernel:K-stride:S-idskip:I[-se:S-hs:H]`,
//! where `E` is the mid channel count in MBv3 tables and the expand ratio in Proxyless tables
//! (the two styles are told apart by the presence of `-se:` in the keys).

use super::NasError;
use super::net::{Act, Net, Segment};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

#[derive(Deserialize)]
struct Entry {
    mean: f64,
}

/// Which key convention a table uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LutStyle {
    /// OFA MBv3 tables: `expand:` is the mid width, keys carry `se:` and `hs:`.
    Mbv3,
    /// ProxylessNAS tables: `expand:` is the expand ratio, no `se:`/`hs:`.
    Proxyless,
}

/// A latency look-up table covering one or more resolutions.
#[derive(Clone, Debug)]
pub struct LatencyTable {
    /// Mean latency (ms) per key, per resolution.
    pub tables: BTreeMap<u32, HashMap<String, f64>>,
    /// The file each resolution came from.
    pub files: BTreeMap<u32, String>,
    /// Key convention.
    pub style: LutStyle,
}

fn parse_one(text: &str, path: &str) -> Result<(u32, HashMap<String, f64>), NasError> {
    let raw: BTreeMap<String, Entry> = serde_saphyr::from_str(text).map_err(|e| {
        NasError::invalid(
            path,
            "yaml",
            format!("expected a map of `key: {{count, mean, std}}`: {e}"),
        )
    })?;
    let mut map = HashMap::with_capacity(raw.len());
    let mut res = None;
    for (k, v) in raw {
        if !(v.mean.is_finite() && v.mean >= 0.0) {
            return Err(NasError::invalid(
                path,
                &k,
                format!("mean {} is not a finite non-negative time", v.mean),
            ));
        }
        if let Some(rest) = k.strip_prefix("Conv-input:") {
            // Conv-input:224x224x3-output:...: the stem fixes the resolution of the file
            let r = rest.split('x').next().and_then(|s| s.parse::<u32>().ok());
            res = match (res, r) {
                (None, Some(r)) => Some(r),
                (Some(a), Some(b)) if a == b => Some(a),
                _ => {
                    return Err(NasError::invalid(
                        path,
                        &k,
                        "a second or malformed stem `Conv-input:RxRx3` entry",
                    ));
                }
            };
        }
        map.insert(k, v.mean);
    }
    let r = res.ok_or_else(|| {
        NasError::invalid(
            path,
            "Conv-input",
            "no stem entry `Conv-input:RxRx3-...` to tell the resolution",
        )
    })?;
    Ok((r, map))
}

impl LatencyTable {
    /// Reads one or more table files (one resolution each). A directory is read as all its
    /// `*.yaml` files.
    pub fn load(paths: &[&Path]) -> Result<LatencyTable, NasError> {
        let mut files = Vec::new();
        for p in paths {
            if p.is_dir() {
                let rd = std::fs::read_dir(p).map_err(|source| NasError::Io {
                    path: p.display().to_string(),
                    action: "cannot list",
                    source,
                })?;
                let mut v: Vec<_> = rd
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|f| f.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                    .collect();
                v.sort();
                files.extend(v);
            } else {
                files.push(p.to_path_buf());
            }
        }
        let texts = files
            .iter()
            .map(|f| Ok((f.display().to_string(), NasError::read(f)?)))
            .collect::<Result<Vec<_>, NasError>>()?;
        let refs: Vec<(&str, &str)> = texts
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        Self::from_texts(&refs)
    }

    /// Builds a table from `(path, yaml text)` pairs.
    pub fn from_texts(texts: &[(&str, &str)]) -> Result<LatencyTable, NasError> {
        if texts.is_empty() {
            return Err(NasError::invalid(
                "latency table",
                "files",
                "no table files given",
            ));
        }
        let mut t = LatencyTable {
            tables: BTreeMap::new(),
            files: BTreeMap::new(),
            style: LutStyle::Mbv3,
        };
        let mut styles = Vec::new();
        for (path, text) in texts {
            let (r, map) = parse_one(text, path)?;
            if let Some(prev) = t.files.get(&r) {
                return Err(NasError::invalid(
                    *path,
                    "Conv-input",
                    format!("resolution {r} is also given by {prev}"),
                ));
            }
            styles.push(if map.keys().any(|k| k.contains("-se:")) {
                LutStyle::Mbv3
            } else {
                LutStyle::Proxyless
            });
            t.tables.insert(r, map);
            t.files.insert(r, path.to_string());
        }
        if styles.windows(2).any(|w| w[0] != w[1]) {
            return Err(NasError::invalid(
                texts[0].0,
                "keys",
                "the files mix MBv3 and ProxylessNAS key styles; pass the tables of one family explicitly",
            ));
        }
        t.style = styles[0];
        Ok(t)
    }

    /// Resolutions covered.
    pub fn resolutions(&self) -> Vec<u32> {
        self.tables.keys().copied().collect()
    }

    /// The keys whose means make up segment `s` of a net (several for the MBv3 head).
    pub fn segment_keys(&self, s: &Segment) -> Result<Vec<String>, String> {
        let shape = |h: u32, c: u32| format!("{h}x{h}x{c}");
        Ok(match *s {
            Segment::Conv(c) if c.c_in == 3 => {
                let ho = s.output().1;
                vec![format!(
                    "Conv-input:{}-output:{}",
                    shape(c.h, 3),
                    shape(ho, c.c_out)
                )]
            }
            Segment::Conv(c) if c.k == 1 && c.stride == 1 && !c.residual => {
                vec![format!(
                    "Conv_1-input:{}-output:{}",
                    shape(c.h, c.c_in),
                    shape(c.h, c.c_out)
                )]
            }
            Segment::MbConv(b) => {
                let ho = s.output().1;
                let expand = match self.style {
                    LutStyle::Mbv3 => b.mid,
                    LutStyle::Proxyless => {
                        if b.mid % b.c_in != 0 {
                            return Err(format!(
                                "mid {} is not a whole multiple of {} inputs, which a ProxylessNAS table cannot key",
                                b.mid, b.c_in
                            ));
                        }
                        b.mid / b.c_in
                    }
                };
                let mut k = format!(
                    "expanded_conv-input:{}-output:{}-expand:{expand}-kernel:{}-stride:{}-idskip:{}",
                    shape(b.h, b.c_in),
                    shape(ho, b.c_out),
                    b.k,
                    b.stride,
                    b.skip as u8
                );
                if self.style == LutStyle::Mbv3 {
                    k += &format!("-se:{}-hs:{}", b.se as u8, (b.act == Act::HSwish) as u8);
                }
                vec![k]
            }
            Segment::Classifier(c) => match c.mix {
                Some((mix, _)) => vec![
                    format!(
                        "AvgPool2D-input:{}-output:1x1x{}",
                        shape(c.h, c.c_in),
                        c.c_in
                    ),
                    format!("Conv_2-input:1x1x{}-output:1x1x{mix}", c.c_in),
                    format!("Logits-input:1x1x{mix}-output:{}", c.classes),
                ],
                None => vec![format!(
                    "Logits-input:{}-output:{}",
                    shape(c.h, c.c_in),
                    c.classes
                )],
            },
            _ => return Err(format!("OFA latency tables have no entry kind for {s:?}")),
        })
    }

    /// Latency (ms) of segment `seg` named `name` in a net of resolution `r`.
    pub fn segment_ms(&self, r: u32, seg: &Segment, name: &str) -> Result<f64, NasError> {
        let table = self.tables.get(&r).ok_or_else(|| {
            NasError::invalid(
                "latency table",
                "resolution",
                format!(
                    "no table for resolution {r}; the tables cover {:?}",
                    self.resolutions()
                ),
            )
        })?;
        let file = &self.files[&r];
        let keys = self
            .segment_keys(seg)
            .map_err(|m| NasError::invalid(file.as_str(), name, m))?;
        let mut ms = 0.0;
        for k in keys {
            ms += table.get(&k).ok_or_else(|| {
                NasError::invalid(
                    file.as_str(),
                    name,
                    format!(
                        "no entry `{k}` ({} entries for resolution {r})",
                        table.len()
                    ),
                )
            })?;
        }
        Ok(ms)
    }

    /// Network latency (ms): the sum of its segments' entries.
    pub fn net_ms(&self, net: &Net) -> Result<f64, NasError> {
        net.segments
            .iter()
            .zip(&net.names)
            .map(|(s, n)| self.segment_ms(net.resolution, s, n))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINI: &str = "Conv-input:32x32x3-output:16x16x8:\n  count: 5\n  mean: 0.5\n  std: 0.1\n\
Logits-input:16x16x8-output:10:\n  count: 5\n  mean: 0.25\n  var: 0.01\n";

    #[test]
    fn parses_resolution_and_style() {
        let t = LatencyTable::from_texts(&[("mini.yaml", MINI)]).unwrap();
        assert_eq!(t.resolutions(), vec![32]);
        assert_eq!(t.style, LutStyle::Proxyless);
        assert_eq!(t.tables[&32]["Logits-input:16x16x8-output:10"], 0.25);
    }

    #[test]
    fn errors_name_file_and_key() {
        let e = LatencyTable::from_texts(&[("bad.yaml", "a: [1, 2")])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("bad.yaml: yaml:"), "{e}");
        let e = LatencyTable::from_texts(&[(
            "nostem.yaml",
            "Logits-input:1x1x8-output:10:\n  mean: 1.0\n",
        )])
        .unwrap_err()
        .to_string();
        assert!(e.contains("no stem entry"), "{e}");
        let e = LatencyTable::from_texts(&[("neg.yaml", &MINI.replace("0.25", "-1"))])
            .unwrap_err()
            .to_string();
        assert!(e.contains("Logits") && e.contains("-1"), "{e}");
    }
}
