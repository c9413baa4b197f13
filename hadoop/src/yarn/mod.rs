//! Talking to YARN: one set of records (`records.rs`), their protobuf
//! conversions (`convert.rs`), and one client per conversation partner, as
//! Hadoop's own `YarnClient`, `AMRMClient` and `NMClient` divide the work:
//!
//! | file | partner | protocol | client |
//! |---|---|---|---|
//! | `rest.rs` | a submitting client and the RM | RM REST API | [`RmRestClient`] |
//! | `client_rm.rs` | a submitting client and the RM | ApplicationClientProtocol | [`ApplicationClient`] |
//! | `am_rm.rs` | an ApplicationMaster and the RM | ApplicationMasterProtocol | [`AmRmClient`] |
//! | `am_nm.rs` | an ApplicationMaster and a NodeManager | ContainerManagementProtocol | [`NmClient`] |
//!
//! Every client speaks in the records; protobuf and JSON stay inside this
//! module. The ids (`ApplicationId`, `ContainerId`, ...) are in `crate::ids`.

mod am_nm;
mod am_rm;
mod client_rm;
mod convert;
mod records;
mod rest;

pub use am_nm::{CONTAINER_MANAGEMENT_PROTOCOL, NmClient};
pub use am_rm::{
    AM_NOT_REGISTERED_EXCEPTION, APPLICATION_MASTER_PROTOCOL, AmRmClient, is_not_registered,
};
pub use client_rm::{APPLICATION_CLIENT_PROTOCOL, ApplicationClient};
pub use records::*;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use rest::fuzz_app_answer;
pub use rest::{AppsFilter, RmRestClient};
