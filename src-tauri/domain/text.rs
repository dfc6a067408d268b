//! Names and free text: trimmed, bounded, and a lower-cased key for case-insensitive matching.

use crate::error::FieldError;

/// A required single-line name: trimmed, inner runs of white space folded, 1..=max characters.
pub fn name(field: &'static str, input: &str, max: usize) -> Result<String, FieldError> {
    let folded = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.is_empty() {
        return Err(FieldError::new(field, "required"));
    }
    if folded.chars().count() > max {
        return Err(FieldError::new(field, "too_long").with("max", max));
    }
    Ok(folded)
}

/// Optional multi-line text: trimmed, at most `max` characters.
pub fn free_text(field: &'static str, input: &str, max: usize) -> Result<String, FieldError> {
    let trimmed = input.trim();
    if trimmed.chars().count() > max {
        return Err(FieldError::new(field, "too_long").with("max", max));
    }
    Ok(trimmed.to_owned())
}

/// The key that uniqueness and search compare: Unicode lower case (SQLite's lower() is ASCII-only).
pub fn key(name: &str) -> String {
    name.to_lowercase()
}

/// A LIKE pattern matching `needle` anywhere, with wildcards in it escaped (use `escape '\'`).
pub fn like_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_folded() {
        assert_eq!(name("name", "  Иван   Петров ", 200).unwrap(), "Иван Петров");
    }

    #[test]
    fn empty_and_overlong_names_are_refused() {
        assert_eq!(name("name", "   ", 200).unwrap_err().code, "required");
        let long = "я".repeat(201);
        let err = name("name", &long, 200).unwrap_err();
        assert_eq!((err.code, err.params[0].1.as_str()), ("too_long", "200"));
    }

    #[test]
    fn like_patterns_escape_wildcards_and_fold_case() {
        assert_eq!(like_pattern("ПЕТ%_"), "%пет\\%\\_%");
    }
}
