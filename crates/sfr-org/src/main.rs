//! `sfr-org`: the local Salesforce-compatible org. Everything lives in the library; see `sfr_org::cli`.

fn main() -> std::process::ExitCode {
    sfr_org::cli::main()
}
