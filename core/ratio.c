/* ratio.c - percentages and square metres for reports, in integer arithmetic. */
#include <stdio.h>

#include "core/ratio.h"

int64_t st_permille(int64_t num, int64_t den) {
    if (den <= 0 || num < 0 || den > ST_RATIO_DEN_MAX) {
        return -1;
    }
    /* num*1000 may overflow for huge areas; split into quotient and remainder. */
    int64_t q = num / den, r = num % den;
    /* r < den <= 10^15 (roll.h limits), so r*2000 fits an int64_t. */
    return q * 1000 + (r * 2000 + den) / (2 * den);
}

char *st_percent_str(int64_t num, int64_t den, char *buf, size_t len) {
    int64_t pm = st_permille(num, den);
    if (pm < 0) {
        snprintf(buf, len, "-");
    } else {
        snprintf(buf, len, "%lld.%lld%%", (long long)(pm / 10), (long long)(pm % 10));
    }
    return buf;
}

char *st_area_str(int64_t centi, char *buf, size_t len) {
    const char *sign = centi < 0 ? "-" : "";
    /* Negate via unsigned arithmetic so INT64_MIN cannot overflow. */
    uint64_t a = centi < 0 ? (uint64_t)0 - (uint64_t)centi : (uint64_t)centi;
    snprintf(buf, len, "%s%llu.%02llu", sign, (unsigned long long)(a / 100),
             (unsigned long long)(a % 100));
    return buf;
}
