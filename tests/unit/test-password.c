/*
 * Unit tests for lib/password.c: hashes made by Dovecot 2.3's `doveadm pw`
 * and by mkpasswd(1) verify, wrong passwords and malformed or unknown
 * stored hashes are told apart, and what we generate verifies again in the
 * shape doveadm prints.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base64.h"
#include "password.h"

#define PW "correct horse"

/* Made with `doveadm pw -s SCHEME -p 'correct horse'` (Dovecot 2.3.19, Debian 12). */
static const char *const doveadm_hashes[] = {
	"{CRYPT}$2y$05$JVMXcUpr5RBLbEmeE58ADuQwZ4.vA3E7ALu29z5MObKqm03t2uHAK",
	"{DES-CRYPT}SH1D74SRll5RU",
	"{MD5-CRYPT}$1$W.1cEtfp$0aIdgLeMTbbFKAWgBCeoF/",
	"{SHA256-CRYPT}$5$8Gc9pYKO0zlwAgHB$adL35ezTGBjWDd1PmVCIcy63ETcRT7dQgBsHUe3znjC",
	"{SHA512-CRYPT}$6$ESy1DJjNjLAYiM15$PfKHibICuUUvndmR0Orn32cPtqjEXmmtaN3otZUSlJ1g7Ut/"
	"ndIhS3inMR.vVP.Yu52zjJkm5gWYP3lCGOdr31",
	"{SHA512-CRYPT}$6$rounds=10000$Ju1ioS5lB46Fw8ZL$iT29MOyqSfoPRnlk3Qv2g6zjoCimVvEuIUgADqGRMEQ"
	"ABwvkIF2a4T4ZKpw1ee9IA5qf.n7ZU//0hhhyAw/eW.",
	"{BLF-CRYPT}$2y$05$uSFnfozk4k6FAkbiFfOsbuQ/hTOKr9P48totATK.5H4lv0MpD8voG",
	"{SSHA256}+YkpTB703lzWdxZ9T1T5y4O/tmAjLs/8QxYqpDay1iWA+AGY",
	"{SSHA512}hqpzv9lCw1lVRqu+Af9WCZzD0Q96QC05R+J3lQqvWqwE93bvQxdomUYdWrGKbTrUH3pVTgH2wHAr3MZJo"
	"gHlmYp+xK4=",
	"{SHA256}QQTTb42iwlQ0n4WDZ5Pr4CngyVcGOjTJHC6SAxh7VjE=",
	"{SHA512}VraY3v7bWkNbY0r+MyC7rz/c2SC2xQOkRvx7endrKY1HnRumqLYXgI6wv1ec6aldZoNHvKtxSQhayTyyeZ"
	"UZew==",
	"{SSHA}DfHyFJe5vURegaJZ0xh2RuJ0qrnqIc1Z",
	"{SHA1}L55TUjtiq8FBorTWAZ0jy6g129A=",
	"{PLAIN-MD5}3cb4e732631f47e6eb961f34554b7cde",
	"{LDAP-MD5}PLTnMmMfR+brlh80VUt83g==",
	"{SMD5}V3aQ5tzRLZW/8dqoxEZzyMYuk60=",
	"{SCRAM-SHA-256}4096,vF4xC7QSe+HVjOJ6P87C4Q==,XLyKpBLVpIzroYsUj0A7MsbUzHFcnr0peU9iYjpWXQU=,"
	"kIwb37TltZFFGvpRuVYvX8n7/dsHQz+9MXVkV4b+MTM=",
	"{SHA512.HEX}"
	"56b698defedb5a435b634afe3320bbaf3fdcd920b6c503a446fc7b7a776b298d479d1ba6a8b6178"
	"08eb0bf579ce9a95d668347bcab7149085ac93cb27995197b",
	"{PLAIN}correct horse",
	"{CLEARTEXT}correct horse",
	"{plain.b64}Y29ycmVjdCBob3JzZQ==",
	"{sha512-crypt}$6$ESy1DJjNjLAYiM15$PfKHibICuUUvndmR0Orn32cPtqjEXmmtaN3otZUSlJ1g7Ut/"
	"ndIhS3inMR.vVP.Yu52zjJkm5gWYP3lCGOdr31",
};

