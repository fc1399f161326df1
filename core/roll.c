/* roll.c - the community roll: units, owners grouped into voters, totals.
 *
 * Voters are built as units are added (one record per distinct owner_id, in order of
 * first appearance), so a conflicting owner name or a second developer id is refused at
 * the unit that causes it. Lookups by unit number and by owner id go through two
 * open-addressing hash tables holding indexes, so a 20,000-unit roll builds in
 * milliseconds. Strings live in one arena owned by the roll.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/roll.h"

/* ---- string arena: blocks of at least 64 KiB, strings never move ---- */

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    char data[];
} arena_block;

static char *arena_strdup(arena_block **head, const char *s) {
    size_t n = strlen(s) + 1;
    arena_block *b = *head;
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        arena_block *nb = malloc(sizeof(*nb) + cap);
        if (nb == NULL) {
            return NULL;
        }
        nb->next = b;
        nb->used = 0;
        nb->cap = cap;
        *head = nb;
        b = nb;
    }
    char *p = b->data + b->used;
    memcpy(p, s, n);
    b->used += n;
    return p;
}

static void arena_free(arena_block *b) {
    while (b != NULL) {
        arena_block *next = b->next;
        free(b);
        b = next;
    }
}

/* ---- index hash table: slots hold (index + 1), 0 is empty; capacity a power of 2 ---- */

typedef struct {
    uint32_t *slots;
    size_t cap;
} index_table;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a, 64-bit */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

/* Returns the slot holding key, or the empty slot where it would go. */
static uint32_t *table_slot(const index_table *t, const char *key,
                            const char *(*name)(const void *, uint32_t), const void *ctx) {
    size_t mask = t->cap - 1;
    for (size_t i = hash_str(key) & mask;; i = (i + 1) & mask) {
        uint32_t v = t->slots[i];
        if (v == 0 || strcmp(name(ctx, v - 1), key) == 0) {
            return &t->slots[i];
        }
    }
}

/* Makes room for `want` entries at load <= 1/2. Rehashes with the name callback. */
static int table_reserve(index_table *t, size_t want, const char *(*name)(const void *, uint32_t),
                         const void *ctx) {
    if (want * 2 <= t->cap) {
        return ST_OK;
    }
    size_t cap = t->cap ? t->cap : 64;
    while (cap < want * 2) {
        cap *= 2;
    }
    uint32_t *slots = calloc(cap, sizeof(*slots));
    if (slots == NULL) {
        return ST_ENOMEM;
    }
    index_table nt = {slots, cap};
    for (size_t i = 0; i < t->cap; i++) {
        if (t->slots[i] != 0) {
            *table_slot(&nt, name(ctx, t->slots[i] - 1), name, ctx) = t->slots[i];
        }
    }
    free(t->slots);
    *t = nt;
    return ST_OK;
}

/* ---- the roll ---- */

struct st_roll {
    st_unit *units;
    uint32_t *unit_voter; /* voter index per unit */
    size_t nunits, units_cap;
    st_voter *voters;
    size_t nvoters, voters_cap;
    index_table unit_index, voter_index;
    long developer; /* voter index of the developer, or -1 */
    int64_t total_area;
    bool sealed;
    arena_block *strings;
};

static const char *unit_name(const void *ctx, uint32_t i) {
    return ((const st_roll *)ctx)->units[i].unit;
}

static const char *voter_name(const void *ctx, uint32_t i) {
    return ((const st_roll *)ctx)->voters[i].owner_id;
}

int st_roll_new(st_roll **out) {
    st_roll *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return ST_ENOMEM;
    }
    r->developer = -1;
    *out = r;
    return ST_OK;
}

void st_roll_free(st_roll *r) {
    if (r == NULL) {
        return;
    }
    free(r->units);
    free(r->unit_voter);
    free(r->voters);
    free(r->unit_index.slots);
    free(r->voter_index.slots);
    arena_free(r->strings);
    free(r);
}

/* Valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF), no C0 or C1
 * control characters, no leading or trailing space, 1..max bytes. */
