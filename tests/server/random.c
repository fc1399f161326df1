/* random.c - randomized command sequences against an independent model of the rules.
 *
 * Each sequence is one new community: a random roll, then random steps (create, notice
 * and open votes, move the clock, cast valid and invalid ballots, re-import the roll,
 * close, publish). Ballots are signed by the owners' keys, which the harness enrolls at an
 * owner's first ballot; an owner who left the roll before enrolling cannot vote online. The model
 * written here predicts the result code of every command (accepted, or which refusal) and keeps its
 * own figures for every vote; after each sequence every vote's running tally (or election standing)
 * must equal both the state machine's recount and the model, decisions included. The model shares
 * no code with core/ or server/: it groups the roll, sums weights and applies the thresholds
 * itself.
 *
 * Usage: server_random [seed [sequences]] (or STRATA_SEED / STRATA_SEQUENCES). The seed
 * is printed so that a failure can be replayed.
 */
#include <string.h>

#include "tests/server/harness.h"

#define MAXU 40 /* units per roll */
#define MAXV 8  /* votes per community */
#define MAXC 12 /* candidates per election */

static uint64_t rng_state;
static uint64_t seed;

static uint64_t rnd(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t below(uint32_t n) {
    return (uint32_t)(rnd() % n);
}

static void print_seed(void) {
    fprintf(stderr, "server_random: failing seed %llu (rerun: server_random %llu)\n",
            (unsigned long long)seed, (unsigned long long)seed);
}

/* ---- the model ---- */

typedef struct {
    char unit[24], owner[16], name[24];
    int64_t area;
    bool dev;
} m_unit;

typedef struct {
    char owner[16];
    int64_t area;
} m_voter;

typedef struct {
    m_voter v[MAXU];
    size_t n;
} m_voters;

typedef struct {
    uint64_t id;
    uint32_t matter, seats, ncand, notice_days;
    int state; /* st_vote_state */
    uint64_t noticed_ms;
    m_voters roll; /* frozen at open */
    int choice[MAXU];
    bool has[MAXU];
    uint32_t appr[MAXU][11];
    size_t nappr[MAXU];
    uint64_t ballots;
} m_vote;

typedef struct {
    uint64_t id;
    uint32_t min_notice;
    m_unit units[MAXU];
    size_t nunits;
    m_vote votes[MAXV];
    size_t nvotes;
    /* Owners with an enrolled key. The harness enrolls lazily: at an owner's first ballot,
     * which works while the owner is on the community's current roll. */
    char enrolled[2 * MAXU + 8][16];
    size_t nenrolled;
} m_community;

static bool on_current_roll(const m_community *c, const char *owner) {
    for (size_t i = 0; i < c->nunits; i++) {
        if (strcmp(c->units[i].owner, owner) == 0) {
            return true;
        }
    }
    return false;
}

/* The model of the harness's lazy enrollment before a ballot: true if the owner can sign. */
static bool enroll_for_ballot(m_community *c, const char *owner) {
    for (size_t i = 0; i < c->nenrolled; i++) {
        if (strcmp(c->enrolled[i], owner) == 0) {
            return true;
        }
    }
    if (!on_current_roll(c, owner) ||
        c->nenrolled == sizeof(c->enrolled) / sizeof(c->enrolled[0])) {
        return false;
    }
    snprintf(c->enrolled[c->nenrolled++], sizeof(c->enrolled[0]), "%s", owner);
    return true;
}

static void group(const m_unit *u, size_t n, m_voters *out) {
    out->n = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < out->n && strcmp(out->v[j].owner, u[i].owner) != 0) {
            j++;
        }
        if (j == out->n) {
            snprintf(out->v[j].owner, sizeof(out->v[j].owner), "%s", u[i].owner);
            out->v[j].area = 0;
            out->n++;
        }
        out->v[j].area += u[i].area;
    }
}

static void random_roll(m_unit *u, size_t *n) {
    *n = 1 + below(MAXU);
    uint32_t owners = 1 + below((uint32_t)*n);
    for (size_t i = 0; i < *n; i++) {
        snprintf(u[i].unit, sizeof(u[i].unit), "U%u", (unsigned)i);
        u[i].area = 1 + (int64_t)below(50000);
        u[i].dev = below(10) == 0;
        if (u[i].dev) {
            snprintf(u[i].owner, sizeof(u[i].owner), "DEV");
        } else {
            snprintf(u[i].owner, sizeof(u[i].owner), "O%u", below(owners + 3));
        }
        snprintf(u[i].name, sizeof(u[i].name), "N-%s", u[i].owner);
    }
}

