//! Bindings: they only convert values; all logic is in the core.

#[cfg(feature = "component")]
mod component;
#[cfg(feature = "js")]
mod js;
