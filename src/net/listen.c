/* listen.c - listening sockets, one per worker thread (SO_REUSEPORT). */
#include "net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int listen_one(const struct addrinfo *ai, struct err *err,
		      const char *host, const char *port)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			ai->ai_protocol);
	if (fd < 0)
		return err_set(err, ERR_CONFIG, 0, NULL, "socket for %s:%s: %s",
			       host, port, strerror(errno));
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
	    (ai->ai_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)) {
		int e = errno;
		close(fd);
		return err_set(err, ERR_CONFIG, 0, NULL, "setsockopt for %s:%s: %s",
			       host, port, strerror(e));
	}
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
		int e = errno;
		close(fd);
		return err_set(err, ERR_CONFIG, 0, NULL, "cannot listen on %s:%s: %s",
			       host, port, strerror(e));
	}
	return fd;
}

int net_listen(const char *host, const char *port, int *fds_out, size_t n,
	       struct err *err)
{
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	int gai = getaddrinfo(host, port, &hints, &res);
	if (gai != 0)
		return err_set(err, ERR_CONFIG, 0, NULL,
			       "listen address %s:%s: %s (use a numeric address)",
			       host, port, gai_strerror(gai));
	size_t i;
	for (i = 0; i < n; i++) {
		int fd = listen_one(res, err, host, port);
		if (fd < 0)
			break;
		fds_out[i] = fd;
	}
	freeaddrinfo(res);
	if (i == n)
		return 0;
	while (i > 0)
		close(fds_out[--i]);
	return -1;
}

void net_addr_text(const void *sockaddr, char *ip, size_t ipsz, int *port_out)
{
	const struct sockaddr *sa = sockaddr;
	*port_out = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = sockaddr;
		if (inet_ntop(AF_INET, &s4->sin_addr, ip, (socklen_t)ipsz) == NULL)
			snprintf(ip, ipsz, "?");
		*port_out = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = sockaddr;
		if (inet_ntop(AF_INET6, &s6->sin6_addr, ip, (socklen_t)ipsz) == NULL)
			snprintf(ip, ipsz, "?");
		*port_out = ntohs(s6->sin6_port);
	} else {
		snprintf(ip, ipsz, "unix");
	}
}
