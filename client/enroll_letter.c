/* enroll_letter.c - the printable enrollment letter `strata enroll issue --letter` writes
 * for an owner: the community, the owner id, the masked name and units, the one-time code,
 * its expiry and what to do with it. The file holds a secret: mode 0600, never overwritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cli.h"

size_t cli_mask_name(const char *name, char *out, size_t cap) {
    size_t o = 0;
    bool first = true;
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0' && o + 5 < cap;) {
        size_t l = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : 4;
        if (*p == ';') {
            out[o++] = ';';
            first = true;
            p++;
            continue;
        }
        for (size_t k = 1; k < l; k++) {
            if (p[k] == '\0') {
                l = k;
            }
        }
        if (first) {
            memcpy(out + o, p, l);
            o += l;
            first = false;
        } else {
            out[o++] = '*';
        }
        p += l;
    }
    out[o] = '\0';
    return o;
}

int cli_write_letter(const cli_command *cmd, const char *path, const cli_letter *l) {
    char expires[32], masked[600];
    cli_mask_name(l->owner_name, masked, sizeof(masked));
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (m == NULL) {
        return cli_fail(cmd, "out of memory writing the letter");
    }
    fprintf(m,
            "STRATA ENROLLMENT LETTER / 业主电子投票登记通知书\n"
            "================================================\n"
            "\n"
            "Community / 小区:     %s (community %llu)\n"
            "Street office / 街道: %s\n"
            "Owner id / 业主编号:  %s\n"
            "Owner / 业主:         %s\n"
            "Units / 专有部分:     %s\n"
            "\n"
            "Your one-time enrollment code / 一次性登记码:\n"
            "\n"
            "        %s\n"
            "\n"
            "Valid until / 有效期至: %s (UTC)\n"
            "\n"
            "What it is for: the code lets ONE device of yours register its own key as owner\n"
            "%s of this community, once. Your key then signs your ballots; nobody else, not\n"
            "the organiser and not the service's operators, can sign them for you. Keep this\n"
            "letter private until you have used the code, then destroy it.\n"
            "\n"
            "How to enroll, on your own device:\n"
            "  1. Make your key (keep the file; it never leaves your device):\n"
            "         strata keygen --out owner.key --seal\n"
            "  2. Redeem the code with it:\n"
            "         strata --key owner.key enroll redeem %llu %s %s\n"
            "     Case, spaces and dashes do not matter when you type the code.\n"
            "  3. Vote when a vote is open:\n"
            "         strata --key owner.key ballot cast VOTE --choice agree|disagree|abstain\n"
            "     Each ballot's receipt is saved next to your key; anyone can check it with\n"
            "         strata ballot verify RECEIPT\n"
            "\n"
            "If the code has expired or was lost, ask the organiser for a new one (the old one\n"
            "then stops working). If you lose your device, tell the organiser: your key is\n"
            "revoked with the street office's co-signature and you enroll a new one. Ballots\n"
            "you signed before stay valid. You may always vote on paper instead (书面表决).\n"
            "\n"
            "Issued by the organiser's key %s, enrollment event %llu.\n",
            l->community_name, (unsigned long long)l->community_id, l->street, l->owner_id, masked,
            l->units, l->code, cli_time(l->expires_ms, expires, sizeof(expires)), l->owner_id,
            (unsigned long long)l->community_id, l->owner_id, l->code, l->organiser_key_id,
            (unsigned long long)l->seq);
    if (fclose(m) != 0 || text == NULL) {
        free(text);
        return cli_fail(cmd, "out of memory writing the letter");
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int e = errno;
        memset(text, 0, len);
        free(text);
        return cli_fail(cmd, "%s: cannot create the letter: %s%s", path, strerror(e),
                        e == EEXIST ? " (a letter is never overwritten)" : "");
    }
    size_t off = 0;
    int e = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            e = errno;
            break;
        }
        off += (size_t)w;
    }
    if (close(fd) != 0 && e == 0) {
        e = errno;
    }
    memset(text, 0, len);
    free(text);
    if (e != 0) {
        unlink(path);
        return cli_fail(cmd, "%s: cannot write the letter: %s", path, strerror(e));
    }
    return CLI_EXIT_OK;
}
