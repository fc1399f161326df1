/* convert.c - state read results to strata.v1 messages (convert.h). The enums of
 * common.proto use the same numbers as the state's (vote states, choices, sources,
 * candidate outcomes), which the static checks below hold them to. */
#include <string.h>

#include "core/election.h"
#include "core/error.h"
#include "crypto/text.h"
#include "server/mask.h"
#include "server/rpc/convert.h"

#define MS_PER_DAY 86400000ULL

_Static_assert((int)STRATA__V1__VOTE_STATE__VOTE_PUBLISHED == (int)ST_VOTE_PUBLISHED &&
                   (int)STRATA__V1__VOTE_STATE__VOTE_DRAFT == (int)ST_VOTE_DRAFT,
               "vote states");
_Static_assert((int)STRATA__V1__CHOICE__CHOICE_AGREE == (int)ST_CHOICE_AGREE &&
                   (int)STRATA__V1__CHOICE__CHOICE_ABSTAIN == (int)ST_CHOICE_ABSTAIN,
               "choices");
_Static_assert((int)STRATA__V1__BALLOT_SOURCE__BALLOT_PAPER == (int)ST_SOURCE_PAPER &&
                   (int)STRATA__V1__BALLOT_SOURCE__BALLOT_ONLINE == (int)ST_SOURCE_ONLINE,
               "sources");
_Static_assert((int)STRATA__V1__CANDIDATE_OUTCOME__CANDIDATE_RUNOFF == (int)ST_CAND_RUNOFF,
               "outcomes");
_Static_assert((int)STRATA__V1__ROLE__ROLE_OPERATOR == (int)ST_ROLE_OPERATOR &&
                   (int)STRATA__V1__ROLE__ROLE_SUPERVISOR == (int)ST_ROLE_SUPERVISOR &&
                   (int)STRATA__V1__ROLE__ROLE_ORGANISER == (int)ST_ROLE_ORGANISER &&
                   (int)STRATA__V1__ROLE__ROLE_OWNER == (int)ST_ROLE_OWNER,
               "roles");

Strata__V1__Community *st_v1_community(st_arena *a, const st_community_info *c) {
    Strata__V1__Community *m = st_arena_alloc(a, sizeof(*m));
    if (m == NULL) {
        return NULL;
    }
    strata__v1__community__init(m);
    m->id = c->id;
    m->name = st_arena_strdup(a, c->name);
    m->street = st_arena_strdup(a, c->street);
    m->min_notice_days = c->min_notice_days;
    m->roll_version = c->roll_version;
    m->unit_count = c->unit_count;
    m->total_area = c->total.area;
    m->total_owners = c->total.owners;
    m->created_ms = c->created_ms;
    m->vote_count = c->vote_count;
    m->enroll_code_days = c->enroll_code_days;
    return m->name != NULL && m->street != NULL ? m : NULL;
}

