//! Hadoop wire messages Spindle uses (our own .proto files, field numbers as in Hadoop 3.x) and Spindle's driver/executor services.
