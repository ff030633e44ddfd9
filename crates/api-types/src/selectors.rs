//! Label and field selectors, parsed and matched as upstream's apimachinery
//! (`pkg/labels/selector.go`, `pkg/fields/selector.go`), with upstream's error wording
//! so kubectl users see the messages they know.

mod field;
mod label;
mod parser;
#[cfg(test)]
mod tests;

use crate::status::ApiError;

pub use field::{escape_field_value, unescape_field_value, FieldOperator, FieldSelector};
pub use label::{LabelSelector, Operator, Requirement};

/// A selector that could not be parsed or built; `Display` is upstream's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    #[error("{0}")]
    Label(String),
    #[error("{0}")]
    Field(String),
}

impl SelectorError {
    pub fn message(&self) -> &str {
        match self {
            SelectorError::Label(m) | SelectorError::Field(m) => m,
        }
    }
}

/// Bad selectors in a request are the client's fault: 400, message as upstream.
impl From<SelectorError> for ApiError {
    fn from(e: SelectorError) -> Self {
        ApiError::bad_request(e.to_string())
    }
}
