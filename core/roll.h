/* roll.h - the community roll: exclusive parts (units), their owners, and the two
 * weights the law counts by, total floor area and head count (DOMAIN.md).
 *
 * A roll is built unit by unit with st_roll_add_unit(), then sealed with st_roll_seal().
 * Units are grouped into voters:
 *   - one voter per owner_id: an owner holding several units counts once, with the sum
 *     of their areas; co-owners of a unit share one owner_id (one designated voter);
 *   - all developer-unsold units together count as one voter; they must share one
 *     owner_id (the developer's), which is the id that voter casts ballots under. Units
 *     the developer holds as an ordinary owner under that same id belong to the same
 *     voter (one owner counts once), and that voter is marked `developer`.
 * Areas are integers in hundredths of a square metre (8950 = 89.50 m²).
 *
 * A sealed roll is read-only and may be read from several threads at once.
 * All strings are copied in; pointers handed out stay valid until st_roll_free().
 */
#ifndef STRATA_CORE_ROLL_H
#define STRATA_CORE_ROLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits. Total area is at most 10^15, so 2000 * total area (ratio.c) fits an int64_t. */
#define ST_AREA_MAX 1000000000LL  /* per unit: 10^7 m², in 1/100 m² */
#define ST_ROLL_UNITS_MAX 1000000 /* units in one roll */
#define ST_ID_MAX 64              /* bytes in a unit id, building or owner id */
#define ST_NAME_MAX 512           /* bytes in an owner name (co-owners joined by ';') */

typedef enum {
    ST_UNIT_OWNED = 1,           /* sold and delivered: counts under its owner */
    ST_UNIT_DEVELOPER_UNSOLD = 2 /* not sold or not delivered: all count as one owner */
} st_unit_status;

typedef struct {
    const char *unit;       /* unit number, unique in the roll ("A-101") */
    const char *building;   /* building label, may be empty */
    int64_t area;           /* 1 .. ST_AREA_MAX, in 1/100 m² */
    const char *owner_id;   /* the voter this unit counts under */
    const char *owner_name; /* display name; co-owners joined by ';' */
    st_unit_status status;
} st_unit;

typedef struct {
    const char *owner_id;
    const char *owner_name;
    int64_t area;        /* sum of the voter's unit areas */
    uint32_t unit_count; /* how many units the voter holds */
    bool developer;      /* the voter stands for developer-unsold units */
} st_voter;

typedef struct st_roll st_roll;

/* Creates an empty, unsealed roll. Returns ST_OK or ST_ENOMEM. */
int st_roll_new(st_roll **out);
void st_roll_free(st_roll *r);

/* Adds a copy of *u. Fails, changing nothing, with ST_EINVAL (empty or oversize id or
 * name, bytes that are not UTF-8 or are control characters, area out of range, unknown
 * status, an owner_id seen before with another name, a developer-unsold unit under
 * another owner_id than earlier ones), ST_EEXIST (duplicate unit), ST_ERANGE (too many
 * units), ST_ESTATE (roll sealed) or ST_ENOMEM. The message names the unit. */
int st_roll_add_unit(st_roll *r, const st_unit *u, char *err, size_t errlen);

/* Seals the roll and computes voters and totals. An empty roll cannot be sealed
 * (ST_EINVAL). Voters are numbered in order of their first unit. */
int st_roll_seal(st_roll *r, char *err, size_t errlen);
bool st_roll_sealed(const st_roll *r);

size_t st_roll_unit_count(const st_roll *r);
const st_unit *st_roll_unit(const st_roll *r, size_t i);
/* Index of a unit by its number, or -1. Works before and after sealing. */
long st_roll_find_unit(const st_roll *r, const char *unit);

/* Sealed rolls only (before sealing these report 0 / NULL / -1). */
size_t st_roll_voter_count(const st_roll *r);
const st_voter *st_roll_voter(const st_roll *r, size_t i);
long st_roll_find_voter(const st_roll *r, const char *owner_id);
/* Voter index of unit i; SIZE_MAX if there is no unit i. */
size_t st_roll_unit_voter(const st_roll *r, size_t unit_index);
int64_t st_roll_total_area(const st_roll *r);
int64_t st_roll_total_owners(const st_roll *r); /* = number of voters */

/* Checks a string the roll would accept as an id (1..ST_ID_MAX bytes) or a name
 * (1..ST_NAME_MAX bytes): valid UTF-8, no control characters, no leading or trailing
 * space. */
bool st_roll_valid_id(const char *s);
bool st_roll_valid_name(const char *s);

#endif
