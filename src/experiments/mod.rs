//! Reproductions of published experiments with archscope's own models, kept as library code so
//! that examples, tests and benchmarks share them: [`cosma_cnn`], the CNN table of the COSMA
//! scratchpad-mapping paper (it needs OFA's network configs, hence the `nas` feature).

pub mod cosma_cnn;
