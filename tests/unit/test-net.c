/*
 * Unit tests for lib/net.c and lib/hash.c: address and CIDR parsing,
 * matching (IPv4, IPv6, mapped), wildcard user masks, the hash table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hash.h"
#include "net.h"

static void test_cidr(void **state)
{
	struct net_ip ip;
	unsigned int bits;
	char str[NET_IP_STR_MAX];

	(void)state;
	assert_true(net_ip_str_in_cidr("192.0.2.7", "192.0.2.0/24"));
	assert_false(net_ip_str_in_cidr("192.0.3.7", "192.0.2.0/24"));
	assert_true(net_ip_str_in_cidr("192.0.2.7", "192.0.2.7"));
	assert_true(net_ip_str_in_cidr("10.1.2.3", "0.0.0.0/0"));
	assert_true(net_ip_str_in_cidr("2001:db8::1", "2001:db8::/32"));
	assert_false(net_ip_str_in_cidr("2001:db9::1", "2001:db8::/32"));
	assert_true(net_ip_str_in_cidr("::ffff:192.0.2.7", "192.0.2.0/25"));
	assert_true(net_ip_str_in_cidr("192.0.2.7", "192.0.2.6/31"));
	assert_false(net_ip_str_in_cidr("192.0.2.8", "192.0.2.6/31"));
	assert_false(net_cidr_parse("192.0.2.0/33", &ip, &bits));
	assert_false(net_cidr_parse("192.0.2.0/", &ip, &bits));
	assert_false(net_cidr_parse("192.0.2.0/2x", &ip, &bits));
	assert_false(net_cidr_parse("foo", &ip, &bits));
	assert_true(net_ip_parse("[::1]", &ip));
	assert_true(net_ip_is_loopback(&ip));
	assert_true(net_ip_parse("127.0.0.2", &ip));
	assert_true(net_ip_is_loopback(&ip));
	net_ip_to_str(&ip, str, sizeof(str));
	assert_string_equal(str, "127.0.0.2");
	assert_true(net_ip_parse("192.0.2.7", &ip));
	assert_true(net_ip_in_list(&ip, "10.0.0.0/8, 192.0.2.0/24"));
	assert_false(net_ip_in_list(&ip, "10.0.0.0/8 ::1"));
}

static void test_wildcards(void **state)
{
	(void)state;
	assert_true(wildcard_match("*", "anything"));
	assert_true(wildcard_match("j*@example.com", "jdoe@example.com"));
	assert_false(wildcard_match("j*@example.com", "jdoe@example.org"));
	assert_true(wildcard_match("f?o", "foo"));
	assert_false(wildcard_match("f?o", "fo"));
	assert_true(wildcard_match("*a*b*c*", "xxaxxbxxcxx"));
	assert_false(wildcard_match("*a*b*c*d", "xxaxxbxxcxx"));
	assert_true(wildcard_match("", ""));
	assert_false(wildcard_match("", "x"));
}

static void test_hash(void **state)
{
	struct hash_table *t = hash_create();
	char key[32];

	(void)state;
	for (intptr_t i = 0; i < 10000; i++) {
		int n = snprintf(key, sizeof(key), "key%ld", (long)i);
		assert_null(hash_set(t, key, (size_t)n, (void *)(i + 1)));
	}
	assert_int_equal(hash_count(t), 10000);
	assert_ptr_equal(hash_get(t, "key42", 5), (void *)43);
	assert_ptr_equal(hash_set(t, "key42", 5, (void *)1), (void *)43);
	assert_ptr_equal(hash_remove(t, "key42", 5), (void *)1);
	assert_null(hash_get(t, "key42", 5));
	assert_null(hash_remove(t, "key42", 5));
	assert_int_equal(hash_count(t), 9999);
	hash_destroy(&t);
	assert_null(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_wildcards),
		cmocka_unit_test(test_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
