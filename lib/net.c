/*
 * Address parsing, CIDR matching and listeners (see net.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "net.h"

bool net_ip_parse(const char *str, struct net_ip *ip_r)
{
	char tmp[NET_IP_STR_MAX];
	size_t len = strlen(str);

	memset(ip_r, 0, sizeof(*ip_r));
	if (len > 2 && str[0] == '[' && str[len - 1] == ']') {
		if (!str_copy_n(tmp, sizeof(tmp), str + 1, len - 2))
			return false;
		str = tmp;
	}
	if (inet_pton(AF_INET, str, &ip_r->u.v4) == 1) {
		ip_r->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, str, &ip_r->u.v6) == 1) {
		ip_r->family = AF_INET6;
		return true;
	}
	return false;
}

bool net_cidr_parse(const char *str, struct net_ip *ip_r, unsigned int *bits_r)
{
	char tmp[NET_IP_STR_MAX];
	const char *slash = strchr(str, '/');
	unsigned int bits = 0;

	if (slash == NULL) {
		if (!net_ip_parse(str, ip_r))
			return false;
		*bits_r = ip_r->family == AF_INET ? 32 : 128;
		return true;
	}
	if (!str_copy_n(tmp, sizeof(tmp), str, (size_t)(slash - str)) || !net_ip_parse(tmp, ip_r))
		return false;
	if (slash[1] == '\0' || strlen(slash + 1) > 3)
		return false;
	for (const char *p = slash + 1; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return false;
		bits = bits * 10 + (unsigned int)(*p - '0');
	}
	if (bits > (ip_r->family == AF_INET ? 32U : 128U))
		return false;
	*bits_r = bits;
	return true;
}

/* An IPv4-mapped IPv6 address compares as the IPv4 address. */
static void ip_unmap(const struct net_ip *ip, struct net_ip *out)
{
	*out = *ip;
	if (ip->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&ip->u.v6)) {
		out->family = AF_INET;
		memcpy(&out->u.v4, &ip->u.v6.s6_addr[12], 4);
	}
}

bool net_ip_in_cidr(const struct net_ip *_ip, const struct net_ip *net, unsigned int bits)
{
	struct net_ip ip;
	const uint8_t *a, *b;

	ip_unmap(_ip, &ip);
	if (ip.family != net->family)
		return false;
	a = ip.family == AF_INET ? (const uint8_t *)&ip.u.v4 : ip.u.v6.s6_addr;
	b = net->family == AF_INET ? (const uint8_t *)&net->u.v4 : net->u.v6.s6_addr;
	for (unsigned int i = 0; i < bits / 8; i++) {
		if (a[i] != b[i])
			return false;
	}
	if (bits % 8 != 0) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits % 8));

		if ((a[bits / 8] & mask) != (b[bits / 8] & mask))
			return false;
	}
	return true;
}

bool net_ip_str_in_cidr(const char *ipstr, const char *cidr)
{
	struct net_ip ip, net;
	unsigned int bits;

	return net_ip_parse(ipstr, &ip) && net_cidr_parse(cidr, &net, &bits) &&
	       net_ip_in_cidr(&ip, &net, bits);
}

bool net_ip_in_list(const struct net_ip *ip, const char *list)
{
	const char *p = list;

	while (*p != '\0') {
		char word[NET_IP_STR_MAX + 8];
		size_t len = strcspn(p, " ,\t");
		struct net_ip net;
		unsigned int bits;

		if (len > 0 && str_copy_n(word, sizeof(word), p, len) &&
		    net_cidr_parse(word, &net, &bits) && net_ip_in_cidr(ip, &net, bits))
			return true;
		p += len;
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
	}
	return false;
}

bool net_ip_is_loopback(const struct net_ip *_ip)
{
	struct net_ip ip;

	ip_unmap(_ip, &ip);
	if (ip.family == AF_INET)
		return (ntohl(ip.u.v4.s_addr) >> 24) == 127;
	return ip.family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&ip.u.v6);
}

void net_ip_to_str(const struct net_ip *_ip, char *dst, size_t size)
{
	struct net_ip ip;

	ip_unmap(_ip, &ip);
	if (ip.family == 0 ||
	    inet_ntop(ip.family, ip.family == AF_INET ? (const void *)&ip.u.v4 : &ip.u.v6, dst,
		      (socklen_t)size) == NULL)
		(void)str_copy(dst, size, "");
}

bool net_sockaddr_to_ip(const struct sockaddr *sa, struct net_ip *ip_r, unsigned int *port_r)
{
	memset(ip_r, 0, sizeof(*ip_r));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;

		ip_r->family = AF_INET;
		ip_r->u.v4 = sin->sin_addr;
		*port_r = ntohs(sin->sin_port);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;

		ip_r->family = AF_INET6;
		ip_r->u.v6 = sin6->sin6_addr;
		*port_r = ntohs(sin6->sin6_port);
		return true;
	}
	*port_r = 0;
	return false;
}

bool wildcard_match(const char *mask, const char *str)
{
	const char *star_mask = NULL, *star_str = NULL;

	/* Iterative matching with one backtrack point: linear in practice. */
	while (*str != '\0') {
		if (*mask == '*') {
			star_mask = ++mask;
			star_str = str;
		} else if (*mask == '?' || *mask == *str) {
			mask++;
			str++;
		} else if (star_mask != NULL) {
			mask = star_mask;
			str = ++star_str;
		} else {
			return false;
		}
	}
	while (*mask == '*')
		mask++;
	return *mask == '\0';
}

int net_listen_tcp(const char *address, unsigned int port, int backlog)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct net_ip ip;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (strcmp(address, "*") == 0 || strcmp(address, "0.0.0.0") == 0) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sin->sin_port = htons((uint16_t)port);
		sslen = sizeof(*sin);
	} else if (strcmp(address, "::") == 0 || strcmp(address, "[::]") == 0) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons((uint16_t)port);
		sslen = sizeof(*sin6);
	} else if (net_ip_parse(address, &ip)) {
		if (ip.family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

			sin->sin_family = AF_INET;
			sin->sin_addr = ip.u.v4;
			sin->sin_port = htons((uint16_t)port);
			sslen = sizeof(*sin);
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

			sin6->sin6_family = AF_INET6;
			sin6->sin6_addr = ip.u.v6;
			sin6->sin6_port = htons((uint16_t)port);
			sslen = sizeof(*sin6);
		}
	} else {
		errno = EINVAL;
		return -1;
	}
	if (port > 65535) {
		errno = EINVAL;
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, backlog) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int net_listen_unix(const char *path, int backlog, int type)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (!str_copy(sun.sun_path, sizeof(sun.sun_path), path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, backlog) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}
