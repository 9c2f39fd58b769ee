//! The CUDA entry points (feature `cuda`): raw device pointers and a raw `cudaStream_t`, so
//! `unsafe`; no CUDA crate needed. Without CUDA in libgguftk, or without a device, every call
//! fails with `GGUFTK_ERR_NO_CUDA`. The work is enqueued on the stream and the call returns:
//! the caller synchronizes before reading `dst_dev` or freeing `src_dev`.
use crate::{check, sys, Result, Target, Tensor};
use std::os::raw::c_void;

/// True when libgguftk was built with CUDA and a device answers.
pub fn available() -> bool {
    unsafe { sys::gguftk_cuda_available() != 0 }
}

/// `n_blocks` blocks of ggml type `ggml_type` at `src_dev` decoded into `dst_dev`.
///
/// # Safety
/// `src_dev` and `dst_dev` are device pointers, 16-byte aligned, to at least
/// `n_blocks * block_bytes` and `dst_bytes` bytes, alive until the stream has run the work;
/// `stream` is a valid `cudaStream_t` or null (the default stream).
pub unsafe fn dequantize_blocks(
    ggml_type: u32,
    src_dev: *const c_void,
    n_blocks: u64,
    to: Target,
    dst_dev: *mut c_void,
    dst_bytes: usize,
    stream: *mut c_void,
) -> Result<()> {
    check(sys::gguftk_cuda_dequantize_blocks(ggml_type, src_dev, n_blocks, to.raw(), dst_dev, dst_bytes, stream))
}

/// `tensor` (its host memory, read before the call returns) decoded into device
/// memory at `dst_dev`.
///
/// # Safety
/// As [`dequantize_blocks`] for `dst_dev` and `stream`.
pub unsafe fn dequantize(
    tensor: &Tensor<'_>,
    to: Target,
    dst_dev: *mut c_void,
    dst_bytes: usize,
    stream: *mut c_void,
) -> Result<()> {
    check(sys::gguftk_cuda_dequantize(tensor.model.as_ptr(), tensor.index, to.raw(), dst_dev, dst_bytes, stream))
}
