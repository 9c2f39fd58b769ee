//! gguftk: GGUF model files and bit-exact dequantization of every ggml type, through libgguftk's
//! C API (`lib/include/gguftk/gguftk.h`; its rules are in `docs/LIBGGUFTK.md`).
//!
//! ```no_run
//! let model = gguftk::Model::open("model.gguf")?;
//! for t in model.tensors() {
//!     let t = t?;
//!     if t.type_info()?.has_decoder {
//!         let mut w = vec![0u16; t.n_elements() as usize];
//!         t.dequantize_into(&mut w, gguftk::Target::F16)?;
//!     }
//! }
//! # Ok::<(), gguftk::Error>(())
//! ```
//!
//! Values are exactly gguf-dequant's (ggml's float32 dequantization, rounded to nearest even for
//! F16 and BF16, whose values are given as their bits in `u16`).

pub mod sys;

#[cfg(feature = "cuda")]
pub mod cuda;

use std::borrow::Cow;
use std::ffi::{CStr, CString};
use std::fmt;
use std::os::raw::{c_char, c_int, c_void};
use std::path::Path;
use std::ptr::NonNull;

/// A failed call: the C API's code and the message it left in `gguftk_last_error()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: i32,
    message: String,
}

impl Error {
    /// Reads the calling thread's message: call right after the failing call, on its thread.
    fn last(code: c_int) -> Error {
        let message = unsafe { CStr::from_ptr(sys::gguftk_last_error()) }.to_string_lossy().into_owned();
        Error { code, message }
    }
    /// A misuse caught on the Rust side, before any call.
    fn invalid(message: String) -> Error {
        Error { code: sys::GGUFTK_ERR_INVALID_ARGUMENT, message }
    }
    /// The C API's code: one of the `sys::GGUFTK_ERR_*` constants.
    pub fn code(&self) -> i32 {
        self.code
    }
    /// "GGUFTK_ERR_IO", ...
    pub fn name(&self) -> &'static str {
        static_str(unsafe { sys::gguftk_error_name(self.code) })
    }
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

fn check(rc: c_int) -> Result<()> {
    if rc == sys::GGUFTK_OK {
        Ok(())
    } else {
        Err(Error::last(rc))
    }
}

/// The C API's static strings ("Q4_K", "GGUFTK_ERR_IO", ...) are ASCII.
fn static_str(p: *const c_char) -> &'static str {
    unsafe { CStr::from_ptr(p) }.to_str().unwrap_or("?")
}

/// The library's version, "MAJOR.MINOR.PATCH".
pub fn version() -> &'static str {
    static_str(unsafe { sys::gguftk_version() })
}

/// What dequantization writes: F32 into `[f32]`, F16 and BF16 as their bits into `[u16]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    F32,
    F16,
    BF16,
}

impl Target {
    fn raw(self) -> sys::gguftk_out_type {
        match self {
            Target::F32 => sys::GGUFTK_F32,
            Target::F16 => sys::GGUFTK_F16,
            Target::BF16 => sys::GGUFTK_BF16,
        }
    }
    fn bytes(self) -> usize {
        match self {
            Target::F32 => 4,
            Target::F16 | Target::BF16 => 2,
        }
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for u16 {}
}

/// An element type dequantization can write: `f32` (for F32) or `u16` (the bits of F16, BF16).
pub trait Element: sealed::Sealed + Copy {}
impl Element for f32 {}
impl Element for u16 {}

/// The raw destination for `target`, refused when the slice's element type does not fit it.
fn out_buffer<E: Element>(dst: &mut [E], target: Target) -> Result<(*mut c_void, usize)> {
    if std::mem::size_of::<E>() != target.bytes() {
        return Err(Error::invalid(format!(
            "{target:?} values need a [{}] buffer",
            if target == Target::F32 { "f32" } else { "u16" }
        )));
    }
    Ok((dst.as_mut_ptr().cast(), std::mem::size_of_val(dst)))
}

/// A ggml type's block layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeInfo {
    pub name: &'static str,
    pub block_elems: u32,
    pub block_bytes: u32,
    /// False for I8..I64, which hold data, not weights.
    pub has_decoder: bool,
}

/// The block layout of ggml type id `ggml_type`.
pub fn type_info(ggml_type: u32) -> Result<TypeInfo> {
    let mut t = std::mem::MaybeUninit::<sys::gguftk_type_info>::uninit();
    check(unsafe { sys::gguftk_type_info_of(ggml_type, t.as_mut_ptr()) })?;
    let t = unsafe { t.assume_init() };
    Ok(TypeInfo {
        name: static_str(t.name),
        block_elems: t.block_elems,
        block_bytes: t.block_bytes,
        has_decoder: t.has_decoder != 0,
    })
}

