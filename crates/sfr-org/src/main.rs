//! `sfr-org`: the local Salesforce-compatible org. Everything lives in the library; see `sfr_org::cli`.

/// mimalloc instead of glibc's malloc: a grant allocates and frees a few hundred small blocks (headers, form
/// fields, JSON), and glibc's malloc and free took about a fifth of the server's CPU. See BENCHMARKS.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    sfr_org::cli::main()
}
