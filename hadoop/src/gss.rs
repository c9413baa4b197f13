//! The system's GSSAPI (MIT krb5's `libgssapi_krb5.so.2`), loaded at run
//! time, never linked: every Spindle driver binary is also its own AM and
//! executors, and those start on NodeManagers that may have no Kerberos
//! libraries at all (they authenticate with tokens). Only Kerberos logins on
//! the submitting machine open the library. The bindings cover exactly what
//! Spindle uses: names, credentials (ticket cache or keytab), initiator
//! contexts for the Kerberos and SPNEGO mechanisms, wrap/unwrap and status text.

use std::ffi::{CString, c_char, c_void};
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// The library's file name (MIT krb5; Heimdal installs the same soname).
pub const LIBRARY: &str = "libgssapi_krb5.so.2";

type Status = u32;
type Name = *mut c_void;
type Ctx = *mut c_void;
type Cred = *mut c_void;

#[repr(C)]
struct Buffer {
    length: usize,
    value: *mut c_void,
}

impl Buffer {
    fn empty() -> Self {
        Buffer {
            length: 0,
            value: std::ptr::null_mut(),
        }
    }
    fn borrowing(bytes: &[u8]) -> Self {
        Buffer {
            length: bytes.len(),
            value: bytes.as_ptr() as *mut c_void,
        }
    }
}

#[repr(C)]
struct Oid {
    length: u32,
    elements: *const c_void,
}

#[repr(C)]
struct OidSet {
    count: usize,
    elements: *const Oid,
}

#[repr(C)]
struct KeyValue {
    key: *const c_char,
    value: *const c_char,
}

#[repr(C)]
struct KeyValueSet {
    count: u32,
    elements: *const KeyValue,
}

// DER bodies of the object identifiers Spindle needs (RFC 1964, RFC 4178, RFC 2744).
const KRB5_MECH: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
const SPNEGO_MECH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
const NT_HOSTBASED_SERVICE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x01, 0x04];
const NT_KRB5_PRINCIPAL: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x01];

fn oid(der: &'static [u8]) -> Oid {
    Oid {
        length: der.len() as u32,
        elements: der.as_ptr() as *const c_void,
    }
}

const C_INITIATE: i32 = 1;
const C_GSS_CODE: i32 = 1;
const C_MECH_CODE: i32 = 2;
const C_INDEFINITE: u32 = u32::MAX;
const S_CONTINUE_NEEDED: Status = 1;
/// `GSS_S_NO_CRED`, `GSS_S_CREDENTIALS_EXPIRED`: the routine-error field.
pub const S_NO_CRED: Status = 7 << 16;
pub const S_CREDENTIALS_EXPIRED: Status = 11 << 16;

/// Context flags (RFC 2744).
pub const FLAG_MUTUAL: u32 = 2;
pub const FLAG_REPLAY: u32 = 4;
pub const FLAG_SEQUENCE: u32 = 8;
pub const FLAG_CONF: u32 = 16;
pub const FLAG_INTEG: u32 = 32;

fn is_error(major: Status) -> bool {
    major & 0xffff_0000 != 0
}

