/*
 * Network address helpers: parsing and printing IPv4/IPv6 addresses,
 * CIDR matching (`roostadm kick USER 192.0.2.0/24`, trusted networks), and
 * listener creation for master. Shared by every process; parsers here take
 * text from configuration and from IPC and check every byte.
 */
#ifndef ROOST_NET_H
#define ROOST_NET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct net_ip {
	int family; /* AF_INET or AF_INET6; 0 = unset */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} u;
};

#define NET_IP_STR_MAX 64

/* Parses "192.0.2.1", "2001:db8::1" or "[2001:db8::1]"; false if invalid. */
bool net_ip_parse(const char *str, struct net_ip *ip_r);
/* "IP" or "IP/bits"; a bare IP matches only itself. */
bool net_cidr_parse(const char *str, struct net_ip *ip_r, unsigned int *bits_r);
bool net_ip_in_cidr(const struct net_ip *ip, const struct net_ip *net, unsigned int bits);
/* Matches an IP string against a CIDR string; false if either is invalid. */
bool net_ip_str_in_cidr(const char *ip, const char *cidr);
/* Whether ip matches any of a space/comma separated list of networks. */
bool net_ip_in_list(const struct net_ip *ip, const char *list);
bool net_ip_is_loopback(const struct net_ip *ip);
void net_ip_to_str(const struct net_ip *ip, char *dst, size_t size);
/* The address and port of a socket's local or remote end. */
bool net_sockaddr_to_ip(const struct sockaddr *sa, struct net_ip *ip_r, unsigned int *port_r);

/* Shell-style matching with * and ?, as doveadm's user masks. */
bool wildcard_match(const char *mask, const char *str);

/*
 * Creates a listening TCP socket (close-on-exec, non-blocking, SO_REUSEADDR,
 * IPV6_V6ONLY for IPv6) on address ("*" = any IPv4, "::" = any IPv6, or a
 * literal) and port. Returns the descriptor or -1 with errno.
 */
int net_listen_tcp(const char *address, unsigned int port, int backlog);
/* A listening AF_UNIX stream socket at path (replacing a stale one). */
int net_listen_unix(const char *path, int backlog, int type);

#endif
