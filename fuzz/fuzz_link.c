/* fuzz_link.c - links given to `weightsync fetch` (release magnets and
 * BEP 46 name links). */
#include "fixture.h"
#include "proto/link.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ws_link l;
	char *text = xmalloc(len + 1), *msg = NULL;

	memcpy(text, data, len);
	text[len] = '\0';
	int ret = ws_link_parse(text, &l, &msg);

	fx_note("link_parse", ret, msg);
	if (ret == 0) {
		/* what was accepted is bounded as the struct promises */
		if (l.npeers < 0 || l.npeers > WS_LINK_MAX_PEERS ||
		    strlen(l.name) > WS_NAME_MAX)
			abort();
	}
	free(msg);
	free(text);
	return 0;
}