type ImportName = unsafe extern "C" fn(*mut Status, *const Buffer, *const Oid, *mut Name) -> Status;
type ReleaseName = unsafe extern "C" fn(*mut Status, *mut Name) -> Status;
type DisplayName = unsafe extern "C" fn(*mut Status, Name, *mut Buffer, *mut *const Oid) -> Status;
type AcquireCred = unsafe extern "C" fn(
    *mut Status,
    Name,
    u32,
    *const OidSet,
    i32,
    *mut Cred,
    *mut *mut OidSet,
    *mut u32,
) -> Status;
type AcquireCredFrom = unsafe extern "C" fn(
    *mut Status,
    Name,
    u32,
    *const OidSet,
    i32,
    *const KeyValueSet,
    *mut Cred,
    *mut *mut OidSet,
    *mut u32,
) -> Status;
type InquireCred = unsafe extern "C" fn(
    *mut Status,
    Cred,
    *mut Name,
    *mut u32,
    *mut i32,
    *mut *mut OidSet,
) -> Status;
type ReleaseCred = unsafe extern "C" fn(*mut Status, *mut Cred) -> Status;
type InitSecContext = unsafe extern "C" fn(
    *mut Status,
    Cred,
    *mut Ctx,
    Name,
    *const Oid,
    u32,
    u32,
    *const c_void,
    *const Buffer,
    *mut *const Oid,
    *mut Buffer,
    *mut u32,
    *mut u32,
) -> Status;
type DeleteSecContext = unsafe extern "C" fn(*mut Status, *mut Ctx, *mut Buffer) -> Status;
type Wrap = unsafe extern "C" fn(
    *mut Status,
    Ctx,
    i32,
    u32,
    *const Buffer,
    *mut i32,
    *mut Buffer,
) -> Status;
type Unwrap = unsafe extern "C" fn(
    *mut Status,
    Ctx,
    *const Buffer,
    *mut Buffer,
    *mut i32,
    *mut u32,
) -> Status;
type WrapSizeLimit = unsafe extern "C" fn(*mut Status, Ctx, i32, u32, u32, *mut u32) -> Status;
type ReleaseBuffer = unsafe extern "C" fn(*mut Status, *mut Buffer) -> Status;
type DisplayStatus =
    unsafe extern "C" fn(*mut Status, Status, i32, *const Oid, *mut u32, *mut Buffer) -> Status;

/// The entry points, resolved once.
struct Api {
    _lib: libloading::Library,
    import_name: ImportName,
    release_name: ReleaseName,
    display_name: DisplayName,
    acquire_cred: AcquireCred,
    acquire_cred_from: Option<AcquireCredFrom>,
    inquire_cred: InquireCred,
    release_cred: ReleaseCred,
    init_sec_context: InitSecContext,
    delete_sec_context: DeleteSecContext,
    wrap: Wrap,
    unwrap: Unwrap,
    wrap_size_limit: WrapSizeLimit,
    release_buffer: ReleaseBuffer,
    display_status: DisplayStatus,
}

/// A GSSAPI failure: the routine that failed, both status codes and the
/// library's own text for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GssError {
    pub what: String,
    pub major: u32,
    pub minor: u32,
    pub message: String,
}

impl std::fmt::Display for GssError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.what, self.message)
    }
}

impl GssError {
    fn plain(what: &str, message: impl Into<String>) -> Self {
        GssError {
            what: what.to_string(),
            major: 0,
            minor: 0,
            message: message.into(),
        }
    }
}

static API: OnceLock<Result<Api, String>> = OnceLock::new();

fn api() -> Result<&'static Api, GssError> {
    API.get_or_init(load)
        .as_ref()
        .map_err(|e| GssError::plain("loading GSSAPI", e.clone()))
}

/// Whether the system GSSAPI library can be loaded (without failing).
pub fn available() -> bool {
    api().is_ok()
}

fn load() -> Result<Api, String> {
    load_from(LIBRARY)
}

