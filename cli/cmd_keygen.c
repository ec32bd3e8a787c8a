/* cmd_keygen.c - weightsync keygen: a publisher key pair */
#include "cli.h"
#include "proto/error.h"
#include "proto/util.h"

#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const struct cli_option keygen_options[] = {
	{ "output", 'o', 'o', required_argument, "PATH",
	  "the secret key's path (default HOME/keys/publisher.key; PATH.pub too)" },
	{ "no-password", 'W', 'W', no_argument, NULL, "do not encrypt the secret key" },
	{ "force", 'f', 'f', no_argument, NULL, "replace an existing key" },
	{ NULL, 0, 0, 0, NULL, NULL },
};

int cmd_keygen(struct cli *c, int argc, char **argv)
{
	struct opts op;
	struct ws_seckey *sk = NULL;
	struct ws_pubkey pk;
	char *path = NULL, *home = NULL, *pw = NULL, *msg = NULL, *dir;
	char b64[WS_PUBKEY_B64_LEN + 1];
	int nopw = 0, force = 0, o, ret, status = EXIT_ERROR;

	opts_init(&op, "keygen", keygen_options, argc, argv, 0);
	while ((o = opts_next(&op)) > 0) {
		switch (o) {
		case 'o': free(path); path = xstrdup(op.arg); break;
		case 'W': nopw = 1; break;
		case 'f': force = 1; break;
		}
	}
	if (o < 0) {
		free(path);
		return EXIT_ERROR;
	}
	if (op.ind != argc) {
		free(path);
		return usage_error("keygen", "unexpected argument '%s'", argv[op.ind]);
	}
	if (!path) {
		if (ws_store_home(c->home, &home)) {
			err("no home directory: use -o PATH or set WEIGHTSYNC_HOME");
			return EXIT_ERROR;
		}
		path = xasprintf("%s/keys/publisher.key", home);
	}
	dir = xstrdup(path);
	ret = ws_mkdir_p(dirname(dir));
	free(dir);
	if (ret) {
		err("cannot create the folder of '%s': %s", path, ws_strerror(ret));
		goto out;
	}
	if (access(path, F_OK) == 0) {
		if (!force) {
			err("'%s' already exists; use -f to replace it", path);
			goto out;
		}
		if (unlink(path) < 0) {
			err("cannot replace '%s'", path);
			goto out;
		}
	}
	if (!nopw && !(pw = read_password("Password for the new key: ", 1)))
		goto out;
	if ((ret = ws_seckey_generate(&sk))) {
		err("cannot generate a key: %s", ws_strerror(ret));
		goto out;
	}
	if ((ret = ws_seckey_save(sk, path, pw, &msg))) {
		status = fail(ret, &msg, "cannot save the key");
		goto out;
	}
	ws_seckey_public(sk, &pk);
	ws_pubkey_to_b64(&pk, b64);
	fprintf(stderr, "secret key: %s\npublic key: %s.pub\n", path, path);
	printf("%s\n", b64);
	status = 0;
out:
	if (pw) {
		sodium_memzero(pw, strlen(pw));
		free(pw);
	}
	ws_seckey_free(sk);
	free(path);
	free(home);
	return status;
}
