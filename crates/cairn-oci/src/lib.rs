#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::unwrap_used)]

pub mod attach;
pub mod auth;
pub mod blob;
pub mod bundle;
pub mod client;
pub mod copy;
pub mod cosign;
pub mod digest;
pub mod discover;
pub mod error;
pub mod layout;
pub mod manifest;
pub mod reference;
pub mod registry;
pub mod store;

use std::sync::Arc;

pub use attach::{Attached, attach_bundle};
pub use client::{Client, ClientConfig};
pub use copy::{Approval, CopyOptions, CopyReport, copy, promote};
pub use digest::Digest;
pub use discover::{Discovery, discover};
pub use error::Error;
pub use layout::Layout;
pub use manifest::{Descriptor, Manifest, PlatformSpec};
pub use reference::{Location, OciRef, Reference};
pub use registry::RegistryRepo;
pub use store::{PlatformSelection, Repository, Resolved, resolve};

/// Opens the repository a reference names: a registry repository through `client`, or a layout
/// directory (created when `create` is true and it does not exist).
pub fn open(
    reference: &OciRef,
    client: &Arc<Client>,
    create: bool,
) -> Result<Box<dyn Repository>, Error> {
    match reference.location() {
        Location::Registry {
            registry,
            repository,
        } => Ok(Box::new(client.repository(registry, repository)?)),
        Location::Layout(path) => Ok(Box::new(if create {
            Layout::open_or_create(path)?
        } else {
            Layout::open(path)?
        })),
    }
}
