//! Link files: one TOML file per network link in `links/` (embedded at build time) or anywhere,
//! passed by path. Every figure is `{ value = V, source = "..." }` or `{ value = V, estimate =
//! "..." }`, with its unit in the field name; unknown fields are errors.

use crate::hardware::raw::Figure;
use serde::{Deserialize, Serialize};
use std::path::Path;
use thiserror::Error;

/// Why a link could not be loaded.
#[derive(Debug, Error)]
pub enum LinkError {
    /// Neither a file nor a shipped link.
    #[error("--link {name}: no such file and no shipped link of that name; shipped links: {known}")]
    NotFound {
        /// What was asked for.
        name: String,
        /// The shipped links.
        known: String,
    },
    /// The file could not be read.
    #[error("{file}: {cause}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        cause: String,
    },
    /// The file is not a link file (TOML syntax, a missing or unknown field, a wrong type).
    #[error("{file}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// The parser's message (it names the field and the line).
        message: String,
    },
    /// A field holds a value out of range.
    #[error("{file}: field `{field}`: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// The field.
        field: String,
        /// What was expected.
        message: String,
    },
}

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    link: RawLink,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLink {
    name: String,
    description: String,
    uplink_bytes_per_s: Figure,
    downlink_bytes_per_s: Figure,
    rtt_s: Figure,
    uplink_j_per_byte: Figure,
    downlink_j_per_byte: Figure,
    active_w: Figure,
    tail_j: Figure,
}

/// A network link between the device and the server.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Link {
    /// Short name, e.g. `wifi6`.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Device-to-server throughput, bytes per second.
    pub uplink_bytes_per_s: f64,
    /// Server-to-device throughput, bytes per second.
    pub downlink_bytes_per_s: f64,
    /// Round-trip time of one request and its response, seconds.
    pub rtt_s: f64,
    /// Radio energy per byte sent, joules (the slope of radio power against uplink rate).
    pub uplink_j_per_byte: f64,
    /// Radio energy per byte received, joules.
    pub downlink_j_per_byte: f64,
    /// Base power of the radio while the request is in flight, watts.
    pub active_w: f64,
    /// Energy of the radio's tail after the last packet (until it drops to idle), joules.
    pub tail_j: f64,
    /// The provenance of each figure: (field, `source: ...` or `estimate: ...`).
    pub provenance: Vec<(String, String)>,
}

/// The names of the shipped links.
pub fn known_links() -> Vec<&'static str> {
    crate::embedded::LINKS
        .iter()
        .map(|(f, _)| f.trim_end_matches(".toml"))
        .collect()
}

/// Checked figures: their values and each one's provenance (field, `source: ...` or
/// `estimate: ...`).
pub(crate) type Checked = (Vec<f64>, Vec<(String, String)>);

/// Checks figures of a link or node file: each value finite (above 0 where marked positive,
/// else 0 or more) with exactly one non-empty `source` or `estimate`. Returns the values and
/// each figure's provenance (field, `source: ...` or `estimate: ...`); `invalid(field,
/// message)` builds the error.
pub(crate) fn checked_figures<E>(
    figures: &[(&str, &Figure, bool)],
    invalid: impl Fn(&str, String) -> E,
) -> Result<Checked, E> {
    let mut values = Vec::with_capacity(figures.len());
    let mut provenance = Vec::with_capacity(figures.len());
    for (field, fig, positive) in figures {
        let v = *fig.value.get_ref();
        let ok = v.is_finite() && if *positive { v > 0.0 } else { v >= 0.0 };
        if !ok {
            let want = if *positive {
                "a finite number above 0"
            } else {
                "a finite number of 0 or more"
            };
            return Err(invalid(
                &format!("{field}.value"),
                format!("expected {want}, found {v}"),
            ));
        }
        let note = match (&fig.source, &fig.estimate) {
            (Some(s), None) if !s.trim().is_empty() => format!("source: {s}"),
            (None, Some(e)) if !e.trim().is_empty() => format!("estimate: {e}"),
            _ => {
                return Err(invalid(
                    field,
                    "expected exactly one non-empty `source` (where the figure was \
                     published) or `estimate` (how it was derived)"
                        .into(),
                ));
            }
        };
        provenance.push((field.to_string(), note));
        values.push(v);
    }
    Ok((values, provenance))
}

impl Link {
    /// Resolves `--link`: a path to a link file, or the name of a shipped link (`wifi6`, `5g`,
    /// `lte`).
    pub fn load(name: &str) -> Result<Link, LinkError> {
        let path = Path::new(name);
        if path.is_file() {
            let text = crate::util::text::read_utf8(path).map_err(|e| LinkError::Io {
                file: name.to_string(),
                cause: e.to_string(),
            })?;
            return Link::from_toml_str(&text, name);
        }
        let file = format!("{}.toml", name.trim_end_matches(".toml"));
        match crate::embedded::LINKS.iter().find(|(f, _)| *f == file) {
            Some((f, text)) => Link::from_toml_str(text, &format!("links/{f}")),
            None => Err(LinkError::NotFound {
                name: name.to_string(),
                known: known_links().join(", "),
            }),
        }
    }