static bool valid_text(const char *s, size_t max) {
    if (s == NULL) {
        return false;
    }
    size_t n = strlen(s);
    if (n == 0 || n > max || s[0] == ' ' || s[n - 1] == ' ') {
        return false;
    }
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t c = *p;
        int extra;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) {
                return false;
            }
            p++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            c &= 0x1f;
            extra = 1;
        } else if ((c & 0xf0) == 0xe0) {
            c &= 0x0f;
            extra = 2;
        } else if ((c & 0xf8) == 0xf0) {
            c &= 0x07;
            extra = 3;
        } else {
            return false;
        }
        p++;
        for (int i = 0; i < extra; i++, p++) {
            if ((*p & 0xc0) != 0x80) {
                return false;
            }
            c = (c << 6) | (*p & 0x3f);
        }
        static const uint32_t min_for_len[4] = {0, 0x80, 0x800, 0x10000};
        if (c < min_for_len[extra] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) ||
            (c >= 0x80 && c <= 0x9f)) {
            return false;
        }
    }
    return true;
}

bool st_roll_valid_id(const char *s) {
    return valid_text(s, ST_ID_MAX);
}

bool st_roll_valid_name(const char *s) {
    return valid_text(s, ST_NAME_MAX);
}

int st_roll_add_unit(st_roll *r, const st_unit *u, char *err, size_t errlen) {
    if (r->sealed) {
        return st_fail(err, errlen, ST_ESTATE, "the roll is sealed; units cannot be added");
    }
    if (!st_roll_valid_id(u->unit)) {
        return st_fail(err, errlen, ST_EINVAL,
                       "unit number must be 1 to %d bytes of UTF-8 text without control "
                       "characters or surrounding spaces",
                       ST_ID_MAX);
    }
    if (u->building == NULL || (u->building[0] != '\0' && !st_roll_valid_id(u->building))) {
        return st_fail(err, errlen, ST_EINVAL,
                       "unit %s: building must be empty or up to %d bytes of UTF-8 text", u->unit,
                       ST_ID_MAX);
    }
    if (u->area < 1 || u->area > ST_AREA_MAX) {
        return st_fail(err, errlen, ST_EINVAL,
                       "unit %s: area %lld is out of range; give a whole number of hundredths "
                       "of a square metre from 1 to %lld",
                       u->unit, (long long)u->area, (long long)ST_AREA_MAX);
    }
    if (!st_roll_valid_id(u->owner_id)) {
        return st_fail(err, errlen, ST_EINVAL,
                       "unit %s: owner id must be 1 to %d bytes of UTF-8 text without control "
                       "characters or surrounding spaces",
                       u->unit, ST_ID_MAX);
    }
    if (!st_roll_valid_name(u->owner_name)) {
        return st_fail(err, errlen, ST_EINVAL,
                       "unit %s: owner name must be 1 to %d bytes of UTF-8 text without "
                       "control characters or surrounding spaces",
                       u->unit, ST_NAME_MAX);
    }
    if (u->status != ST_UNIT_OWNED && u->status != ST_UNIT_DEVELOPER_UNSOLD) {
        return st_fail(err, errlen, ST_EINVAL, "unit %s: unknown status %d", u->unit,
                       (int)u->status);
    }
    if (r->nunits >= ST_ROLL_UNITS_MAX) {
        return st_fail(err, errlen, ST_ERANGE, "a roll holds at most %d units", ST_ROLL_UNITS_MAX);
    }
    /* Grow every structure first, so that nothing below can fail half-way. */
    if (table_reserve(&r->unit_index, r->nunits + 1, unit_name, r) != ST_OK ||
        table_reserve(&r->voter_index, r->nvoters + 1, voter_name, r) != ST_OK) {
        return st_fail(err, errlen, ST_ENOMEM, "out of memory adding unit %s", u->unit);
    }
    if (r->nunits == r->units_cap) {
        size_t cap = r->units_cap ? r->units_cap * 2 : 256;
        st_unit *units = realloc(r->units, cap * sizeof(*units));
        if (units == NULL) {
            return st_fail(err, errlen, ST_ENOMEM, "out of memory adding unit %s", u->unit);
        }
        r->units = units;
        uint32_t *uv = realloc(r->unit_voter, cap * sizeof(*uv));
        if (uv == NULL) {
            return st_fail(err, errlen, ST_ENOMEM, "out of memory adding unit %s", u->unit);
        }
        r->unit_voter = uv;
        r->units_cap = cap;
    }
    if (r->nvoters == r->voters_cap) {
        size_t cap = r->voters_cap ? r->voters_cap * 2 : 256;
        st_voter *voters = realloc(r->voters, cap * sizeof(*voters));
        if (voters == NULL) {
            return st_fail(err, errlen, ST_ENOMEM, "out of memory adding unit %s", u->unit);
        }
        r->voters = voters;
        r->voters_cap = cap;
    }

    uint32_t *uslot = table_slot(&r->unit_index, u->unit, unit_name, r);
    if (*uslot != 0) {
        return st_fail(err, errlen, ST_EEXIST, "unit %s appears twice in the roll", u->unit);
    }
    uint32_t *vslot = table_slot(&r->voter_index, u->owner_id, voter_name, r);
    st_voter *v = *vslot ? &r->voters[*vslot - 1] : NULL;
    bool dev = u->status == ST_UNIT_DEVELOPER_UNSOLD;
    if (v != NULL && strcmp(v->owner_name, u->owner_name) != 0) {
        return st_fail(err, errlen, ST_EINVAL,
                       "unit %s: owner %s is named \"%s\" here but \"%s\" on an earlier unit; "
                       "one owner id must carry one name",
                       u->unit, u->owner_id, u->owner_name, v->owner_name);
    }
    if (dev && r->developer >= 0 && strcmp(r->voters[r->developer].owner_id, u->owner_id) != 0) {
        return st_fail(err, errlen, ST_EINVAL,
                       "unit %s: developer-unsold units count together as one owner and must "
                       "share one owner id, but this one has %s and earlier ones have %s",
                       u->unit, u->owner_id, r->voters[r->developer].owner_id);
    }
    if (v != NULL && v->area > ST_AREA_MAX * (int64_t)ST_ROLL_UNITS_MAX - u->area) {
        return st_fail(err, errlen, ST_ERANGE, "unit %s: owner %s's total area is too large",
                       u->unit, u->owner_id);
    }

    st_unit copy = *u;
    copy.unit = arena_strdup(&r->strings, u->unit);
    copy.building = copy.unit ? arena_strdup(&r->strings, u->building) : NULL;
    if (copy.unit == NULL || copy.building == NULL) {
        return st_fail(err, errlen, ST_ENOMEM, "out of memory adding unit %s", u->unit);
    }
    if (v == NULL) {
        const char *oid = arena_strdup(&r->strings, u->owner_id);
        const char *oname = oid ? arena_strdup(&r->strings, u->owner_name) : NULL;
        if (oname == NULL) {
            return st_fail(err, errlen, ST_ENOMEM, "out of memory adding unit %s", u->unit);
        }
        v = &r->voters[r->nvoters];
        *v = (st_voter){.owner_id = oid, .owner_name = oname};
        *vslot = (uint32_t)++r->nvoters;
    }
    copy.owner_id = v->owner_id;
    copy.owner_name = v->owner_name;
    v->area += u->area;
    v->unit_count++;
    if (dev) {
        v->developer = true;
        r->developer = (long)(*vslot - 1);
    }
    r->units[r->nunits] = copy;
    r->unit_voter[r->nunits] = *vslot - 1;
    *uslot = (uint32_t)++r->nunits;
    r->total_area += u->area;
    return ST_OK;
}