fn load_from(file: &str) -> Result<Api, String> {
    // SAFETY: loading the system GSSAPI runs its initialisers, which have no
    // preconditions; the symbols below are declared with their C prototypes
    // from RFC 2744 and MIT's gssapi_ext.h.
    unsafe {
        let lib = libloading::Library::new(file).map_err(|e| {
            format!(
                "Kerberos needs the system GSSAPI library {file} (MIT krb5; Debian/Ubuntu: \
                 apt-get install libgssapi-krb5-2, RHEL: krb5-libs), which could not be loaded: {e}"
            )
        })?;
        macro_rules! sym {
            ($name:literal) => {
                *lib.get($name)
                    .map_err(|e| format!("{file} lacks {}: {e}", stringify!($name)))?
            };
        }
        Ok(Api {
            import_name: sym!(b"gss_import_name"),
            release_name: sym!(b"gss_release_name"),
            display_name: sym!(b"gss_display_name"),
            acquire_cred: sym!(b"gss_acquire_cred"),
            acquire_cred_from: lib
                .get::<AcquireCredFrom>(b"gss_acquire_cred_from")
                .ok()
                .map(|s| *s),
            inquire_cred: sym!(b"gss_inquire_cred"),
            release_cred: sym!(b"gss_release_cred"),
            init_sec_context: sym!(b"gss_init_sec_context"),
            delete_sec_context: sym!(b"gss_delete_sec_context"),
            wrap: sym!(b"gss_wrap"),
            unwrap: sym!(b"gss_unwrap"),
            wrap_size_limit: sym!(b"gss_wrap_size_limit"),
            release_buffer: sym!(b"gss_release_buffer"),
            display_status: sym!(b"gss_display_status"),
            _lib: lib,
        })
    }
}

impl Api {
    /// Turns a status pair into an error carrying the library's messages.
    fn error(&self, what: &str, major: Status, minor: Status) -> GssError {
        let mut parts = Vec::new();
        let mech = oid(KRB5_MECH);
        // Mechanism text first: it is the specific one ("Clock skew too great").
        for (code, kind) in [(minor, C_MECH_CODE), (major, C_GSS_CODE)] {
            if code == 0 {
                continue;
            }
            let mut context = 0u32;
            for _ in 0..8 {
                let mut min = 0;
                let mut buf = Buffer::empty();
                // SAFETY: all pointers are valid for the call; the buffer is
                // released below.
                let st = unsafe {
                    (self.display_status)(&mut min, code, kind, &mech, &mut context, &mut buf)
                };
                if is_error(st) {
                    break;
                }
                let text = self.take(&mut buf);
                let text = String::from_utf8_lossy(&text).trim().to_string();
                if !text.is_empty() && !parts.contains(&text) {
                    parts.push(text);
                }
                if context == 0 {
                    break;
                }
            }
        }
        GssError {
            what: what.to_string(),
            major,
            minor,
            message: if parts.is_empty() {
                format!("GSSAPI major {major:#x} minor {minor}")
            } else {
                parts.join("; ")
            },
        }
    }

    /// Copies out and releases a buffer the library allocated.
    fn take(&self, buf: &mut Buffer) -> Vec<u8> {
        let out = if buf.value.is_null() || buf.length == 0 {
            Vec::new()
        } else {
            // SAFETY: the library returned `length` readable bytes at `value`.
            unsafe { std::slice::from_raw_parts(buf.value as *const u8, buf.length).to_vec() }
        };
        let mut min = 0;
        // SAFETY: the buffer came from the library.
        unsafe { (self.release_buffer)(&mut min, buf) };
        out
    }

    fn import(&self, text: &str, kind: &'static [u8]) -> Result<OwnedName, GssError> {
        let mut min = 0;
        let mut name: Name = std::ptr::null_mut();
        let input = Buffer::borrowing(text.as_bytes());
        let kind = oid(kind);
        // SAFETY: valid input buffer and OID; `name` receives a new name.
        let st = unsafe { (self.import_name)(&mut min, &input, &kind, &mut name) };
        if is_error(st) {
            return Err(self.error(&format!("the name {text}"), st, min));
        }
        Ok(OwnedName(name))
    }

    fn name_text(&self, name: Name) -> Result<String, GssError> {
        let mut min = 0;
        let mut buf = Buffer::empty();
        let mut kind: *const Oid = std::ptr::null();
        // SAFETY: `name` is a live name; the buffer is released by `take`.
        let st = unsafe { (self.display_name)(&mut min, name, &mut buf, &mut kind) };
        if is_error(st) {
            return Err(self.error("displaying a name", st, min));
        }
        Ok(String::from_utf8_lossy(&self.take(&mut buf)).into_owned())
    }
}

struct OwnedName(Name);

