#!/usr/bin/env bash
# record.sh - regenerate the sample captures under pcaps/ from real kernel traffic.
#
#   sudo pcaps/record.sh [http] [vxlan] [broken]      (default: all three)
#
# http    pcaps/http/mix.pcap: namespaces PFX-cli and PFX-srv joined by a veth pair
#         (10.230.0.1 <-> 10.230.0.2:8080), tcpdump on the server end; gen/server.js
#         (node:http) and gen/client.js (net.Socket) exchange the "full" set.
#         pcaps/http/loopback.pcap: the "small" set on lo inside namespace PFX-lo.
# vxlan   pcaps/vxlan/mirror-lab*.pcap: ../shared/lab/mirror-lab.sh (prefix pc, VNI 7001),
#         captured at the mirror target with the lab's `capture` verb; three sessions:
#         full mirror, --truncate 200, --directions ingress.
# broken  pcaps/broken/: a capture cut inside a record, a text file, an empty file.
# Every capture gets NAME.expected.tsv (tshark with TCP and HTTP reassembly), and
# the script checks it against what the client sent and received.
#
# Needs root, iproute2, tcpdump, tshark, node; python3 to switch veth offloads off
# (SIOCETHTOOL ioctl; without it TX checksums stay unfilled); llc for --truncate.
# Everything it creates (namespaces, the lab, processes) is removed on exit.
# Environment: MIRROR_LAB=path/to/mirror-lab.sh, PCAPS_NS_PREFIX (default pcr).
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GEN=$HERE/gen
LAB=${MIRROR_LAB:-$(cd "$HERE/../.." && pwd)/shared/lab/mirror-lab.sh}
PFX=${PCAPS_NS_PREFIX:-pcr}
LAB_PFX=pc
VNI=7001
HTTP_PORT=8080
SNAPLEN=65535
declare -A PIDS=()
LAB_USED=0
WORK=

log() { printf 'record.sh: %s\n' "$*" >&2; }
die() { printf 'record.sh: error: %s\n' "$*" >&2; exit 1; }

cleanup() {
  local rc=$? pid ns
  trap - EXIT
  for pid in "${!PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${!PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in "$PFX-cli" "$PFX-srv" "$PFX-lo"; do
    [[ -e /run/netns/$ns ]] && { ip netns del "$ns" || log "could not delete netns $ns"; }
  done
  if [[ $LAB_USED == 1 ]]; then "$LAB" -q -p "$LAB_PFX" down || log "lab teardown failed"; fi
  [[ -n $WORK ]] && rm -rf -- "$WORK"
  (( rc == 0 )) || log "FAILED (rc=$rc)"
  exit "$rc"
}

# ---------------------------------------------------------------- helpers
ns_sysctl() { ip netns exec "$1" sh -c 'echo "$2" >"/proc/sys/$(printf %s "$1" | tr . /)"' _ "$2" "$3"; }

new_ns() { # name: fresh namespace, lo up, IPv6 off (no ND/MLD noise in the captures)
  [[ ! -e /run/netns/$1 ]] || ip netns del "$1"
  ip netns add "$1"
  ns_sysctl "$1" net.ipv6.conf.all.disable_ipv6 1
  ns_sysctl "$1" net.ipv6.conf.default.disable_ipv6 1
  ip netns exec "$1" ip link set lo up
}

# TX checksum, TSO and GSO off through the legacy SIOCETHTOOL ioctl (no ethtool binary here).
offloads_off() { # ns ifname
  command -v python3 >/dev/null 2>&1 || return 1
  ip netns exec "$1" python3 - "$2" <<'PY'
import ctypes, fcntl, socket, struct, sys
ETHTOOL_SET = {"tx-checksum": 0x17, "tso": 0x1f, "gso": 0x24}
for cmd in ETHTOOL_SET.values():
    value = ctypes.create_string_buffer(struct.pack("II", cmd, 0), 8)
    ifreq = struct.pack("16sP", sys.argv[1].encode(), ctypes.addressof(value)).ljust(40, b"\0")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        fcntl.ioctl(s.fileno(), 0x8946, ifreq)
PY
}

spawn() { # command...: start in the background, remember the pid; prints the pid
  "$@" &
  PIDS[$!]=1
  LAST_PID=$!
}

stop_pid() { # pid [signal]
  kill "-${2:-TERM}" "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  unset "PIDS[$1]"
}

wait_for() { # file pattern seconds what
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    [[ -f $1 ]] && grep -q -- "$2" "$1" && return 0
    sleep 0.1
  done
  die "timed out waiting for $4"
}