    /// Parses and checks the text of a link file; `file` names it in errors.
    pub fn from_toml_str(text: &str, file: &str) -> Result<Link, LinkError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| LinkError::Parse {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let l = raw.link;
        let invalid = |field: &str, message: String| LinkError::Invalid {
            file: file.to_string(),
            field: format!("link.{field}"),
            message,
        };
        if l.name.trim().is_empty() {
            return Err(invalid("name", "expected a non-empty name".into()));
        }
        // (field, figure, strictly positive): rates must be positive, the rest at least zero.
        let figures: [(&str, &Figure, bool); 7] = [
            ("uplink_bytes_per_s", &l.uplink_bytes_per_s, true),
            ("downlink_bytes_per_s", &l.downlink_bytes_per_s, true),
            ("rtt_s", &l.rtt_s, false),
            ("uplink_j_per_byte", &l.uplink_j_per_byte, false),
            ("downlink_j_per_byte", &l.downlink_j_per_byte, false),
            ("active_w", &l.active_w, false),
            ("tail_j", &l.tail_j, false),
        ];
        let (values, provenance) = checked_figures(&figures, invalid)?;
        Ok(Link {
            name: l.name.trim().to_string(),
            description: l.description,
            uplink_bytes_per_s: values[0],
            downlink_bytes_per_s: values[1],
            rtt_s: values[2],
            uplink_j_per_byte: values[3],
            downlink_j_per_byte: values[4],
            active_w: values[5],
            tail_j: values[6],
            provenance,
        })
    }

    /// This link with both throughputs scaled so that the uplink runs at `uplink_bytes_per_s`
    /// (the downlink keeps its ratio to the uplink); delays and energies per byte are kept.
    pub fn at_uplink(&self, uplink_bytes_per_s: f64) -> Link {
        let k = uplink_bytes_per_s / self.uplink_bytes_per_s;
        Link {
            uplink_bytes_per_s,
            downlink_bytes_per_s: self.downlink_bytes_per_s * k,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_links_load_with_provenance() {
        let names = known_links();
        for want in ["5g", "lte", "wifi6"] {
            assert!(names.contains(&want), "{names:?}");
            let l = Link::load(want).unwrap();
            assert_eq!(l.name, want);
            assert_eq!(l.provenance.len(), 7);
        }
        let wifi = Link::load("wifi6").unwrap();
        let lte = Link::load("lte").unwrap();
        assert!(wifi.uplink_bytes_per_s > lte.uplink_bytes_per_s);
        assert!(wifi.rtt_s < lte.rtt_s);
    }

    fn text(extra: &str, rtt: &str) -> String {
        let fig = |v: &str| format!("{{ value = {v}, source = \"t\" }}");
        format!(
            "[link]\nname = \"x\"\ndescription = \"d\"\n{extra}uplink_bytes_per_s = {}\n\
             downlink_bytes_per_s = {}\nrtt_s = {rtt}\nuplink_j_per_byte = {}\n\
             downlink_j_per_byte = {}\nactive_w = {}\ntail_j = {}\n",
            fig("1e6"),
            fig("2e6"),
            fig("1e-6"),
            fig("1e-7"),
            fig("1"),
            fig("0")
        )
    }

    #[test]
    fn bad_files_name_the_field() {
        let ok = "{ value = 0.01, source = \"t\" }";
        assert!(Link::from_toml_str(&text("", ok), "f.toml").is_ok());
        let e = Link::from_toml_str(&text("color = 3\n", ok), "f.toml").unwrap_err();
        assert!(
            e.to_string().contains("f.toml") && e.to_string().contains("color"),
            "{e}"
        );
        let e = Link::from_toml_str(&text("", "{ value = -1, source = \"t\" }"), "f.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("link.rtt_s.value") && e.contains("0 or more"),
            "{e}"
        );
        let e = Link::from_toml_str(&text("", "{ value = 0.01 }"), "f.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("link.rtt_s") && e.contains("`source`"), "{e}");
        let e = Link::load("carrier-pigeon").unwrap_err().to_string();
        assert!(e.contains("carrier-pigeon") && e.contains("wifi6"), "{e}");
    }

    #[test]
    fn scaling_keeps_the_ratio() {
        let l = Link::load("lte").unwrap();
        let s = l.at_uplink(2.0 * l.uplink_bytes_per_s);
        assert!((s.downlink_bytes_per_s - 2.0 * l.downlink_bytes_per_s).abs() < 1e-6);
        assert_eq!(s.rtt_s, l.rtt_s);
    }
}
