/* address.c - what a HOST:PORT address names, for the rule that plaintext gRPC is allowed
 * on loopback only (stratad's grpc-listen, libstrata's targets): address.h. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "core/address.h"

bool st_hostport_is_loopback(const char *address) {
    const char *colon = address != NULL ? strrchr(address, ':') : NULL;
    if (colon == NULL || colon == address) {
        return false;
    }
    size_t n = (size_t)(colon - address);
    if (address[0] == '[') {
        if (n < 3 || address[n - 1] != ']') {
            return false;
        }
        address++;
        n -= 2;
    } else if (memchr(address, ':', n) != NULL) {
        return false; /* "::1:7001" is the IPv6 address ::1:7001 to gRPC, not ::1 */
    }
    char host[256];
    if (n >= sizeof(host)) {
        return false;
    }
    memcpy(host, address, n);
    host[n] = '\0';
    if (strcasecmp(host, "localhost") == 0) {
        return true;
    }
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1) {
        return (ntohl(a4.s_addr) >> 24) == 127;
    }
    struct in6_addr a6;
    return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}
