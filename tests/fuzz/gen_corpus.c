/* gen_corpus.c - writes the seed corpora of the fuzz targets: valid encodings of every kind
 * (so the fuzzers start past the outer checks) and a few near misses. Usage:
 *   fuzz_gen_corpus DIR      writes DIR/<target>/<name> files
 * The files under tests/fuzz/corpus/ were made with it; rerun after a format change. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "crypto/ballot.h"
#include "crypto/crypto.h"
#include "crypto/keyfile.h"
#include "crypto/merkle.h"
#include "crypto/merkle_mem.h"
#include "crypto/receipt.h"
#include "crypto/record.h"
#include "crypto/request.h"
#include "crypto/sth.h"

static const char *root;

static int put(const char *target, const char *name, const void *p, size_t n) {
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", root, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return -1;
    snprintf(path, sizeof path, "%s/%s/%s", root, target, name);
    f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) {
        perror(path);
        return -1;
    }
    return fclose(f);
}

#define PUT(t, name, p, n)                                                                         \
    do {                                                                                           \
        if (put(t, name, p, n) != 0)                                                               \
            return 1;                                                                              \
    } while (0)

int main(int argc, char **argv) {
    uint8_t seed[32], pk[32], sk[64], node_pk[32], node_sk[64], buf[1024];
    size_t len;
    st_record r;
    st_receipt rc;
    st_request q;
    st_canon_writer w;
    st_merkle_mem *log;
    st_merkle_frontier *f;
    char text[ST_KEYFILE_MAX_LEN];

    if (argc != 2 || st_crypto_init() != ST_OK) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    root = argv[1];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)i;
    st_sign_keypair_from_seed(pk, sk, seed);
    memset(seed, 0x10, 32); /* the fuzz targets' trusted node key */
    st_sign_keypair_from_seed(node_pk, node_sk, seed);

    /* Ballots and records: choice, approval, paper, proxy. */
    memset(&r, 0, sizeof r);
    r.ballot.community_id = 1;
    r.ballot.vote_id = 42;
    strcpy(r.ballot.owner_id, "O1");
    r.ballot.kind = ST_BALLOT_KIND_CHOICE;
    r.ballot.choice = ST_CHOICE_AGREE;
    r.ballot.cast_ms = 1700000000000ULL;
    st_key_id(r.ballot.key_id, pk);
    r.source = ST_SOURCE_ONLINE;
    st_record_sign(&r, sk, NULL, 0);
    st_ballot_encode_buf(&r.ballot, buf, &len, NULL, 0);
    PUT("ballot", "choice", buf, len);
    st_record_encode_buf(&r, buf, &len, NULL, 0);
    PUT("record", "online", buf, len);

    r.ballot.kind = ST_BALLOT_KIND_APPROVAL;
    r.ballot.choice = 0;
    r.ballot.n_approvals = 11;
    for (int i = 0; i < 11; i++)
        r.ballot.approvals[i] = (uint32_t)(i * 1000 + 7);
    strcpy(r.ballot.owner_id, "\xe5\xbc\xa0\xe4\xb8\x89-A101");
    st_ballot_encode_buf(&r.ballot, buf, &len, NULL, 0);
    PUT("ballot", "approval11", buf, len);
    r.source = ST_SOURCE_PAPER;
    memset(r.scan_sha256, 0x5c, 32);
    r.proxy = 1;
    strcpy(r.proxy_owner_id, "O2");
    st_record_sign(&r, sk, NULL, 0);
    st_record_encode_buf(&r, buf, &len, NULL, 0);
    PUT("record", "paper_proxy", buf, len);
    r.ballot.n_approvals = 0;
    st_ballot_encode_buf(&r.ballot, buf, &len, NULL, 0);
    PUT("ballot", "approval0", buf, len);
    PUT("ballot", "short", buf, len - 1); /* a near miss: one byte short */

    /* A log, its STH and a receipt for leaf 3; frontiers of several sizes. */
    st_merkle_mem_init(&log);
    st_merkle_frontier_init(&f);
    for (int i = 0; i < 13; i++) {
        uint8_t leaf[32];
        size_t flen;
        st_merkle_leaf_hash(leaf, &i, sizeof i);
        st_merkle_mem_append(log, leaf);
        st_merkle_frontier_append(f, leaf, NULL, NULL);
        if (i == 0 || i == 6 || i == 7 || i == 12) {
            char name[32];
            st_merkle_frontier_encode(f, buf, sizeof buf, &flen);
            snprintf(name, sizeof name, "size%d", i + 1);
            PUT("frontier", name, buf, flen);
        }
    }
    memset(&rc, 0, sizeof rc);
    st_merkle_leaf_hash(rc.leaf_hash, "x", 1);
    rc.leaf_index = 3;
    rc.sth.vote_id = 42;
    rc.sth.tree_size = 13;
    st_merkle_mem_root(log, rc.sth.root);
    rc.sth.timestamp_ms = 1700000000500ULL;
    rc.sth.node_id = 1;
    st_sth_sign(&rc.sth, node_sk, NULL, 0);
    st_receipt_sign(&rc, node_sk, NULL, 0);
    st_sth_encode(&rc.sth, buf);
    PUT("sth", "signed", buf, ST_STH_LEN);
    st_receipt_encode(&rc, buf);
    PUT("receipt", "signed", buf, ST_RECEIPT_LEN);
    {
        size_t n;
        st_merkle_inclusion_proof(3, 13, st_merkle_mem_get_node, log, buf + ST_RECEIPT_LEN,
                                  ST_MERKLE_MAX_PROOF, &n);
        PUT("receipt", "with_proof", buf, ST_RECEIPT_LEN + 32 * n);
    }

    /* Merkle verifier inputs: raw (even mode byte) and property (odd) forms. */
    {
        uint8_t in[1 + 16 + 64 + 64 * 32];
        size_t n;
        memset(in, 0, sizeof in);
        in[0] = 0;
        in[8] = 3;   /* index 3 */
        in[16] = 13; /* size 13 */
        st_merkle_mem_get_node(log, 0, 3, in + 17);
        st_merkle_mem_root(log, in + 49);
        st_merkle_inclusion_proof(3, 13, st_merkle_mem_get_node, log, in + 81, ST_MERKLE_MAX_PROOF,
                                  &n);
        PUT("merkle", "raw_inclusion", in, 81 + 32 * n);
        in[8] = 5; /* old size 5 -> 13 */
        st_merkle_root_at(5, st_merkle_mem_get_node, log, in + 17);
        st_merkle_consistency_proof(5, 13, st_merkle_mem_get_node, log, in + 81,
                                    ST_MERKLE_MAX_PROOF, &n);
        PUT("merkle", "raw_consistency", in, 81 + 32 * n);
        static const uint8_t props[] = {1, 0, 200, 77, 150, 3, 1, 40, 0x80, 9, 2};
        PUT("merkle", "props", props, sizeof props);
    }

    /* Request envelope. */
    memset(&q, 0, sizeof q);
    strcpy(q.method, "/strata.v1.Voting/CastBallot");
    q.timestamp_ms = 1700000000000ULL;
    st_request_sign(&q, "body", 4, sk, NULL, 0);
    st_canon_writer_init(&w);
    st_request_encode(&q, &w, NULL, 0);
    {
        const uint8_t *d = st_canon_writer_data(&w, &len);
        PUT("request", "signed", d, len);
    }
    st_canon_writer_free(&w);

    /* Key files: plain, and the structure of a sealed one. */
    st_keyfile_encode(seed, NULL, 0, text, sizeof text, &len, NULL, 0);
    PUT("keyfile", "plain", text, len);
    st_keyfile_encode(seed, "pw", 2, text, sizeof text, &len, NULL, 0);
    PUT("keyfile", "sealed", text, len);

    /* Text: hex and base64 of a public key. */
    PUT("text", "hex", "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8", 64);
    PUT("text", "b64", "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=", 44);

    st_merkle_frontier_free(f);
    st_merkle_mem_free(log);
    return 0;
}
