/* test_formats_example.c - the worked example of docs/FORMATS.md, computed here and compared
 * with the hex below, and each hex value looked up in the document itself (path in the
 * environment variable ST_FORMATS_DOC, set by ctest; whitespace in the document is ignored so long
 * values may wrap), so the document and the code cannot drift apart. Run with --print to print the
 * values (this is how the document's example was made). */
#include "check.h"

#include "core/error.h"
#include "crypto/ballot.h"
#include "crypto/crypto.h"
#include "crypto/merkle.h"
#include "crypto/record.h"
#include "crypto/text.h"

/* The values shown in docs/FORMATS.md, "Worked example". */
static const char *const want_pk =
    "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
static const char *const want_key_id = "971a667c3db75a8781f16de20f3aff78";
static const char *const want_ballot =
    "010000000000000001000000000000002a00024f310101a0a1a2a3a4a5a6a7a8"
    "a9aaabacadaeaf0000018bcfe56800971a667c3db75a8781f16de20f3aff78";
static const char *const want_sig =
    "d158c98add1587adea522dc99930ced247ddacf41a25720ff914697679ec7118"
    "5c7ce0105c134aadc8225d245a00831c55d4fdd689447ee0f50909c21b01f70d";
static const char *const want_record =
    "01003f010000000000000001000000000000002a00024f310101a0a1a2a3a4a5"
    "a6a7a8a9aaabacadaeaf0000018bcfe56800971a667c3db75a8781f16de20f3a"
    "ff7803a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc86641255"
    "31b8d158c98add1587adea522dc99930ced247ddacf41a25720ff914697679ec"
    "71185c7ce0105c134aadc8225d245a00831c55d4fdd689447ee0f50909c21b01"
    "f70d0100";
static const char *const want_leaf =
    "1c171427cc11fcec17dc6e124886c19b4452d00392c846240e5af6467ac64eda";

static char *doc; /* docs/FORMATS.md with all whitespace removed, or NULL */

static void load_doc(const char *path) {
    FILE *f = fopen(path, "rb");
    size_t n = 0;
    int c;
    CHECK(f != NULL);
    doc = malloc(1 << 20);
    CHECK(doc != NULL);
    while ((c = fgetc(f)) != EOF && n < (1 << 20) - 1)
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
            doc[n++] = (char)c;
    doc[n] = 0;
    fclose(f);
}

static void show(int print, const char *name, const uint8_t *p, size_t n, const char *want) {
    char hex[2 * ST_RECORD_MAX_LEN + 1];
    st_hex_encode(hex, p, n);
    if (print)
        printf("%s %s\n", name, hex);
    else if (strcmp(hex, want) != 0)
        fprintf(stderr, "%s differs from docs/FORMATS.md:\n  code %s\n  doc  %s\n", name, hex,
                want);
    CHECK(print || strcmp(hex, want) == 0);
    if (doc && strstr(doc, want) == NULL)
        fprintf(stderr, "%s %s is not in docs/FORMATS.md\n", name, want);
    CHECK(!doc || strstr(doc, want) != NULL);
}

int main(int argc, char **argv) {
    int print = argc > 1 && strcmp(argv[1], "--print") == 0;
    uint8_t seed[32], pk[32], sk[64], ballot[ST_BALLOT_MAX_LEN], record[ST_RECORD_MAX_LEN];
    uint8_t leaf[32];
    size_t blen, rlen;
    st_record r;
    char err[128];

    CHECK(st_crypto_init() == ST_OK);
    if (!print && getenv("ST_FORMATS_DOC"))
        load_doc(getenv("ST_FORMATS_DOC"));
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)i; /* the owner's key: seed 00 01 02 .. 1f */
    CHECK(st_sign_keypair_from_seed(pk, sk, seed) == ST_OK);

    memset(&r, 0, sizeof r);
    r.ballot.community_id = 1;
    r.ballot.vote_id = 42;
    strcpy(r.ballot.owner_id, "O1");
    r.ballot.kind = ST_BALLOT_KIND_CHOICE;
    r.ballot.choice = ST_CHOICE_AGREE;
    for (int i = 0; i < 16; i++)
        r.ballot.nonce[i] = (uint8_t)(0xa0 + i);
    r.ballot.cast_ms = 1700000000000ULL; /* 2023-11-14T22:13:20Z */
    st_key_id(r.ballot.key_id, pk);
    r.source = ST_SOURCE_ONLINE;
    CHECK(st_record_sign(&r, sk, err, sizeof err) == ST_OK);
    CHECK(st_ballot_encode_buf(&r.ballot, ballot, &blen, err, sizeof err) == ST_OK);
    CHECK(st_record_encode_buf(&r, record, &rlen, err, sizeof err) == ST_OK);
    st_merkle_leaf_hash(leaf, record, rlen);

    show(print, "public_key", pk, 32, want_pk);
    show(print, "key_id", r.ballot.key_id, 16, want_key_id);
    show(print, "ballot", ballot, blen, want_ballot);
    show(print, "signature", r.sig, 64, want_sig);
    show(print, "record", record, rlen, want_record);
    show(print, "leaf_hash", leaf, 32, want_leaf);
    CHECK(st_record_verify(&r, err, sizeof err) == ST_OK);
    if (!print)
        printf("formats example: matches the constants%s\n",
               doc ? " and docs/FORMATS.md" : " (document not checked)");
    free(doc);
    return 0;
}
