/* result.c - the JSON of a vote's result (result.h): one writer, shared by `strata tally`,
 * `strata vote result` and the audit bundle, so that their keys and numbers never differ.
 */
#include "client/audit/result.h"

const char *st_result_outcome_name(int outcome) {
    return outcome == ST_CAND_ELECTED  ? "elected"
           : outcome == ST_CAND_RUNOFF ? "runoff"
                                       : "not_elected";
}

void st_json_string(FILE *out, const char *s) {
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (*p < 0x20) {
                fprintf(out, "\\u%04x", *p);
            } else {
                fputc(*p, out); /* UTF-8 passes through byte by byte */
            }
        }
    }
    fputc('"', out);
}

void st_json_count(FILE *out, const st_tally *t, const st_decision *d) {
    fprintf(out,
            "\"total_area\":%lld,\"total_owners\":%lld"
            ",\"part_area\":%lld,\"part_owners\":%lld"
            ",\"agree_area\":%lld,\"agree_owners\":%lld"
            ",\"disagree_area\":%lld,\"disagree_owners\":%lld"
            ",\"abstain_area\":%lld,\"abstain_owners\":%lld"
            ",\"quorum\":%s,\"passed\":%s",
            (long long)t->total.area, (long long)t->total.owners, (long long)d->part.area,
            (long long)d->part.owners, (long long)t->agree.area, (long long)t->agree.owners,
            (long long)t->disagree.area, (long long)t->disagree.owners, (long long)t->abstain.area,
            (long long)t->abstain.owners, d->quorum ? "true" : "false",
            d->passed ? "true" : "false");
}

void st_result_json(FILE *out, const st_result *r) {
    fprintf(out, "{\"vote_id\":%llu,\"matter\":%u,\"state\":", (unsigned long long)r->vote_id,
            r->matter);
    st_json_string(out, r->state != NULL ? r->state : "");
    fprintf(out, ",\"class\":\"%s\",", st_class_name(st_matter_class((int)r->matter)));
    st_json_count(out, &r->tally, &r->decision);
    fprintf(out, ",\"ballot_count\":%llu,\"stale\":%s", (unsigned long long)r->ballot_count,
            r->stale ? "true" : "false");
    if (r->matter == ST_MATTER_ELECTION) {
        fprintf(out, ",\"seats\":%u,\"elected\":%u,\"runoff\":%u,\"candidates\":[", r->seats,
                r->elected, r->runoff);
        for (size_t i = 0; i < r->n_candidates; i++) {
            const st_result_candidate *c = &r->candidates[i];
            fprintf(out, "%s{\"candidate\":%u,\"name\":", i ? "," : "", c->candidate);
            st_json_string(out, c->name != NULL ? c->name : "");
            fprintf(out,
                    ",\"approve_area\":%lld,\"approve_owners\":%lld,\"qualified\":%s,\"rank\":%u"
                    ",\"outcome\":\"%s\"}",
                    (long long)c->approve.area, (long long)c->approve.owners,
                    c->qualified ? "true" : "false", c->rank, st_result_outcome_name(c->outcome));
        }
        fputc(']', out);
    }
    fputs("}\n", out);
}
