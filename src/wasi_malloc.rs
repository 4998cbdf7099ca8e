//! `malloc`, `free` and the rest of the C allocation functions on wasm32-wasip2, backed by the
//! crate's global allocator (talc). wasi-libc and std's `System` allocator call them; defining
//! them here keeps wasi-libc's dlmalloc out of the components. Each block carries its layout
//! in the 8 bytes before the pointer: `[total size, offset from the block's start]`.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::null_mut;

/// `max_align_t` on wasm32: what `malloc` guarantees.
const MIN_ALIGN: usize = 16;
/// WASI's `EINVAL` and `ENOMEM`.
const EINVAL: i32 = 28;
const ENOMEM: i32 = 48;

/// A block of `size` bytes aligned to `align` (a power of two), or null.
unsafe fn allocate(align: usize, size: usize) -> *mut u8 {
    let offset = align.max(MIN_ALIGN);
    let Some(total) = size.checked_add(offset) else {
        return null_mut();
    };
    let Ok(layout) = Layout::from_size_align(total, offset) else {
        return null_mut();
    };
    // SAFETY: `layout` has a non-zero size (`offset` ≥ 16). The block is `offset` ≥ 16 bytes
    // longer than asked, so the two header words before `ptr` are inside it.
    unsafe {
        let base = crate::ALLOCATOR.alloc(layout);
        if base.is_null() {
            return base;
        }
        let ptr = base.add(offset);
        ptr.cast::<usize>().sub(2).write(total);
        ptr.cast::<usize>().sub(1).write(offset);
        ptr
    }
}

/// The usable size of a block from [`allocate`].
unsafe fn usable(ptr: *mut u8) -> usize {
    // SAFETY: the caller passes a live block from `allocate`.
    unsafe { ptr.cast::<usize>().sub(2).read() - ptr.cast::<usize>().sub(1).read() }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn malloc(size: usize) -> *mut u8 {
    unsafe { allocate(MIN_ALIGN, size) }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn __libc_malloc(size: usize) -> *mut u8 {
    unsafe { allocate(MIN_ALIGN, size) }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut u8 {
    unsafe { allocate(align, size) }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn posix_memalign(out: *mut *mut u8, align: usize, size: usize) -> i32 {
    if !align.is_power_of_two() || align < size_of::<usize>() {
        return EINVAL;
    }
    // SAFETY: `out` is a valid pointer (the C contract).
    unsafe {
        let ptr = allocate(align, size);
        if ptr.is_null() {
            return ENOMEM;
        }
        out.write(ptr);
        0
    }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn free(ptr: *mut u8) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: `ptr` came from `allocate` (the C contract), whose header gives its layout.
    unsafe {
        let total = ptr.cast::<usize>().sub(2).read();
        let offset = ptr.cast::<usize>().sub(1).read();
        let layout = Layout::from_size_align_unchecked(total, offset);
        crate::ALLOCATOR.dealloc(ptr.sub(offset), layout);
    }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn __libc_free(ptr: *mut u8) {
    unsafe { free(ptr) }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut u8 {
    let Some(bytes) = count.checked_mul(size) else {
        return null_mut();
    };
    // SAFETY: a fresh block of `bytes` bytes.
    unsafe {
        let ptr = allocate(MIN_ALIGN, bytes);
        if !ptr.is_null() {
            ptr.write_bytes(0, bytes);
        }
        ptr
    }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn __libc_calloc(count: usize, size: usize) -> *mut u8 {
    unsafe { calloc(count, size) }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn realloc(ptr: *mut u8, size: usize) -> *mut u8 {
    // SAFETY: `ptr` is null or a live block (the C contract); the copy stays within both.
    unsafe {
        let new = allocate(MIN_ALIGN, size);
        if !ptr.is_null() && !new.is_null() {
            new.copy_from_nonoverlapping(ptr, usable(ptr).min(size));
            free(ptr);
        }
        new
    }
}
