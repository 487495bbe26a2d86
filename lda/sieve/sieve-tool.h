/*
 * Command-line front ends of the Sieve engine for roostadm: `sieve check`
 * (compile and report every error) and `sieve test` (show what a script
 * would do to a message, in the layout of Pigeonhole's sieve-test). Runs in
 * roostadm as the administrator; scripts and messages are still treated as
 * untrusted and nothing is ever sent or stored.
 */
#ifndef ROOST_SIEVE_TOOL_H
#define ROOST_SIEVE_TOOL_H

#include "buf.h"
#include "sieve.h"

/*
 * roostadm sieve check [-o NAME=VALUE]... [-x EXTENSIONS] FILE...
 * Compiles each file and prints every error and warning to stderr as
 * "FILE:LINE:COLUMN: error: ...". Returns 0 when every file is valid, 1
 * otherwise, 64 for bad usage. argv[0] is the command name.
 */
int sieve_tool_check(int argc, char **argv);

/*
 * roostadm sieve test [-o NAME=VALUE]... [-x EXTENSIONS] [-e] [-f SENDER]
 *	[-a RECIPIENT] [-r FINAL-RECIPIENT] [-s BEFORE-SCRIPT]... [-m MAILBOX]
 *	SCRIPT MESSAGE
 * Prints the "Performed actions:" / "Implicit keep:" sections to stdout
 * (with -e also "Executed actions:"). Returns 0 on success, 1 when a script
 * failed to compile or failed at runtime (the message would be kept), 64 for
 * bad usage.
 */
int sieve_tool_test(int argc, char **argv);

/*
 * The same, with settings from roost.conf's plugin { } block applied first
 * ("sieve_extensions=+editheader", NULL-terminated; -o options still win).
 */
int sieve_tool_check_conf(int argc, char **argv, const char *const *conf);
int sieve_tool_test_conf(int argc, char **argv, const char *const *conf);

/*
 * Loads script NAME (".sieve" appended) from directory dir into data,
 * refusing names with '/' and files over data's maximum. Returns 1 found,
 * 0 not found, -1 with *error_r. Shared with roost-lda's include support.
 */
int sieve_tool_load_script(const char *dir, const char *name, struct buf *data,
			   const char **error_r);

#endif
