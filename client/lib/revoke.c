/* revoke.c - revoking an owner's key (lost phone), which takes two people and two keys
 * (docs/ROLES.md §Revocation): the organiser signs the revocation bytes (crypto/approval.h)
 * into a request file, a supervisor checks it and co-signs the same bytes in the file, and
 * the organiser submits it as RevokeOwnerKey. The file (docs/CLI.md) is text:
 *
 *   strata-revoke-request-v1
 *   community <community id>
 *   owner <owner id>
 *   key <key id, 32 hex>
 *   reason <text, one line>
 *   signed_ms <ms since the epoch>
 *   organiser <base64 public key> <base64 signature>
 *   supervisor <base64 public key> <base64 signature>      (once co-signed)
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/lib/internal.h"
#include "crypto/approval.h"
#include "crypto/ballot.h"
#include "crypto/text.h"

#define KEYS "/strata.v1.Keys/"
#define HEADER "strata-revoke-request-v1"
#define FILE_MAX 4096

_Static_assert(ST_REVOKE_REASON_MAX == ST_APPROVAL_REASON_MAX, "reason size");

/* The signed bytes of r. */
static int bytes_of(const st_revoke_request *r, uint8_t out[ST_REVOKE_MAX_LEN], size_t *len,
                    st_error *err) {
    int rc = st_revoke_owner_bytes(r->community_id, r->owner_id, r->key_id, r->reason, r->signed_ms,
                                   out, len);
    if (rc != ST_OK) {
        return st__fail(err, ST_FAIL_LOCAL, rc,
                        "the revocation needs an owner id of 1-64 bytes and a reason of 1-512 "
                        "bytes");
    }
    return ST_OK;
}

/* A reason is one line of 1..512 bytes without control characters. */
static bool reason_ok(const char *s) {
    size_t n = strlen(s);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return false;
        }
    }
    return n >= 1 && n <= ST_REVOKE_REASON_MAX;
}

int st_revoke_request_make(const st_keypair *organiser, uint64_t community_id, const char *owner_id,
                           const uint8_t key_id[ST_KEY_ID_LEN], const char *reason,
                           st_revoke_request *out, st_error *err) {
    memset(out, 0, sizeof(*out));
    if (owner_id == NULL || !st_owner_id_ok(owner_id) || reason == NULL || !reason_ok(reason)) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "give the reason as one line of 1 to %d bytes (and the key of an owner)",
                        ST_REVOKE_REASON_MAX);
    }
    out->community_id = community_id;
    snprintf(out->owner_id, sizeof(out->owner_id), "%s", owner_id);
    memcpy(out->key_id, key_id, ST_KEY_ID_LEN);
    snprintf(out->reason, sizeof(out->reason), "%s", reason);
    out->signed_ms = st__wall_ms();
    uint8_t bytes[ST_REVOKE_MAX_LEN];
    size_t len = 0;
    char msg[256];
    int rc = bytes_of(out, bytes, &len, err);
    if (rc != ST_OK) {
        return rc;
    }
    memcpy(out->organiser_pk, organiser->pk, ST_SIGN_PK_LEN);
    rc = st_sign_detached(out->organiser_sig, ST_DOMAIN_REVOKE_OWNER, bytes, len, organiser->sk,
                          msg, sizeof(msg));
    return rc == ST_OK ? ST_OK : st__fail(err, ST_FAIL_LOCAL, rc, "cannot sign: %s", msg);
}

/* Verifies one signature of r. */
static int verify_one(const st_revoke_request *r, const uint8_t pk[ST_SIGN_PK_LEN],
                      const uint8_t sig[ST_SIGN_SIG_LEN], const char *who, st_error *err) {
    uint8_t bytes[ST_REVOKE_MAX_LEN];
    size_t len = 0;
    int rc = bytes_of(r, bytes, &len, err);
    if (rc != ST_OK) {
        return rc;
    }
    if (st_sign_verify(sig, ST_DOMAIN_REVOKE_OWNER, bytes, len, pk, NULL, 0) != ST_OK) {
        char id[ST_KEY_ID_HEX_LEN + 1];
        st_key_id_hex(id, pk);
        return st__fail(err, ST_FAIL_LOCAL, ST_EAUTH,
                        "the %s's signature (key %s) does not verify: the request was changed "
                        "after it was signed; make a new one",
                        who, id);
    }
    return ST_OK;
}

int st_revoke_request_check(const st_revoke_request *r, st_error *err) {
    int rc = verify_one(r, r->organiser_pk, r->organiser_sig, "organiser", err);
    if (rc == ST_OK && r->cosigned) {
        rc = verify_one(r, r->supervisor_pk, r->supervisor_sig, "supervisor", err);
    }
    return rc;
}