start_server() { # ns host port
  local ready=$WORK/ready.$1.$3
  rm -f "$ready"
  spawn ip netns exec "$1" node "$GEN/server.js" "$2" "$3" "$ready"
  SERVER_PID=$LAST_PID
  wait_for "$ready" . 5 "server in $1 to listen"
}

start_tcpdump() { # ns iface outfile
  : >"$3.log"
  # --immediate-mode: without it libpcap hands packets over in ring blocks, and the
  # blocks not yet handed over when tcpdump gets SIGINT are lost.
  spawn ip netns exec "$1" tcpdump --immediate-mode -i "$2" -s "$SNAPLEN" -B 16384 -U -Z root -w "$3" 2>"$3.log"
  TCPDUMP_PID=$LAST_PID
  wait_for "$3.log" 'listening on' 5 "tcpdump on $1/$2"
}

stop_tcpdump() { # pid outfile
  sleep 1 # let the last ACKs and FINs land
  stop_pid "$1" INT
  grep -q '^0 packets dropped by kernel' "$2.log" || die "tcpdump dropped packets: $(tr '\n' ' ' <"$2.log")"
}

install_capture() { # src dst
  mkdir -p "$(dirname "$2")"
  install -m 0644 "$1" "$2"
  log "wrote $2 ($(stat -c %s "$2") bytes)"
}

# NAME.expected.tsv: one row per HTTP request and per HTTP response tshark finds with TCP and
# HTTP reassembly (same tshark settings as ../shared/corpus/make-expect.sh).  A frame holding
# several messages (pipelined requests, coalesced responses) gives one row per message.
expected_tsv() { # capture [allow-failure]
  local f=$1 out=${1%.*}.expected.tsv rc=0 rows
  rows=$(timeout 120 tshark -r "$f" -o tcp.desegment_tcp_streams:TRUE -o http.desegment_body:TRUE \
      -o http.desegment_headers:TRUE -Y 'http.request || http.response' -T fields \
      -E separator=/t -E occurrence=a -E aggregator='|' \
      -e frame.number -e tcp.stream -e vxlan.vni -e http.request.method -e http.request.uri \
      -e http.response.code 2>"$WORK/tshark.err") || rc=$?
  if (( rc != 0 )) && [[ -z ${2:-} ]]; then die "tshark failed on $f: $(cat "$WORK/tshark.err")"; fi
  { printf 'frame\tstream\tvxlan_vni\tmethod\turi\tstatus\n'
    [[ -z $rows ]] || awk -F'\t' -v OFS='\t' '{
      n = split($4, m, "|"); split($5, u, "|"); k = split($6, s, "|")
      for (i = 1; i <= n; i++) print $1, $2, $3, m[i], u[i], ""
      for (i = 1; i <= k; i++) print $1, $2, $3, "", "", s[i] }' <<<"$rows"
  } >"$out"
  log "wrote $out ($(summary "$out"))"
}

summary() { # expected.tsv -> "N requests, M responses (status counts), S streams"
  awk -F'\t' 'NR > 1 { if ($4 != "") q++; if ($6 != "") { r++; c[$6]++ }; st[$2] = 1 }
    END { s = ""; for (k in c) s = s (s == "" ? "" : " ") k "x" c[k]; n = 0; for (k in st) n++
          printf "%d requests, %d responses [%s], %d tcp streams", q, r, s, n }' "$1"
}

# The requests (method, uri) and response status codes in the capture must be exactly
# those the client wrote and read.
check_against_client() { # expected.tsv client.log [responses-only]
  local want_req want_resp got_req got_resp
  want_req=$(awk -F'\t' '$1 == "req" { print $2 "\t" $3 }' "$2" | sort)
  want_resp=$(awk -F'\t' '$1 == "resp" { print $2 }' "$2" | sort)
  got_req=$(awk -F'\t' 'NR > 1 && $4 != "" { print $4 "\t" $5 }' "$1" | sort)
  got_resp=$(awk -F'\t' 'NR > 1 && $6 != "" { print $6 }' "$1" | sort)
  [[ -n ${3:-} ]] && want_req=
  [[ $got_req == "$want_req" ]] || die "$1: requests differ from the client's:
$(diff <(echo "$want_req") <(echo "$got_req") || true)"
  [[ $got_resp == "$want_resp" ]] || die "$1: responses differ from the client's:
$(diff <(echo "$want_resp") <(echo "$got_resp") || true)"
}

