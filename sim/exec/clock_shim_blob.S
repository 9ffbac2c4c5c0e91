/*
 * clock_shim_blob.S: the clock shim (clock_shim.c, built as a shared library
 * of its own) carried inside leasesim, which writes it into each run's folder
 * (docs/exec.md, "Time"). CLOCK_SHIM_PATH names the built library.
 */
    .section .rodata
    .balign 16
    .global exec_clock_shim_start
    .global exec_clock_shim_end
exec_clock_shim_start:
    .incbin CLOCK_SHIM_PATH
exec_clock_shim_end:
    .section .note.GNU-stack,"",@progbits
