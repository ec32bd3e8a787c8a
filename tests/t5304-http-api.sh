#!/bin/sh
# The node's status over HTTP: JSON under /api/ (status, releases, events,
# follows) and the HTML page rendered from it, with refusals and
# equivocation evidence highlighted and every string from outside escaped.
cd "$(dirname "$0")" && . ./test-lib.sh && . ./http-lib.sh

make_model "$TMP/model" 100000
printf '{"x": 1}\n' >"$TMP/model/<img src=x onerror=alert(1)>&.json"
A=127.0.0.2

test_expect_success CURL 'a store with a release and equivocation evidence, a followed name' '
	publish_on A "$TMP/model" api-demo >/dev/null &&
	mkdir -p $TMP/A2 && cp -r $TMP/A/keys $TMP/A2/ && cp -r $TMP/model $TMP/model2 &&
	echo "{\"v\": 2}" >$TMP/model2/config.json &&
	WEIGHTSYNC_HOME=$TMP/A2 ws publish $TMP/model2 --name api-demo >/dev/null &&
	WEIGHTSYNC_HOME=$TMP/A2 ws export api-demo@1 -o $TMP/b.tar >/dev/null 2>&1 &&
	WEIGHTSYNC_HOME=$TMP/A test_must_fail 1 ws import $TMP/b.tar 2>$TMP/err &&
	grep_q "equivocation" $TMP/err &&
	WEIGHTSYNC_HOME=$TMP/A ws trust add other-model $TMP/A/keys/publisher.key.pub &&
	WEIGHTSYNC_HOME=$TMP/A ws follow other-model >/dev/null &&
	start_http_node A $A --no-dht &&
	wait_for 20 "node_seeds A api-demo@1"
'

test_expect_success CURL '/api/status is the node status document' '
	curl -sf -D $TMP/h -o $TMP/s.json "$(url_of A)/api/status" &&
	test "$(header content-type $TMP/h)" = application/json &&
	json_check $TMP/s.json "(j[\"state\"] == \"running\" and j[\"dht\"] is False and
		\"http://\" + j[\"http\"] == \"$(url_of A)\" and
		[(r[\"name\"], r[\"version\"], r[\"state\"]) for r in j[\"releases\"]] ==
		[(\"api-demo\", 1, \"seeding\")])"
'

test_expect_success CURL '/api/releases: the accepted release with its URL, the evidence kept' '
	curl -sf -o $TMP/r.json "$(url_of A)/api/releases" &&
	json_check $TMP/r.json "(len(j) == 2 and
		[r for r in j if r[\"status\"] == \"accepted\"][0][\"url\"] == \"/api-demo@1/\" and
		[r for r in j if r[\"status\"] == \"accepted\"][0][\"node\"][\"state\"] == \"seeding\" and
		[r for r in j if r[\"status\"] == \"evidence\"][0].get(\"url\") is None and
		len(set(r[\"publisher\"] for r in j)) == 1 and len(j[0][\"publisher\"]) == 64)"
'

test_expect_success CURL '/api/events: the equivocation flagged as an alert, acceptance not' '
	curl -sf -o $TMP/e.json "$(url_of A)/api/events" &&
	json_check $TMP/e.json "([e[\"alert\"] for e in j if e[\"kind\"] == \"equivocation\"] == [True] and
		all(not e[\"alert\"] for e in j if e[\"kind\"] == \"accepted\") and
		j[-1][\"kind\"] == \"follow\")"
'

test_expect_success CURL '/api/follows and /api/: the followed name, the list of documents' '
	curl -sf -o $TMP/f.json "$(url_of A)/api/follows" &&
	json_check $TMP/f.json "[f[\"name\"] for f in j] == [\"other-model\"]" &&
	curl -sf -o $TMP/i.json "$(url_of A)/api/" &&
	json_check $TMP/i.json "\"/api/events\" in j[\"documents\"]" &&
	test "$(http_code "$(url_of A)/api/nothing")" = 404
'

test_expect_success CURL 'the status page: releases, followed names, the equivocation highlighted' '
	curl -sf -D $TMP/h -o $TMP/page "$(url_of A)/" &&
	test "$(header content-type $TMP/h)" = "text/html; charset=utf-8" &&
	grep_q "href=\"/api-demo@1/\">api-demo@1</a>" $TMP/page &&
	grep_q "seeding" $TMP/page && grep_q "other-model" $TMP/page &&
	grep_q "<tr class=\"alert\"><td class=\"t\">[-0-9T:Z]*</td><td>equivocation</td>" $TMP/page &&
	grep_q "evidence of equivocation" $TMP/page &&
	grep_q "1 refusal or equivocation event" $TMP/page &&
	! grep -q "<img" $TMP/page
'

test_expect_success CURL 'a hostile file name is escaped in the release listing' '
	curl -sf -o $TMP/page "$(url_of A)/api-demo@1/" &&
	grep_q ">&lt;img src=x onerror=alert(1)&gt;&amp;.json</a>" $TMP/page &&
	grep_q "href=\"/api-demo@1/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E%26.json\"" $TMP/page &&
	! grep -q "<img" $TMP/page &&
	curl -sf -o $TMP/got "$(url_of A)/api-demo@1/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E%26.json" &&
	cmp "$TMP/model/<img src=x onerror=alert(1)>&.json" $TMP/got
'

test_done
