/* fuzz_modelfmt.c - safetensors and GGUF headers (audit --format, and the
 * checks fetch and import run on files from outside).  The first byte
 * picks the name the rest is checked under: .safetensors, .gguf, or a
 * plain name (then the GGUF magic decides). */
#include "fixture.h"
#include "proto/modelfmt.h"

static char *paths[3];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char kind[16], *msg = NULL;
	const char *p;

	if (!paths[0]) {
		char *d = fx_tmpdir("modelfmt");
		paths[0] = xasprintf("%s/m.safetensors", d);
		paths[1] = xasprintf("%s/m.gguf", d);
		paths[2] = xasprintf("%s/m.bin", d);
		free(d);
	}
	if (len < 1)
		return 0;
	p = paths[data[0] % 3];
	fx_write(p, data + 1, len - 1);
	fx_note("modelfmt_check", ws_modelfmt_check(p, kind, sizeof(kind), &msg), msg);
	free(msg);
	return 0;
}
