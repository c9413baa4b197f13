//! Dynamic allocation's settings, as the AM reads them from the launch
//! contract: off unless `spindle.dynamicAllocation.enabled`; with it on,
//! `--num-executors` is the initial count. The driver's scheduler does the
//! rest (`spindle_core`'s elastic module); the allocator asks and releases.

use std::collections::BTreeMap;
use std::time::Duration;

use spindle_contract::settings::{self, Setting};
use spindle_contract::{Conf, Error as ContractError};
use spindle_core::backend::DynamicAllocation;

use crate::{Error, Result};

/// Dynamic allocation for an application launched with these `--conf` pairs
/// and `num_executors`, or None when it is off; bounds that contradict
/// each other are one clear error.
pub(crate) fn dynamic_allocation(
    conf: &BTreeMap<String, String>,
    num_executors: u32,
) -> Result<Option<DynamicAllocation>> {
    let conf = Conf::new(conf.clone())?;
    if !conf.bool(&settings::DYN_ENABLED)?.unwrap_or(false) {
        return Ok(None);
    }
    let duration =
        |s: &Setting| -> std::result::Result<Option<Duration>, ContractError> { conf.duration(s) };
    let min = conf.count(&settings::DYN_MIN)?.unwrap_or(0);
    let max = conf.count(&settings::DYN_MAX)?.unwrap_or(u32::MAX);
    let initial = conf
        .count(&settings::DYN_INITIAL)?
        .unwrap_or(num_executors)
        .max(min);
    if min > max {
        return Err(Error::Config(format!(
            "{}={min} is above {}={max}",
            settings::DYN_MIN.name(),
            settings::DYN_MAX.name()
        )));
    }
    if initial > max {
        return Err(Error::Config(format!(
            "the initial executors ({initial}: {} or --num-executors) are above {}={max}",
            settings::DYN_INITIAL.name(),
            settings::DYN_MAX.name()
        )));
    }
    let backlog = duration(&settings::DYN_BACKLOG_TIMEOUT)?.unwrap_or(Duration::from_secs(1));
    Ok(Some(DynamicAllocation {
        min_executors: min,
        max_executors: max,
        initial_executors: initial,
        idle_timeout: duration(&settings::DYN_IDLE_TIMEOUT)?.unwrap_or(Duration::from_secs(60)),
        cached_idle_timeout: duration(&settings::DYN_CACHED_IDLE_TIMEOUT)?,
        backlog_timeout: backlog,
        sustained_backlog_timeout: duration(&settings::DYN_SUSTAINED_BACKLOG_TIMEOUT)?
            .unwrap_or(backlog),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn off_by_default_and_num_executors_is_the_initial_count() {
        assert_eq!(dynamic_allocation(&pairs(&[]), 3).unwrap(), None);
        let d = dynamic_allocation(
            &pairs(&[
                ("spindle.dynamicAllocation.enabled", "true"),
                ("spindle.dynamicAllocation.executorIdleTimeout", "2s"),
                ("spindle.dynamicAllocation.schedulerBacklogTimeout", "500ms"),
            ]),
            3,
        )
        .unwrap()
        .unwrap();
        assert_eq!(d.initial_executors, 3);
        assert_eq!((d.min_executors, d.max_executors), (0, u32::MAX));
        assert_eq!(d.idle_timeout, Duration::from_secs(2));
        assert_eq!(d.backlog_timeout, Duration::from_millis(500));
        assert_eq!(d.sustained_backlog_timeout, Duration::from_millis(500));
        assert_eq!(d.cached_idle_timeout, None);
    }

    #[test]
    fn contradicting_bounds_are_one_clear_error() {
        let e = dynamic_allocation(
            &pairs(&[
                ("spindle.dynamicAllocation.enabled", "true"),
                ("spindle.dynamicAllocation.minExecutors", "4"),
                ("spindle.dynamicAllocation.maxExecutors", "2"),
            ]),
            1,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "spindle.dynamicAllocation.minExecutors=4 is above spindle.dynamicAllocation.maxExecutors=2"
        );
        let e = dynamic_allocation(
            &pairs(&[
                ("spindle.dynamicAllocation.enabled", "true"),
                ("spindle.dynamicAllocation.maxExecutors", "2"),
            ]),
            5,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("initial executors (5"), "{e}");
        let e = dynamic_allocation(
            &pairs(&[("spindle.dynamicAllocation.enabled", "sometimes")]),
            1,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("spindle.dynamicAllocation.enabled"), "{e}");
    }
}