/* Made with mkpasswd(1) from Debian's whois package; no prefix: default CRYPT. */
static const char *const mkpasswd_hashes[] = {
	"$y$j9T$36KUZ6MIqz6ZY9IpStsa00$VCcgfQeqawd5FQiDZGBfqfSnSeQ2JMlOQPueAHwY9w/",
	"$y$jBT$Pc8NC2T9Bd1CHeEpAqpEI/$LjNreKcJLbiKOxUEMExpeyFh.VJ1IiydHqMVC87MMt9",
	"$6$PwDdqa7jIrv.vNSh$N7VAXcYw3E5/"
	"efEejPeaU.5DJvE6rC.9oOQ0p77oazELMhuMZ6K6xgEWRSPmoKuZRJNepwA"
	"Q88fEeVvej6cYs0",
	"$2b$05$vdtfhgWbTjLLoHn8hBFSuelLVRLyATaLabWjUL8NQXSaQYhQBHUgq",
	"MxFwrQPp.SUzk",
	"$1$s.qOeFQQ$ehfv.4WVdClqYA7MSDLrM/",
};

static void test_doveadm_vectors(void **state)
{
	const char *error;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(doveadm_hashes); i++) {
		const char *h = doveadm_hashes[i];

		if (password_verify(h, NULL, PW, &error) != PASSWORD_OK)
			fail_msg("%s: %s", h, error);
		assert_int_equal(password_verify(h, NULL, "Correct horse", &error),
				 PASSWORD_MISMATCH);
		assert_int_equal(password_verify(h, NULL, "", &error), PASSWORD_MISMATCH);
		assert_int_equal(password_check(h, NULL, &error), PASSWORD_OK);
	}
}

static void test_mkpasswd_vectors(void **state)
{
	const char *error;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(mkpasswd_hashes); i++) {
		const char *h = mkpasswd_hashes[i];

		if (password_verify(h, NULL, PW, &error) != PASSWORD_OK)
			fail_msg("%s: %s", h, error);
		assert_int_equal(password_verify(h, "CRYPT", "correct", &error), PASSWORD_MISMATCH);
	}
	/* yescrypt under its own name too. */
	assert_int_equal(password_verify("{YESCRYPT}$y$j9T$36KUZ6MIqz6ZY9IpStsa00$VCcgfQeqawd5FQiD"
					 "ZGBfqfSnSeQ2JMlOQPueAHwY9w/",
					 NULL, PW, &error),
			 PASSWORD_OK);
}

static void test_default_scheme(void **state)
{
	const char *error;

	(void)state;
	/* passwd-file's scheme=: a hash without prefix is in that scheme. */
	assert_int_equal(password_verify("correct horse", "PLAIN", PW, &error), PASSWORD_OK);
	assert_int_equal(password_verify("QQTTb42iwlQ0n4WDZ5Pr4CngyVcGOjTJHC6SAxh7VjE=", "SHA256",
					 PW, &error),
			 PASSWORD_OK);
	/* A prefix wins over the default. */
	assert_int_equal(password_verify("{PLAIN}correct horse", "SHA512-CRYPT", PW, &error),
			 PASSWORD_OK);
	/* Braces that hold no scheme name are part of a plain password. */
	assert_int_equal(password_verify("{not a scheme}x", "PLAIN", "{not a scheme}x", &error),
			 PASSWORD_OK);
	assert_int_equal(password_verify("{}x", "PLAIN", "{}x", &error), PASSWORD_OK);
	/* A SHA256 digest spelled in hex without .HEX, as Dovecot accepts. */
	assert_int_equal(password_verify("{SHA256}"
					 "4104d36f8da2c254349f858367"
					 "93ebe029e0c957063a34c91c2e92031"
					 "87b5631",
					 NULL, PW, &error),
			 PASSWORD_OK);

	char name[PASSWORD_SCHEME_NAME_MAX + 1];

	assert_true(password_get_scheme("{sha256.hex}00", NULL, name, sizeof(name)));
	assert_string_equal(name, "SHA256");
	assert_true(password_get_scheme("$6$x$y", NULL, name, sizeof(name)));
	assert_string_equal(name, "CRYPT");
	assert_false(password_get_scheme("{ARGON2ID}x", NULL, name, sizeof(name)));
}

