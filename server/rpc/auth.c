/* auth.c - request authentication: the signed request envelope a client attaches to a call
 * as the binary metadata `strata-auth-bin` (crypto/request.h, docs/FORMATS.md §8), verified
 * on the gRPC thread before a command is proposed.
 *
 * The checks run in a fixed order and the first failure answers the call UNAUTHENTICATED
 * with a sentence saying what is wrong and what to do (docs/API.md lists them):
 *   1. the metadata is there, once;
 *   2. it decodes as an envelope;
 *   3. its method is the method called (an envelope is good for one method only);
 *   4. its body hash is the SHA-256 of the request message bytes as received (call.c
 *      hashes them before decoding);
 *   5. its timestamp is within ±5 minutes of this node's clock;
 *   6. its key is registered and not revoked (Keys.Genesis and Keys.RedeemEnrollment: the
 *      key the body installs, whose id must be the envelope's);
 *   7. the Ed25519 signature verifies;
 *   8. the nonce was not seen: the replicated state's window (st_state_check_request, also
 *      refusing timestamps older than the newest signed command by more than the window),
 *      and for calls that are not commands the node's replay table (replay.h).
 * A command then carries the key id as its actor and the envelope's key id, timestamp and
 * nonce, so that apply repeats the replay check deterministically and enforces the role
 * matrix (docs/ROLES.md). The cheap checks come first; the signature (about 45 µs) only
 * once everything else holds.
 */
#include <grpc/slice.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "crypto/crypto.h"
#include "crypto/hash.h"
#include "crypto/text.h"
#include "server/rpc/internal.h"

bool st_call_is_signed(const st_call *c) {
    return c->auth_count > 0;
}

static int auth_fail(st_call *c, int code, grpc_status_code status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records the failure and answers the call. */
static int auth_fail(st_call *c, int code, grpc_status_code status, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->auth.state = ST_AUTH_FAILED;
    c->auth.code = code;
    st_call_fail(c, status, "%s", msg);
    return code;
}

/* "7 minutes", "5 minutes 30 seconds": how far apart two clocks are. */
static void describe_skew(uint64_t ms, char *out, size_t cap) {
    uint64_t min = ms / 60000, sec = ms / 1000 % 60;
    if (min >= 10 || sec == 0) {
        snprintf(out, cap, "%llu minutes", (unsigned long long)(min + (sec >= 30 && min >= 10)));
    } else {
        snprintf(out, cap, "%llu minutes %llu seconds", (unsigned long long)min,
                 (unsigned long long)sec);
    }
}

static void format_time(uint64_t ms, char *out, size_t cap) {
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(out, cap, "%llu ms", (unsigned long long)ms);
    }
}

/* The method's name for messages: "Keys.Genesis" from "/strata.v1.Keys/Genesis". */
static void short_name(const char *path, char *out, size_t cap) {
    const char *p = strrchr(path, '.');
    snprintf(out, cap, "%s", p != NULL ? p + 1 : path);
    char *slash = strchr(out, '/');
    if (slash != NULL) {
        *slash = '.';
    }
}

/* Step 6: the key that must have signed, into pk; the registered key's role into auth. */
static int signing_key(st_call *c, const uint8_t *new_key, uint8_t pk[ST_SIGN_PK_LEN]) {
    st_call_auth *a = &c->auth;
    const char *method = c->method->def->path;
    if (new_key != NULL) {
        uint8_t id[ST_KEY_ID_LEN];
        st_key_id(id, new_key);
        if (memcmp(id, a->env.key_id, ST_KEY_ID_LEN) != 0) {
            char want[ST_KEY_ID_HEX_LEN + 1], name[ST_METHOD_MAX + 1];
            st_hex_encode(want, id, ST_KEY_ID_LEN);
            short_name(method, name, sizeof(name));
            return auth_fail(c, ST_EAUTH, GRPC_STATUS_UNAUTHENTICATED,
                             "%s is signed by the key it registers (key id %s); this request is "
                             "signed by key %s",
                             name, want, a->actor);
        }
        memcpy(pk, new_key, ST_SIGN_PK_LEN);
        a->new_key = true;
        return ST_OK;
    }
    st_state *s = c->rpc->cfg.state;
    st_key_info k;
    int rc = st_state_get_key(s, a->env.key_id, &k);
    if (rc == ST_ENOENT) {
        uint64_t count = 1;
        if (st_state_key_count(s, &count) == ST_OK && count == 0) {
            return auth_fail(c, ST_EAUTH, GRPC_STATUS_UNAUTHENTICATED,
                             "the cluster has no keys yet: its first request must be "
                             "Keys.Genesis, signed by the operator key it installs");
        }
        return auth_fail(c, ST_EAUTH, GRPC_STATUS_UNAUTHENTICATED,
                         "key %s is not registered: operators add operator and supervisor keys, "
                         "supervisors appoint organisers, owners enroll with an organiser's code",
                         a->actor);
    }
    if (rc != ST_OK) {
        return auth_fail(c, rc, GRPC_STATUS_INTERNAL, "reading the key registry failed: %s",
                         st_strerror(rc));
    }
    if (!k.active) {
        char at[40];
        format_time(k.revoked_ms, at, sizeof(at));
        return auth_fail(c, ST_EAUTH, GRPC_STATUS_UNAUTHENTICATED,
                         "key %s was revoked at %s and can no longer sign requests", a->actor, at);
    }
    memcpy(pk, k.public_key, ST_SIGN_PK_LEN);
    a->role = k.role;
    a->community_id = k.community_id;
    return ST_OK;
}

