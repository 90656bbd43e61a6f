use std::process::ExitCode;

// A request allocates and frees many small buffers across threads; mimalloc's thread-local
// free lists suit that better than glibc's arenas (BENCHMARKS.md, webhook ingest).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    server::cli::main()
}
