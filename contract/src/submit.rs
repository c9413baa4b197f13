//! The one submission path of both deploy modes, after Spark's `Client`:
//! `spindle submit` builds a [`Submission`] in cluster mode, a client-mode
//! driver builds one from what `spindle submit` (or the user) put in its
//! environment; both turn it into the same YARN submission context (the AM
//! container: the staged binary, the launch contract in its environment, the
//! application secret in its credentials) and submit it through the RM's REST API.

use spindle_hadoop::ids::ApplicationId;
use spindle_hadoop::yarn::{ContainerLaunchContext, Resource, RmRestClient, SubmissionContext};

use crate::launch::{self, AmLaunch, MAX_APP_ATTEMPTS, PRIORITY, QUEUE, TAGS};
use crate::staging::Staging;
use crate::{Error, Result};

/// Where and how YARN schedules the application (`--queue`, `--tags`,
/// `--priority`, `--max-app-attempts`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scheduling {
    /// The queue; the RM's default when `None`.
    pub queue: Option<String>,
    /// Application tags.
    pub tags: Vec<String>,
    /// The application's priority in its queue.
    pub priority: Option<i32>,
    /// AM attempts before the application fails; the RM's default when `None`.
    pub max_app_attempts: Option<i32>,
}

impl Scheduling {
    /// As `spindle submit` hands it to a client-mode driver.
    pub fn to_env(&self) -> Vec<(String, String)> {
        let mut env = Vec::new();
        if let Some(q) = &self.queue {
            env.push((QUEUE.into(), q.clone()));
        }
        if !self.tags.is_empty() {
            env.push((TAGS.into(), self.tags.join(",")));
        }
        if let Some(p) = self.priority {
            env.push((PRIORITY.into(), p.to_string()));
        }
        if let Some(n) = self.max_app_attempts {
            env.push((MAX_APP_ATTEMPTS.into(), n.to_string()));
        }
        env
    }

    /// Reads what [`Scheduling::to_env`] wrote from any variable lookup.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let int = |k: &str| -> Result<Option<i32>> {
            match get(k) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| Error::Launch(format!("{k}={v:?} is not an integer"))),
            }
        };
        let tags = get(TAGS)
            .map(|t| {
                t.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Scheduling {
            queue: get(QUEUE),
            tags,
            priority: int(PRIORITY)?,
            max_app_attempts: int(MAX_APP_ATTEMPTS)?,
        })
    }
}

/// One application, as both deploy modes submit it.
#[derive(Clone, Debug)]
pub struct Submission {
    /// What the AM is told (its name is the application's).
    pub launch: AmLaunch,
    /// Queue, tags, priority, attempts.
    pub scheduling: Scheduling,
    /// The AM container's size.
    pub am_resource: Resource,
    /// The AM's arguments: the driver's in cluster mode, none in client mode.
    pub args: Vec<String>,
}

impl Submission {
    /// The submission context of `app`; `app_secret` goes into the AM's
    /// credentials only.
    pub fn context(&self, app: ApplicationId, app_secret: Vec<u8>) -> SubmissionContext {
        let mut ctx = SubmissionContext::new(app, self.launch.app_name.clone(), self.am_resource);
        ctx.queue = self.scheduling.queue.clone();
        ctx.priority = self.scheduling.priority;
        ctx.max_app_attempts = self.scheduling.max_app_attempts;
        ctx.application_tags = self.scheduling.tags.clone();
        ctx.application_type = launch::APPLICATION_TYPE.into();
        let mut environment: std::collections::BTreeMap<String, String> =
            self.launch.to_env().into_iter().collect();
        // The submitter's log filter reaches the AM (and from there the executors).
        for var in [crate::settings::LOG.var_name(), "RUST_LOG"] {
            if let Ok(v) = std::env::var(var) {
                environment.insert(var.to_string(), v);
            }
        }
        ctx.am_container = ContainerLaunchContext {
            local_resources: self.launch.local_resources.clone(),
            environment,
            commands: vec![launch::container_command(&self.args)],
            service_data: Default::default(),
            credentials: self.launch.credentials(app_secret),
        };
        ctx
    }
}

