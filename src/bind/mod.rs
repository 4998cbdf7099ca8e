//! Bindings: they only convert values; all logic is in the core.

// wit-bindgen's generated ABI glue is `unsafe`; the code we write in that file is not.
#[cfg(feature = "component")]
#[allow(unsafe_code)]
mod component;
#[cfg(feature = "js")]
mod js;