static int import(t_env *e, uint64_t com, const m_unit *u, size_t n, st_apply_result *r) {
    t_unit tu[MAXU + 1];
    for (size_t i = 0; i < n; i++) {
        tu[i] = (t_unit){u[i].unit, "B", u[i].area, u[i].owner, u[i].name, u[i].dev};
    }
    return t_import_roll(e, com, tu, n, r);
}

static int64_t voter_index(const m_voters *r, const char *owner) {
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->v[i].owner, owner) == 0) {
            return (int64_t)i;
        }
    }
    return -1;
}

/* ---- the steps: each predicts the code, applies, compares, updates the model ---- */

static unsigned long accepted, refused, votes_checked, ballots_counted, unenrolled;

static void expect(const st_apply_result *r, int want, const char *what) {
    if (want == ST_OK) {
        accepted++;
    } else {
        refused++;
    }
    if (r->code != want) {
        fprintf(stderr, "%s: code %d, model expected %d: %s\n", what, r->code, want, r->message);
        print_seed();
        exit(1);
    }
}

static void step_create_vote(t_env *e, m_community *c) {
    if (c->nvotes == MAXV) {
        return;
    }
    m_vote *v = &c->votes[c->nvotes];
    memset(v, 0, sizeof(*v));
    v->matter = 1 + below(9);
    if (below(3) == 0) {
        v->matter = 3;
    }
    const char *cands[MAXC];
    static const char *const names[MAXC] = {"c0", "c1", "c2", "c3", "c4",  "c5",
                                            "c6", "c7", "c8", "c9", "c10", "c11"};
    if (v->matter == 3) {
        v->seats = 5 + 2 * below(4);
        v->ncand = 1 + below(MAXC);
        memcpy(cands, names, sizeof(cands));
    }
    int notice = below(2) == 0 ? -1 : (int)(c->min_notice + below(2));
    bool bad = c->min_notice > 0 && below(10) == 0;
    if (bad) {
        notice = (int)c->min_notice - 1;
    }
    st_apply_result r;
    t_create_vote(e, c->id, v->matter, "random vote", notice, v->seats, cands, v->ncand, &r);
    expect(&r, bad ? ST_EINVAL : ST_OK, "create vote");
    if (!bad) {
        v->id = r.id;
        v->state = ST_VOTE_DRAFT;
        v->notice_days = notice < 0 ? c->min_notice : (uint32_t)notice;
        c->nvotes++;
    }
}

/* A random vote; with probability 4/5 one in state `prefer` if there is one, so that
 * most commands are the ones that can succeed and refusals still come up often. */
static m_vote *pick_vote(m_community *c, int prefer) {
    if (c->nvotes == 0) {
        return NULL;
    }
    if (below(5) != 0) {
        size_t idx[MAXV], n = 0;
        for (size_t i = 0; i < c->nvotes; i++) {
            if (c->votes[i].state == prefer) {
                idx[n++] = i;
            }
        }
        if (n > 0) {
            return &c->votes[idx[below((uint32_t)n)]];
        }
    }
    return &c->votes[below((uint32_t)c->nvotes)];
}

static void step_notice(t_env *e, m_community *c) {
    m_vote *v = pick_vote(c, ST_VOTE_DRAFT);
    if (v == NULL) {
        return;
    }
    st_apply_result r;
    t_notice(e, v->id, &r);
    int want = v->state == ST_VOTE_DRAFT ? ST_OK : ST_ESTATE;
    expect(&r, want, "notice");
    if (want == ST_OK) {
        v->state = ST_VOTE_NOTICED;
        v->noticed_ms = e->time_ms;
    }
}

static void step_open(t_env *e, m_community *c) {
    m_vote *v = pick_vote(c, ST_VOTE_NOTICED);
    if (v == NULL) {
        return;
    }
    st_apply_result r;
    t_open_vote(e, v->id, &r);
    int want = ST_OK;
    if (v->state != ST_VOTE_NOTICED || e->time_ms < v->noticed_ms + v->notice_days * DAY_MS) {
        want = ST_ESTATE;
    }
    expect(&r, want, "open");
    if (want == ST_OK) {
        v->state = ST_VOTE_OPEN;
        group(c->units, c->nunits, &v->roll);
    } else if (v->state == ST_VOTE_NOTICED) {
        e->time_ms += DAY_MS; /* too early: let time pass */
    }
}