int st_roll_seal(st_roll *r, char *err, size_t errlen) {
    if (r->sealed) {
        return ST_OK;
    }
    if (r->nunits == 0) {
        return st_fail(err, errlen, ST_EINVAL, "the roll has no units");
    }
    r->sealed = true;
    return ST_OK;
}

bool st_roll_sealed(const st_roll *r) {
    return r->sealed;
}

size_t st_roll_unit_count(const st_roll *r) {
    return r->nunits;
}

const st_unit *st_roll_unit(const st_roll *r, size_t i) {
    return i < r->nunits ? &r->units[i] : NULL;
}

long st_roll_find_unit(const st_roll *r, const char *unit) {
    if (r->unit_index.cap == 0 || unit == NULL) {
        return -1;
    }
    uint32_t v = *table_slot(&r->unit_index, unit, unit_name, r);
    return v ? (long)v - 1 : -1;
}

size_t st_roll_voter_count(const st_roll *r) {
    return r->sealed ? r->nvoters : 0;
}

const st_voter *st_roll_voter(const st_roll *r, size_t i) {
    return r->sealed && i < r->nvoters ? &r->voters[i] : NULL;
}

long st_roll_find_voter(const st_roll *r, const char *owner_id) {
    if (!r->sealed || owner_id == NULL) {
        return -1;
    }
    uint32_t v = *table_slot(&r->voter_index, owner_id, voter_name, r);
    return v ? (long)v - 1 : -1;
}

size_t st_roll_unit_voter(const st_roll *r, size_t unit_index) {
    return unit_index < r->nunits ? r->unit_voter[unit_index] : SIZE_MAX;
}

int64_t st_roll_total_area(const st_roll *r) {
    return r->sealed ? r->total_area : 0;
}

int64_t st_roll_total_owners(const st_roll *r) {
    return r->sealed ? (int64_t)r->nvoters : 0;
}