/// Whole blocks of ggml type `ggml_type` already in memory (`src`: a multiple of the type's
/// block size) into `dst`, on the calling thread.
pub fn dequantize_blocks<E: Element>(ggml_type: u32, src: &[u8], dst: &mut [E], to: Target) -> Result<()> {
    let block = type_info(ggml_type)?.block_bytes as usize;
    if block == 0 || src.len() % block != 0 {
        return Err(Error::invalid(format!("{} bytes are not whole blocks of {block} bytes", src.len())));
    }
    let (p, bytes) = out_buffer(dst, to)?;
    check(unsafe { sys::gguftk_dequantize_blocks(ggml_type, src.as_ptr().cast(), (src.len() / block) as u64, to.raw(), p, bytes) })
}

/// An open, validated GGUF file, memory-mapped. Immutable: any number of threads may read and
/// dequantize from one `Model` at once (the C API's rule), hence `Send + Sync`; it is closed when
/// dropped, which the borrow checker keeps from racing with them.
pub struct Model {
    file: NonNull<sys::gguftk_file>,
}

unsafe impl Send for Model {}
unsafe impl Sync for Model {}

impl Drop for Model {
    fn drop(&mut self) {
        unsafe { sys::gguftk_close(self.file.as_ptr()) }
    }
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model").field("tensors", &self.tensor_count()).finish()
    }
}

fn path_to_cstring(path: &Path) -> Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::invalid(format!("{}: a path with a NUL byte", path.display())))
}

impl Model {
    /// Maps and validates the file exactly as the tools do.
    pub fn open<P: AsRef<Path>>(path: P) -> Result<Model> {
        let path = path_to_cstring(path.as_ref())?;
        let mut file = std::ptr::null_mut();
        check(unsafe { sys::gguftk_open(path.as_ptr(), &mut file) })?;
        NonNull::new(file)
            .map(|file| Model { file })
            .ok_or_else(|| Error { code: sys::GGUFTK_ERR_INTERNAL, message: "gguftk_open gave no file".into() })
    }

    /// The C handle, for the `sys` functions; valid while `self` lives.
    pub fn as_ptr(&self) -> *const sys::gguftk_file {
        self.file.as_ptr()
    }

    pub fn tensor_count(&self) -> usize {
        unsafe { sys::gguftk_tensor_count(self.as_ptr()) }.max(0) as usize
    }

    /// Entry `index` through one of the C API's `*_at` calls: (its C index, its info).
    fn info_at<T>(
        &self,
        index: usize,
        at: unsafe extern "C" fn(*const sys::gguftk_file, i64, *mut T) -> c_int,
    ) -> Result<(i64, T)> {
        let mut info = std::mem::MaybeUninit::<T>::uninit();
        let i = i64::try_from(index).unwrap_or(i64::MAX); // past the end: the C API says so
        check(unsafe { at(self.as_ptr(), i, info.as_mut_ptr()) })?;
        Ok((i, unsafe { info.assume_init() }))
    }

    /// Tensor `index` (0-based, file order).
    pub fn tensor(&self, index: usize) -> Result<Tensor<'_>> {
        let (index, info) = self.info_at(index, sys::gguftk_tensor_info_at)?;
        Ok(Tensor { model: self, index, info })
    }

    /// Every tensor, in file order.
    pub fn tensors(&self) -> impl ExactSizeIterator<Item = Result<Tensor<'_>>> + '_ {
        (0..self.tensor_count()).map(move |i| self.tensor(i))
    }

    /// The tensor named `name` (no NUL in it), if there is one.
    pub fn find_tensor(&self, name: &str) -> Option<Tensor<'_>> {
        let name = CString::new(name).ok()?;
        let i = unsafe { sys::gguftk_find_tensor(self.as_ptr(), name.as_ptr()) };
        usize::try_from(i).ok().and_then(|i| self.tensor(i).ok())
    }

    pub fn metadata_count(&self) -> usize {
        unsafe { sys::gguftk_metadata_count(self.as_ptr()) }.max(0) as usize
    }

    /// Metadata entry `index` (0-based, file order).
    pub fn metadata_at(&self, index: usize) -> Result<Kv<'_>> {
        let (index, info) = self.info_at(index, sys::gguftk_metadata_at)?;
        Ok(Kv { model: self, index, info })
    }

    /// Every metadata entry, in file order.
    pub fn metadata(&self) -> impl ExactSizeIterator<Item = Result<Kv<'_>>> + '_ {
        (0..self.metadata_count()).map(move |i| self.metadata_at(i))
    }

    /// The entry whose key is exactly `key` (compared as bytes).
    pub fn find_key<K: AsRef<[u8]>>(&self, key: K) -> Option<Kv<'_>> {
        let key = key.as_ref();
        let i = unsafe { sys::gguftk_find_key(self.as_ptr(), key.as_ptr().cast(), key.len()) };
        usize::try_from(i).ok().and_then(|i| self.metadata_at(i).ok())
    }
}

