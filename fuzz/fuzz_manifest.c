/* fuzz_manifest.c - manifest bytes, as a peer or a bundle hands them over.
 * Parse; what parses must serialize again and parse back to the same
 * release (ws_manifest_serialize claims to validate as the parser does). */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ws_manifest m, back;
	char *msg = NULL, *out = NULL;
	size_t olen = 0;

	int ret = ws_manifest_parse((const char *)data, len, &m, &msg);

	fx_note("manifest_parse", ret, msg);
	if (ret) {
		free(msg);
		return 0;
	}
	if (ws_manifest_serialize(&m, &out, &olen, &msg))
		abort();    /* accepted by the parser, refused by the writer */
	if (ws_manifest_parse(out, olen, &back, &msg))
		abort();    /* the canonical form does not parse */
	if (back.version != m.version || back.nfiles != m.nfiles ||
	    strcmp(back.name, m.name))
		abort();
	ws_manifest_release(&back);
	ws_manifest_release(&m);
	free(out);
	return 0;
}