static void step_close_publish(t_env *e, m_community *c, bool publish) {
    m_vote *v = pick_vote(c, publish ? ST_VOTE_CLOSED : ST_VOTE_OPEN);
    if (v == NULL) {
        return;
    }
    st_apply_result r;
    int from = publish ? ST_VOTE_CLOSED : ST_VOTE_OPEN;
    if (publish) {
        t_publish(e, v->id, &r);
    } else {
        t_close_vote(e, v->id, &r);
    }
    int want = v->state == from ? ST_OK : ST_ESTATE;
    expect(&r, want, publish ? "publish" : "close");
    if (want == ST_OK) {
        v->state = from + 1;
    }
}

static bool any_in(const m_community *c, int state) {
    for (size_t i = 0; i < c->nvotes; i++) {
        if (c->votes[i].state == state) {
            return true;
        }
    }
    return false;
}

static void step_cast(t_env *e, m_community *c) {
    if (!any_in(c, ST_VOTE_OPEN) && below(4) != 0) {
        /* Nothing to vote on: move a vote along its lifecycle instead. */
        if (any_in(c, ST_VOTE_NOTICED)) {
            step_open(e, c);
        } else if (any_in(c, ST_VOTE_DRAFT)) {
            step_notice(e, c);
        } else {
            step_create_vote(e, c);
        }
        return;
    }
    m_vote *v = pick_vote(c, ST_VOTE_OPEN);
    if (v == NULL) {
        return;
    }
    /* An owner: usually from the frozen roll, sometimes from the current roll (maybe
     * not frozen), sometimes nobody's. */
    const char *owner;
    uint32_t k = below(10);
    if (k < 7 && v->roll.n > 0) {
        owner = v->roll.v[below((uint32_t)v->roll.n)].owner;
    } else if (k < 9) {
        owner = c->units[below((uint32_t)c->nunits)].owner;
    } else {
        owner = "X1";
    }
    int64_t vi = voter_index(&v->roll, owner);
    bool can_sign = enroll_for_ballot(c, owner);
    bool election = v->matter == 3;
    bool wrong_kind = below(20) == 0;
    bool invalid = false;
    st_apply_result r;
    int choice = 0;
    uint32_t set[12];
    size_t n = 0;
    if (election != wrong_kind) {
        /* An approval list: valid, or too long, out of range, or with a repeat. */
        uint32_t max = v->seats < v->ncand ? v->seats : v->ncand;
        if (!election) {
            max = 3;
        }
        n = below(max + 1);
        uint32_t ncand = election ? v->ncand : 5;
        for (size_t i = 0; i < n; i++) {
            uint32_t x;
            bool fresh;
            do {
                x = below(ncand);
                fresh = true;
                for (size_t j = 0; j < i; j++) {
                    fresh = fresh && set[j] != x;
                }
            } while (!fresh);
            set[i] = x;
        }
        uint32_t bad = below(12);
        if (election && bad == 0 && v->seats + 1 <= 12) {
            n = v->seats + 1;
            for (size_t i = 0; i < n; i++) {
                set[i] = (uint32_t)i % v->ncand;
            }
            invalid = true;
        } else if (election && bad == 1) {
            set[n++] = v->ncand;
            invalid = n <= 12;
        } else if (election && bad == 2 && n >= 1 && n < v->seats) {
            set[n] = set[0];
            n++;
            invalid = true;
        }
        t_cast_approvals(e, v->id, owner, set, n, &r);
    } else {
        choice = below(12) == 0 ? (int)below(2) * 4 : 1 + (int)below(3); /* 0, 4: bad */
        invalid = choice < 1 || choice > 3;
        t_cast(e, v->id, owner, choice, &r);
    }
    int want = ST_OK;
    if (v->state != ST_VOTE_OPEN) {
        want = ST_ESTATE;
    } else if (vi < 0) {
        want = ST_ENOENT;
    } else if (wrong_kind || invalid) {
        want = ST_EINVAL;
    } else if (!can_sign) {
        want = ST_EAUTH; /* on the frozen roll, left the current one before enrolling */
        unenrolled++;
    }
    expect(&r, want, "cast");
    if (want != ST_OK) {
        return;
    }
    v->ballots++;
    if (r.id != v->ballots) {
        fprintf(stderr, "ballot sequence %llu, model %llu\n", (unsigned long long)r.id,
                (unsigned long long)v->ballots);
        print_seed();
        exit(1);
    }
    v->has[vi] = true;
    v->choice[vi] = choice;
    v->nappr[vi] = n;
    memcpy(v->appr[vi], set, n * sizeof(set[0]));
}

