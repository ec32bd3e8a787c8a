#!/bin/sh
# fuzz/make-corpus.sh GENERATOR - regenerate the seed corpora fuzz/corpus/NAME/
# with GENERATOR (build-fuzz/fuzz/corpus, from fuzz/corpus.c; `make
# fuzz-corpus` builds it and runs this).  Inputs the fuzzer found
# (build-fuzz/corpus/) are not copied here: the committed corpus stays a few
# kilobytes of valid examples.
set -eu
gen=$(realpath "${1:?usage: fuzz/make-corpus.sh GENERATOR}")
cd "$(dirname "$0")"
rm -rf corpus
mkdir corpus
"$gen" corpus
du -sh corpus