impl Drop for OwnedName {
    fn drop(&mut self) {
        if let Ok(api) = api() {
            let mut min = 0;
            // SAFETY: the name came from gss_import_name or gss_inquire_cred.
            unsafe { (api.release_name)(&mut min, &mut self.0) };
        }
    }
}

/// Initiator credentials: the user's ticket cache, or a keytab login.
pub struct Credential {
    handle: Cred,
    principal: String,
    /// Seconds of validity left when acquired (`u32::MAX`: unknown).
    pub lifetime: u32,
}

// SAFETY: MIT's credential handles are safe to use from any thread; Spindle
// only reads them after acquisition.
unsafe impl Send for Credential {}
unsafe impl Sync for Credential {}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("principal", &self.principal)
            .finish_non_exhaustive()
    }
}

impl Drop for Credential {
    fn drop(&mut self) {
        if let Ok(api) = api() {
            let mut min = 0;
            // SAFETY: the handle came from gss_acquire_cred(_from).
            unsafe { (api.release_cred)(&mut min, &mut self.handle) };
        }
    }
}

impl Credential {
    /// The default credentials: the ticket cache (`KRB5CCNAME` or the
    /// system default), as after `kinit`.
    pub fn from_ticket_cache() -> Result<Arc<Self>, GssError> {
        let api = api()?;
        let mut min = 0;
        let mut handle: Cred = std::ptr::null_mut();
        let mut lifetime = 0;
        // SAFETY: all out-pointers are valid; no desired name (the cache's
        // principal), every mechanism (Kerberos directly and inside SPNEGO).
        let st = unsafe {
            (api.acquire_cred)(
                &mut min,
                std::ptr::null_mut(),
                C_INDEFINITE,
                std::ptr::null(),
                C_INITIATE,
                &mut handle,
                std::ptr::null_mut(),
                &mut lifetime,
            )
        };
        if is_error(st) {
            return Err(api.error("reading the Kerberos ticket cache", st, min));
        }
        Self::finish(api, handle, lifetime)
    }

    /// Logs in as `principal` from `keytab` into a private in-memory ticket
    /// cache (MIT's `gss_acquire_cred_from` with `client_keytab` and a
    /// `MEMORY:` ccache): nothing is written to disk, no environment changes.
    pub fn from_keytab(principal: &str, keytab: &Path) -> Result<Arc<Self>, GssError> {
        let api = api()?;
        let from = api.acquire_cred_from.ok_or_else(|| {
            GssError::plain(
                "keytab login",
                format!("{LIBRARY} lacks gss_acquire_cred_from (MIT krb5 1.11 or later needed)"),
            )
        })?;
        let name = api.import(principal, NT_KRB5_PRINCIPAL)?;
        let keytab_text = CString::new(format!("FILE:{}", keytab.display()))
            .map_err(|_| GssError::plain("keytab login", "keytab path holds a NUL byte"))?;
        let ccache = CString::new(format!(
            "MEMORY:spindle-{}-{:x}",
            std::process::id(),
            rand::random::<u64>()
        ))
        .map_err(|_| GssError::plain("keytab login", "ccache name holds a NUL byte"))?;
        let (k_keytab, k_ccache) = (c"client_keytab", c"ccache");
        let elements = [
            KeyValue {
                key: k_keytab.as_ptr(),
                value: keytab_text.as_ptr(),
            },
            KeyValue {
                key: k_ccache.as_ptr(),
                value: ccache.as_ptr(),
            },
        ];
        let store = KeyValueSet {
            count: elements.len() as u32,
            elements: elements.as_ptr(),
        };
        let mut min = 0;
        let mut handle: Cred = std::ptr::null_mut();
        let mut lifetime = 0;
        // SAFETY: the store's strings outlive the call; out-pointers are valid;
        // every mechanism, so that SPNEGO can use the credential too.
        let st = unsafe {
            from(
                &mut min,
                name.0,
                C_INDEFINITE,
                std::ptr::null(),
                C_INITIATE,
                &store,
                &mut handle,
                std::ptr::null_mut(),
                &mut lifetime,
            )
        };
        if is_error(st) {
            return Err(api.error(
                &format!(
                    "logging in as {principal} from the keytab {}",
                    keytab.display()
                ),
                st,
                min,
            ));
        }
        Self::finish(api, handle, lifetime)
    }