/// Submits `ctx`; when the RM does not take it, the application's staging
/// directory is removed (nobody else would).
pub async fn submit(rest: &RmRestClient, staging: &Staging, ctx: &SubmissionContext) -> Result<()> {
    if let Err(e) = rest.submit(ctx).await {
        let _ = staging.remove_app_dir(ctx.application_id).await;
        return Err(e.into());
    }
    Ok(())
}

/// A new per-application secret: YARN delivers it to the application's containers only.
pub fn new_secret() -> [u8; 32] {
    rand::random()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use spindle_hadoop::yarn::LocalResource;

    use super::*;
    use crate::launch::DeployMode;

    fn submission(mode: DeployMode, args: Vec<String>) -> Submission {
        Submission {
            launch: AmLaunch {
                deploy_mode: mode,
                app_name: "wc".into(),
                staging_dir: "hdfs://nn:8020/user/u/.spindleStaging/application_1_0001".into(),
                local_resources: BTreeMap::from([(
                    launch::APP_BINARY.to_string(),
                    LocalResource::file("hdfs://nn:8020/user/u/.spindleStaging/cache/ab", 3, 4),
                )]),
                num_executors: 2,
                executor_cores: 1,
                executor_memory_mb: 512,
                executor_memory_overhead_mb: 384,
                conf: BTreeMap::new(),
                driver_url: (mode == DeployMode::Client).then(|| "https://gw:7077".into()),
                user: "u".into(),
                keytab: None,
            },
            scheduling: Scheduling {
                queue: Some("q1".into()),
                tags: vec!["x".into(), "y".into()],
                priority: Some(5),
                max_app_attempts: Some(1),
            },
            am_resource: Resource {
                memory_mb: 896,
                vcores: 2,
            },
            args,
        }
    }

    #[test]
    fn both_modes_build_the_same_kind_of_context() {
        let app: ApplicationId = "application_1_0001".parse().unwrap();
        for (mode, args) in [
            (
                DeployMode::Cluster,
                vec!["in".to_string(), "o p".to_string()],
            ),
            (DeployMode::Client, vec![]),
        ] {
            let s = submission(mode, args.clone());
            let ctx = s.context(app, vec![7; 32]);
            assert_eq!(ctx.application_id, app);
            assert_eq!(ctx.application_name, "wc");
            assert_eq!(ctx.application_type, launch::APPLICATION_TYPE);
            assert_eq!(ctx.queue.as_deref(), Some("q1"));
            assert_eq!(ctx.application_tags, vec!["x", "y"]);
            assert_eq!((ctx.priority, ctx.max_app_attempts), (Some(5), Some(1)));
            assert_eq!(ctx.resource, s.am_resource);
            let spec = &ctx.am_container;
            assert_eq!(spec.local_resources, s.launch.local_resources);
            assert_eq!(spec.commands, vec![launch::container_command(&args)]);
            let back = AmLaunch::from_vars(|k| spec.environment.get(k).cloned()).unwrap();
            assert_eq!(back, s.launch);
            assert_eq!(
                spec.credentials.secret(launch::SECRET_ALIAS),
                Some(&[7u8; 32][..])
            );
        }
    }

    #[test]
    fn scheduling_round_trips_through_the_drivers_environment() {
        let s = submission(DeployMode::Client, vec![]).scheduling;
        let env = s.to_env();
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(Scheduling::from_vars(get).unwrap(), s);
        assert_eq!(
            Scheduling::from_vars(|_| None).unwrap(),
            Scheduling::default()
        );
        let e = Scheduling::from_vars(|k| (k == PRIORITY).then(|| "high".into()))
            .unwrap_err()
            .to_string();
        assert!(e.contains(PRIORITY) && e.contains("high"), "{e}");
    }
}
