//! Where files come from: directories, and images applied layer by layer.

pub(crate) mod dir;
pub mod image;
mod layers;