int st_revoke_request_cosign(st_revoke_request *r, const st_keypair *supervisor, st_error *err) {
    if (r->cosigned) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EEXIST, "the request is co-signed already");
    }
    if (memcmp(supervisor->pk, r->organiser_pk, ST_SIGN_PK_LEN) == 0) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "the co-signature must come from another person's key (a supervisor's), "
                        "not the organiser's own");
    }
    int rc = st_revoke_request_check(r, err);
    if (rc != ST_OK) {
        return rc;
    }
    uint8_t bytes[ST_REVOKE_MAX_LEN];
    size_t len = 0;
    char msg[256];
    if ((rc = bytes_of(r, bytes, &len, err)) != ST_OK) {
        return rc;
    }
    rc = st_sign_detached(r->supervisor_sig, ST_DOMAIN_REVOKE_OWNER, bytes, len, supervisor->sk,
                          msg, sizeof(msg));
    if (rc != ST_OK) {
        return st__fail(err, ST_FAIL_LOCAL, rc, "cannot sign: %s", msg);
    }
    memcpy(r->supervisor_pk, supervisor->pk, ST_SIGN_PK_LEN);
    r->cosigned = true;
    return ST_OK;
}

/* ---- the file ---- */

static int format(const st_revoke_request *r, char *text, size_t cap, size_t *len) {
    char kid[ST_KEY_ID_HEX_LEN + 1], opk[45], osig[89], spk[45], ssig[89];
    st_hex_encode(kid, r->key_id, ST_KEY_ID_LEN);
    st_b64_encode(opk, sizeof(opk), r->organiser_pk, ST_SIGN_PK_LEN);
    st_b64_encode(osig, sizeof(osig), r->organiser_sig, ST_SIGN_SIG_LEN);
    int n = snprintf(text, cap,
                     HEADER "\ncommunity %llu\nowner %s\nkey %s\nreason %s\nsigned_ms %llu\n"
                            "organiser %s %s\n",
                     (unsigned long long)r->community_id, r->owner_id, kid, r->reason,
                     (unsigned long long)r->signed_ms, opk, osig);
    if (n > 0 && (size_t)n < cap && r->cosigned) {
        st_b64_encode(spk, sizeof(spk), r->supervisor_pk, ST_SIGN_PK_LEN);
        st_b64_encode(ssig, sizeof(ssig), r->supervisor_sig, ST_SIGN_SIG_LEN);
        n += snprintf(text + n, cap - (size_t)n, "supervisor %s %s\n", spk, ssig);
    }
    if (n < 0 || (size_t)n >= cap) {
        return ST_ERANGE;
    }
    *len = (size_t)n;
    return ST_OK;
}

static int write_fd(int fd, const char *text, size_t len) {
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            return errno;
        }
        off += (size_t)w;
    }
    return fsync(fd) != 0 ? errno : 0;
}

int st_revoke_request_save(const char *path, const st_revoke_request *r, bool replace,
                           st_error *err) {
    char text[FILE_MAX];
    size_t len = 0;
    if (format(r, text, sizeof(text), &len) != ST_OK) {
        return st__fail(err, ST_FAIL_LOCAL, ST_ERANGE, "the request does not fit a file");
    }
    char tmp[4200];
    const char *target = path;
    if (replace) {
        if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
            return st__fail(err, ST_FAIL_LOCAL, ST_ERANGE, "%s: path too long", path);
        }
        target = tmp;
    }
    int fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        int e = errno;
        return st__fail(err, ST_FAIL_LOCAL, e == EEXIST ? ST_EEXIST : ST_EIO,
                        "%s: cannot create: %s%s", target, strerror(e),
                        e == EEXIST ? "; a request file is never overwritten: choose another "
                                      "name"
                                    : "");
    }
    int e = write_fd(fd, text, len);
    if (close(fd) != 0 && e == 0) {
        e = errno;
    }
    if (e == 0 && replace && rename(tmp, path) != 0) {
        e = errno;
    }
    if (e != 0) {
        unlink(target);
        return st__fail(err, ST_FAIL_LOCAL, ST_EIO, "%s: cannot write: %s", path, strerror(e));
    }
    return ST_OK;
}

/* Parses "B64 B64" (a public key and a signature) after a line's key. */
static bool parse_pair(const char *v, uint8_t pk[ST_SIGN_PK_LEN], uint8_t sig[ST_SIGN_SIG_LEN]) {
    const char *sp = strchr(v, ' ');
    return sp != NULL && sp - v == 44 &&
           st_b64_decode(pk, ST_SIGN_PK_LEN, v, 44, NULL, 0) == ST_OK &&
           st_b64_decode(sig, ST_SIGN_SIG_LEN, sp + 1, strlen(sp + 1), NULL, 0) == ST_OK;
}

static bool parse_u64(const char *s, uint64_t *out) {
    if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0')) {
        return false;
    }
    uint64_t v = 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) {
            return false;
        }
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