static void step_import(t_env *e, m_community *c) {
    m_unit u[MAXU + 1];
    size_t n;
    random_roll(u, &n);
    bool bad = below(8) == 0 && n >= 2;
    if (bad) {
        memcpy(u[n - 1].unit, u[0].unit, sizeof(u[0].unit)); /* a duplicate unit number */
    }
    st_apply_result r;
    import(e, c->id, u, n, &r);
    expect(&r, bad ? ST_EEXIST : ST_OK, "import");
    if (!bad) {
        memcpy(c->units, u, n * sizeof(u[0]));
        c->nunits = n;
    }
}

/* ---- checking a vote against the model ---- */

typedef struct {
    int64_t area, owners;
} w;

static bool quorum(w part, w total) {
    return 3 * part.area >= 2 * total.area && 3 * part.owners >= 2 * total.owners;
}

static void fail_vote(const m_vote *v, const char *what) {
    fprintf(stderr, "vote %llu (matter %u): %s differs from the model\n", (unsigned long long)v->id,
            v->matter, what);
    print_seed();
    exit(1);
}

static void check_vote(t_env *e, const m_vote *m) {
    st_vote_info *v;
    CHECK(st_state_get_vote(e->s, m->id, &v) == ST_OK);
    w total = {0, (int64_t)m->roll.n}, part = {0, 0}, bucket[4] = {{0, 0}};
    w appr[MAXC] = {{0, 0}};
    for (size_t i = 0; i < m->roll.n; i++) {
        total.area += m->roll.v[i].area;
        if (!m->has[i]) {
            continue;
        }
        int64_t a = m->roll.v[i].area;
        part.area += a;
        part.owners++;
        bucket[m->choice[i]].area += a;
        bucket[m->choice[i]].owners++;
        for (size_t j = 0; j < m->nappr[i]; j++) {
            appr[m->appr[i][j]].area += a;
            appr[m->appr[i][j]].owners++;
        }
    }
    if ((int)v->state != m->state || v->ballot_count != m->ballots) {
        fail_vote(m, "state or ballot count");
    }
    if (v->total.area != total.area || v->total.owners != total.owners) {
        fail_vote(m, "total");
    }
    bool q = quorum(part, total) && part.owners > 0;
    if (m->matter != 3) {
        w agree = bucket[1];
        bool special = m->matter >= 6 && m->matter <= 8;
        bool pass = special ? 4 * agree.area >= 3 * part.area && 4 * agree.owners >= 3 * part.owners
                            : 2 * agree.area > part.area && 2 * agree.owners > part.owners;
        if (v->tally.agree.area != bucket[1].area || v->tally.agree.owners != bucket[1].owners ||
            v->tally.disagree.area != bucket[2].area ||
            v->tally.disagree.owners != bucket[2].owners ||
            v->tally.abstain.area != bucket[3].area ||
            v->tally.abstain.owners != bucket[3].owners) {
            fail_vote(m, "tally");
        }
        if (v->decision.part.area != part.area || v->decision.part.owners != part.owners ||
            v->decision.passed != (q && pass)) {
            fail_vote(m, "decision");
        }
    } else {
        if (v->part.area != part.area || v->part.owners != part.owners ||
            v->quorum != quorum(part, total)) {
            fail_vote(m, "participation");
        }
        /* Qualified candidates, ranked by owners then area, top `seats` elected, a tie at
         * the last seat goes to a run-off. */
        w qual[MAXC];
        size_t nq = 0;
        for (uint32_t c = 0; c < m->ncand; c++) {
            bool ok = q && 2 * appr[c].area > part.area && 2 * appr[c].owners > part.owners;
            const st_cand_result *cr = NULL;
            for (uint32_t i = 0; i < v->candidate_count; i++) {
                if (v->standing[i].candidate == c) {
                    cr = &v->standing[i];
                }
            }
            if (cr == NULL || cr->approve.area != appr[c].area ||
                cr->approve.owners != appr[c].owners || cr->qualified != ok) {
                fail_vote(m, "candidate approvals");
            }
            if (ok) {
                size_t at = nq++;
                while (at > 0 && (qual[at - 1].owners < appr[c].owners ||
                                  (qual[at - 1].owners == appr[c].owners &&
                                   qual[at - 1].area < appr[c].area))) {
                    qual[at] = qual[at - 1];
                    at--;
                }
                qual[at] = appr[c];
            }
        }
        uint32_t elected = (uint32_t)nq, runoff = 0;
        if (nq > m->seats) {
            w last = qual[m->seats - 1];
            bool tie = qual[m->seats].area == last.area && qual[m->seats].owners == last.owners;
            elected = 0;
            for (size_t i = 0; i < nq; i++) {
                bool same = qual[i].area == last.area && qual[i].owners == last.owners;
                if (tie && same) {
                    runoff++;
                } else if (i < m->seats) {
                    elected++;
                }
            }
        }
        if (v->elected != elected || v->runoff != runoff) {
            fail_vote(m, "elected / run-off");
        }
    }
    st_vote_info_free(v);
    votes_checked++;
    ballots_counted += m->ballots;
    st_recount_info rc;
    CHECK(st_state_recount(e->s, m->id, &rc) == ST_OK);
    if (!rc.equal || rc.ballots != m->ballots) {
        fail_vote(m, "recount");
    }
}

