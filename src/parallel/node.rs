//! Node files: one TOML file per multi-GPU node in `nodes/` (embedded at build time), in a
//! `nodes/` folder of the working directory, or anywhere, passed by path. A node is `gpus`
//! identical devices, named by a device file (`device = "h100-sxm"`, resolved as `--hw` is), and
//! the `[[link]]` that joins them. Every figure is `{ value = V, source = "..." }` or
//! `{ value = V, estimate = "..." }`, with its unit in the field name; unknown fields are errors.
//!
//! A node is its own kind of file rather than a section of a device file: one device (the H100
//! SXM5) ships in many nodes (DGX and HGX boards with NVSwitch, PCIe servers with NVLink
//! bridges in pairs), so the interconnect belongs to the node, and the device file stays the
//! single place that describes the GPU's own figures.

use crate::hardware::Hardware;
use crate::hardware::raw::Figure;
use crate::offload::link::checked_figures;
use serde::{Deserialize, Serialize};
use std::path::Path;
use thiserror::Error;

/// Most GPUs in a node file: the largest published NVLink domain is 576 GPUs (NVIDIA's
/// NVL576 rack of Rubin Ultra); 1,024 is above it.
pub const MAX_GPUS: u64 = 1 << 10;

/// The fields a `[[link]]` table needs, for the message of a node without one.
const LINK_FIELDS: &str = "name, kind (nvlink, pcie or infinity-fabric), bytes_per_s, latency_s and j_per_byte, each figure with a `source` or `estimate`";

/// Why a node could not be loaded.
#[derive(Debug, Error)]
pub enum NodeError {
    /// Neither a file nor a shipped node.
    #[error("--node {name}: no such file and no shipped node of that name; shipped nodes: {known}")]
    NotFound {
        /// What was asked for.
        name: String,
        /// The shipped nodes.
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
    /// The file is not a node file (TOML syntax, a missing or unknown field, a wrong type).
    #[error("{file}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// The parser's message (it names the field and the line).
        message: String,
    },
    /// A field holds a value out of range, or a table is missing.
    #[error("{file}: field `{field}`: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// The field.
        field: String,
        /// What was expected.
        message: String,
    },
    /// The device the node names cannot be loaded.
    #[error("{file}: field `node.device`: {cause}")]
    Device {
        /// The node file.
        file: String,
        /// Why the device could not be loaded.
        cause: crate::hardware::HardwareError,
    },
}

/// What kind of wire joins the GPUs (informational: the figures price it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkKind {
    /// NVIDIA NVLink (with or without NVSwitch).
    Nvlink,
    /// PCI Express through the host or a switch.
    Pcie,
    /// AMD Infinity Fabric.
    InfinityFabric,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    node: RawNode,
    #[serde(default)]
    link: Vec<RawLink>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    name: String,
    description: String,
    device: String,
    gpus: Figure,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLink {
    name: String,
    kind: LinkKind,
    bytes_per_s: Figure,
    latency_s: Figure,
    j_per_byte: Figure,
}

/// The GPU-to-GPU link of a node.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GpuLink {
    /// Short name, e.g. `nvlink4`.
    pub name: String,
    /// The kind of wire.
    pub kind: LinkKind,
    /// Bytes per second one GPU sends (and, at the same time, receives) over it.
    pub bytes_per_s: f64,
    /// Latency of one transfer (one step of a ring), seconds.
    pub latency_s: f64,
    /// Energy per byte moved from one GPU to another, joules.
    pub j_per_byte: f64,
    /// The provenance of each figure: (field, `source: ...` or `estimate: ...`).
    pub provenance: Vec<(String, String)>,
}

/// A multi-GPU node: `gpus` copies of one device and the link between them.
#[derive(Clone, Debug)]
pub struct Node {
    /// Short name, e.g. `dgx-h100`.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// The device of every GPU.
    pub hw: Hardware,
    /// GPUs in the node.
    pub gpus: u64,
    /// The link between any two GPUs.
    pub link: GpuLink,
    /// The provenance of `gpus`.
    pub gpus_provenance: String,
    /// Where the device file came from.
    pub device_file: String,
    /// The device file's text.
    pub device_text: String,
    /// Where the node file came from (a path, or `nodes/NAME.toml` for a shipped node).
    pub file: String,
    /// The node file's text.
    pub text: String,
}

/// The names of the shipped nodes.
pub fn known_nodes() -> Vec<&'static str> {
    crate::embedded::NODES
        .iter()
        .map(|(f, _)| f.trim_end_matches(".toml"))
        .collect()
}

impl Node {
    /// Resolves `--node`: a path to a node file, a file of that name in `nodes/` of the working
    /// directory, or a shipped node (`dgx-a100`, `dgx-h100`).
    pub fn load(name: &str) -> Result<Node, NodeError> {
        let file = format!("{}.toml", name.trim_end_matches(".toml"));
        let local = Path::new("nodes").join(&file);
        for path in [Path::new(name), local.as_path()] {
            if path.is_file() {
                let label = path.display().to_string();
                let text = crate::util::text::read_utf8(path).map_err(|e| NodeError::Io {
                    file: label.clone(),
                    cause: e.to_string(),
                })?;
                return Node::from_toml_str(&text, &label);
            }
        }
        match crate::embedded::NODES.iter().find(|(f, _)| *f == file) {
            Some((f, text)) => Node::from_toml_str(text, &format!("nodes/{f}")),
            None => Err(NodeError::NotFound {
                name: name.to_string(),
                known: known_nodes().join(", "),
            }),
        }
    }

