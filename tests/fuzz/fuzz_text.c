/* fuzz_text.c - the strict hex and base64 decoders. Property: whatever decodes re-encodes to
 * the same text (base64 exactly; hex up to letter case), so each value has one text form. */
#include <ctype.h>

#include "fuzz.h"

#include "crypto/sign.h"
#include "crypto/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    uint8_t bin[256], pk[32];
    char out[2 * 256 + 1];
    size_t n;

    if (size > 2 * 256)
        return 0;
    if (size % 2 == 0 && st_hex_decode(bin, size / 2, text, size, NULL, 0) == ST_OK) {
        st_hex_encode(out, bin, size / 2);
        for (size_t i = 0; i < size; i++)
            FUZZ_CHECK(out[i] == tolower((unsigned char)text[i]));
    }
    /* Every byte count whose base64 length is size. */
    for (n = 0; ST_B64_LEN(n) <= size && n < sizeof bin; n++) {
        if (ST_B64_LEN(n) != size)
            continue;
        if (st_b64_decode(bin, n, text, size, NULL, 0) == ST_OK) {
            FUZZ_CHECK(st_b64_encode(out, sizeof out, bin, n) == ST_OK);
            FUZZ_CHECK(strlen(out) == size && memcmp(out, text, size) == 0);
        }
    }
    (void)st_sign_pk_parse(pk, text, size, NULL, 0);
    return 0;
}
