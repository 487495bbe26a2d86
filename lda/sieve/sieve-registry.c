/*
 * The table of command tables: the core language and every extension
 * file register their commands here so the validator can find them by
 * name. Static data only; used in roost-lda and roostadm.
 */
#include "sieve-private.h"

#define TABLE(n)                                                  \
	extern const struct sieve_cmd_def sieve_ext_##n##_cmds[]; \
	extern const unsigned int sieve_ext_##n##_cmds_count;

TABLE(reject)
TABLE(vacation)
TABLE(imap4flags)
TABLE(variables)
TABLE(body)
TABLE(include)
TABLE(misc)
TABLE(date)
TABLE(editheader)
TABLE(duplicate)
TABLE(spamtest)

#define ENTRY(n)                                                  \
	{                                                         \
		sieve_ext_##n##_cmds, &sieve_ext_##n##_cmds_count \
	}

const struct sieve_cmd_table sieve_cmd_tables[] = {
	{sieve_core_cmds, &sieve_core_cmds_count},
	ENTRY(reject),
	ENTRY(vacation),
	ENTRY(imap4flags),
	ENTRY(variables),
	ENTRY(body),
	ENTRY(include),
	ENTRY(misc),
	ENTRY(date),
	ENTRY(editheader),
	ENTRY(duplicate),
	ENTRY(spamtest),
};

const unsigned int sieve_cmd_tables_count = N_ELEMENTS(sieve_cmd_tables);
