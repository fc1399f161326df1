/* wire_text.c - no NUL byte inside a request's text fields.
 *
 * protobuf-c hands string fields over as NUL-terminated C strings, so "阳光\0花园" arrives
 * as "阳光": the node would act on other text than the client sent, and signed (the
 * request envelope covers the bytes on the wire, with the NUL). The request message's
 * bytes are walked once more after protobuf-c decoded them (so they are well formed), and a
 * string field, at any depth, whose bytes hold a NUL refuses the request.
 */
#include <stdio.h>
#include <string.h>

#include "server/rpc/internal.h"

#define MAX_DEPTH 16

/* Reads a varint at *pos; false at the end of the buffer or past 10 bytes. */
static bool varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v) {
    *v = 0;
    for (unsigned shift = 0; shift < 70 && *pos < len; shift += 7) {
        uint8_t b = p[(*pos)++];
        *v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            return true;
        }
    }
    return false;
}

static bool scan(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len, int depth,
                 char *path, size_t cap) {
    size_t pos = 0;
    while (pos < len) {
        uint64_t tag, n;
        if (!varint(p, len, &pos, &tag)) {
            return true; /* not expected after a successful decode: nothing more to see */
        }
        switch (tag & 7) {
        case 0:
            if (!varint(p, len, &pos, &n)) {
                return true;
            }
            break;
        case 1:
            pos += 8;
            break;
        case 5:
            pos += 4;
            break;
        case 2: {
            if (!varint(p, len, &pos, &n) || n > len - pos) {
                return true;
            }
            const ProtobufCFieldDescriptor *f =
                tag >> 3 <= UINT32_MAX
                    ? protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3))
                    : NULL;
            if (f != NULL && f->type == PROTOBUF_C_TYPE_STRING && memchr(p + pos, 0, n) != NULL) {
                snprintf(path, cap, "%s", f->name);
                return false;
            }
            if (f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE && depth < MAX_DEPTH &&
                !scan(f->descriptor, p + pos, (size_t)n, depth + 1, path, cap)) {
                char inner[128];
                snprintf(inner, sizeof(inner), "%s", path);
                snprintf(path, cap, "%s.%s", f->name, inner);
                return false;
            }
            pos += (size_t)n;
            break;
        }
        default:
            return true; /* groups: protobuf-c skipped them as unknown */
        }
    }
    return true;
}

bool st_wire_text_ok(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
                     char *field, size_t cap) {
    if (cap > 0) {
        field[0] = '\0';
    }
    return scan(d, buf, len, 0, field, cap);
}
