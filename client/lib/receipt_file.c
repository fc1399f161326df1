/* receipt_file.c - the receipt file `strata ballot cast` saves next to the owner's key:
 * the service's receipt and the signed record it promises, so that the owner can check
 * later, offline or against any node, that the ballot was counted. Text, one field a line:
 *
 *   strata-receipt-file-v1
 *   vote <vote id>
 *   seq <position in the vote's ballot history>
 *   owner <owner id>
 *   receipt <base64 of the 234-byte receipt, docs/FORMATS.md §7>
 *   record <base64 of the signed ballot record, §5>        (only for signed ballots)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/lib/internal.h"
#include "crypto/ballot.h"
#include "crypto/record.h"
#include "crypto/text.h"

#define HEADER "strata-receipt-file-v1"
#define FILE_MAX 2048

int st_receipt_file_path(const char *key_path, uint64_t vote_id, uint64_t seq, char *out,
                         size_t cap) {
    size_t n = strlen(key_path);
    if (n > 4 && strcmp(key_path + n - 4, ".key") == 0) {
        n -= 4;
    }
    int w = snprintf(out, cap, "%.*s-vote%llu-seq%llu.receipt", (int)n, key_path,
                     (unsigned long long)vote_id, (unsigned long long)seq);
    return w < 0 || (size_t)w >= cap ? ST_ERANGE : ST_OK;
}

int st_receipt_file_save(const char *path, const st_receipt_file *f, st_error *err) {
    char rc64[ST_B64_LEN(ST_RECEIPT_LEN) + 1];
    char rec64[ST_B64_LEN(ST_RECORD_MAX_LEN) + 1];
    st_b64_encode(rc64, sizeof(rc64), f->receipt, ST_RECEIPT_LEN);
    rec64[0] = '\0';
    if (f->record_len > ST_RECORD_MAX_LEN) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL, "the record is too long");
    }
    if (f->record_len > 0) {
        st_b64_encode(rec64, sizeof(rec64), f->record, f->record_len);
    }
    char text[FILE_MAX];
    int n =
        snprintf(text, sizeof(text), HEADER "\nvote %llu\nseq %llu\nowner %s\nreceipt %s\n%s%s%s",
                 (unsigned long long)f->vote_id, (unsigned long long)f->seq, f->owner_id, rc64,
                 f->record_len ? "record " : "", rec64, f->record_len ? "\n" : "");
    if (n < 0 || (size_t)n >= sizeof(text)) {
        return st__fail(err, ST_FAIL_LOCAL, ST_ERANGE, "the receipt file is too long");
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int e = errno;
        return st__fail(err, ST_FAIL_LOCAL, e == EEXIST ? ST_EEXIST : ST_EIO,
                        "%s: cannot create the receipt file: %s", path, strerror(e));
    }
    size_t off = 0;
    int e = 0;
    while (off < (size_t)n) {
        ssize_t w = write(fd, text + off, (size_t)n - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            e = errno;
            break;
        }
        off += (size_t)w;
    }
    if (e == 0 && fsync(fd) != 0) {
        e = errno;
    }
    if (close(fd) != 0 && e == 0) {
        e = errno;
    }
    if (e != 0) {
        unlink(path);
        return st__fail(err, ST_FAIL_LOCAL, ST_EIO, "%s: cannot write the receipt: %s", path,
                        strerror(e));
    }
    return ST_OK;
}

/* The bytes padded base64 of b64len characters stands for; SIZE_MAX if no length fits. */
static size_t b64_decoded_len(const char *b64, size_t b64len) {
    if (b64len == 0 || b64len % 4 != 0) {
        return SIZE_MAX;
    }
    size_t pad = b64[b64len - 1] == '=' ? (b64[b64len - 2] == '=' ? 2 : 1) : 0;
    return b64len / 4 * 3 - pad;
}

/* Parses a decimal u64 without sign or leading zeros. */
static int parse_u64(const char *s, uint64_t *out) {
    if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0')) {
        return 0;
    }
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) {
            return 0;
        }
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 1;
}

int st_receipt_file_load(const char *path, st_receipt_file *f, st_error *err) {
    memset(f, 0, sizeof(*f));
    FILE *fp = fopen(path, "re");
    if (fp == NULL) {
        int e = errno;
        return st__fail(err, ST_FAIL_LOCAL, ST_EIO, "%s: cannot open: %s", path, strerror(e));
    }
    char text[FILE_MAX + 1];
    size_t len = fread(text, 1, sizeof(text), fp);
    fclose(fp);
    if (len > FILE_MAX) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL, "%s: too long for a receipt file", path);
    }
    text[len] = '\0';
    const char *nul = memchr(text, '\0', len);
    if (nul != NULL) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "%s: a NUL byte at offset %zu: not a receipt file (it is text)", path,
                        (size_t)(nul - text));
    }
    static const char *const keys[] = {HEADER, "vote ", "seq ", "owner ", "receipt ", "record "};
    char *line = text;
    char msg[256];
    for (int i = 0; i < 6; i++) {
        char *nl = strchr(line, '\n');
        if (nl == NULL) {
            if (i == 5 && *line == '\0') {
                break; /* no record line: an unsigned ballot */
            }
            return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL, "%s:%d: missing or unterminated line",
                            path, i + 1);
        }
        *nl = '\0';
        size_t kl = strlen(keys[i]);
        if (strncmp(line, keys[i], kl) != 0 || (i == 0 && line[kl] != '\0')) {
            return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL, "%s:%d: expected \"%s\"", path, i + 1,
                            keys[i]);
        }
        const char *v = line + kl;
        int ok = 1;
        switch (i) {
        case 1:
            ok = parse_u64(v, &f->vote_id);
            break;
        case 2:
            ok = parse_u64(v, &f->seq);
            break;
        case 3:
            ok = st_owner_id_ok(v);
            if (ok) {
                snprintf(f->owner_id, sizeof(f->owner_id), "%s", v);
            }
            break;
        case 4:
            ok = st_b64_decode(f->receipt, ST_RECEIPT_LEN, v, strlen(v), msg, sizeof(msg)) == ST_OK;
            break;
        case 5: {
            size_t n = b64_decoded_len(v, strlen(v));
            ok = n > 0 && n <= ST_RECORD_MAX_LEN &&
                 st_b64_decode(f->record, n, v, strlen(v), msg, sizeof(msg)) == ST_OK;
            f->record_len = ok ? n : 0;
            break;
        }
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