/// Bytes of length `len` at `p`, or empty for a null pointer.
unsafe fn bytes<'a>(p: *const c_char, len: u64) -> &'a [u8] {
    if p.is_null() || len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(p.cast(), len as usize)
    }
}

/// An entry of a [`Model`] (a tensor, a metadata entry), borrowing from it: its index and the
/// C API's description of it.
#[derive(Clone, Copy)]
pub struct Entry<'m, Info> {
    model: &'m Model,
    index: i64,
    info: Info,
}

// The pointers in the info point into the immutable mapping the borrowed Model owns.
unsafe impl<Info> Send for Entry<'_, Info> {}
unsafe impl<Info> Sync for Entry<'_, Info> {}

/// One tensor of a [`Model`].
pub type Tensor<'m> = Entry<'m, sys::gguftk_tensor_info>;

impl fmt::Debug for Entry<'_, sys::gguftk_tensor_info> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tensor")
            .field("name", &self.name())
            .field("type", &self.type_name())
            .field("shape", &self.shape())
            .finish()
    }
}

impl<'m> Entry<'m, sys::gguftk_tensor_info> {
    pub fn index(&self) -> usize {
        self.index as usize
    }
    /// The name's bytes as stored (not necessarily UTF-8).
    pub fn name_bytes(&self) -> &'m [u8] {
        unsafe { bytes(self.info.name, self.info.name_len) }
    }
    /// The name, invalid UTF-8 replaced.
    pub fn name(&self) -> Cow<'m, str> {
        String::from_utf8_lossy(self.name_bytes())
    }
    /// The ggml type id.
    pub fn ggml_type(&self) -> u32 {
        self.info.r#type
    }
    /// "Q4_K", "F32", ...
    pub fn type_name(&self) -> &'static str {
        static_str(self.info.type_name)
    }
    pub fn type_info(&self) -> Result<TypeInfo> {
        type_info(self.info.r#type)
    }
    /// The dimensions in GGUF order: `shape()[0]` is the row (contiguous) length.
    pub fn shape(&self) -> &[u64] {
        &self.info.ne[..(self.info.n_dims as usize).min(4)]
    }
    /// The dimensions in row-major (C, NumPy) order: the row length last.
    pub fn shape_row_major(&self) -> Vec<u64> {
        self.shape().iter().rev().copied().collect()
    }
    pub fn n_elements(&self) -> u64 {
        self.info.n_elements
    }
    /// Rows of `shape()[0]` elements, all higher dimensions counted one after another.
    pub fn n_rows(&self) -> u64 {
        if self.info.ne[0] == 0 {
            0
        } else {
            self.info.n_elements / self.info.ne[0]
        }
    }
    /// Absolute offset of the data in the file.
    pub fn offset(&self) -> u64 {
        self.info.offset
    }
    /// The data as stored (quantized blocks), inside the mapping.
    pub fn data(&self) -> Result<&'m [u8]> {
        let mut p = std::ptr::null();
        let mut size = 0u64;
        check(unsafe { sys::gguftk_tensor_data(self.model.as_ptr(), self.index, &mut p, &mut size) })?;
        Ok(unsafe { bytes(p.cast(), size) })
    }

    /// The whole tensor into `dst` (n_elements values; more room is left untouched), its blocks
    /// split across every core.
    pub fn dequantize_into<E: Element>(&self, dst: &mut [E], to: Target) -> Result<()> {
        self.dequantize_into_threads(dst, to, 0)
    }

    /// As [`Tensor::dequantize_into`], on at most `threads` threads (0: one per core).
    pub fn dequantize_into_threads<E: Element>(&self, dst: &mut [E], to: Target, threads: usize) -> Result<()> {
        let (p, n) = out_buffer(dst, to)?;
        let threads = c_int::try_from(threads).unwrap_or(c_int::MAX);
        check(unsafe { sys::gguftk_dequantize(self.model.as_ptr(), self.index, to.raw(), p, n, threads) })
    }

    /// Rows `[row0, row0 + n_rows)` into `dst`, on the calling thread.
    pub fn dequantize_rows<E: Element>(&self, row0: u64, n_rows: u64, dst: &mut [E], to: Target) -> Result<()> {
        let (p, n) = out_buffer(dst, to)?;
        check(unsafe { sys::gguftk_dequantize_rows(self.model.as_ptr(), self.index, row0, n_rows, to.raw(), p, n) })
    }

    /// The whole tensor as a new vector of `f32`.
    pub fn to_f32(&self) -> Result<Vec<f32>> {
        let mut v = vec![0f32; self.vec_len()?];
        self.dequantize_into(&mut v, Target::F32)?;
        Ok(v)
    }

    /// The whole tensor as a new vector of F16 (`Target::F16`) or BF16 bits.
    pub fn to_bits(&self, to: Target) -> Result<Vec<u16>> {
        let mut v = vec![0u16; self.vec_len()?];
        self.dequantize_into(&mut v, to)?;
        Ok(v)
    }

    fn vec_len(&self) -> Result<usize> {
        usize::try_from(self.info.n_elements)
            .map_err(|_| Error { code: sys::GGUFTK_ERR_OUT_OF_MEMORY, message: "tensor too large".into() })
    }
}

