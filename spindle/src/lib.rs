//! The crate a driver program depends on: the API and spindle::main, which picks the role (driver, application master, executor).