int st_revoke_request_load(const char *path, st_revoke_request *r, st_error *err) {
    memset(r, 0, sizeof(*r));
    FILE *fp = fopen(path, "re");
    if (fp == NULL) {
        int e = errno;
        return st__fail(err, ST_FAIL_LOCAL, ST_EIO, "%s: cannot open: %s", path, strerror(e));
    }
    char text[FILE_MAX + 1];
    size_t len = fread(text, 1, sizeof(text), fp);
    fclose(fp);
    if (len > FILE_MAX) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL, "%s: too long for a request file", path);
    }
    text[len] = '\0';
    static const char *const keys[] = {HEADER,    "community ", "owner ",     "key ",
                                       "reason ", "signed_ms ", "organiser ", "supervisor "};
    char *line = text;
    for (int i = 0; i < 8; i++) {
        char *nl = strchr(line, '\n');
        if (i == 7 && *line == '\0') {
            break; /* not co-signed yet */
        }
        if (nl == NULL) {
            return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL, "%s:%d: missing or unterminated line",
                            path, i + 1);
        }
        *nl = '\0';
        size_t kl = strlen(keys[i]);
        if (strncmp(line, keys[i], kl) != 0 || (i == 0 && line[kl] != '\0')) {
            return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                            "%s:%d: expected \"%s\"; is this a "
                            "revocation request file?",
                            path, i + 1, keys[i]);
        }
        const char *v = line + kl;
        bool ok = true;
        switch (i) {
        case 1:
            ok = parse_u64(v, &r->community_id);
            break;
        case 2:
            ok = st_owner_id_ok(v);
            snprintf(r->owner_id, sizeof(r->owner_id), "%s", ok ? v : "");
            break;
        case 3:
            ok = strlen(v) == ST_KEY_ID_HEX_LEN &&
                 st_hex_decode(r->key_id, ST_KEY_ID_LEN, v, strlen(v), NULL, 0) == ST_OK;
            break;
        case 4:
            ok = reason_ok(v);
            snprintf(r->reason, sizeof(r->reason), "%s", ok ? v : "");
            break;
        case 5:
            ok = parse_u64(v, &r->signed_ms);
            break;
        case 6:
            ok = parse_pair(v, r->organiser_pk, r->organiser_sig);
            break;
        case 7:
            ok = parse_pair(v, r->supervisor_pk, r->supervisor_sig);
            r->cosigned = ok;
            break;
        default:
            break;
        }
        if (!ok) {
            return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL, "%s:%d: bad value after \"%s\"", path,
                            i + 1, keys[i]);
        }
        line = nl + 1;
    }
    if (*line != '\0') {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL, "%s: unexpected text after the last line",
                        path);
    }
    return ST_OK;
}

int st_revoke_owner_key(st_client *c, const st_revoke_request *r, st_key_result *out,
                        st_error *err) {
    if (!r->cosigned) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EPERM,
                        "the request is not co-signed yet: a supervisor must run `strata enroll "
                        "cosign FILE` first");
    }
    int rc = st_revoke_request_check(r, err);
    if (rc != ST_OK) {
        return rc;
    }
    pthread_mutex_lock(&c->mu);
    bool mine = c->key != NULL && memcmp(c->key->pk, r->organiser_pk, ST_SIGN_PK_LEN) == 0;
    pthread_mutex_unlock(&c->mu);
    if (!mine) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "the organiser who signed the request submits it: give that organiser's "
                        "key with --key");
    }
    uint8_t rid[ST_CLIENT_REQUEST_ID_LEN], skid[ST_KEY_ID_LEN];
    st_request_id_new(rid);
    st_key_id(skid, r->supervisor_pk);
    Strata__V1__RevokeOwnerKeyRequest req = STRATA__V1__REVOKE_OWNER_KEY_REQUEST__INIT;
    req.request_id.data = rid;
    req.request_id.len = sizeof(rid);
    req.key_id.data = (uint8_t *)r->key_id;
    req.key_id.len = ST_KEY_ID_LEN;
    req.reason = (char *)r->reason;
    req.signed_ms = r->signed_ms;
    req.organiser_signature.data = (uint8_t *)r->organiser_sig;
    req.organiser_signature.len = ST_SIGN_SIG_LEN;
    req.supervisor_key_id.data = skid;
    req.supervisor_key_id.len = sizeof(skid);
    req.supervisor_signature.data = (uint8_t *)r->supervisor_sig;
    req.supervisor_signature.len = ST_SIGN_SIG_LEN;
    ProtobufCMessage *resp = NULL;
    rc = st__unary(c, KEYS "RevokeOwnerKey", &req.base, &strata__v1__key_response__descriptor, true,
                   &resp, err);
    if (rc == ST_OK) {
        const Strata__V1__KeyResponse *kr = (const Strata__V1__KeyResponse *)resp;
        if (out != NULL) {
            memset(out, 0, sizeof(*out));
            st_hex_encode(out->key_id, r->key_id, ST_KEY_ID_LEN);
            out->seq = kr->seq;
        }
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    return rc;
}
