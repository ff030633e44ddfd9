//! Pod networking through CNI plugins (filled in by the CNI change).
