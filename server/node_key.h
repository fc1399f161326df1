/* node_key.h - the node's own Ed25519 key, which signs its tree heads and receipts
 * (docs/FORMATS.md §6, §7): read from a key file (crypto/keyfile.h, the format `strata
 * keygen` writes), or made at first start.
 *
 * A node's key lives in DATA_DIR/node.key unless --node-key names another file. When that
 * default file does not exist yet a fresh key is written there (mode 0600, created
 * exclusively, fsync'd); a file named with --node-key must exist. Only plain key files are
 * read: a daemon has no one to type a passphrase. The public key is what an operator
 * registers with Cluster.RegisterNode (Cluster.Status shows it).
 */
#ifndef STRATA_SERVER_NODE_KEY_H
#define STRATA_SERVER_NODE_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/sign.h"

typedef struct {
    uint8_t sk[ST_SIGN_SK_LEN]; /* secret: wipe with st_node_key_wipe() */
    uint8_t pk[ST_SIGN_PK_LEN];
    char key_id_hex[ST_KEY_ID_HEX_LEN + 1];
    bool created;    /* made by this call */
    bool loose_mode; /* the file is readable by group or others (worth a warning) */
} st_node_key;

/* Loads the key at path; with create = true, makes and writes one first if path does not
 * exist. ST_OK; ST_ENOENT (missing and create is false); ST_EINVAL (not a plain key file:
 * err says which line); ST_EIO (cannot read or write, err says why). Needs
 * st_crypto_init(). */
int st_node_key_load(const char *path, bool create, st_node_key *out, char *err, size_t errlen);

/* Zeroes the secret. */
void st_node_key_wipe(st_node_key *k);

#endif
