//! Links the `dumcel` binary at a fixed address instead of as a
//! position-independent executable.
//!
//! A PIE is relocated at every start: the loader patches about 170,000
//! pointers (mostly the AWS SDK's tables), dirtying 2.5 MB of pages. That was
//! 3 ms of every command's 5 ms start, and a no-op plan of 1,000 resources
//! takes about 30 ms. Terraform's own Linux binaries are not PIEs either. The
//! pipeline daemon, which reads the network, stays a PIE.
fn main() {
    println!("cargo:rustc-link-arg-bin=dumcel=-no-pie");
}
