/* mask.c - owner names masked for the public (server/mask.h): the first character of each
 * co-owner's name, one '*' per other character, whatever the script; invalid UTF-8 and
 * short buffers refused. */
#include <string.h>

#include "server/mask.h"
#include "tests/server/harness.h"

static void masks(const char *name, const char *want) {
    char out[256];
    int rc = st_mask_name(name, out, sizeof(out));
    if (rc != ST_OK || strcmp(out, want) != 0) {
        fprintf(stderr, "st_mask_name(\"%s\") = %d \"%s\", expected \"%s\"\n", name, rc, out, want);
        exit(1);
    }
    /* strlen + 1 always suffices; one byte less does not (unless nothing shrank). */
    CHECK(st_mask_name(name, out, strlen(name) + 1) == ST_OK && strcmp(out, want) == 0);
    CHECK(st_mask_name(name, out, strlen(want)) == ST_ERANGE && out[0] == '\0');
}

int main(void) {
    masks("张三", "张*");
    masks("王建国", "王**");
    masks("周强;吴芳", "周*;吴*");
    masks("欧阳娜娜", "欧***");
    masks("张", "张");
    masks("李秀英;王;赵磊", "李**;王;赵*");
    masks("John Smith", "J*********");
    masks("华北置业有限公司", "华*******");
    masks("Zoë", "Z**");
    masks("𠀋一", "𠀋*"); /* a code point outside the BMP is one character */
    masks(";张三;", ";张*;");
    masks("", "");
    char out[64];
    CHECK(st_mask_name("张\xff三", out, sizeof(out)) == ST_EINVAL && out[0] == '\0');
    CHECK(st_mask_name("\xe5\xbc", out, sizeof(out)) == ST_EINVAL);     /* truncated 张 */
    CHECK(st_mask_name("\xc0\xaf", out, sizeof(out)) == ST_EINVAL);     /* overlong */
    CHECK(st_mask_name("\xed\xa0\x80", out, sizeof(out)) == ST_EINVAL); /* surrogate */
    CHECK(st_mask_name("张三", out, 0) == ST_ERANGE);
    /* Every name of the example roll masks to its first character and stars. */
    for (size_t i = 0; i < 12; i++) {
        CHECK(st_mask_name(t_example_roll[i].name, out, sizeof(out)) == ST_OK);
        CHECK(strncmp(out, t_example_roll[i].name, 3) == 0 && strchr(out, '*') != NULL);
        CHECK(strstr(out, t_example_roll[i].name + 3) == NULL || strlen(out) < 4);
    }
    printf("ok: name masking\n");
    return 0;
}
