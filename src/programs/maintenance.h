/*
 * maintenance.h: the shared body of the four maintenance programs (sandman,
 * kbSync, backup, syncGithubWorkflow). Each program is a one-line main that
 * passes its name (the lease owner) and its own failure message.
 *
 * The body is a fake whose behaviour is chosen by environment variables; the
 * protocol is documented in conformance/README.md (an alternate
 * implementation's adapter must speak it).
 */
#ifndef MAINTENANCE_H
#define MAINTENANCE_H

/* Exit codes of the programs (sysexits.h values where one fits). */
#define MAINTENANCE_EXIT_OK 0
#define MAINTENANCE_EXIT_FAILURE 1
#define MAINTENANCE_EXIT_USAGE 64
#define MAINTENANCE_EXIT_LOST 124 /* the lease was lost while the body ran (status lost) */

/* Runs the program: parses arguments and the fake-body variables, wraps the
 * body in the heavy-maintenance lease, returns the exit status. */
int maintenance_main(const char *name, const char *failure_message, int argc, char **argv);

#endif /* MAINTENANCE_H */
