/* fuzz_csv.c - the roll and ballot CSV readers (core/csv.h, core/roll_csv.h). The first
 * input byte chooses the file: even parses the rest as a roll, odd parses it as ballots
 * against the worked-example roll. Properties: a roll that parses is sealed, its total
 * area is the sum of its voters' areas and every unit maps to a voter; parsed ballots give
 * every voter a valid choice or none. */
#include "fuzz.h"

#include "core/roll.h"
#include "core/roll_csv.h"
#include "core/tally.h"

static const char example[] = "unit,building,area_centi_m2,owner_id,owner_name,status\n"
                              "A-101,A,8950,O1,王建国,owned\n"
                              "A-102,A,12000,O2,李秀英,owned\n"
                              "A-202,A,12000,O1,王建国,owned\n"
                              "B-202,B,14380,DEV,华北置业有限公司,developer_unsold\n"
                              "C-101,C,9860,O9,周强;吴芳,owned\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 1 << 16) {
        return 0;
    }
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    char err[512];
    st_roll *roll = NULL;
    if (data[0] % 2 == 0) {
        if (st_roll_csv_parse("fuzz.csv", text, len, &roll, err, sizeof(err)) != ST_OK) {
            FUZZ_CHECK(roll == NULL);
            FUZZ_CHECK(strncmp(err, "fuzz.csv", 8) == 0); /* errors name the file */
            return 0;
        }
        FUZZ_CHECK(st_roll_sealed(roll));
        int64_t sum = 0;
        for (size_t i = 0; i < st_roll_voter_count(roll); i++) {
            sum += st_roll_voter(roll, i)->area;
        }
        FUZZ_CHECK(sum == st_roll_total_area(roll));
        for (size_t u = 0; u < st_roll_unit_count(roll); u++) {
            FUZZ_CHECK(st_roll_unit_voter(roll, u) < st_roll_voter_count(roll));
        }
        st_roll_free(roll);
        return 0;
    }
    FUZZ_CHECK(st_roll_csv_parse("roll.csv", example, sizeof(example) - 1, &roll, err,
                                 sizeof(err)) == ST_OK);
    st_choice *choices = NULL;
    st_ballots_csv_stats stats;
    if (st_ballots_csv_parse("ballots.csv", text, len, roll, &choices, &stats, err, sizeof(err)) ==
        ST_OK) {
        for (size_t i = 0; i < st_roll_voter_count(roll); i++) {
            FUZZ_CHECK(choices[i] == ST_CHOICE_NONE || st_choice_valid((int)choices[i]));
        }
        free(choices);
    }
    st_roll_free(roll);
    return 0;
}
