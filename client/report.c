/* report.c - the readable report of a count and its JSON members, shared by `strata tally`
 * (an offline recount) and `strata vote result` (the service's count): participation,
 * quorum, the three choices and the threshold, each with the raw integers, the ratios and
 * the rule checked, in integer arithmetic only.
 */
#include "client/cli.h"
#include "core/ratio.h"

const char *cli_owners_word(int64_t n) {
    return n == 1 ? "owner" : "owners";
}

/* "847.15 m² (65.7%) / 6 owners (66.7%)": a weight and its shares of `of`. */
void cli_print_weight(FILE *out, st_weight w, st_weight of, const char *tail) {
    char area[32], pa[16], po[16];
    fprintf(out, "%s m\xc2\xb2 (%s) / %lld %s (%s)%s\n", st_area_str(w.area, area, sizeof(area)),
            st_percent_str(w.area, of.area, pa, sizeof(pa)), (long long)w.owners,
            cli_owners_word(w.owners), st_percent_str(w.owners, of.owners, po, sizeof(po)), tail);
}

/* One line of a rule check: "area:   3*128950 = 386850 >= 2*134450 = 268900, met". */
static void print_check(FILE *out, const char *what, int64_t a, int64_t x, const char *op,
                        int64_t b, int64_t y, bool met) {
    fprintf(out, "                %-7s %lld*%lld = %lld %s ", what, (long long)a, (long long)x,
            (long long)(a * x), op);
    if (b == 1) {
        fprintf(out, "%lld", (long long)y);
    } else {
        fprintf(out, "%lld*%lld = %lld", (long long)b, (long long)y, (long long)(b * y));
    }
    fprintf(out, ", %s\n", met ? "met" : "not met");
}

void cli_report_count(FILE *out, const st_tally *t, const st_decision *d, st_class c) {
    bool special = c == ST_CLASS_SPECIAL;
    const char *cls = st_class_name(c);
    const char *article = special ? "a" : "an";

    st_weight absent = {t->total.area - d->part.area, t->total.owners - d->part.owners};
    fputs("Participating:  ", out);
    cli_print_weight(out, d->part, t->total, " of the totals");
    fputs("Not voting:     ", out);
    cli_print_weight(out, absent, t->total, " of the totals");

    bool qa = 3 * d->part.area >= 2 * t->total.area;
    bool qo = 3 * d->part.owners >= 2 * t->total.owners;
    fprintf(out,
            "Quorum:         %s; rule: at least 2/3 of the total area and at least 2/3 of the "
            "owners take part\n",
            d->quorum ? "met" : "not met");
    print_check(out, "area:", 3, d->part.area, ">=", 2, t->total.area, qa);
    print_check(out, "owners:", 3, d->part.owners, ">=", 2, t->total.owners, qo);

    fputs("Agree:          ", out);
    cli_print_weight(out, t->agree, d->part, " of participating");
    fputs("Disagree:       ", out);
    cli_print_weight(out, t->disagree, d->part, " of participating");
    fputs("Abstain:        ", out);
    cli_print_weight(out, t->abstain, d->part, " of participating");

    bool ta, to;
    if (special) {
        ta = 4 * t->agree.area >= 3 * d->part.area;
        to = 4 * t->agree.owners >= 3 * d->part.owners;
        fputs("Threshold:      special; rule: at least 3/4 of participating area and owners "
              "agree, exactly 3/4 passes\n",
              out);
        print_check(out, "area:", 4, t->agree.area, ">=", 3, d->part.area, ta);
        print_check(out, "owners:", 4, t->agree.owners, ">=", 3, d->part.owners, to);
    } else {
        ta = 2 * t->agree.area > d->part.area;
        to = 2 * t->agree.owners > d->part.owners;
        fputs("Threshold:      ordinary; rule: more than half of participating area and owners "
              "agree, exactly half fails\n",
              out);
        print_check(out, "area:", 2, t->agree.area, ">", 1, d->part.area, ta);
        print_check(out, "owners:", 2, t->agree.owners, ">", 1, d->part.owners, to);
    }

    if (d->passed) {
        fprintf(out, "Result:         PASSED as %s %s matter\n", article, cls);
    } else if (!d->quorum) {
        fprintf(out,
                "Result:         FAILED as %s %s matter; failed: no quorum (a matter without "
                "quorum fails whatever the split)\n",
                article, cls);
    } else if (d->part.owners == 0) {
        fprintf(out, "Result:         FAILED as %s %s matter; failed: nobody took part\n", article,
                cls);
    } else {
        /* Quorum met and someone took part, so at least one of the two is short. */
        const char *by = "owners";
        if (!ta) {
            by = to ? "area" : "area and by owners";
        }
        fprintf(out,
                "Result:         FAILED as %s %s matter; failed: the %s threshold is not met "
                "by %s\n",
                article, cls, cls, by);
    }
}

void cli_json_count(FILE *out, const st_tally *t, const st_decision *d) {
    st_json_count(out, t, d); /* one writer: client/audit/result.c */
}
