/*
 * modelfmt.h - structural checks of model weight files (safetensors, GGUF).
 *
 * Part of proto/: pure formats.  These checks read a file's header only
 * (bounded: at most WS_MODELFMT_HEADER_MAX bytes of safetensors JSON, and a
 * GGUF header walked field by field with every length bounded by what is
 * left of the file); tensor data is never read.  They say whether a file is
 * shaped like what its format promises: a header that parses, tensors whose
 * sizes agree with their shapes and types, and data that lies inside the
 * file.  They say nothing about whether the numbers in it are the right ones
 * (that is what manifests and hashes are for).
 */
#ifndef WS_PROTO_MODELFMT_H
#define WS_PROTO_MODELFMT_H

#include <stddef.h>

#define WS_MODELFMT_HEADER_MAX (100u << 20)  /* safetensors JSON header, bytes */
#define WS_MODELFMT_GGUF_MAX_COUNT 1000000   /* GGUF tensors, and metadata keys */
#define WS_MODELFMT_GGUF_NAME_MAX 65535      /* GGUF key and tensor name, bytes */
#define WS_MODELFMT_GGUF_MAX_DIMS 4

/*
 * ws_modelfmt_kind - the model format path's name stands for, from its
 * extension alone: "safetensors" for *.safetensors, "gguf" for *.gguf, else
 * "other".  The string is static.
 */
const char *ws_modelfmt_kind(const char *path);

/*
 * ws_modelfmt_check - check the model file at path.
 *
 * The format is taken from the extension (.safetensors, .gguf) or, for any
 * other name, from the GGUF magic "GGUF" in the first four bytes; a file that
 * is neither is "other" and passes unchecked.
 *
 * kind_out (kind_len bytes, may be NULL) receives "safetensors", "gguf" or
 * "other" as soon as the format is known, so it is also set when the check
 * fails with WS_EFORMAT; it is left alone when the file cannot be read.
 *
 * Returns 0 when the file is well-formed or not a model file; WS_EFORMAT
 * when it is malformed, with *msg (when msg is not NULL; caller frees)
 * saying what is wrong and where: a byte offset and, where one is involved,
 * the tensor's name (names that are not printable UTF-8 are replaced by the
 * tensor's index).  A negated errno when the file cannot be opened or read,
 * with *msg naming the path.
 */
int ws_modelfmt_check(const char *path, char *kind_out, size_t kind_len,
		      char **msg);

#endif