    fn finish(api: &Api, handle: Cred, lifetime: u32) -> Result<Arc<Self>, GssError> {
        let mut cred = Credential {
            handle,
            principal: String::new(),
            lifetime,
        };
        let mut min = 0;
        let mut name: Name = std::ptr::null_mut();
        // SAFETY: live credential; `name` receives a new name we release.
        let st = unsafe {
            (api.inquire_cred)(
                &mut min,
                handle,
                &mut name,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        if is_error(st) {
            return Err(api.error("inspecting the Kerberos credentials", st, min));
        }
        let name = OwnedName(name);
        cred.principal = api.name_text(name.0)?;
        Ok(Arc::new(cred))
    }

    /// The client principal, e.g. `alice@EXAMPLE.COM`.
    pub fn principal(&self) -> &str {
        &self.principal
    }
}

/// The mechanism of a security context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mech {
    /// Raw Kerberos 5 (SASL GSSAPI on Hadoop IPC).
    Krb5,
    /// SPNEGO wrapping Kerberos (HTTP `Negotiate`).
    Spnego,
}

/// An initiator security context with one service.
pub struct Context {
    handle: Ctx,
    target: OwnedName,
    target_text: String,
    mech: Mech,
    flags: u32,
    cred: Arc<Credential>,
    complete: bool,
    /// Flags the acceptor granted, once complete.
    granted: u32,
}

// SAFETY: a context is used by one thread at a time (callers hold it behind
// `&mut` or a mutex); MIT contexts carry no thread affinity.
unsafe impl Send for Context {}

impl Drop for Context {
    fn drop(&mut self) {
        if !self.handle.is_null()
            && let Ok(api) = api()
        {
            let mut min = 0;
            // SAFETY: the handle came from gss_init_sec_context.
            unsafe { (api.delete_sec_context)(&mut min, &mut self.handle, std::ptr::null_mut()) };
        }
    }
}

impl Context {
    /// A context with `service@host` (a host-based service name, e.g.
    /// `nn@namenode.example.com`, `HTTP@rm.example.com`).
    pub fn new(
        cred: Arc<Credential>,
        service_at_host: &str,
        mech: Mech,
        flags: u32,
    ) -> Result<Self, GssError> {
        let api = api()?;
        let target = api.import(service_at_host, NT_HOSTBASED_SERVICE)?;
        Ok(Context {
            handle: std::ptr::null_mut(),
            target,
            target_text: service_at_host.to_string(),
            mech,
            flags,
            cred,
            complete: false,
            granted: 0,
        })
    }

    /// One step: the token to send (possibly empty) given the acceptor's
    /// last token (`None` for the first step).
    pub fn step(&mut self, input: Option<&[u8]>) -> Result<Vec<u8>, GssError> {
        let api = api()?;
        let mech = oid(match self.mech {
            Mech::Krb5 => KRB5_MECH,
            Mech::Spnego => SPNEGO_MECH,
        });
        let input_buf = input.map(Buffer::borrowing);
        let mut out = Buffer::empty();
        let mut min = 0;
        let mut granted = 0u32;
        // SAFETY: every pointer is valid for the call; the output buffer is released by `take`.
        let st = unsafe {
            (api.init_sec_context)(
                &mut min,
                self.cred.handle,
                &mut self.handle,
                self.target.0,
                &mech,
                self.flags,
                0,
                std::ptr::null(),
                input_buf
                    .as_ref()
                    .map_or(std::ptr::null(), |b| b as *const Buffer),
                std::ptr::null_mut(),
                &mut out,
                &mut granted,
                std::ptr::null_mut(),
            )
        };
        let token = api.take(&mut out);
        if is_error(st) {
            return Err(api.error(
                &format!("Kerberos authentication to {}", self.target_text),
                st,
                min,
            ));
        }
        self.complete = st & S_CONTINUE_NEEDED == 0;
        self.granted = granted;
        Ok(token)
    }

