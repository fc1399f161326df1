/* mask.h - masking owner names for anything shown to the public (公示), per seed 001 §6.3:
 * the first character of each name stays, every other character becomes '*'.
 *   张三 -> 张*    王建国 -> 王**    周强;吴芳 (co-owners) -> 周*;吴*
 * Characters are Unicode code points (UTF-8 decoded), so one '*' stands for one Chinese
 * character. Pure function: no state, no allocation; it could live in core/ unchanged.
 * National id and phone numbers are never stored by Strata at all (docs/STATE.md), so
 * there is nothing else to mask.
 */
#ifndef STRATA_SERVER_MASK_H
#define STRATA_SERVER_MASK_H

#include <stddef.h>

/* Writes the masked form of name (co-owners separated by ';') into out (cap bytes,
 * NUL-terminated). The masked form is never longer than name, so cap = strlen(name) + 1
 * always suffices. Empty parts stay empty. Returns ST_OK, ST_EINVAL (name is not valid
 * UTF-8; out is set to "") or ST_ERANGE (cap too small; out is set to ""). */
int st_mask_name(const char *name, char *out, size_t cap);

#endif
