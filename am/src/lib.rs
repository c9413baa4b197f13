//! The YARN ApplicationMaster: RM and NM protocols, container requests, executor lifecycle, web UI.
