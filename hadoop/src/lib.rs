//! Talking to Hadoop as a client: configuration, IPC (RPC v9), SASL, tokens and credentials, YARN ids, the RM REST client, NameNode calls.