/* Step 7: the signature over the envelope's signed bytes, which are its encoding without
 * the final 64 signature bytes. (The body hash was compared with the received bytes in
 * step 4, and the key id with the key in step 6: st_request_verify() would need the body
 * again, which call.c does not keep.) */
static int verify_signature(const st_request *q, const uint8_t pk[ST_SIGN_PK_LEN]) {
    st_canon_writer w;
    st_canon_writer_init(&w);
    int rc = st_request_encode(q, &w, NULL, 0);
    size_t len = 0;
    const uint8_t *data = st_canon_writer_data(&w, &len);
    if (rc == ST_OK && (data == NULL || len <= ST_SIGN_SIG_LEN)) {
        rc = ST_EAUTH;
    }
    if (rc == ST_OK) {
        rc = st_sign_verify(q->sig, ST_DOMAIN_REQUEST, data, len - ST_SIGN_SIG_LEN, pk, NULL, 0);
    }
    st_canon_writer_free(&w);
    return rc == ST_ENOMEM ? ST_ENOMEM : rc == ST_OK ? ST_OK : ST_EAUTH;
}

/* Step 8: the nonce, against the replicated window and (op) the node's table. */
static int check_nonce(st_call *c, uint64_t now, bool op) {
    st_call_auth *a = &c->auth;
    st_state *s = c->rpc->cfg.state;
    int rc = st_state_check_request(s, a->env.key_id, a->env.nonce, a->env.timestamp_ms, now);
    if (rc == ST_EAUTH) {
        bool seen = false;
        if (st_state_request_seen(s, a->env.key_id, a->env.nonce, &seen) == ST_OK && !seen) {
            return auth_fail(c, ST_EAUTH, GRPC_STATUS_UNAUTHENTICATED,
                             "the request's timestamp is more than five minutes older than the "
                             "newest signed request the cluster accepted; check the device "
                             "clock and sign again");
        }
        return auth_fail(c, ST_EAUTH, GRPC_STATUS_UNAUTHENTICATED,
                         "the signed request was replayed (its nonce was seen already); sign "
                         "every request afresh, with a new nonce");
    }
    if (rc != ST_OK) {
        return auth_fail(c, rc, GRPC_STATUS_INTERNAL, "reading the request window failed: %s",
                         st_strerror(rc));
    }
    if (!op) {
        return ST_OK; /* apply records it, and refuses a concurrent replay */
    }
    rc = st_replay_add(c->rpc->replay, a->env.key_id, a->env.nonce, a->env.timestamp_ms, now,
                       ST_REQUEST_WINDOW_MS);
    if (rc == ST_EEXIST) {
        return auth_fail(c, ST_EAUTH, GRPC_STATUS_UNAUTHENTICATED,
                         "the signed request was replayed (its nonce was seen already); sign "
                         "every request afresh, with a new nonce");
    }
    if (rc != ST_OK) {
        return auth_fail(c, rc, GRPC_STATUS_UNAVAILABLE,
                         "too many signed requests in the last minutes on this node: retry "
                         "shortly");
    }
    return ST_OK;
}

