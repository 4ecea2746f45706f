//! A first pass over each inventory file on its own: is it TOML at all?
//! figment's parse errors span several lines (a snippet with a caret);
//! this gives the file, the line and the column, and the reason, in one.

use std::path::Path;

use super::InventoryError;

/// Checks that `text`, read from `path`, is valid TOML.
pub(super) fn check(path: &Path, text: &str) -> Result<(), InventoryError> {
    let Err(error) = text.parse::<toml::Table>() else {
        return Ok(());
    };
    let offset = error.span().map_or(0, |span| span.start);
    let (line, column) = line_and_column(text, offset);
    Err(InventoryError::Syntax {
        path: path.to_owned(),
        line,
        column,
        message: one_line(error.message()),
    })
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(super) fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

fn one_line(message: &str) -> String {
    let parts: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unclosed_table_header_is_placed() {
        let text = "[pki]\ndir = \"/x\"\n[hosts.h1\naddress = \"a\"\n";
        let err = check(Path::new("v.toml"), text).unwrap_err();
        let shown = err.to_string();
        assert!(
            shown.starts_with("v.toml: line 3, column 10: invalid table header"),
            "{shown}"
        );
        assert!(!shown.contains('\n'), "{shown}");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(line_and_column("é=\n", 2), (1, 2));
        assert_eq!(line_and_column("a\nbc", 3), (2, 2));
        assert_eq!(line_and_column("a", 99), (1, 2));
    }
}
