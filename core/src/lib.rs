//! The engine: Context, Dataset transformations and actions, lineage, DAG and task scheduling, shuffle, and the cluster-backend trait.
