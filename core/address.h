/* address.h - HOST:PORT addresses as gRPC reads them. */
#ifndef STRATA_CORE_ADDRESS_H
#define STRATA_CORE_ADDRESS_H

#include <stdbool.h>

/* Whether hostport (HOST:PORT, [IPV6]:PORT) names this machine: 127.0.0.0/8, [::1] or
 * localhost. An unbracketed IPv6 host ("::1:7001") is never loopback: gRPC reads it as
 * another address. NULL or no port: false. */
bool st_hostport_is_loopback(const char *hostport);

#endif
