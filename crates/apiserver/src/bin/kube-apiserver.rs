use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = apiserver::options::Options::parse();
    component_base::logs::init(options.verbosity, &options.logging_format);
    apiserver::run(options, component_base::shutdown::signal()).await
}
