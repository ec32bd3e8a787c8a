/* fuzz_hub.c - the hub API's record of a revision (untrusted JSON from the
 * network, read by `weightsync mirror` and `audit --against`), then the
 * include/exclude selection over the paths it accepted. */
#include "fixture.h"
#include "node/hub.h"
#include "proto/error.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const char *const inc[] = { "*.json", "onnx/" }, *const exc[] = { "*tok*" };
	struct ws_hub_repo r;
	char *msg = NULL;
	int ret = ws_hub_parse_record((const char *)data, len, "org/demo", &r, &msg);

	fx_note("hub_parse_record", ret, msg);
	if (ret == 0) {
		/* what was accepted holds what the header promises */
		if (strlen(r.commit) != 40 || strspn(r.commit, "0123456789abcdef") != 40)
			abort();
		for (size_t i = 0; i < r.nfiles; i++) {
			if (ws_path_check(r.files[i].path) || !r.files[i].selected)
				abort();
			for (size_t k = i + 1; k < r.nfiles && k < i + 64; k++)
				if (!strcmp(r.files[i].path, r.files[k].path))
					abort();
		}
		if (ws_hub_select(&r, inc, 2, exc, 1) > r.nfiles)
			abort();
		ws_hub_repo_release(&r);
	} else if (!msg) {
		abort();            /* a refusal always says why */
	}
	free(msg);
	return 0;
}
