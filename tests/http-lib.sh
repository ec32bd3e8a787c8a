# http-lib.sh - helpers for the HTTP tests (t53xx-http-*.sh), sourced after
# test-lib.sh.  curl comes with `make deps`; without it every test skips.

command -v curl >/dev/null 2>&1 || "$(dirname "$0")/../scripts/deps.sh" curl >/dev/null 2>&1
command -v curl >/dev/null 2>&1 && test_set_prereq CURL

# start_http_node NAME ADDR [SEED-OPTIONS] - start_node NAME on ADDR with
# --http ADDR:PORT on a free port; its base URL: url_of NAME.
start_http_node() {
	shn_name=$1 shn_addr=$2; shift 2
	shn_port=$(free_port "$shn_addr")
	echo "http://$shn_addr:$shn_port" >"$TMP/$shn_name.url"
	start_node "$shn_name" "$shn_addr" --http "$shn_addr:$shn_port" "$@"
}

url_of() { cat "$TMP/$1.url"; }

# http_code [CURL-OPTIONS] URL - the response's status code
http_code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# header NAME FILE - the value of header NAME in FILE (curl -D), no CR
header() { tr -d '\r' <"$2" | sed -n "s/^$1: //Ip" | head -1; }

# bytes FILE START END - bytes START..END (inclusive) of FILE
bytes() { tail -c +$(($2 + 1)) "$1" | head -c $(($3 - $2 + 1)); }