static void test_unknown_and_malformed(void **state)
{
	const char *error = NULL;

	(void)state;
	assert_int_equal(password_verify("{ARGON2ID}$argon2id$v=19$m=65536", NULL, PW, &error),
			 PASSWORD_UNKNOWN_SCHEME);
	assert_non_null(error);
	assert_int_equal(password_verify("{SHA256.XYZ}abc", NULL, PW, &error),
			 PASSWORD_UNKNOWN_SCHEME);
	assert_int_equal(password_verify("{SHA512-CRYPT.HEX}abc", NULL, PW, &error),
			 PASSWORD_UNKNOWN_SCHEME);
	assert_int_equal(password_verify("x", "NOSUCH", PW, &error), PASSWORD_UNKNOWN_SCHEME);
	/* Digests of the wrong size or encoding. */
	assert_int_equal(password_verify("{SHA256}QQTTb42iwlQ0n4WDZ5Pr4CngyVcGOjTJHC6SAxh7Vj==",
					 NULL, PW, &error),
			 PASSWORD_MALFORMED);
	assert_int_equal(password_verify("{SHA256}QQTTb42iwlQ0n4WDZ5Pr4CngyVcGOjTJHC6SAxh7VjE",
					 NULL, PW, &error),
			 PASSWORD_MALFORMED);
	assert_int_equal(password_verify("{SHA256}QQTT", NULL, PW, &error), PASSWORD_MALFORMED);
	assert_int_equal(password_verify("{SHA256.HEX}zz", NULL, PW, &error), PASSWORD_MALFORMED);
	assert_int_equal(password_verify("{SSHA256}QQTTb42iwlQ0n4WDZ5Pr4CngyVcGOjTJHC6SAxh7VjE=",
					 NULL, PW, &error),
			 PASSWORD_MALFORMED); /* no salt */
	assert_int_equal(password_verify("{SHA256}", NULL, PW, &error), PASSWORD_MALFORMED);
	/* Crypt hashes of the wrong family for their prefix, or none at all. */
	assert_int_equal(password_verify("{SHA512-CRYPT}$1$s.qOeFQQ$ehfv.4WVdClqYA7MSDLrM/", NULL,
					 PW, &error),
			 PASSWORD_MALFORMED);
	assert_int_equal(
		password_verify("{DES-CRYPT}$1$s.qOeFQQ$ehfv.4WVdClqYA7MSDLrM/", NULL, PW, &error),
		PASSWORD_MALFORMED);
	assert_int_equal(password_verify("{CRYPT}", NULL, PW, &error), PASSWORD_MALFORMED);
	assert_int_equal(password_verify("{CRYPT}$6$", NULL, PW, &error), PASSWORD_MISMATCH);
	assert_int_equal(password_verify("{CRYPT}$9$abc", NULL, PW, &error), PASSWORD_MALFORMED);
	assert_int_equal(password_verify("{CRYPT}ab cd", NULL, PW, &error), PASSWORD_MALFORMED);
	assert_int_equal(password_verify(NULL, NULL, PW, &error), PASSWORD_MALFORMED);
	/* Locked accounts never match, even against crypt's own failure token. */
	assert_int_equal(password_verify("{CRYPT}*0", NULL, "", &error), PASSWORD_MISMATCH);
	assert_int_equal(password_verify("*0", NULL, "x", &error), PASSWORD_MISMATCH);
	assert_int_equal(password_verify("!$6$PwDdqa7jIrv.vNSh$N7VAXcYw3E5/efEejPeaU.5DJvE6rC.9oOQ0"
					 "p77oazELMhuMZ6K6xgEWRSPmoKuZRJNepwAQ88fEeVvej6cYs0",
					 NULL, PW, &error),
			 PASSWORD_MISMATCH);
	/* SCRAM field errors. */
	assert_int_equal(password_verify("{SCRAM-SHA-256}4096,vF4xC7QSe+HVjOJ6P87C4Q==,XLyK", NULL,
					 PW, &error),
			 PASSWORD_MALFORMED);
	assert_int_equal(password_check("{SCRAM-SHA-256}0,vF4xC7QSe+HVjOJ6P87C4Q==,"
					"XLyKpBLVpIzroYsUj0A7MsbUzHFcnr0peU9iYjpWXQU=,"
					"kIwb37TltZFFGvpRuVYvX8n7/dsHQz+9MXVkV4b+MTM=",
					NULL, &error),
			 PASSWORD_MALFORMED);
	assert_int_equal(password_check("{SCRAM-SHA-256}99999999,vF4xC7QSe+HVjOJ6P87C4Q==,"
					"XLyKpBLVpIzroYsUj0A7MsbUzHFcnr0peU9iYjpWXQU=,"
					"kIwb37TltZFFGvpRuVYvX8n7/dsHQz+9MXVkV4b+MTM=",
					NULL, &error),
			 PASSWORD_MALFORMED);
	assert_int_equal(password_check("{SCRAM-SHA-256}4096,,"
					"XLyKpBLVpIzroYsUj0A7MsbUzHFcnr0peU9iYjpWXQU=,"
					"kIwb37TltZFFGvpRuVYvX8n7/dsHQz+9MXVkV4b+MTM=",
					NULL, &error),
			 PASSWORD_MALFORMED);
	assert_int_equal(password_check("{SCRAM-SHA-256}4096,vF4xC7QSe+HVjOJ6P87C4Q==,"
					"XLyKpBLVpIzroYsUj0A7MsbUzHFcnr0peU9iYjpWXQU=,"
					"kIwb37TltZFFGvpRuVYvX8n7/dsHQz+9MXVkV4b+MTM=,x",
					NULL, &error),
			 PASSWORD_MALFORMED);
}

