// Gives the shared library its soname, so `libvenc.so.0` is what programs record.
fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libvenc.so.0");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
