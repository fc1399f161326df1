/* example.h - the worked example of DOMAIN.md as a roll built in code, shared by the
 * core tests. */
#ifndef STRATA_TESTS_CORE_EXAMPLE_H
#define STRATA_TESTS_CORE_EXAMPLE_H

#include "core/roll.h"
#include "tests/core/check.h"

static const st_unit example_units[] = {
    {"A-101", "A", 8950, "O1", "王建国", ST_UNIT_OWNED},
    {"A-102", "A", 12000, "O2", "李秀英", ST_UNIT_OWNED},
    {"A-201", "A", 8950, "O3", "张伟", ST_UNIT_OWNED},
    {"A-202", "A", 12000, "O1", "王建国", ST_UNIT_OWNED},
    {"B-101", "B", 6525, "O4", "刘洋", ST_UNIT_OWNED},
    {"B-102", "B", 6525, "O5", "陈静", ST_UNIT_OWNED},
    {"B-201", "B", 14380, "O6", "杨帆", ST_UNIT_OWNED},
    {"B-202", "B", 14380, "DEV", "华北置业有限公司", ST_UNIT_DEVELOPER_UNSOLD},
    {"B-301", "B", 14380, "DEV", "华北置业有限公司", ST_UNIT_DEVELOPER_UNSOLD},
    {"S-01", "S", 21000, "O7", "赵磊", ST_UNIT_OWNED},
    {"S-02", "S", 5500, "O8", "黄敏", ST_UNIT_OWNED},
    {"C-101", "C", 9860, "O9", "周强;吴芳", ST_UNIT_OWNED},
};

static inline st_roll *example_roll(void) {
    st_roll *r = NULL;
    char err[256];
    CHECK(st_roll_new(&r) == 0);
    for (size_t i = 0; i < sizeof(example_units) / sizeof(example_units[0]); i++) {
        CHECK(st_roll_add_unit(r, &example_units[i], err, sizeof(err)) == 0);
    }
    CHECK(st_roll_seal(r, err, sizeof(err)) == 0);
    return r;
}

#endif
