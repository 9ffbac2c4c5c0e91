/*
 * exec.h: leasesim --exec: real programs of any language run as processes
 * under a controlled schedule. Their lease-directory syscalls are intercepted
 * with seccomp user notification and released one at a time in an order
 * drawn from the seed (docs/exec.md).
 */
#ifndef SIM_EXEC_H
#define SIM_EXEC_H

/* Exit status when the kernel or the sandbox refuses the filter. */
#define SIM_EXEC_EX_REFUSED 69

int sim_exec_main(int argc, char **argv);

#endif
