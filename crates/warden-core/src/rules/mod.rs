//! The pure decisions of the engine: functions over values, a policy and `now`, with no I/O and no
//! clock reads, so the security-relevant logic is in one place, exact to the millisecond, and tested
//! without a database.

pub mod detection;
pub mod library;
pub mod lockout;
pub mod password;
pub mod session;
pub mod token;
pub mod totp;
pub mod useragent;