check_not_snapped() { # capture: no frame may be cut by the snaplen
  local n
  n=$(tshark -r "$1" -Y 'frame.cap_len < frame.len' -T fields -e frame.number 2>/dev/null | wc -l)
  (( n == 0 )) || die "$1: $n frames cut by the snaplen"
}

check_size() { # file max-bytes
  local s; s=$(stat -c %s "$1")
  (( s < $2 )) || die "$1 is $s bytes, limit $2"
}

# ---------------------------------------------------------------- http
record_http() {
  local cli=$PFX-cli srv=$PFX-srv
  log "http: veth pair $cli/veth-c 10.230.0.1 <-> $srv/veth-s 10.230.0.2"
  new_ns "$cli"; new_ns "$srv"
  # A small client receive buffer bounds the bytes in flight of the 1 MiB response, so a
  # busy machine does not overflow the veth backlog (drops would add retransmissions).
  ns_sysctl "$cli" net.ipv4.tcp_rmem "4096 65536 131072"
  # no tail loss probes: on a loaded machine they fire spuriously and put retransmissions
  # into the capture although nothing was lost
  ns_sysctl "$srv" net.ipv4.tcp_early_retrans 0
  ns_sysctl "$cli" net.ipv4.tcp_early_retrans 0
  ip link add veth-c netns "$cli" type veth peer name veth-s netns "$srv"
  # fixed MACs so the Ethernet headers are the same on every run
  ip netns exec "$cli" ip link set veth-c address 02:00:0a:e6:00:01
  ip netns exec "$srv" ip link set veth-s address 02:00:0a:e6:00:02
  # one TCP segment per skb: wire-sized frames, never GSO super-packets
  ip netns exec "$cli" ip link set veth-c gso_max_segs 1
  ip netns exec "$srv" ip link set veth-s gso_max_segs 1
  if ! { offloads_off "$cli" veth-c && offloads_off "$srv" veth-s; }; then
    log "warning: could not switch veth offloads off; TCP checksums will show as unfilled"
  fi
  ip netns exec "$cli" ip addr add 10.230.0.1/24 dev veth-c
  ip netns exec "$srv" ip addr add 10.230.0.2/24 dev veth-s
  ip netns exec "$cli" ip link set veth-c up
  ip netns exec "$srv" ip link set veth-s up

  start_server "$srv" 10.230.0.2 "$HTTP_PORT"
  local pcap=$WORK/mix.pcap
  start_tcpdump "$srv" veth-s "$pcap"
  ip netns exec "$cli" node "$GEN/client.js" 10.230.0.2 "$HTTP_PORT" full 41000 >"$WORK/mix.client"
  stop_tcpdump "$TCPDUMP_PID" "$pcap"
  stop_pid "$SERVER_PID"
  install_capture "$pcap" "$HERE/http/mix.pcap"

  log "http: loopback in $PFX-lo"
  new_ns "$PFX-lo"
  start_server "$PFX-lo" 127.0.0.1 "$HTTP_PORT"
  pcap=$WORK/loopback.pcap
  start_tcpdump "$PFX-lo" lo "$pcap"
  ip netns exec "$PFX-lo" node "$GEN/client.js" 127.0.0.1 "$HTTP_PORT" small 41000 >"$WORK/loopback.client"
  stop_tcpdump "$TCPDUMP_PID" "$pcap"
  stop_pid "$SERVER_PID"
  install_capture "$pcap" "$HERE/http/loopback.pcap"
  ip netns del "$cli"; ip netns del "$srv"; ip netns del "$PFX-lo"

  local name n
  for name in mix loopback; do
    expected_tsv "$HERE/http/$name.pcap"
    check_against_client "$HERE/http/$name.expected.tsv" "$WORK/$name.client"
    check_not_snapped "$HERE/http/$name.pcap"
    n=$(tshark -r "$HERE/http/$name.pcap" -Y 'tcp.analysis.retransmission || tcp.analysis.lost_segment' \
        -T fields -e frame.number 2>/dev/null | wc -l)
    (( n == 0 )) || log "note: $name.pcap has $n retransmitted/lost segments (busy machine?); rerun for a clean one"
  done
  check_size "$HERE/http/mix.pcap" 2500000
  check_size "$HERE/http/loopback.pcap" 200000
}