static void test_too_long(void **state)
{
	static char big[PASSWORD_PLAINTEXT_MAX + 2];
	static char stored[PASSWORD_STORED_MAX + 10];
	const char *error;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	assert_int_equal(password_verify("{PLAIN}a", NULL, big, &error), PASSWORD_MISMATCH);
	assert_int_equal(
		password_verify("{SSHA256}+YkpTB703lzWdxZ9T1T5y4O/tmAjLs/8QxYqpDay1iWA+AGY", NULL,
				big, &error),
		PASSWORD_MISMATCH);
	memcpy(stored, "{PLAIN}", 7);
	memset(stored + 7, 'b', sizeof(stored) - 8);
	assert_int_equal(password_verify(stored, NULL, "b", &error), PASSWORD_MALFORMED);
}

static void test_generate_roundtrip(void **state)
{
	const char *const *names = password_scheme_names();
	const char *error;
	size_t i;

	(void)state;
	for (i = 0; names[i] != NULL; i++) {
		struct buf out = BUF_INIT(PASSWORD_STORED_MAX);
		char want[64];

		if (!password_generate(names[i], "1 pässwörd", 0, &out, &error))
			fail_msg("%s: %s", names[i], error);
		str_format(want, sizeof(want), "{%s}",
			   strcmp(names[i], "YESCRYPT") == 0 ? "CRYPT" : names[i]);
		assert_memory_equal(buf_cstr(&out), want, strlen(want));
		if (password_verify(buf_cstr(&out), NULL, "1 pässwörd", &error) != PASSWORD_OK)
			fail_msg("%s: %s: %s", names[i], buf_cstr(&out), error);
		assert_int_equal(password_verify(buf_cstr(&out), NULL, "2 pässwörd", &error),
				 PASSWORD_MISMATCH);
		buf_free(&out);
	}
}

