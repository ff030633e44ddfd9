//! ObjectMeta helpers and name validation (filled in by the validation change).
