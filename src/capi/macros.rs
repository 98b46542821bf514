//! The panic boundary and the handful of pointer helpers every export uses.
//! Function bodies elsewhere in `capi` stay free of raw-pointer juggling.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::error::{Error, Status};

/// C status type: 0 OK, positive flow codes, negative errors.
#[allow(non_camel_case_types)]
pub type venc_status = i32;

/// Runs an export's body; a panic becomes `$on_panic` instead of unwinding
/// into C (which would be undefined behaviour).
macro_rules! ffi_boundary {
    ($on_panic:expr, $body:block) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| $body)) {
            Ok(value) => value,
            Err(_) => $on_panic,
        }
    };
}
pub(crate) use ffi_boundary;

/// Per-handle error text, poison flag and count of calls in progress.
#[derive(Default)]
pub struct ErrorSlot {
    text: Mutex<String>,
    poisoned: AtomicBool,
    active: AtomicUsize,
}

impl ErrorSlot {
    pub fn set(&self, message: &str) {
        let mut t = self.text.lock().unwrap_or_else(|p| p.into_inner());
        t.clear();
        t.push_str(message);
    }
    pub fn get(&self) -> String {
        self.text.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
    pub fn poison(&self) {
        self.poisoned.store(true, Ordering::SeqCst);
        self.set("an internal panic happened in this handle; it can only be freed now");
    }
    pub fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::SeqCst)
    }
    /// Calls currently inside this handle (see `free_handle`).
    pub fn active(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }
}

/// Counts a call as in progress for as long as it lives.
struct ActiveCall<'a>(&'a AtomicUsize);

impl<'a> ActiveCall<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        ActiveCall(counter)
    }
}

impl Drop for ActiveCall<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Implemented by every opaque handle type.
pub trait Handle {
    fn errors(&self) -> &ErrorSlot;
}

/// Turns a Result into a status, recording the message on the handle.
pub fn report(slot: &ErrorSlot, result: Result<(), Error>) -> venc_status {
    match result {
        Ok(()) => Status::Ok.code(),
        Err(e) => {
            slot.set(&e.message);
            e.status.code()
        }
    }
}

/// The common shape of a handle export: NULL check, poison check, panic
/// boundary, error text. `body` sees a plain reference.
pub fn with_handle<T: Handle>(
    ptr: *const T,
    body: impl FnOnce(&T) -> Result<(), Error>,
) -> venc_status {
    // SAFETY: a non-NULL handle pointer came from our constructor (Box::into_raw)
    // and, by the documented contract, is not freed while a call is running.
    let Some(handle) = (unsafe { ptr.as_ref() }) else {
        return Status::NullArg.code();
    };
    let slot = handle.errors();
    let _call = ActiveCall::enter(&slot.active);
    if slot.is_poisoned() {
        return Status::Poisoned.code();
    }
    match catch_unwind(AssertUnwindSafe(|| body(handle))) {
        Ok(result) => report(slot, result),
        Err(_) => {
            slot.poison();
            Status::Panic.code()
        }
    }
}

/// Boxes a new handle and writes it to `out`; the only place handles are born.
pub fn give<T>(out: *mut *mut T, value: T) {
    // SAFETY: callers check `out` for NULL before building `value`.
    unsafe { *out = Box::into_raw(Box::new(value)) };
}

/// Reclaims and drops a handle; NULL is a no-op.
pub fn take<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: non-NULL handles come from `give` and are freed once (contract).
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// Frees a handle that another thread may still be blocked in (a receive
/// waiting for packets): `interrupt` makes such calls return, then this
/// waits for them to leave before the memory goes. A call must not *start*
/// after free has begun; that part of the contract stays with the caller.
pub fn free_handle<T: Handle>(ptr: *mut T, interrupt: impl FnOnce(&T)) {
    // SAFETY: non-NULL handles come from `give` and stay live until `take` below.
    let Some(handle) = (unsafe { ptr.as_ref() }) else {
        return;
    };
    interrupt(handle);
    while handle.errors().active() > 0 {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    take(ptr);
}

/// Reads a NUL-terminated C string argument.
pub fn c_str<'a>(ptr: *const std::ffi::c_char, what: &str) -> Result<&'a str, Error> {
    if ptr.is_null() {
        return Err(Error::new(Status::NullArg, format!("{what} is NULL")));
    }
    // SAFETY: the caller passes a NUL-terminated string that outlives the call.
    let s = unsafe { std::ffi::CStr::from_ptr(ptr) };
    s.to_str()
        .map_err(|_| Error::invalid_arg(format!("{what} is not valid UTF-8")))
}

/// Copies `text` into a caller buffer, always NUL-terminating when `cap > 0`.
/// Returns the full length of `text` (without NUL), like snprintf.
pub fn copy_text(text: &str, buf: *mut std::ffi::c_char, cap: usize) -> usize {
    if !buf.is_null() && cap > 0 {
        let n = text.len().min(cap - 1);
        // SAFETY: the caller gives `cap` writable bytes at `buf`; we write n + 1 <= cap.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
        }
    }
    text.len()
}

/// Writes `value` through an out-pointer that was checked for NULL.
pub fn put<T>(out: *mut T, value: T) {
    // SAFETY: callers check `out` for NULL; it points at writable storage for T.
    unsafe { out.write(value) };
}

/// An error that carries a vendor's own status code (K230, Horizon), for
/// personalities whose codes are not `venc_status`.
pub trait CodeError {
    fn code(&self) -> i32;
    fn message(&self) -> &str;
}

/// Vendor codes a `with_handle_code` call returns for failures that happen
/// before the body runs or outside it.
pub struct BoundaryCodes {
    pub null: i32,
    pub poisoned: i32,
    pub panic: i32,
}

/// `with_handle` for vendor personalities: the same NULL check, poison
/// check, panic boundary and error text, but the body's error carries the
/// vendor code to return. `Ok(code)` is returned as is.
#[allow(clippy::not_unsafe_ptr_arg_deref)] // C handles are raw pointers; NULL-checked.
pub fn with_handle_code<T: Handle, E: CodeError>(
    ptr: *const T,
    codes: &BoundaryCodes,
    body: impl FnOnce(&T) -> Result<i32, E>,
) -> i32 {
    // SAFETY: a non-NULL handle pointer came from our constructor (Box::into_raw)
    // and, by the documented contract, is not freed while a call is running.
    let Some(handle) = (unsafe { ptr.as_ref() }) else {
        return codes.null;
    };
    let slot = handle.errors();
    if slot.is_poisoned() {
        return codes.poisoned;
    }
    match catch_unwind(AssertUnwindSafe(|| body(handle))) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            slot.set(e.message());
            e.code()
        }
        Err(_) => {
            slot.poison();
            codes.panic
        }
    }
}
