//! The executor runtime: task runner, shuffle writer/server/fetcher, heartbeats.
