//! Handing freed heap memory back to the kernel, for the event loop (after
//! start-up and reloads) and the address worker (after its batches).

/// Hands what start-up or a reload freed (the parsed configuration and
/// its diagnostics) back to the kernel. glibc keeps freed memory in its
/// heap, so the resident size would otherwise stay at that high-water
/// mark for the daemon's whole life. It trims every arena, also the
/// address worker's (glibc gives each thread its own).
pub(crate) fn return_free_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim takes an integer, locks glibc's arenas itself
    // and only returns free pages.
    unsafe {
        libc::malloc_trim(0);
    }
}
