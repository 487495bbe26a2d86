/*
 * Compiler attributes and tiny macros shared by every roost file. Included
 * everywhere; holds no state and trusts nothing.
 */
#ifndef ROOST_COMPAT_H
#define ROOST_COMPAT_H

#define ATTR_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define ATTR_NORETURN	       __attribute__((noreturn))
#define ATTR_UNUSED	       __attribute__((unused))
#define ATTR_NODISCARD	       __attribute__((warn_unused_result))

#define N_ELEMENTS(arr) (sizeof(arr) / sizeof((arr)[0]))

/* Exit codes are part of the master protocol (STYLE.md rule 10). */
enum roost_exit {
	EXIT_OK = 0,
	EXIT_TEMPFAIL = 75, /* sysexits EX_TEMPFAIL */
	EXIT_OUT_OF_MEMORY = 83,
	EXIT_EXEC_FAILED = 84,
	EXIT_FATAL = 89, /* configuration, environment, bad input */
};

#endif
