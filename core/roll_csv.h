/* roll_csv.h - reading a community roll and a vote's ballots from CSV text in memory.
 *
 * Roll CSV: a header line exactly
 *     unit,building,area_centi_m2,owner_id,owner_name,status
 * then one line per exclusive part (unit):
 *   unit           unit number, unique in the roll ("A-101")
 *   building       building label, may be empty
 *   area_centi_m2  floor area in hundredths of a square metre, a whole decimal number
 *                  from 1 to ST_AREA_MAX without sign, point, exponent or leading zeros
 *                  (89.50 m² is 8950)
 *   owner_id       the voter the unit counts under (co-owners share one id; every
 *                  developer_unsold unit carries the developer's one id)
 *   owner_name     display name, co-owners joined by ';'
 *   status         owned | developer_unsold
 *
 * Ballots CSV: a header line exactly
 *     owner_id,choice
 * then one line per ballot: an owner_id of the roll and agree | disagree | abstain
 * (同意 | 反对 | 弃权 are accepted too). A later line for the same owner replaces an
 * earlier one, as a replaced ballot does in a vote. Owners without a line do not take
 * part. A header with no ballot lines is a vote nobody took part in.
 *
 * Both readers use core/csv.h, so the CSV rules there apply (UTF-8 only, BOM skipped,
 * LF or CRLF, quotes). Every error message starts with "SOURCE:LINE: ", names the field,
 * says what is wrong and what to do, and on any error nothing is returned.
 */
#ifndef STRATA_CORE_ROLL_CSV_H
#define STRATA_CORE_ROLL_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "core/roll.h"
#include "core/tally.h"

#define ST_ROLL_CSV_HEADER "unit,building,area_centi_m2,owner_id,owner_name,status"
#define ST_BALLOTS_CSV_HEADER "owner_id,choice"

/* What the ballot reader saw, for reports. */
typedef struct {
    size_t rows;     /* ballot lines read */
    size_t replaced; /* lines that replaced an earlier line for the same owner */
    size_t voters;   /* distinct owners with a ballot (rows - replaced) */
} st_ballots_csv_stats;

/* Parses a roll CSV from buf[0..len) and returns a new sealed roll in *out (free it with
 * st_roll_free). `source` names the input in messages (the file path).
 * Returns ST_OK, ST_EINVAL (malformed or refused input; err says where and why) or
 * ST_ENOMEM. On failure *out is left unchanged. */
int st_roll_csv_parse(const char *source, const char *buf, size_t len, st_roll **out, char *err,
                      size_t errlen);

/* Parses a ballots CSV against a sealed roll. On success *out receives a new array of
 * st_roll_voter_count(roll) choices, indexed like the roll's voters (free it with
 * free()); voters without a ballot get ST_CHOICE_NONE. `stats` may be NULL.
 * Returns ST_OK, ST_EINVAL (malformed input, or an unsealed roll) or ST_ENOMEM. On
 * failure *out and *stats are left unchanged. */
int st_ballots_csv_parse(const char *source, const char *buf, size_t len, const st_roll *roll,
                         st_choice **out, st_ballots_csv_stats *stats, char *err, size_t errlen);

/* Parses a ballot choice as written in a ballots CSV: agree, disagree, abstain, 同意,
 * 反对 or 弃权. Returns false (and leaves *out) on anything else. */
bool st_ballot_choice_parse(const char *s, st_choice *out);

#endif