static void test_generate_shapes(void **state)
{
	struct buf out = BUF_INIT(PASSWORD_STORED_MAX);
	const char *error, *s;

	(void)state;
	/* The default is SHA512-CRYPT with a 16-character salt, as doveadm prints it. */
	assert_true(password_generate(NULL, PW, 0, &out, &error));
	s = buf_cstr(&out);
	assert_memory_equal(s, "{SHA512-CRYPT}$6$", 17);
	assert_int_equal(strlen(s), 14 + 3 + 16 + 1 + 86);
	buf_reset(&out);
	assert_true(password_generate("CRYPT", PW, 0, &out, &error));
	assert_memory_equal(buf_cstr(&out), "{CRYPT}$2y$05$", 14);
	buf_reset(&out);
	assert_true(password_generate("BLF-CRYPT", PW, 10, &out, &error));
	assert_memory_equal(buf_cstr(&out), "{BLF-CRYPT}$2y$10$", 18);
	buf_reset(&out);
	assert_true(password_generate("sha512-crypt", PW, 10000, &out, &error));
	assert_memory_equal(buf_cstr(&out), "{SHA512-CRYPT}$6$rounds=10000$", 30);
	assert_int_equal(password_verify(buf_cstr(&out), NULL, PW, &error), PASSWORD_OK);
	buf_reset(&out);
	assert_true(password_generate("YESCRYPT", PW, 0, &out, &error));
	assert_memory_equal(buf_cstr(&out), "{CRYPT}$y$j9T$", 14);
	buf_reset(&out);
	/* Salted digests: digest plus Dovecot's 4-byte salt, base64. */
	assert_true(password_generate("SSHA256", PW, 0, &out, &error));
	assert_int_equal(strlen(buf_cstr(&out)), 9 + 48);
	buf_reset(&out);
	assert_true(password_generate("SHA256.HEX", "secret", 0, &out, &error));
	assert_string_equal(buf_cstr(&out),
			    "{SHA256.HEX}2bb80d537b1da3e38bd30361aa855686bde0eacd7162"
			    "fef6a25fe97bf527a25b");
	buf_reset(&out);
	assert_true(password_generate("SHA256", "secret", 0, &out, &error));
	assert_string_equal(buf_cstr(&out), "{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=");
	buf_reset(&out);
	assert_true(password_generate("PLAIN", "secret", 0, &out, &error));
	assert_string_equal(buf_cstr(&out), "{PLAIN}secret");
	buf_reset(&out);
	assert_true(password_generate("SCRAM-SHA-256", PW, 0, &out, &error));
	assert_memory_equal(buf_cstr(&out), "{SCRAM-SHA-256}4096,", 20);
	assert_int_equal(strlen(buf_cstr(&out)), 20 + 24 + 1 + 44 + 1 + 44);
	buf_reset(&out);

	/* Refusals leave the buffer as it was. */
	assert_true(buf_append_str(&out, "keep"));
	assert_false(password_generate("ARGON2ID", PW, 0, &out, &error));
	assert_string_equal(error, "Unknown scheme");
	assert_false(password_generate("BLF-CRYPT", PW, 3, &out, &error));
	assert_false(password_generate("SHA512-CRYPT", PW, 999, &out, &error));
	assert_false(password_generate("SHA256", PW, 5, &out, &error));
	assert_false(password_generate("SCRAM-SHA-256", PW, 100, &out, &error));
	assert_false(password_generate("SCRAM-SHA-256", "bad\x01", 0, &out, &error));
	assert_false(password_generate("", PW, 0, &out, &error));
	assert_string_equal(buf_cstr(&out), "keep");
	buf_free(&out);

	struct buf tiny = BUF_INIT(20);

	assert_false(password_generate("SHA512", PW, 0, &tiny, &error));
	assert_int_equal(buf_len(&tiny), 0);
	buf_free(&tiny);
}

