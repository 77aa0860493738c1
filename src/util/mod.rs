//! Small utilities shared by every part of archscope, written once: byte sizes ([`size`]: parse
//! and format), output files ([`output`]: atomic writes, no-clobber files and report directories),
//! calendar dates ([`date`]), chart output ([`figure`]: one SVG/PNG dispatch for every chart), the
//! hand-over of a linear program to HiGHS (`lp`) and text files that say where their UTF-8 is
//! broken ([`text`]).

pub mod date;
#[cfg(feature = "plots")]
pub mod figure;
#[cfg(feature = "solver")]
pub(crate) mod lp;
pub mod output;
pub mod size;
pub mod text;