int st_call_authenticate(st_call *c, const uint8_t *new_key, bool op) {
    st_call_auth *a = &c->auth;
    if (a->state == ST_AUTH_OK) {
        return ST_OK;
    }
    if (a->state == ST_AUTH_FAILED) {
        return a->code;
    }
    const char *method = c->method->def->path;
    /* 1. present, once */
    if (c->auth_count == 0) {
        return auth_fail(c, ST_EAUTH, GRPC_STATUS_UNAUTHENTICATED,
                         "%s must be signed: attach the signed request envelope (docs/FORMATS.md "
                         "§8) as binary metadata strata-auth-bin",
                         method);
    }
    if (c->auth_count > 1) {
        return auth_fail(c, ST_EAUTH, GRPC_STATUS_UNAUTHENTICATED,
                         "strata-auth-bin is given %d times; attach exactly one signed envelope",
                         c->auth_count);
    }
    /* 2. decodes */
    char why[256] = "";
    if (st_request_decode(&a->env, c->auth_bytes, c->auth_len, why, sizeof(why)) != ST_OK) {
        return auth_fail(c, ST_EAUTH, GRPC_STATUS_UNAUTHENTICATED,
                         "strata-auth-bin is not a signed request envelope (%zu bytes): %s",
                         c->auth_len, why);
    }
    st_hex_encode(a->actor, a->env.key_id, ST_KEY_ID_LEN);
    /* 3. the method called */
    if (strcmp(a->env.method, method) != 0) {
        return auth_fail(c, ST_EAUTH, GRPC_STATUS_UNAUTHENTICATED,
                         "the request was signed for %s, not for %s; sign the method you call",
                         a->env.method, method);
    }
    /* 4. the body as received */
    if (!st_hash_equal(a->env.body_sha256, c->body_sha256)) {
        return auth_fail(c, ST_EAUTH, GRPC_STATUS_UNAUTHENTICATED,
                         "the request message does not match the SHA-256 signed in "
                         "strata-auth-bin; sign the exact serialized bytes you send");
    }
    /* 5. the time window */
    uint64_t now = st_rpc_now_ms();
    if (st_request_check_time(now, a->env.timestamp_ms, ST_REQUEST_WINDOW_MS) != ST_OK) {
        bool past = a->env.timestamp_ms < now;
        char skew[64];
        describe_skew(past ? now - a->env.timestamp_ms : a->env.timestamp_ms - now, skew,
                      sizeof(skew));
        return auth_fail(c, ST_EAUTH, GRPC_STATUS_UNAUTHENTICATED,
                         "request signed %s %s (by this node's clock; at most 5 minutes are "
                         "allowed); check the device clock",
                         skew, past ? "ago" : "in the future");
    }
    /* 6. the key */
    uint8_t pk[ST_SIGN_PK_LEN];
    int rc = signing_key(c, new_key, pk);
    if (rc != ST_OK) {
        return rc;
    }
    /* 7. the signature */
    rc = verify_signature(&a->env, pk);
    if (rc != ST_OK) {
        return auth_fail(
            c, rc, rc == ST_ENOMEM ? GRPC_STATUS_RESOURCE_EXHAUSTED : GRPC_STATUS_UNAUTHENTICATED,
            "the signature in strata-auth-bin does not verify with key %s", a->actor);
    }
    /* 8. the nonce */
    rc = check_nonce(c, now, op);
    if (rc != ST_OK) {
        return rc;
    }
    a->state = ST_AUTH_OK;
    return ST_OK;
}

/* "an operator", "a supervisor": the article for a role's name. */
static const char *article(const char *word) {
    return strchr("aeiou", word[0]) != NULL ? "an" : "a";
}

int st_call_require_role(st_call *c, st_role role) {
    int rc = st_call_authenticate(c, NULL, true);
    if (rc != ST_OK) {
        return rc;
    }
    if (c->auth.role != role) {
        c->auth.state = ST_AUTH_FAILED;
        c->auth.code = ST_EPERM;
        const char *has = st_role_name(c->auth.role);
        st_call_fail(c, GRPC_STATUS_PERMISSION_DENIED, "%s needs %s %s key; key %s is %s %s key",
                     c->method->def->path, article(st_role_name(role)), st_role_name(role),
                     c->auth.actor, article(has), has);
        return ST_EPERM;
    }
    return ST_OK;
}

void st_call_stamp_auth(st_call *c, Strata__Internal__Command *cmd) {
    cmd->actor = c->auth.actor;
    cmd->auth_key_id = (ProtobufCBinaryData){ST_KEY_ID_LEN, c->auth.env.key_id};
    cmd->auth_time_ms = c->auth.env.timestamp_ms;
    cmd->auth_nonce = (ProtobufCBinaryData){ST_REQUEST_NONCE_LEN, c->auth.env.nonce};
}
