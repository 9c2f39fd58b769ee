//! The C API of `lib/include/gguftk/gguftk.h`, declared by hand (no bindgen: the crate has no
//! dependencies). `tests/header.rs` compiles these declarations back into C against the header,
//! so a change to either side that does not match the other fails the tests.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_void};

/// An open GGUF file (opaque; only ever behind a pointer).
#[repr(C)]
pub struct gguftk_file {
    _opaque: [u8; 0],
    // Neither Send, Sync nor Unpin by itself: the safe wrapper decides.
    _marker: std::marker::PhantomData<(*mut u8, std::marker::PhantomPinned)>,
}

/// `gguftk_out_type`: the ggml type id of an output type.
pub type gguftk_out_type = u32;
/// `gguftk_value_type`: a GGUF metadata value type.
pub type gguftk_value_type = u32;

macro_rules! constants {
    ($($name:ident: $ty:ty = $value:expr;)*) => {
        $(pub const $name: $ty = $value;)*
        /// Every constant above with its value, for the header test.
        pub const CONSTANTS: &[(&str, i64)] = &[$((stringify!($name), $value as i64)),*];
    };
}

constants! {
    GGUFTK_OK: c_int = 0;
    GGUFTK_ERR_INVALID_ARGUMENT: c_int = 1;
    GGUFTK_ERR_IO: c_int = 2;
    GGUFTK_ERR_BAD_FILE: c_int = 3;
    GGUFTK_ERR_OUT_OF_RANGE: c_int = 4;
    GGUFTK_ERR_UNSUPPORTED_TYPE: c_int = 5;
    GGUFTK_ERR_DST_TOO_SMALL: c_int = 6;
    GGUFTK_ERR_NO_CUDA: c_int = 7;
    GGUFTK_ERR_CUDA: c_int = 8;
    GGUFTK_ERR_OUT_OF_MEMORY: c_int = 9;
    GGUFTK_ERR_WRONG_VALUE_TYPE: c_int = 10;
    GGUFTK_ERR_INTERNAL: c_int = 11;

    GGUFTK_F32: gguftk_out_type = 0;
    GGUFTK_F16: gguftk_out_type = 1;
    GGUFTK_BF16: gguftk_out_type = 30;

    GGUFTK_VALUE_UINT8: gguftk_value_type = 0;
    GGUFTK_VALUE_INT8: gguftk_value_type = 1;
    GGUFTK_VALUE_UINT16: gguftk_value_type = 2;
    GGUFTK_VALUE_INT16: gguftk_value_type = 3;
    GGUFTK_VALUE_UINT32: gguftk_value_type = 4;
    GGUFTK_VALUE_INT32: gguftk_value_type = 5;
    GGUFTK_VALUE_FLOAT32: gguftk_value_type = 6;
    GGUFTK_VALUE_BOOL: gguftk_value_type = 7;
    GGUFTK_VALUE_STRING: gguftk_value_type = 8;
    GGUFTK_VALUE_ARRAY: gguftk_value_type = 9;
    GGUFTK_VALUE_UINT64: gguftk_value_type = 10;
    GGUFTK_VALUE_INT64: gguftk_value_type = 11;
    GGUFTK_VALUE_FLOAT64: gguftk_value_type = 12;
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct gguftk_tensor_info {
    pub name: *const c_char,
    pub r#type: u32,
    pub type_name: *const c_char,
    pub n_dims: u32,
    pub ne: [u64; 4],
    pub n_elements: u64,
    pub offset: u64,
    pub size: u64,
    pub name_len: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct gguftk_type_info {
    pub name: *const c_char,
    pub block_elems: u32,
    pub block_bytes: u32,
    pub has_decoder: c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct gguftk_kv_info {
    pub key: *const c_char,
    pub key_len: usize,
    pub r#type: u32,
    pub elem_type: u32,
    pub count: u64,
}

/// A declaration as text, for the header test: (name, return type, argument types), the types
/// as Rust spells them.
pub type Signature = (&'static str, &'static str, &'static [&'static str]);

macro_rules! functions {
    ($(fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)?;)*) => {
        extern "C" {
            $(pub fn $name($($arg: $ty),*) $(-> $ret)?;)*
        }
        /// Every function above, as declared here.
        pub const SIGNATURES: &[Signature] =
            &[$((stringify!($name), stringify!($($ret)?), &[$(stringify!($ty)),*])),*];
        /// The address of every function above: taking them makes the linker resolve each one.
        pub fn addresses() -> Vec<(&'static str, usize)> {
            vec![$((stringify!($name), $name as *const () as usize)),*]
        }
    };
}

functions! {
    fn gguftk_version() -> *const c_char;
    fn gguftk_last_error() -> *const c_char;
    fn gguftk_error_name(code: c_int) -> *const c_char;

    fn gguftk_open(path: *const c_char, out: *mut *mut gguftk_file) -> c_int;
    fn gguftk_close(f: *mut gguftk_file);

    fn gguftk_tensor_count(f: *const gguftk_file) -> i64;
    fn gguftk_find_tensor(f: *const gguftk_file, name: *const c_char) -> i64;
    fn gguftk_tensor_info_at(f: *const gguftk_file, i: i64, out: *mut gguftk_tensor_info) -> c_int;
    fn gguftk_tensor_data(f: *const gguftk_file, i: i64, data: *mut *const c_void, size: *mut u64) -> c_int;

    fn gguftk_type_info_of(r#type: u32, out: *mut gguftk_type_info) -> c_int;

    fn gguftk_metadata_count(f: *const gguftk_file) -> i64;
    fn gguftk_find_key(f: *const gguftk_file, key: *const c_char, key_len: usize) -> i64;
    fn gguftk_metadata_at(f: *const gguftk_file, i: i64, out: *mut gguftk_kv_info) -> c_int;
    fn gguftk_value_type_name(r#type: u32) -> *const c_char;
    fn gguftk_metadata_get_uint(f: *const gguftk_file, i: i64, item: u64, out: *mut u64) -> c_int;
    fn gguftk_metadata_get_int(f: *const gguftk_file, i: i64, item: u64, out: *mut i64) -> c_int;
    fn gguftk_metadata_get_float(f: *const gguftk_file, i: i64, item: u64, out: *mut f64) -> c_int;
    fn gguftk_metadata_get_string(f: *const gguftk_file, i: i64, item: u64, data: *mut *const c_char,
                                  len: *mut u64) -> c_int;

    fn gguftk_dequantize(f: *const gguftk_file, i: i64, to: gguftk_out_type, dst: *mut c_void, dst_bytes: usize,
                         n_threads: c_int) -> c_int;
    fn gguftk_dequantize_rows(f: *const gguftk_file, i: i64, row0: u64, n_rows: u64, to: gguftk_out_type,
                              dst: *mut c_void, dst_bytes: usize) -> c_int;
    fn gguftk_dequantize_blocks(r#type: u32, src: *const c_void, n_blocks: u64, to: gguftk_out_type,
                                dst: *mut c_void, dst_bytes: usize) -> c_int;

    fn gguftk_cuda_available() -> c_int;
    fn gguftk_cuda_dequantize_blocks(r#type: u32, src_dev: *const c_void, n_blocks: u64, to: gguftk_out_type,
                                     dst_dev: *mut c_void, dst_bytes: usize, cuda_stream: *mut c_void) -> c_int;
    fn gguftk_cuda_dequantize(f: *const gguftk_file, i: i64, to: gguftk_out_type, dst_dev: *mut c_void,
                              dst_bytes: usize, cuda_stream: *mut c_void) -> c_int;
}
