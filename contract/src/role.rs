//! The part a process of the one binary plays, decided once from the
//! environment its launcher gave it: `spindle::main` matches on it.

use crate::settings::{MASTER, ROLE};

/// What this process is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A driver whose executors are processes of this machine
    /// (`SPINDLE_MASTER` unset or `local[N]`).
    LocalDriver,
    /// The driver of a client-deploy-mode YARN application (`SPINDLE_MASTER=yarn`):
    /// it submits an ApplicationMaster and its executors run in containers.
    ClientDriver,
    /// The ApplicationMaster in its YARN container (cluster mode: it runs the driver too).
    ApplicationMaster,
    /// An executor, started by a driver or an ApplicationMaster.
    Executor,
}

impl Role {
    /// The value of `SPINDLE_ROLE` that makes a process an ApplicationMaster.
    pub const AM: &'static str = "am";
    /// The value of `SPINDLE_ROLE` that makes a process an executor.
    pub const EXECUTOR: &'static str = "executor";

    /// The role from `SPINDLE_ROLE` and `SPINDLE_MASTER`.
    pub fn from_env() -> Role {
        Role::decide(
            std::env::var(ROLE.var_name()).ok().as_deref(),
            std::env::var(MASTER.var_name()).ok().as_deref(),
        )
    }

    fn decide(role: Option<&str>, master: Option<&str>) -> Role {
        match (role, master) {
            (Some(Role::EXECUTOR), _) => Role::Executor,
            (Some(Role::AM), _) => Role::ApplicationMaster,
            (_, Some("yarn")) => Role::ClientDriver,
            _ => Role::LocalDriver,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_decision_from_role_and_master() {
        assert_eq!(Role::decide(None, None), Role::LocalDriver);
        assert_eq!(Role::decide(None, Some("local[4]")), Role::LocalDriver);
        assert_eq!(Role::decide(None, Some("yarn")), Role::ClientDriver);
        assert_eq!(
            Role::decide(Some("am"), Some("yarn")),
            Role::ApplicationMaster
        );
        assert_eq!(Role::decide(Some("executor"), Some("yarn")), Role::Executor);
        assert_eq!(Role::decide(Some("executor"), None), Role::Executor);
        assert_eq!(Role::decide(Some("other"), None), Role::LocalDriver);
    }
}
