/* matter.h - the nine matters an owner assembly decides (Civil Code art. 278) and the
 * threshold class of each: ordinary (more than half) or special (at least three quarters).
 */
#ifndef STRATA_CORE_MATTER_H
#define STRATA_CORE_MATTER_H

#include <stdbool.h>

#define ST_MATTER_MIN 1
#define ST_MATTER_MAX 9
#define ST_MATTER_ELECTION 3 /* elect the owners' committee or replace members */

typedef enum {
    ST_CLASS_ORDINARY = 1, /* 2*agree > part, by area and by owners */
    ST_CLASS_SPECIAL = 2   /* 4*agree >= 3*part, by area and by owners */
} st_class;

bool st_matter_valid(int matter);
/* Threshold class of a valid matter; ST_CLASS_ORDINARY for an invalid one. */
st_class st_matter_class(int matter);
/* Short English and Chinese titles; "unknown matter" for an invalid one. Never NULL. */
const char *st_matter_title(int matter);
const char *st_matter_title_zh(int matter);
const char *st_class_name(st_class c); /* "ordinary" / "special" */
/* Parses "ordinary" or "special"; returns false on anything else. */
bool st_class_parse(const char *s, st_class *out);

#endif