    /// Parses and checks the text of a node file and loads its device; `file` names it in
    /// errors.
    pub fn from_toml_str(text: &str, file: &str) -> Result<Node, NodeError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| NodeError::Parse {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let invalid = |field: &str, message: String| NodeError::Invalid {
            file: file.to_string(),
            field: field.to_string(),
            message,
        };
        let n = raw.node;
        if n.name.trim().is_empty() {
            return Err(invalid("node.name", "expected a non-empty name".into()));
        }
        let (gpus, gpus_note) = checked_figures(&[("gpus", &n.gpus, true)], |f, m| {
            invalid(&format!("node.{f}"), m)
        })?;
        let gpus_f = gpus[0];
        if gpus_f.fract() != 0.0 || gpus_f > MAX_GPUS as f64 {
            return Err(invalid(
                "node.gpus.value",
                format!("expected a whole number of GPUs from 1 to {MAX_GPUS}, found {gpus_f}"),
            ));
        }
        let l = match raw.link.as_slice() {
            [] => {
                return Err(invalid(
                    "link",
                    format!(
                        "the node has no `[[link]]` between its GPUs; add a [[link]] table with {LINK_FIELDS}"
                    ),
                ));
            }
            [l] => l,
            _ => {
                return Err(invalid(
                    "link",
                    format!(
                        "expected one `[[link]]` (the link between any two GPUs), found {}",
                        raw.link.len()
                    ),
                ));
            }
        };
        if l.name.trim().is_empty() {
            return Err(invalid("link.name", "expected a non-empty name".into()));
        }
        let figures: [(&str, &Figure, bool); 3] = [
            ("bytes_per_s", &l.bytes_per_s, true),
            ("latency_s", &l.latency_s, false),
            ("j_per_byte", &l.j_per_byte, false),
        ];
        let (v, provenance) = checked_figures(&figures, |f, m| invalid(&format!("link.{f}"), m))?;
        let device = |cause| NodeError::Device {
            file: file.to_string(),
            cause,
        };
        let (device_file, device_text) = Hardware::find_text(&n.device).map_err(device)?;
        let hw = Hardware::from_toml_str(&device_text, &device_file).map_err(device)?;
        Ok(Node {
            name: n.name.trim().to_string(),
            description: n.description,
            hw,
            gpus: gpus_f as u64,
            link: GpuLink {
                name: l.name.trim().to_string(),
                kind: l.kind,
                bytes_per_s: v[0],
                latency_s: v[1],
                j_per_byte: v[2],
                provenance,
            },
            gpus_provenance: gpus_note[0].1.clone(),
            device_file,
            device_text,
            file: file.to_string(),
            text: text.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_nodes_load_with_provenance() {
        for (name, device, bw) in [
            ("dgx-a100", "a100-80gb", 300e9),
            ("dgx-h100", "h100-sxm", 450e9),
        ] {
            assert!(known_nodes().contains(&name));
            let n = Node::load(name).unwrap();
            assert_eq!((n.name.as_str(), n.gpus), (name, 8));
            assert_eq!(n.hw.name, device);
            assert_eq!(n.link.bytes_per_s, bw);
            assert_eq!(n.link.provenance.len(), 3);
        }
    }

    fn text(gpus: &str, links: &str) -> String {
        format!(
            "[node]\nname = \"n\"\ndescription = \"d\"\ndevice = \"a100-80gb\"\n\
             gpus = {{ value = {gpus}, source = \"t\" }}\n{links}"
        )
    }

    const LINK: &str = "[[link]]\nname = \"l\"\nkind = \"pcie\"\n\
        bytes_per_s = { value = 32e9, source = \"t\" }\n\
        latency_s = { value = 2e-6, estimate = \"t\" }\n\
        j_per_byte = { value = 1e-9, estimate = \"t\" }\n";

    #[test]
    fn bad_files_name_the_field() {
        assert_eq!(
            Node::from_toml_str(&text("4", LINK), "f.toml")
                .unwrap()
                .gpus,
            4
        );
        let e = Node::from_toml_str(&text("4", ""), "f.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("f.toml") && e.contains("[[link]]") && e.contains("bytes_per_s"),
            "{e}"
        );
        let e = Node::from_toml_str(&text("2.5", LINK), "f.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("node.gpus.value") && e.contains("whole number"),
            "{e}"
        );
        let bad = LINK.replace(
            "latency_s = { value = 2e-6, estimate = \"t\" }",
            "latency_s = { value = 2e-6 }",
        );
        let e = Node::from_toml_str(&text("4", &bad), "f.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("link.latency_s") && e.contains("`source`"),
            "{e}"
        );
        let e = Node::from_toml_str(&text("4", &format!("{LINK}color = 1\n")), "f.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("color"), "{e}");
        let e = Node::from_toml_str(
            &text("4", LINK).replace("a100-80gb", "no-such-gpu"),
            "f.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("node.device") && e.contains("no-such-gpu"),
            "{e}"
        );
        let e = Node::load("dgx-z9").unwrap_err().to_string();
        assert!(e.contains("dgx-z9") && e.contains("dgx-h100"), "{e}");
    }
}