# ---------------------------------------------------------------- vxlan
lab_session() { # name options...
  local name=$1; shift
  local opts=(-q -p "$LAB_PFX" --vni "$VNI" --http-port "$HTTP_PORT" "$@")
  log "vxlan: $name (mirror-lab.sh ${opts[*]})"
  LAB_USED=1
  local env; env=$("$LAB" "${opts[@]}" up) || die "mirror-lab.sh up failed"
  eval "$env"
  start_server "$MIRROR_LAB_SERVER_NS" "$MIRROR_LAB_SERVER_IP" "$MIRROR_LAB_SERVER_PORT"
  local pcap=$WORK/$name.pcap
  : >"$pcap.log"
  spawn "$LAB" "${opts[@]}" capture "$pcap" 5 2>"$pcap.log"
  local cap_pid=$LAST_PID
  wait_for "$pcap.log" 'listening on' 5 "the lab capture"
  ip netns exec "$MIRROR_LAB_CLIENT_NS" node "$GEN/client.js" "$MIRROR_LAB_SERVER_IP" "$MIRROR_LAB_SERVER_PORT" \
    lab 42000 >"$WORK/$name.client"
  wait "$cap_pid" || die "lab capture failed: $(cat "$pcap.log")"
  unset "PIDS[$cap_pid]"
  grep -q '^0 packets dropped by kernel' "$pcap.log" || die "lab capture dropped packets"
  stop_pid "$SERVER_PID"
  install_capture "$pcap" "$HERE/vxlan/$name.pcap"
  expected_tsv "$HERE/vxlan/$name.pcap"
  local bad
  bad=$(awk -F'\t' -v v="$VNI" 'NR > 1 && $3 != v' "$HERE/vxlan/$name.expected.tsv" | wc -l)
  (( bad == 0 )) || die "$name: $bad rows without VNI $VNI"
  check_size "$HERE/vxlan/$name.pcap" 200000
}

record_vxlan() {
  [[ -x $LAB ]] || die "mirror lab not found at $LAB (set MIRROR_LAB)"
  lab_session mirror-lab
  check_against_client "$HERE/vxlan/mirror-lab.expected.tsv" "$WORK/mirror-lab.client"
  check_not_snapped "$HERE/vxlan/mirror-lab.pcap"
  lab_session mirror-lab-truncated --truncate 200
  # what tshark still finds in 200-byte frames is recorded, not required
  lab_session mirror-lab-oneway --directions ingress
  # ingress of the client's link = server -> client: responses only
  check_against_client "$HERE/vxlan/mirror-lab-oneway.expected.tsv" "$WORK/mirror-lab-oneway.client" responses-only
  "$LAB" -q -p "$LAB_PFX" down
  LAB_USED=0
}

# ---------------------------------------------------------------- broken
record_broken() {
  local src=$HERE/http/loopback.pcap dir=$HERE/broken
  [[ -s $src ]] || die "broken needs $src (run the http part first)"
  mkdir -p "$dir"
  # cut 40 bytes into the data of record 20
  local off caplen
  read -r off caplen < <(node "$GEN/pcap-offset.js" "$src" 20) || die "cannot find record 20 in $src"
  (( caplen > 40 )) || die "record 20 of $src is too short to cut inside"
  head -c $((off + 16 + 40)) "$src" >"$dir/cut-mid-record.pcap"
  log "wrote $dir/cut-mid-record.pcap ($(stat -c %s "$dir/cut-mid-record.pcap") bytes: records 1-19 whole," \
    "record 20 header + 40 of $caplen bytes)"
  expected_tsv "$dir/cut-mid-record.pcap" allow-failure
  cat >"$dir/not-a-capture.txt" <<'EOF'
This file is not a packet capture. It is plain text that a reader must reject
with a clear error (bad magic number), without throwing out of the decoder.
d4 c3 b2 a1 02 00 04 00 (these hex digits are text, not a pcap header)
EOF
  : >"$dir/empty.pcap"
  log "wrote $dir/not-a-capture.txt and $dir/empty.pcap (0 bytes)"
}

# ---------------------------------------------------------------- main
(( $(id -u) == 0 )) || die "must run as root (network namespaces, tcpdump)"
for c in ip tcpdump tshark node head awk install; do command -v "$c" >/dev/null || die "missing command: $c"; done
PARTS=("$@"); ((${#PARTS[@]})) || PARTS=(http vxlan broken)
for p in "${PARTS[@]}"; do [[ $p == http || $p == vxlan || $p == broken ]] || die "unknown part '$p'"; done
trap cleanup EXIT
trap 'exit 130' INT TERM
WORK=$(mktemp -d /tmp/pcaps-record.XXXXXX)
for p in "${PARTS[@]}"; do "record_$p"; done
log "done"
