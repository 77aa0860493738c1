//! Small utilities shared by every part of archscope, written once: byte sizes ([`size`]: parse
//! and format), output files ([`output`]: atomic writes, no-clobber files and report directories),
//! calendar dates ([`date`]) and chart output ([`figure`]: one SVG/PNG dispatch for every chart).

pub mod date;
#[cfg(feature = "plots")]
pub mod figure;
pub mod output;
pub mod size;
