//! A Hadoop security token: what the RM, NMs and NN hand out and accept.

/// A token as Hadoop's `Token<T>` holds it: the opaque identifier bytes, the
/// password, the kind (e.g. `YARN_AM_RM_TOKEN`) and the service (`host:port`).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Token {
    pub identifier: Vec<u8>,
    pub password: Vec<u8>,
    pub kind: String,
    pub service: String,
}

impl std::fmt::Debug for Token {
    // The password is a secret: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("kind", &self.kind)
            .field("service", &self.service)
            .field("identifier_len", &self.identifier.len())
            .finish_non_exhaustive()
    }
}