static void run_sequence(t_env *e, uint64_t *commands) {
    m_community c;
    memset(&c, 0, sizeof(c));
    c.min_notice = below(4) == 0 ? 1 + below(2) : 0;
    st_apply_result r;
    char name[32];
    snprintf(name, sizeof(name), "社区 %llu", (unsigned long long)e->index);
    t_create_community(e, name, (int)c.min_notice, &r);
    expect(&r, ST_OK, "create community");
    c.id = r.id;
    random_roll(c.units, &c.nunits);
    import(e, c.id, c.units, c.nunits, &r);
    expect(&r, ST_OK, "import");
    uint64_t start = e->index;
    uint32_t steps = 10 + below(60);
    for (uint32_t s = 0; s < steps; s++) {
        uint32_t k = below(100);
        if (k < 8) {
            step_create_vote(e, &c);
        } else if (k < 15) {
            step_notice(e, &c);
        } else if (k < 23) {
            step_open(e, &c);
        } else if (k < 29) {
            e->time_ms += below(3) * DAY_MS + below(1000);
        } else if (k < 88) {
            step_cast(e, &c);
        } else if (k < 91) {
            step_import(e, &c);
        } else if (k < 96) {
            step_close_publish(e, &c, false);
        } else {
            step_close_publish(e, &c, true);
        }
    }
    *commands += e->index - start + 2;
    for (size_t i = 0; i < c.nvotes; i++) {
        check_vote(e, &c.votes[i]);
    }
}

int main(int argc, char **argv) {
    seed = 20240501;
    unsigned long sequences = 2000;
    const char *es = getenv("STRATA_SEED"), *en = getenv("STRATA_SEQUENCES");
    if (argc > 1) {
        es = argv[1];
    }
    if (argc > 2) {
        en = argv[2];
    }
    if (es != NULL) {
        seed = strtoull(es, NULL, 10);
    }
    if (en != NULL) {
        sequences = strtoul(en, NULL, 10);
    }
    printf("server_random: seed %llu, %lu sequences\n", (unsigned long long)seed, sequences);
    rng_state = seed;
    t_on_fail = print_seed;

    t_env e;
    t_open(&e, true, 0);
    e.enroll = T_ENROLL_LAZY; /* the model follows: see enroll_for_ballot */
    uint64_t commands = 0;
    double t0 = t_now_ms();
    for (unsigned long i = 0; i < sequences; i++) {
        run_sequence(&e, &commands);
    }
    double ms = t_now_ms() - t0;
    printf("server_random: %lu sequences, %llu commands in %.0f ms (%.0f commands/s with "
           "checks)\n",
           sequences, (unsigned long long)commands, ms, (double)commands * 1000.0 / ms);
    printf("server_random: %lu accepted, %lu refused as the model predicted (%lu ballots of "
           "owners without a key); %lu votes with %lu ballots checked\n",
           accepted, refused, unenrolled, votes_checked, ballots_counted);
    t_close(&e);
    printf("ok: random sequences match the model and every recount\n");
    return 0;
}