    /// Whether the context is established.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Protects `data`: integrity always, confidentiality when `conf`.
    pub fn wrap(&mut self, conf: bool, data: &[u8]) -> Result<Vec<u8>, GssError> {
        let api = api()?;
        let input = Buffer::borrowing(data);
        let mut out = Buffer::empty();
        let mut min = 0;
        let mut conf_state = 0;
        // SAFETY: live established context; valid buffers.
        let st = unsafe {
            (api.wrap)(
                &mut min,
                self.handle,
                conf as i32,
                0,
                &input,
                &mut conf_state,
                &mut out,
            )
        };
        let token = api.take(&mut out);
        if is_error(st) {
            return Err(api.error("wrapping a message", st, min));
        }
        if conf && conf_state == 0 {
            return Err(GssError::plain(
                "wrapping a message",
                "confidentiality unavailable",
            ));
        }
        Ok(token)
    }

    /// Checks and opens a wrapped message; the flag says whether it was encrypted.
    pub fn unwrap(&mut self, token: &[u8]) -> Result<(Vec<u8>, bool), GssError> {
        let api = api()?;
        let input = Buffer::borrowing(token);
        let mut out = Buffer::empty();
        let mut min = 0;
        let mut conf_state = 0;
        let mut qop = 0;
        // SAFETY: live established context; valid buffers.
        let st = unsafe {
            (api.unwrap)(
                &mut min,
                self.handle,
                &input,
                &mut out,
                &mut conf_state,
                &mut qop,
            )
        };
        let data = api.take(&mut out);
        if is_error(st) {
            return Err(api.error("unwrapping a message", st, min));
        }
        Ok((data, conf_state != 0))
    }

    /// The largest message whose wrapped form fits in `max_output` bytes.
    pub fn wrap_size_limit(&self, conf: bool, max_output: u32) -> Result<u32, GssError> {
        let api = api()?;
        let mut min = 0;
        let mut max_input = 0;
        // SAFETY: live established context.
        let st = unsafe {
            (api.wrap_size_limit)(
                &mut min,
                self.handle,
                conf as i32,
                0,
                max_output,
                &mut max_input,
            )
        };
        if is_error(st) {
            return Err(api.error("sizing wrapped messages", st, min));
        }
        Ok(max_input)
    }

    /// The flags the acceptor granted (valid once complete).
    pub fn granted(&self) -> u32 {
        self.granted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_are_the_registered_ones() {
        // 1.2.840.113554.1.2.2: 1*40+2 = 0x2a, 840 = 0x86 0x48, 113554 = 0x86 0xf7 0x12.
        assert_eq!(KRB5_MECH.len(), 9);
        assert_eq!(&NT_HOSTBASED_SERVICE[..7], &KRB5_MECH[..7]);
        assert_eq!(&NT_KRB5_PRINCIPAL[..9], KRB5_MECH);
        // 1.3.6.1.5.5.2
        assert_eq!(SPNEGO_MECH, &[43, 6, 1, 5, 5, 2]);
    }

    #[test]
    fn a_missing_library_is_one_line_naming_it_and_its_package() {
        let Err(e) = load_from("libgssapi_krb5_missing.so.9") else {
            panic!("loaded a library that does not exist");
        };
        assert!(e.contains("libgssapi_krb5_missing.so.9"), "{e}");
        assert!(e.contains("libgssapi-krb5-2"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn error_bits() {
        assert!(!is_error(0));
        assert!(!is_error(S_CONTINUE_NEEDED));
        assert!(is_error(S_NO_CRED));
        assert!(is_error(S_CREDENTIALS_EXPIRED));
    }
}
