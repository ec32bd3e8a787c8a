/* common.c - helpers several commands share (see cli.h) */
#include "cli.h"
#include "proto/error.h"
#include "proto/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define PASSWORD_MAX 1024

static char *prompt_tty(const char *prompt)
{
	struct termios old, quiet;
	char *buf = NULL;
	FILE *tty = fopen("/dev/tty", "r+");
	size_t len;

	if (!tty)
		return NULL;
	fputs(prompt, tty);
	fflush(tty);
	if (tcgetattr(fileno(tty), &old) == 0) {
		quiet = old;
		quiet.c_lflag &= (tcflag_t)~ECHO;
		tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	}
	buf = xmalloc(PASSWORD_MAX);
	if (!fgets(buf, PASSWORD_MAX, tty)) {
		free(buf);
		buf = NULL;
	}
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	if (buf && (len = strlen(buf)) > 0 && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	return buf;
}

char *read_password(const char *prompt, int confirm)
{
	const char *env = getenv("WEIGHTSYNC_PASSWORD");
	char *pw, *again;

	if (env)
		return xstrdup(env);
	if (!isatty(STDIN_FILENO)) {
		err("a password is needed: set WEIGHTSYNC_PASSWORD or run on a terminal");
		return NULL;
	}
	pw = prompt_tty(prompt);
	if (!pw) {
		err("cannot read a password from the terminal");
		return NULL;
	}
	if (confirm) {
		again = prompt_tty("Password (one more time): ");
		if (!again || strcmp(pw, again)) {
			err("passwords do not match");
			if (again) {
				sodium_memzero(again, strlen(again));
				free(again);
			}
			sodium_memzero(pw, strlen(pw));
			free(pw);
			return NULL;
		}
		sodium_memzero(again, strlen(again));
		free(again);
	}
	return pw;
}

int load_seckey(const char *path, struct ws_seckey **out)
{
	char *msg = NULL, *pw;
	int encrypted = 0;
	int ret = ws_seckey_load(path, NULL, out, &encrypted, &msg);

	if (ret == WS_EPASSWORD && encrypted) {
		free(msg);
		msg = NULL;
		if (!(pw = read_password("Password: ", 0)))
			return WS_EPASSWORD;
		ret = ws_seckey_load(path, pw, out, &encrypted, &msg);
		sodium_memzero(pw, strlen(pw));
		free(pw);
	}
	if (ret) {
		err("%s", msg ? msg : ws_strerror(ret));
		free(msg);
	}
	return ret;
}

int parse_ref(const char *ref, char name[WS_NAME_MAX + 1], int64_t *version)
{
	const char *at = strchr(ref, '@');
	size_t n = at ? (size_t)(at - ref) : strlen(ref);
	char *end;

	if (n == 0 || n > WS_NAME_MAX) {
		err("invalid release name '%s'", ref);
		return WS_ENAME;
	}
	memcpy(name, ref, n);
	name[n] = '\0';
	if (ws_name_check(name)) {
		err("invalid release name '%s'", name);
		return WS_ENAME;
	}
	if (at) {
		/* digits only: no sign, space or leading zero */
		errno = 0;
		unsigned long long v = strtoull(at + 1, &end, 10);
		if (errno || *end || at[1] < '1' || at[1] > '9' || v > WS_VERSION_MAX) {
			err("invalid version in '%s': expected NAME@N with N from 1 to %lld",
			    ref, WS_VERSION_MAX);
			return WS_EFORMAT;
		}
		if (ws_ref_check(name, (int64_t)v)) {
			err("'%s' is longer than %d bytes, the most a DHT salt holds", ref,
			    WS_REF_MAX);
			return WS_ENAME;
		}
		*version = (int64_t)v;
	} else {
		*version = 0;
	}
	return 0;
}

int resolve_publisher(struct cli *c, const char *name, struct ws_pubkey *out)
{
	struct ws_release *rels = NULL;
	size_t n = 0, keys = 0;
	int ret = ws_index_trust_lookup(c->store->index, name, out);

	if (ret == WS_EAMBIGUOUS) {
		err("'%s' is trusted with several publisher keys; remove all but one "
		    "with 'weightsync trust remove %s KEY'", name, name);
		return ret;
	}
	if (ret != WS_ENOTFOUND) {
		if (ret)
			index_fail(c, ret);
		return ret;
	}
	if ((ret = ws_index_list(c->store->index, NULL, name, &rels, &n))) {
		index_fail(c, ret);
		return ret;
	}
	for (size_t i = 0; i < n; i++)
		if (i == 0 || memcmp(rels[i].pk, rels[i - 1].pk, 32))
			keys++;
	if (keys == 1) {
		/* known locally from one publisher only: that is the one */
		memcpy(out->pk, rels[0].pk, 32);
		struct ws_release r;
		if ((ret = ws_index_get(c->store->index, rels[0].pk, name, 0, &r)) == 0) {
			struct ws_manifest m;
			if (ws_manifest_parse(r.manifest, r.manifest_len, &m, NULL) == 0) {
				*out = m.publisher;
				ws_manifest_release(&m);
			}
			ws_release_release(&r);
		} else if (ret != WS_ENOTFOUND) {
			index_fail(c, ret);
			goto out;
		}
		ret = 0;
	} else if (keys > 1) {
		err("'%s' is published by several keys in this store; say which one "
		    "with 'weightsync trust add %s KEY'", name, name);
		ret = WS_EAMBIGUOUS;
	} else {
		err("unknown name '%s': no release of it in this store and no trusted "
		    "key; add one with 'weightsync trust add %s PUBKEY'", name, name);
		ret = WS_ENOTFOUND;
	}
out:
	ws_releases_free(rels, n);
	return ret;
}

int resolve_trusted(struct cli *c, const char *name, struct ws_pubkey *out)
{
	int ret = ws_index_trust_lookup(c->store->index, name, out);

	if (ret == WS_ENOTFOUND)
		err("unknown name '%s': no publisher key is trusted for it; add one with "
		    "'weightsync trust add %s PUBKEY' or pass --publisher KEY", name, name);
	else if (ret == WS_EAMBIGUOUS)
		err("'%s' is trusted with several publisher keys; remove all but one "
		    "with 'weightsync trust remove %s KEY' or pass --publisher KEY",
		    name, name);
	else if (ret)
		index_fail(c, ret);
	return ret;
}

int warn_if_equivocated(struct cli *c, const uint8_t pk[32], const char *name)
{
	unsigned flags = 0;
	int ret = ws_index_name_flags(c->store->index, pk, name, &flags);

	if (ret && ret != WS_ENOTFOUND)
		return index_fail(c, ret);
	if (flags & WS_NAME_EQUIVOCATED)
		warn("the publisher of '%s' signed two different manifests for one "
		     "version (equivocation); see 'weightsync log %s'", name, name);
	return 0;
}

int index_fail(struct cli *c, int ret)
{
	char *file = ws_store_path(c->store, "index/data.mdb");

	if (ret == WS_ECORRUPT)
		err("the index '%s' is damaged (a record fails its checks): restore it "
		    "from a backup (the release folders beside it are not touched); see "
		    "docs/index.md", file);
	else
		err("cannot read the index '%s': %s", file, ws_strerror(ret));
	free(file);
	return EXIT_ERROR;
}

int parse_pubkey_arg(const char *arg, struct ws_pubkey *out)
{
	char *msg = NULL;
	int ret;

	if (ws_pubkey_parse(arg, out) == 0)
		return 0;
	if (access(arg, F_OK) != 0) {
		err("'%s' is neither a minisign public key nor a readable file", arg);
		return WS_EFORMAT;
	}
	ret = ws_pubkey_load(arg, out, &msg);
	if (ret) {
		err("%s", msg ? msg : ws_strerror(ret));
		free(msg);
	}
	return ret;
}
