/* ratio.h - ratios for reports, in integer arithmetic (never floating point). */
#ifndef STRATA_CORE_RATIO_H
#define STRATA_CORE_RATIO_H

#include <stddef.h>
#include <stdint.h>

/* The largest denominator st_permille takes: any roll's total area fits (roll.h). */
#define ST_RATIO_DEN_MAX 1000000000000000LL

/* num/den in tenths of a percent (per mille), rounded half up; -1 if den <= 0,
 * den > ST_RATIO_DEN_MAX or num < 0. 128950/134450 -> 959 (95.9%). */
int64_t st_permille(int64_t num, int64_t den);

/* Writes "95.9%" (or "-" when den <= 0) into buf; returns buf. */
char *st_percent_str(int64_t num, int64_t den, char *buf, size_t len);

/* Writes an area in 1/100 m² as square metres: 128950 -> "1289.50". Returns buf. */
char *st_area_str(int64_t centi, char *buf, size_t len);

#endif
