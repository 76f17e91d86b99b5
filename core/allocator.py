"""Process memory: freed image buffers are kept for the next photo, not handed back to the system.

glibc's malloc gives an allocation above its mmap threshold a mapping of its own and unmaps it when
it is freed; it raises the threshold only as such frees happen, and trims the heap's free top above
twice that. A photo's decode and resize buffers (8 to 32 MB) were mapped and unmapped photo after
photo, each time faulting every page in again: up to 9,000 faults an upload, which bench_ingest
measured at several milliseconds a photo on a virtual machine. Fixing the two thresholds at the values
glibc's own adjustment tops out at (32 MiB, 64 MiB) keeps such buffers on the heap for reuse; a
process keeps at most 64 MiB of freed memory. Other C libraries: nothing is changed.
"""

from __future__ import annotations

import ctypes

# mallopt's parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit systems
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # what glibc's adjustment sets beside it


def keep_freed_memory() -> bool:
    """Set glibc's thresholds for this process; False where the C library has no mallopt or refuses."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # no C library to load, or one without mallopt (macOS)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # mallopt answers 1 on success; musl's stub answers 0 to everything.
    return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
