//! tracing set-up. `--v` follows klog's verbosity: 0-1 info, 2-4 debug, 5+ trace;
//! `RUST_LOG` overrides it.

use tracing_subscriber::EnvFilter;

/// Log format, as upstream's `--logging-format` (text or json).
pub fn init(verbosity: u8, format: &str) {
    let level = match verbosity {
        0 | 1 => "info",
        2..=4 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests start several daemons in one process) is not an error.
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