/// A GGUF metadata value type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    Uint8, Int8, Uint16, Int16, Uint32, Int32, Float32, Bool, String, Array, Uint64, Int64, Float64,
    Unknown(u32),
}

impl ValueType {
    pub fn from_raw(t: u32) -> ValueType {
        use ValueType::*;
        const ALL: [ValueType; 13] =
            [Uint8, Int8, Uint16, Int16, Uint32, Int32, Float32, Bool, String, Array, Uint64, Int64, Float64];
        ALL.get(t as usize).copied().unwrap_or(Unknown(t))
    }
}

/// One metadata entry of a [`Model`]. Values are read as the C API converts them: exactly or
/// not at all (`GGUFTK_ERR_WRONG_VALUE_TYPE`). `item` is 0 for a plain value, else the index of
/// an array's item.
pub type Kv<'m> = Entry<'m, sys::gguftk_kv_info>;

impl fmt::Debug for Entry<'_, sys::gguftk_kv_info> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kv").field("key", &self.key()).field("type", &self.value_type()).finish()
    }
}

impl<'m> Entry<'m, sys::gguftk_kv_info> {
    pub fn key_bytes(&self) -> &'m [u8] {
        unsafe { bytes(self.info.key, self.info.key_len as u64) }
    }
    pub fn key(&self) -> Cow<'m, str> {
        String::from_utf8_lossy(self.key_bytes())
    }
    pub fn value_type(&self) -> ValueType {
        ValueType::from_raw(self.info.r#type)
    }
    /// An array's item type.
    pub fn elem_type(&self) -> ValueType {
        ValueType::from_raw(self.info.elem_type)
    }
    /// The number of items of an array; 1 for any other value.
    pub fn count(&self) -> u64 {
        self.info.count
    }
    pub fn uint(&self, item: u64) -> Result<u64> {
        let mut v = 0;
        check(unsafe { sys::gguftk_metadata_get_uint(self.model.as_ptr(), self.index, item, &mut v) })?;
        Ok(v)
    }
    pub fn int(&self, item: u64) -> Result<i64> {
        let mut v = 0;
        check(unsafe { sys::gguftk_metadata_get_int(self.model.as_ptr(), self.index, item, &mut v) })?;
        Ok(v)
    }
    pub fn float(&self, item: u64) -> Result<f64> {
        let mut v = 0.0;
        check(unsafe { sys::gguftk_metadata_get_float(self.model.as_ptr(), self.index, item, &mut v) })?;
        Ok(v)
    }
    /// A string's bytes, inside the mapping (not necessarily UTF-8).
    pub fn string(&self, item: u64) -> Result<&'m [u8]> {
        let mut p = std::ptr::null();
        let mut len = 0u64;
        check(unsafe { sys::gguftk_metadata_get_string(self.model.as_ptr(), self.index, item, &mut p, &mut len) })?;
        Ok(unsafe { bytes(p, len) })
    }
}
