#!/bin/sh
# weightsync mirror resumes: a kill -9 in the middle of a file is continued
# by a Range request from the bytes kept; a partial file already whole is
# checked and moved into place without a request; one whose kept bytes are
# wrong is fetched once more from the first byte.
cd "$(dirname "$0")" && . ./test-lib.sh

COMMIT=4f2a9c0e1b3d5f7a9c0e1b3d5f7a9c0e1b3d5f7a
make_model "$TMP/model" 1500000
HUBARGS="--repo acme/tiny-llm --commit $COMMIT"

test_expect_success 'kill -9 in the middle of a file: the next run resumes it by range' '
	make_model $TMP/big 3000000 &&
	start_hub slow $TMP/big $HUBARGS --rate 400000 &&
	WEIGHTSYNC_HOME=$TMP/K ws keygen --no-password >/dev/null 2>&1 &&
	(HF_ENDPOINT=$(hub_url slow) WEIGHTSYNC_HOME=$TMP/K exec "$WS_BIN" mirror \
		hf://acme/tiny-llm --name k --connections 2 >/dev/null 2>&1 & echo $! >$TMP/k.pid) &&
	echo $(cat $TMP/k.pid) >>$TMP/.pids &&
	part=$TMP/K/tmp/mirror-acme--tiny-llm@$COMMIT/partial/model-00001-of-00002.safetensors &&
	wait_for 40 "test \$(stat -c %s $part 2>/dev/null || echo 0) -gt 500000" &&
	kill -9 $(cat $TMP/k.pid) && wait_for 10 "! kill -0 $(cat $TMP/k.pid)" &&
	have=$(stat -c %s $part) && test $have -lt 3000400 &&
	stop_hub slow &&
	start_hub fast $TMP/big $HUBARGS &&
	HF_ENDPOINT=$(hub_url fast) WEIGHTSYNC_HOME=$TMP/K ws mirror hf://acme/tiny-llm --name k \
		>/dev/null 2>&1 &&
	dir=$(WEIGHTSYNC_HOME=$TMP/K release_dir k 1) &&
	for f in $(cd $TMP/big && ls); do cmp $TMP/big/$f $dir/$f || return 1; done &&
	grep "^cdn GET /lfs/" $TMP/fast.log >$TMP/ranges &&
	grep_q "bytes=[1-9][0-9]*-" $TMP/ranges &&
	first=$(grep "bytes=" $TMP/ranges | head -1 | sed "s/.*bytes=\\([0-9]*\\)-.*/\\1/") &&
	test "$first" -ge "$have" &&
	! grep -q "/config.json " $TMP/fast.log &&
	test ! -e $TMP/K/tmp/mirror-acme--tiny-llm@$COMMIT
'

test_expect_success 'partial files: one already whole is checked, not fetched; a wrong one comes again' '
	start_hub hub $TMP/model $HUBARGS &&
	w=$TMP/P/tmp/mirror-acme--tiny-llm@$COMMIT &&
	mkdir -p $w/partial && cp $TMP/model/config.json $w/partial/ &&
	printf "{\"x\": 1}" >$w/partial/tokenizer_config.json &&
	WEIGHTSYNC_HOME=$TMP/P ws keygen --no-password >/dev/null 2>&1 && : >$TMP/hub.log &&
	HF_ENDPOINT=$(hub_url hub) WEIGHTSYNC_HOME=$TMP/P ws mirror hf://acme/tiny-llm --name p \
		>/dev/null 2>&1 &&
	! grep -q "/config.json " $TMP/hub.log &&
	test $(grep -c "/tokenizer_config.json " $TMP/hub.log) = 2 &&
	grep_q "/tokenizer_config.json bytes=8-" $TMP/hub.log &&
	dir=$(WEIGHTSYNC_HOME=$TMP/P release_dir p 1) &&
	for f in $(cd $TMP/model && ls); do cmp $TMP/model/$f $dir/$f || return 1; done
'

test_expect_success 'a file verified by an earlier run is hashed again, not trusted: kept when intact, refused when changed' '
	start_hub kept $TMP/model $HUBARGS &&
	lfs=model-00001-of-00002.safetensors &&
	w=$TMP/E/tmp/mirror-acme--tiny-llm@$COMMIT &&
	mkdir -p $w/files && cp $TMP/model/$lfs $TMP/model/config.json $w/files/ &&
	WEIGHTSYNC_HOME=$TMP/E ws keygen --no-password >/dev/null 2>&1 && : >$TMP/kept.log &&
	HF_ENDPOINT=$(hub_url kept) WEIGHTSYNC_HOME=$TMP/E ws mirror hf://acme/tiny-llm --name e \
		>/dev/null 2>&1 &&
	grep_q "/model-00002-of-00002.safetensors" $TMP/kept.log &&
	! grep -q "/$lfs" $TMP/kept.log && ! grep -q "/config.json " $TMP/kept.log &&
	dir=$(WEIGHTSYNC_HOME=$TMP/E release_dir e 1) &&
	for f in $(cd $TMP/model && ls); do cmp $TMP/model/$f $dir/$f || return 1; done &&
	WEIGHTSYNC_HOME=$TMP/E ws audit $dir >/dev/null &&
	w=$TMP/F/tmp/mirror-acme--tiny-llm@$COMMIT &&
	mkdir -p $w/files && cp $TMP/model/$lfs $w/files/ &&
	printf "\\377" | dd of=$w/files/$lfs bs=1 seek=70000 conv=notrunc 2>/dev/null &&
	WEIGHTSYNC_HOME=$TMP/F ws keygen --no-password >/dev/null 2>&1 &&
	HF_ENDPOINT=$(hub_url kept) WEIGHTSYNC_HOME=$TMP/F test_must_fail 1 ws mirror \
		hf://acme/tiny-llm --name f 2>$TMP/err &&
	grep_q "weightsync: .$lfs. no longer matches the hub.s SHA-256" $TMP/err &&
	test ! -e $w/files/$lfs &&
	WEIGHTSYNC_HOME=$TMP/F ws list --json >$TMP/list &&
	json_check $TMP/list "j == [] or j.get(\"releases\") == []"
'

test_done