static Strata__V1__Tally *tally_of(st_arena *a, const st_vote_info *v) {
    Strata__V1__Tally *t = st_arena_alloc(a, sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    strata__v1__tally__init(t);
    t->total_area = v->total.area;
    t->total_owners = v->total.owners;
    if (v->election) {
        t->part_area = v->part.area;
        t->part_owners = v->part.owners;
        t->quorum = v->quorum;
        return t;
    }
    t->part_area = v->decision.part.area;
    t->part_owners = v->decision.part.owners;
    t->agree_area = v->tally.agree.area;
    t->agree_owners = v->tally.agree.owners;
    t->disagree_area = v->tally.disagree.area;
    t->disagree_owners = v->tally.disagree.owners;
    t->abstain_area = v->tally.abstain.area;
    t->abstain_owners = v->tally.abstain.owners;
    t->quorum = v->decision.quorum;
    t->passed = v->decision.passed;
    return t;
}

static int add_standing(st_arena *a, const st_vote_info *v, Strata__V1__Vote *m) {
    m->n_candidates = v->candidate_count;
    m->candidates = st_arena_alloc(a, v->candidate_count * sizeof(char *));
    m->n_standing = v->candidate_count;
    m->standing = st_arena_alloc(a, v->candidate_count * sizeof(*m->standing));
    if (m->candidates == NULL || m->standing == NULL) {
        return -1;
    }
    for (uint32_t i = 0; i < v->candidate_count; i++) {
        if ((m->candidates[i] = st_arena_strdup(a, v->candidates[i])) == NULL) {
            return -1;
        }
        const st_cand_result *s = &v->standing[i];
        Strata__V1__CandidateResult *cr = st_arena_alloc(a, sizeof(*cr));
        if (cr == NULL) {
            return -1;
        }
        strata__v1__candidate_result__init(cr);
        cr->candidate = s->candidate;
        cr->name = s->candidate < v->candidate_count
                       ? st_arena_strdup(a, v->candidates[s->candidate])
                       : st_arena_strdup(a, "");
        cr->approve_area = s->approve.area;
        cr->approve_owners = s->approve.owners;
        cr->qualified = s->qualified;
        cr->rank = s->rank;
        cr->outcome = (Strata__V1__CandidateOutcome)s->outcome;
        if (cr->name == NULL) {
            return -1;
        }
        m->standing[i] = cr;
    }
    m->seats = v->seats;
    m->elected = v->elected;
    m->runoff = v->runoff;
    return 0;
}

/* The supervisors' certifications and disputes, in order. */
static int add_reviews(st_arena *a, const st_vote_info *v, Strata__V1__Vote *m) {
    m->reviews = st_arena_alloc(a, v->review_count * sizeof(*m->reviews));
    if (m->reviews == NULL) {
        return -1;
    }
    for (size_t i = 0; i < v->review_count; i++) {
        const st_vote_review *r = &v->reviews[i];
        Strata__V1__Review *rv = st_arena_alloc(a, sizeof(*rv));
        uint8_t *id = st_arena_alloc(a, ST_KEY_ID_LEN);
        if (rv == NULL || id == NULL) {
            return -1;
        }
        strata__v1__review__init(rv);
        rv->certified = r->kind == ST_REVIEW_CERTIFY;
        if (st_hex_decode(id, ST_KEY_ID_LEN, r->key_id, strlen(r->key_id), NULL, 0) == ST_OK) {
            rv->key_id = (ProtobufCBinaryData){ST_KEY_ID_LEN, id};
        }
        rv->time_ms = r->time_ms;
        rv->reason = st_arena_strdup(a, r->reason != NULL ? r->reason : "");
        if (rv->reason == NULL) {
            return -1;
        }
        m->reviews[m->n_reviews++] = rv;
    }
    return 0;
}

Strata__V1__Vote *st_v1_vote(st_arena *a, const st_vote_info *v) {
    Strata__V1__Vote *m = st_arena_alloc(a, sizeof(*m));
    if (m == NULL) {
        return NULL;
    }
    strata__v1__vote__init(m);
    m->id = v->id;
    m->community_id = v->community_id;
    m->matter = (uint32_t)v->matter;
    m->title = st_arena_strdup(a, v->title);
    m->threshold = v->cls == ST_CLASS_SPECIAL ? STRATA__V1__THRESHOLD_CLASS__THRESHOLD_SPECIAL
                                              : STRATA__V1__THRESHOLD_CLASS__THRESHOLD_ORDINARY;
    m->state = (Strata__V1__VoteState)v->state;
    m->notice_days = v->notice_days;
    m->created_ms = v->created_ms;
    m->noticed_ms = v->noticed_ms;
    m->opens_after_ms = v->noticed_ms != 0 ? v->noticed_ms + v->notice_days * MS_PER_DAY : 0;
    m->opened_ms = v->opened_ms;
    m->closed_ms = v->closed_ms;
    m->published_ms = v->published_ms;
    m->roll_version = v->roll_version;
    m->ballot_count = v->ballot_count;
    m->tally = tally_of(a, v);
    m->log_size = v->log_size;
    m->log_root.data = st_arena_memdup(a, v->log_root, 32);
    m->log_root.len = 32;
    if (m->title == NULL || m->tally == NULL || m->log_root.data == NULL) {
        return NULL;
    }
    if (v->election && add_standing(a, v, m) != 0) {
        return NULL;
    }
    if (v->review_count > 0 && add_reviews(a, v, m) != 0) {
        return NULL;
    }
    return m;
}

Strata__V1__Ballot *st_v1_ballot(st_arena *a, const st_ballot_info *b) {
    Strata__V1__Ballot *m = st_arena_alloc(a, sizeof(*m));
    if (m == NULL) {
        return NULL;
    }
    strata__v1__ballot__init(m);
    m->vote_id = b->vote_id;
    m->seq = b->seq;
    m->owner_id = st_arena_strdup(a, b->owner_id);
    if (m->owner_id == NULL) {
        return NULL;
    }
    if (b->election) {
        Strata__V1__Approvals *ap = st_arena_alloc(a, sizeof(*ap));
        if (ap == NULL) {
            return NULL;
        }
        strata__v1__approvals__init(ap);
        ap->n_candidates = b->approval_count;
        ap->candidates = st_arena_memdup(a, b->approvals, b->approval_count * sizeof(uint32_t));
        if (ap->candidates == NULL) {
            return NULL;
        }
        m->ballot_case = STRATA__V1__BALLOT__BALLOT_APPROVALS;
        m->approvals = ap;
    } else {
        m->ballot_case = STRATA__V1__BALLOT__BALLOT_CHOICE;
        m->choice = (Strata__V1__Choice)b->choice;
    }
    m->source = (Strata__V1__BallotSource)b->source;
    if (b->paper_scan_sha256 != NULL) {
        m->paper_scan_sha256.data = st_arena_memdup(a, b->paper_scan_sha256, 32);
        m->paper_scan_sha256.len = 32;
        if (m->paper_scan_sha256.data == NULL) {
            return NULL;
        }
    }
    m->entered_by = st_arena_strdup(a, b->entered_by != NULL ? b->entered_by : "");
    m->cast_ms = b->time_ms;
    m->current = b->current;
    m->leaf_index = b->leaf_index;
    if (b->record != NULL && b->record_len > 0) {
        m->record.data = st_arena_memdup(a, b->record, b->record_len);
        m->record.len = b->record_len;
        if (m->record.data == NULL) {
            return NULL;
        }
    }
    if (b->key_id != NULL) {
        m->key_id.data = st_arena_memdup(a, b->key_id, ST_KEY_ID_LEN);
        m->key_id.len = ST_KEY_ID_LEN;
        if (m->key_id.data == NULL) {
            return NULL;
        }
    }
    m->proxy_owner_id = st_arena_strdup(a, b->proxy_owner_id != NULL ? b->proxy_owner_id : "");
    return m->entered_by != NULL && m->proxy_owner_id != NULL ? m : NULL;
}

/* The public form of a personal name: server/mask.h's rule (张三 -> 张*, 王建国 -> 王**). */
static char *masked(st_arena *a, const char *name) {
    size_t cap = strlen(name) + 1; /* the masked form is never longer */
    char *out = st_arena_alloc(a, cap);
    if (out != NULL && st_mask_name(name, out, cap) != ST_OK) {
        out[0] = '\0'; /* not UTF-8: the roll never holds such a name; show nothing */
    }
    return out;
}

Strata__V1__Unit *st_v1_unit(st_arena *a, const st_unit *u, bool mask) {
    Strata__V1__Unit *m = st_arena_alloc(a, sizeof(*m));
    if (m == NULL) {
        return NULL;
    }
    strata__v1__unit__init(m);
    m->unit = st_arena_strdup(a, u->unit);
    m->building = st_arena_strdup(a, u->building != NULL ? u->building : "");
    m->area_centi_m2 = u->area;
    m->owner_id = st_arena_strdup(a, u->owner_id);
    /* The developer is a company, not a person: its name is not personal data. */
    bool hide = mask && u->status != ST_UNIT_DEVELOPER_UNSOLD;
    m->owner_name = hide ? masked(a, u->owner_name) : st_arena_strdup(a, u->owner_name);
    m->status = (Strata__V1__UnitStatus)u->status;
    if (m->unit == NULL || m->building == NULL || m->owner_id == NULL || m->owner_name == NULL) {
        return NULL;
    }
    return m;
}

Strata__V1__Event *st_v1_event(st_arena *a, const st_event_info *e) {
    Strata__V1__Event *m = st_arena_alloc(a, sizeof(*m));
    if (m == NULL) {
        return NULL;
    }
    strata__v1__event__init(m);
    m->seq = e->seq;
    m->time_ms = e->time_ms;
    m->actor = st_arena_strdup(a, e->actor);
    m->kind = st_arena_strdup(a, e->kind);
    m->community_id = e->community_id;
    m->vote_id = e->vote_id;
    m->summary = st_arena_strdup(a, e->summary);
    if (m->actor == NULL || m->kind == NULL || m->summary == NULL) {
        return NULL;
    }
    return m;
}

Strata__V1__Key *st_v1_key(st_arena *a, const st_key_info *k) {
    Strata__V1__Key *m = st_arena_alloc(a, sizeof(*m));
    if (m == NULL) {
        return NULL;
    }
    strata__v1__key__init(m);
    m->key_id.data = st_arena_memdup(a, k->key_id, ST_KEY_ID_LEN);
    m->key_id.len = ST_KEY_ID_LEN;
    m->public_key.data = st_arena_memdup(a, k->public_key, ST_SIGN_PK_LEN);
    m->public_key.len = ST_SIGN_PK_LEN;
    m->role = (Strata__V1__Role)k->role;
    m->community_id = k->community_id;
    m->owner_id = st_arena_strdup(a, k->owner_id);
    m->label = st_arena_strdup(a, k->label);
    m->registered_ms = k->registered_ms;
    m->revoked_ms = k->active ? 0 : k->revoked_ms;
    if (m->key_id.data == NULL || m->public_key.data == NULL || m->owner_id == NULL ||
        m->label == NULL) {
        return NULL;
    }
    return m;
}