static void test_scram_keys(void **state)
{
	/* RFC 7677's example: user "user", password "pencil", that salt, 4096 rounds. */
	static const char stored[] = "{SCRAM-SHA-256}4096,W22ZaJ0SNY7soEsUEjb6gQ==,"
				     "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,"
				     "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";
	struct password_scram sc, sc2;
	uint8_t stored_key[32], server_key[32];
	const char *error;

	(void)state;
	assert_int_equal(password_scram_get(stored, NULL, &sc, &error), PASSWORD_OK);
	assert_int_equal(sc.iterations, 4096);
	assert_int_equal(sc.salt_len, 16);
	assert_true(password_scram_derive("pencil", 6, sc.salt, sc.salt_len, 4096, stored_key,
					  server_key));
	assert_memory_equal(stored_key, sc.stored_key, 32);
	assert_memory_equal(server_key, sc.server_key, 32);
	assert_int_equal(password_verify(stored, NULL, "pencil", &error), PASSWORD_OK);
	assert_int_equal(password_verify(stored, NULL, "pencil ", &error), PASSWORD_MISMATCH);

	/* From a plaintext password: fresh salt each time, keys that match the password. */
	assert_int_equal(password_scram_get("{PLAIN}pencil", NULL, &sc, &error), PASSWORD_OK);
	assert_int_equal(password_scram_get("pencil", "CLEARTEXT", &sc2, &error), PASSWORD_OK);
	assert_int_equal(sc.iterations, PASSWORD_SCRAM_ITER_DEFAULT);
	assert_memory_not_equal(sc.salt, sc2.salt, sc.salt_len);
	assert_true(password_scram_derive("pencil", 6, sc.salt, sc.salt_len, sc.iterations,
					  stored_key, server_key));
	assert_memory_equal(stored_key, sc.stored_key, 32);

	assert_int_equal(password_scram_get("{SHA512-CRYPT}$6$x$y", NULL, &sc, &error),
			 PASSWORD_UNSUPPORTED);
	assert_int_equal(password_scram_get("{NOPE}x", NULL, &sc, &error), PASSWORD_UNKNOWN_SCHEME);
	assert_int_equal(password_scram_get("{SCRAM-SHA-256}x", NULL, &sc, &error),
			 PASSWORD_MALFORMED);
}

static void test_saslprep(void **state)
{
	struct buf out = BUF_INIT(64);
	const char *error;

	(void)state;
	/* RFC 4013 section 3 examples that do not need normalization. */
	assert_true(password_saslprep("I\xc2\xad"
				      "X",
				      &out, &error)); /* SOFT HYPHEN maps to nothing */
	assert_string_equal(buf_cstr(&out), "IX");
	buf_reset(&out);
	assert_true(password_saslprep("user", &out, &error));
	assert_string_equal(buf_cstr(&out), "user");
	buf_reset(&out);
	assert_false(password_saslprep("\x07", &out, &error)); /* prohibited */
	buf_reset(&out);
	/* Non-ASCII spaces become SPACE. */
	assert_true(password_saslprep("a\xc2\xa0"
				      "b\xe3\x80\x80"
				      "c",
				      &out, &error));
	assert_string_equal(buf_cstr(&out), "a b c");
	buf_reset(&out);
	assert_false(password_saslprep("\xff", &out, &error));
	assert_false(password_saslprep("\xc0\xaf", &out, &error));     /* overlong */
	assert_false(password_saslprep("\xed\xa0\x80", &out, &error)); /* surrogate */
	assert_false(password_saslprep("\xee\x80\x80", &out, &error)); /* private use */
	assert_false(password_saslprep("\xe2\x80\xae", &out, &error)); /* bidi override */
	assert_false(password_saslprep("\xef\xbf\xbe", &out, &error)); /* non-character */
	assert_false(password_saslprep("abc\xe2\x80", &out, &error));  /* truncated */
	assert_int_equal(buf_len(&out), 0);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doveadm_vectors),
		cmocka_unit_test(test_mkpasswd_vectors),
		cmocka_unit_test(test_default_scheme),
		cmocka_unit_test(test_unknown_and_malformed),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_generate_roundtrip),
		cmocka_unit_test(test_generate_shapes),
		cmocka_unit_test(test_scram_keys),
		cmocka_unit_test(test_saslprep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
