#!/usr/bin/env bash
# The vigil interference lab: network namespaces, real servers, a censor in the path.
#
#   lab.sh up [--scenario NAME|FILE] [--state DIR] [--no-censor]   bring the lab up (idempotent)
#   lab.sh down [--state DIR]                                       tear everything down
#   lab.sh status [--state DIR]                                     what runs, where
#   lab.sh exec NS CMD...                                           run CMD in vgl-NS
#   lab.sh scenario NAME|FILE [--state DIR]                         switch: censor, platform, failing servers, resolver flush
#
# Everything stays inside the vgl-* namespaces: addresses from 198.18.0.0/15 and
# fd00::/8 only, no link to the host's namespace, nothing listening in it.
# See tests/lab/README.md ("Commands") for the state directory and examples.
set -Eeuo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$LAB_DIR/../.." && pwd)
STATE=${VIGIL_LAB_STATE:-/tmp/vigil-lab}
NAMESPACES=(client client2 r1 censor r2 server control)
ENDPOINTS=$LAB_DIR/endpoints.csv
SCENARIO=clean
NO_CENSOR=0
DAEMONS=(unbound-server unbound-r1 unbound-r2 nginx prosody mosquitto coturn censor resetter platform)
# The stand-in platform (lab_platform) listens here in vgl-server; nginx passes
# mp.weixin.qq.com/s/ on to it (conf/nginx.conf.in).
PLATFORM_PORT=8471

say() { echo "lab: $*" >&2; }
die() { echo "lab: error: $*" >&2; exit 1; }
ns_exists() { [ -e "/run/netns/vgl-$1" ]; }
nsx() { local ns=$1; shift; ip netns exec "vgl-$ns" "$@"; }
now_ms() { date +%s%3N; }

usage() {
  sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# --- teardown ---------------------------------------------------------------------------

# Kills every process inside the lab's namespaces (and any daemon from our pid files
# whose namespace is already gone), deletes the namespaces (which deletes their
# veths and the dummy) and the /etc/netns files. Safe to run any number of times.
teardown() {
  local ns pids pid deadline
  pids=()
  for ns in "${NAMESPACES[@]}"; do
    ns_exists "$ns" || continue
    mapfile -t -O "${#pids[@]}" pids < <(ip netns pids "vgl-$ns" 2>/dev/null || true)
  done
  if [ -d "$STATE/pids" ]; then
    for pid in $(cat "$STATE"/pids/*.pid 2>/dev/null || true); do
      # only our daemons: same pid may have been reused by something else
      if [ -r "/proc/$pid/cmdline" ] &&
         tr '\0' ' ' <"/proc/$pid/cmdline" | grep -Eq "unbound|nginx|prosody|lua|mosquitto|turnserver|lab_censor|lab_platform|reset_listener"; then
        pids+=("$pid")
      fi
    done
  fi
  if [ ${#pids[@]} -gt 0 ]; then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    deadline=$(( $(now_ms) + 3000 ))
    while [ "$(now_ms)" -lt "$deadline" ]; do
      local alive=0
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1 && break; done
      [ $alive = 0 ] && break
      sleep 0.05
    done
    kill -KILL "${pids[@]}" 2>/dev/null || true
  fi
  for ns in "${NAMESPACES[@]}"; do
    if ns_exists "$ns"; then
      ip netns del "vgl-$ns" 2>/dev/null || { umount "/run/netns/vgl-$ns" 2>/dev/null || true; rm -f "/run/netns/vgl-$ns"; }
    fi
    rm -rf "/etc/netns/vgl-$ns"
  done
  rmdir /etc/netns 2>/dev/null || true
  # /run/netns is iproute2's shared mount point; unmount it only if the lab created it
  # and nothing else uses it.
  if [ -e "$STATE/.created-run-netns" ]; then
    if [ -d /run/netns ] && [ -z "$(ls -A /run/netns 2>/dev/null)" ]; then
      umount /run/netns 2>/dev/null || true
      rmdir /run/netns 2>/dev/null || true
    fi
    rm -f "$STATE/.created-run-netns"
  fi
  rm -f "$STATE"/pids/*.pid 2>/dev/null || true
}

# --- topology ---------------------------------------------------------------------------

veth() { # veth NS1 IF1 NS2 IF2
  ip link add name "$2" netns "vgl-$1" type veth peer name "$4" netns "vgl-$3"
}

build_topology() {
  local ns
  if ! grep -q ' /run/netns ' /proc/self/mountinfo 2>/dev/null; then
    touch "$STATE/.created-run-netns"
  fi
  for ns in "${NAMESPACES[@]}"; do ip netns add "vgl-$ns"; done

  # sysctls first, so that interfaces created afterwards inherit the defaults
  for ns in "${NAMESPACES[@]}"; do
    local sysctls=(net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
             net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
             net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
             net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
             net.ipv4.icmp_errors_use_inbound_ifaddr=1)
    case $ns in
      r1|r2) sysctls+=(net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv6.conf.default.forwarding=1) ;;
      censor) sysctls+=(net.ipv4.ip_forward=0 net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1) ;;
    esac
    nsx "$ns" sysctl -qw "${sysctls[@]}" >/dev/null
  done

  veth client eth0 r1 down
  veth r1 up censor in
  veth censor out r2 in
  veth r2 net2 client2 eth0
  veth r2 srv server eth0
  veth r2 ctl control eth0
  # the service addresses' home: a dummy interface; kernels without the dummy driver
  # get an ifb device instead (also a no-op interface that never carries traffic)
  ip -n vgl-server link add svc type dummy 2>/dev/null || ip -n vgl-server link add svc type ifb

  # no offloads anywhere: the censor must see real segments with real checksums
  local pair
  for pair in client:eth0 r1:down r1:up censor:in censor:out r2:in r2:net2 r2:srv r2:ctl \
              client2:eth0 server:eth0 control:eth0; do
    nsx "${pair%%:*}" ethtool -K "${pair#*:}" rx off tx off sg off tso off gso off gro off >/dev/null 2>&1 ||
      nsx "${pair%%:*}" ethtool -K "${pair#*:}" tx off gso off tso off gro off >/dev/null
  done
  nsx censor sysctl -qw net.ipv6.conf.in.disable_ipv6=1 net.ipv6.conf.out.disable_ipv6=1 >/dev/null

  # addresses, links up, routes: one ip -batch per namespace
  batch() { local ns=$1; shift; printf '%s\n' "$@" | ip -n "vgl-$ns" -batch -; }
  batch client "link set dev lo up" "link set dev eth0 up" \
    "addr add 198.18.1.10/24 dev eth0" "addr add fd00:1::10/64 dev eth0 nodad" \
    "route add default via 198.18.1.1" "route add default via fd00:1::1"
  batch client2 "link set dev lo up" "link set dev eth0 up" \
    "addr add 198.18.2.10/24 dev eth0" "addr add fd00:2::10/64 dev eth0 nodad" \
    "route add default via 198.18.2.1" "route add default via fd00:2::1"
  batch r1 "link set dev lo up" "link set dev down up" "link set dev up up" \
    "addr add 198.18.1.1/24 dev down" "addr add fd00:1::1/64 dev down nodad" \
    "addr add 198.18.11.1/30 dev up" "addr add fd00:11::1/64 dev up nodad" \
    "route add default via 198.18.11.2" "route add default via fd00:11::2"
  batch censor "link set dev lo up" "link set dev in up" "link set dev out up"
  batch r2 "link set dev lo up" "link set dev in up" "link set dev net2 up" "link set dev srv up" "link set dev ctl up" \
    "addr add 198.18.11.2/30 dev in" "addr add fd00:11::2/64 dev in nodad" \
    "addr add 198.18.2.1/24 dev net2" "addr add fd00:2::1/64 dev net2 nodad" \
    "addr add 198.18.20.1/24 dev srv" "addr add fd00:20::1/64 dev srv nodad" \
    "addr add 198.18.30.1/24 dev ctl" "addr add fd00:30::1/64 dev ctl nodad" \
    "route add 198.18.1.0/24 via 198.18.11.1" "route add fd00:1::/64 via fd00:11::1" \
    "route add 198.18.64.0/18 via 198.18.20.2" "route add fd00:64::/64 via fd00:20::2"
  batch control "link set dev lo up" "link set dev eth0 up" \
    "addr add 198.18.30.2/24 dev eth0" "addr add fd00:30::2/64 dev eth0 nodad" \
    "route add default via 198.18.30.1" "route add default via fd00:30::1"

  # the server: its link, the resolver's address, and every service address on svc
  local cmds=("link set dev lo up" "link set dev eth0 up" "link set dev svc up"
              "addr add 198.18.20.2/24 dev eth0" "addr add 198.18.20.53/24 dev eth0"
              "addr add fd00:20::2/64 dev eth0 nodad" "addr add fd00:20::53/64 dev eth0 nodad"
              "route add default via 198.18.20.1" "route add default via fd00:20::1")
  local name kind real v4 v6 rest
  declare -A seen=()
  while IFS=, read -r name kind real v4 v6 rest; do
    [ "$name" = name ] && continue
    in_service_range "$v4" || continue
    [ -n "${seen[$v4]:-}" ] && continue
    seen[$v4]=1
    cmds+=("addr add $v4/32 dev svc" "addr add $v6/128 dev svc nodad")
  done <"$ENDPOINTS"
  batch server "${cmds[@]}"

  # resolv.conf for each namespace (ip netns exec bind-mounts it over /etc/resolv.conf)
  for ns in "${NAMESPACES[@]}"; do mkdir -p "/etc/netns/vgl-$ns"; done
  echo "nameserver 198.18.1.1" >/etc/netns/vgl-client/resolv.conf
  echo "nameserver 198.18.2.1" >/etc/netns/vgl-client2/resolv.conf
  echo "nameserver 198.18.1.1" >/etc/netns/vgl-r1/resolv.conf
  echo "nameserver 198.18.2.1" >/etc/netns/vgl-r2/resolv.conf
  for ns in server control censor; do
    echo "nameserver 198.18.20.53" >"/etc/netns/vgl-$ns/resolv.conf"
  done
  for ns in "${NAMESPACES[@]}"; do
    printf '127.0.0.1 localhost\n::1 localhost\n' >"/etc/netns/vgl-$ns/hosts"
  done
}

in_service_range() { # 198.18.64.0/18 = 198.18.64.x .. 198.18.127.x
  local o3
  [[ $1 == 198.18.* ]] || return 1
  o3=$(cut -d. -f3 <<<"$1")
  [ "$o3" -ge 64 ] && [ "$o3" -le 127 ]
}

# --- certificates, mmdb -----------------------------------------------------------------

make_certs() {
  local d=$STATE
  if [ ! -s "$d/ca.pem" ] || [ ! -s "$d/ca.key" ]; then
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout "$d/ca.key" -out "$d/ca.pem" -days 3650 -sha256 \
      -subj "/O=vigil lab/CN=vigil lab CA" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -addext "subjectKeyIdentifier=hash" 2>/dev/null
  fi
  local sans="DNS:*.whatsapp.net,DNS:*.whatsapp.com,DNS:*.telegram.org,DNS:*.signal.org"
  # Every name a messaging experiment handshakes with (the hosts below add each one too).
  sans+=",DNS:*.facebook.com,DNS:*.c10r.facebook.com,DNS:*.fbcdn.net,DNS:*.xx.fbcdn.net"
  sans+=",DNS:*.fbsbx.com"
  sans+=",DNS:*.weixin.qq.com,DNS:*.qq.com,DNS:*.wechat.com,DNS:*.lab.test"
  local name kind rest
  while IFS=, read -r name kind rest; do
    [ "$kind" = host ] && sans+=",DNS:$name"
  done <"$ENDPOINTS"
  cat >"$d/server.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
subjectAltName=$sans
EOF
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$d/server.key" -out "$d/server.csr" -subj "/O=vigil lab/CN=vigil lab servers" 2>/dev/null
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
    -out "$d/server.pem" -days 825 -sha256 -extfile "$d/server.ext" 2>/dev/null
  cat "$d/server.pem" "$d/ca.pem" >"$d/server-chain.pem"
  rm -f "$d/server.csr"
  chmod 600 "$d/ca.key" "$d/server.key"
}

# --- server configs ---------------------------------------------------------------------

render() { # render TEMPLATE OUT DIR [KEY VALUE]...
  local tpl=$1 out=$2 dir=$3; shift 3
  local text
  text=$(<"$LAB_DIR/conf/$tpl")
  text=${text//@DIR@/$dir}
  text=${text//@STATE@/$STATE}
  while [ $# -ge 2 ]; do text=${text//@$1@/$2}; shift 2; done
  printf '%s\n' "$text" >"$out"
}

zone_of() { # the zone a host name lives in: its last two labels
  awk -F. '{ if (NF <= 2) print $0; else print $(NF-1) "." $NF }' <<<"$1"
}

service_of() { # the service a lab address belongs to, for page titles
  case $1 in
    198.18.70.*) echo Telegram ;; 198.18.71.*) echo WhatsApp ;; 198.18.72.*) echo Signal ;;
    198.18.73.*) echo Facebook ;; 198.18.74.*) echo WeChat ;; 198.18.64.*) echo "vigil lab" ;;
    *) echo "$2" ;;
  esac
}

# nginx's server blocks (STATE/nginx/vhosts.conf): one per name / IP literal, on its
# own lab address. A name STATE/servers/failing lists ("MODE NAME" lines, from the
# scenario's servers.failing) answers 503 to everything (http_503), or gets no block
# and its web ports go to the reset listener (tcp_reset; STATE/servers/reset-endpoints).
write_vhosts() {
  local v="$STATE/nginx/vhosts.conf" r="$STATE/servers/reset-endpoints" title svc name kind real v4 v6 mode port
  declare -A failing=()
  while read -r mode name; do [ -n "$name" ] && failing[$name]=$mode; done <"$STATE/servers/failing"
  : >"$v"
  : >"$r"
  while IFS=, read -r name kind real v4 v6 _; do
    [ "$name" = name ] && continue
    in_service_range "$v4" || continue
    svc=$(service_of "$v4" "$name")
    title="$svc (lab)"
    mode=${failing[$name]:-}
    if [ "$mode" = tcp_reset ]; then
      # no server block: reset_listener.pl takes the name's web ports
      for port in 80 443 $([ "$kind" = ip ] && echo 5222) \
                  $(case $name in long.*|sglong.*|uslong.*|szlong.*) echo 8080 ;; esac); do
        printf '%s %s\n%s %s\n' "$v4" "$port" "$v6" "$port" >>"$r"
      done
      continue
    fi
    {
      echo "server {"
      if [ "$kind" = ip ]; then
        # Telegram data centres: plain HTTP on 80 and on 443 (no TLS), any method,
        # and an open TCP port 5222 (MTProto's alternative port)
        echo "    listen $v4:80; listen [$v6]:80; listen $v4:443; listen [$v6]:443;"
        echo "    listen $v4:5222; listen [$v6]:5222;"
        echo "    server_name _;"
        if [ "$mode" = http_503 ]; then echo "    return 503;"; fi
        echo "    location / { default_type text/plain; return 200 'Telegram (lab) data centre $real\n'; }"
      else
        echo "    listen $v4:80; listen [$v6]:80; listen $v4:443 ssl; listen [$v6]:443 ssl;"
        case $name in long.*|sglong.*|uslong.*|szlong.*) echo "    listen $v4:8080; listen [$v6]:8080;" ;; esac
        echo "    server_name $name;"
        if [ "$mode" = http_503 ]; then echo "    return 503;"; fi
        echo "    location / { return 200 '<!DOCTYPE html><html><head><title>$title</title></head><body><h1>$title</h1><p>$name</p></body></html>\n'; }"
        case $name in
          v.whatsapp.net)
            echo "    location = /v2/register { default_type application/json; return 200 '{\"status\":\"fail\",\"reason\":\"missing_param\"}\n'; }" ;;
          short.weixin.qq.com|szshort.weixin.qq.com)
            echo "    location /mmtls/ { default_type application/octet-stream; return 200 'mmtls (lab)\n'; }" ;;
          dns.weixin.qq.com)
            echo "    location = /cgi-bin/micromsg-bin/newgetdns { default_type text/xml; return 200 '<dns><domainlist><domain name=\"long.weixin.qq.com\"><ip>198.18.74.2</ip></domain><domain name=\"short.weixin.qq.com\"><ip>198.18.74.3</ip></domain></domainlist></dns>\n'; }" ;;
          mp.weixin.qq.com)
            # public-account articles: the stand-in platform, when the scenario runs one
            echo "    location /s/ { proxy_pass http://lab_platform; }" ;;
        esac
      fi
      echo "    location = /large { default_type application/octet-stream; alias $STATE/www/large.bin; }"
      echo "}"
    }
  done <"$ENDPOINTS" >>"$v"
}

write_configs() {
  local name kind real v4 v6
  mkdir -p "$STATE"/{pids,unbound-server,unbound-r1,unbound-r2,nginx/tmp,prosody/data,prosody/certs,mosquitto,coturn,censor,www,servers}
  touch "$STATE/servers/failing"

  # unbound: authoritative data for every host name, A and AAAA, TTL 300
  local zones="" data="" z
  declare -A zseen=()
  while IFS=, read -r name kind real v4 v6 _; do
    [ "$kind" = host ] || continue
    z=$(zone_of "$name")
    if [ -z "${zseen[$z]:-}" ]; then zseen[$z]=1; zones+="    local-zone: \"$z.\" static"$'\n'; fi
    data+="    local-data: \"$name. 300 IN A $v4\""$'\n'
    data+="    local-data: \"$name. 300 IN AAAA $v6\""$'\n'
  done <"$ENDPOINTS"
  render unbound-auth.conf.in "$STATE/unbound-server/unbound.conf" "$STATE/unbound-server" ZONES "$zones$data"
  render unbound-forward.conf.in "$STATE/unbound-r1/unbound.conf" "$STATE/unbound-r1" \
    NAME "vgl-r1" ADDR4 198.18.1.1 ADDR6 fd00:1::1
  render unbound-forward.conf.in "$STATE/unbound-r2/unbound.conf" "$STATE/unbound-r2" \
    NAME "vgl-r2" ADDR4 198.18.2.1 ADDR6 fd00:2::1

  # nginx: one server block per name / IP literal, on its own lab address
  [ -s "$STATE/www/large.bin" ] || head -c 10485760 /dev/urandom >"$STATE/www/large.bin"
  write_vhosts
  render nginx.conf.in "$STATE/nginx/nginx.conf" "$STATE/nginx" PLATFORM_PORT "$PLATFORM_PORT"

  # prosody: c2s on chat.lab.test and every WhatsApp lab address; accounts alice, bob
  local ifs="\"198.18.64.10\", \"fd00:64::64:10\""
  while IFS=, read -r name kind real v4 v6 _; do
    case $v4 in 198.18.71.*) ifs+=", \"$v4\", \"$v6\"" ;; esac
  done <"$ENDPOINTS"
  render prosody.cfg.lua.in "$STATE/prosody/prosody.cfg.lua" "$STATE/prosody" C2S_INTERFACES "$ifs"
  local acc="$STATE/prosody/data/chat%2elab%2etest/accounts" user
  mkdir -p "$acc"
  for user in alice bob; do
    printf 'return {\n\t["password"] = "%s-lab-password";\n};\n' "$user" >"$acc/$user.dat"
  done
  printf '%s\n' "# XMPP test accounts on chat.lab.test (prosody, 5222, STARTTLS required)" \
    "alice@chat.lab.test alice-lab-password" "bob@chat.lab.test bob-lab-password" >"$STATE/accounts.txt"

  # mosquitto: 1883 plain, 8883 TLS, at edge-mqtt.facebook.com and mqtt.lab.test
  local l="" a
  for a in 198.18.73.5 fd00:64::73:5 198.18.64.11 fd00:64::64:11; do
    l+="listener 1883 $a"$'\n'
    l+="listener 8883 $a"$'\n'"certfile $STATE/server.pem"$'\n'"keyfile $STATE/server.key"$'\n'
  done
  render mosquitto.conf.in "$STATE/mosquitto/mosquitto.conf" "$STATE/mosquitto" LISTENERS "$l"

  # coturn: STUN at stun.fbsbx.com and stun.lab.test
  local li=""
  for a in 198.18.73.9 fd00:64::73:9 198.18.64.12 fd00:64::64:12; do li+="listening-ip=$a"$'\n'; done
  render turnserver.conf.in "$STATE/coturn/turnserver.conf" "$STATE/coturn" LISTENING_IPS "$li"

  cp "$ENDPOINTS" "$STATE/endpoints.csv"
  cat >"$STATE/lab.env" <<EOF
# source this file: paths of the running lab
VIGIL_LAB_STATE=$STATE
VIGIL_LAB_CA=$STATE/ca.pem
VIGIL_LAB_ASN_MMDB=$STATE/asn.mmdb
VIGIL_LAB_COUNTRY_MMDB=$STATE/country.mmdb
VIGIL_LAB_TRUTH=$STATE/truth.jsonl
VIGIL_LAB_ENDPOINTS=$STATE/endpoints.csv
EOF
}

# --- daemons ----------------------------------------------------------------------------

start() { # start NAME NS CMD... : runs CMD in vgl-NS in its own session, logs to NAME's dir
  local name=$1 ns=$2; shift 2
  local dir=$STATE/$name
  mkdir -p "$dir"
  setsid ip netns exec "vgl-$ns" "$@" </dev/null >>"$dir/stdout.log" 2>&1 &
  echo $! >"$STATE/pids/$name.pid"
}

log_of() {
  case $1 in
    unbound-*) echo "$STATE/$1/unbound.log" ;;
    nginx) echo "$STATE/nginx/error.log" ;;
    prosody) echo "$STATE/prosody/prosody.log" ;;
    mosquitto) echo "$STATE/mosquitto/mosquitto.log" ;;
    coturn) echo "$STATE/coturn/turnserver.log" ;;
    *) echo "$STATE/$1/stdout.log" ;;
  esac
}

show_log() {
  local f
  for f in "$(log_of "$1")" "$STATE/$1/stdout.log"; do
    [ -s "$f" ] || continue
    echo "---- $f (last 30 lines) ----" >&2
    tail -n 30 "$f" >&2
  done
}

start_servers() {
  start unbound-server server unbound -d -c "$STATE/unbound-server/unbound.conf"
  start unbound-r1 r1 unbound -d -c "$STATE/unbound-r1/unbound.conf"
  start unbound-r2 r2 unbound -d -c "$STATE/unbound-r2/unbound.conf"
  start nginx server nginx -e "$STATE/nginx/error.log" -p "$STATE/nginx" -c "$STATE/nginx/nginx.conf"
  start prosody server prosody -F --config "$STATE/prosody/prosody.cfg.lua"
  start mosquitto server mosquitto -c "$STATE/mosquitto/mosquitto.conf"
  start coturn server turnserver -c "$STATE/coturn/turnserver.conf" --no-stdout-log
}

find_censor() {
  local c
  for c in "${VIGIL_LAB_CENSOR:-}" "$REPO_DIR/build/dev/tests/lab/lab_censor"; do
    [ -n "$c" ] && [ -x "$c" ] && { echo "$c"; return 0; }
  done
  return 1
}

resolve_scenario() {
  local scen=$1
  if [ -f "$scen" ]; then (cd "$(dirname "$scen")" && echo "$PWD/$(basename "$scen")"); return; fi
  [ -f "$LAB_DIR/scenarios/$scen.yaml" ] && { echo "$LAB_DIR/scenarios/$scen.yaml"; return; }
  die "no scenario '$scen' (neither a file nor $LAB_DIR/scenarios/$scen.yaml)"
}

wait_path() { # traffic passes client -> server through the censor
  local deadline=$(( $(now_ms) + ${1:-5000} ))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    if nsx client ping -c1 -W1 -q 198.18.20.2 >/dev/null 2>&1 &&
       nsx client ping -6 -c1 -W1 -q fd00:20::2 >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.05
  done
  return 1
}

start_censor() { # start_censor SCENARIO_FILE
  local file=$1 bin
  if [ "$NO_CENSOR" = 1 ] || [ "$(cat "$STATE/censor/mode" 2>/dev/null)" = bridge ]; then
    if ! nsx censor ip link show br0 >/dev/null 2>&1; then
      printf '%s\n' "link add br0 type bridge stp_state 0 forward_delay 0" "link set dev in master br0" \
        "link set dev out master br0" "link set dev br0 up" | ip -n vgl-censor -batch -
      nsx censor sysctl -qw net.ipv6.conf.br0.disable_ipv6=1 >/dev/null
    fi
    echo bridge >"$STATE/censor/mode"
    echo "none (kernel bridge, --no-censor)" >"$STATE/scenario"
    : >"$STATE/truth.jsonl"
    return 0
  fi
  bin=$(find_censor) || die "lab_censor not found: build it (cmake --build --preset dev --target lab_censor) or set VIGIL_LAB_CENSOR; 'lab.sh up --no-censor' bridges without a censor"
  if ! "$bin" --scenario "$file" --check >"$STATE/censor/check.log" 2>&1; then
    cat "$STATE/censor/check.log" >&2
    die "scenario $file does not validate"
  fi
  echo censor >"$STATE/censor/mode"
  echo "$file" >"$STATE/scenario"
  start censor censor "$bin" --in in --out out --scenario "$file" --truth "$STATE/truth.jsonl"
}

stop_censor() { stop_daemon censor; }

find_platform() { # $VIGIL_LAB_PLATFORM, else the one built beside the censor in use
  local c censor
  censor=$(find_censor) || censor=$REPO_DIR/build/dev/tests/lab/lab_censor
  for c in "${VIGIL_LAB_PLATFORM:-}" "$(dirname "$censor")/lab_platform"; do
    [ -n "$c" ] && [ -x "$c" ] && { echo "$c"; return 0; }
  done
  return 1
}

# The stand-in platform of a scenario with a `platform` section (SETTINGS, lab_settings'
# lines, say "platform true"): started in vgl-server, its phases counted from now, and
# waited for until it answers. Its truth file starts afresh either way.
start_platform() { # start_platform SCENARIO_FILE SETTINGS
  local bin deadline
  : >"$STATE/platform-truth.jsonl"
  grep -qx 'platform true' <<<"$2" || return 0
  bin=$(find_platform) || die "lab_platform not found: build it (cmake --build --preset dev --target lab_platform) or set VIGIL_LAB_PLATFORM"
  start platform server "$bin" --scenario "$1" --listen "127.0.0.1:$PLATFORM_PORT" \
    --truth "$STATE/platform-truth.jsonl"
  deadline=$(( $(now_ms) + 5000 ))
  until nsx server curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$PLATFORM_PORT/"; do
    if [ "$(now_ms)" -ge "$deadline" ]; then show_log platform; die "lab_platform did not come up"; fi
    sleep 0.05
  done
}

stop_platform() { stop_daemon platform; }

stop_daemon() { # stop_daemon NAME: TERM the daemon of STATE/pids/NAME.pid, KILL after 3 s
  local pid
  pid=$(cat "$STATE/pids/$1.pid" 2>/dev/null || true)
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$(( $(now_ms) + 3000 ))
  while kill -0 "$pid" 2>/dev/null && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.02; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$STATE/pids/$1.pid"
}

# --- what a scenario asks of the lab besides the censor ---------------------------------

lab_settings() { # lab_settings SCENARIO_FILE: the scenario's `lab_censor --lab-settings` lines
  local bin out
  bin=$(find_censor) || die "lab_censor not found (build it, or set VIGIL_LAB_CENSOR)"
  out=$("$bin" --scenario "$1" --lab-settings 2>&1) || { echo "$out" >&2; die "scenario $1 does not validate"; }
  # every failing server must be one vgl-server serves
  local word mode name v4
  while read -r word mode name; do
    [ "$word" = failing ] || continue
    v4=$(awk -F, -v n="$name" '$1 == n {print $4}' "$ENDPOINTS")
    if [ -z "$v4" ] || ! in_service_range "$v4"; then
      die "scenario $1: servers.failing: $name is not a name served in vgl-server (see endpoints.csv)"
    fi
  done <<<"$out"
  echo "$out"
}

# The ISP resolvers (vgl-r1, vgl-r2) forget what the last scenario taught them: their
# caches (the lab runs them without answer caches, but the infrastructure cache keeps
# each upstream's round-trip time and timeouts), and the queries still in flight.
flush_resolvers() {
  local r cmd
  for r in r1 r2; do
    for cmd in "flush_zone ." flush_negative flush_bogus "flush_infra all" flush_requestlist; do
      # shellcheck disable=SC2086 # the command and its argument
      nsx "$r" unbound-control -c "$STATE/unbound-$r/unbound.conf" $cmd >/dev/null ||
        die "cannot flush the resolver in vgl-$r (unbound-control $cmd)"
    done
  done
}

# Makes the servers fail as SETTINGS (lab_settings' lines) say: nginx reloaded with
# 503s or without the names the reset listener takes; waits until every name whose
# mode changed behaves so, seen from vgl-control.
apply_servers() { # apply_servers SETTINGS
  local want had
  want=$(awk '$1 == "failing" {print $2, $3}' <<<"$1")
  had=$(cat "$STATE/servers/failing")
  [ "$want" = "$had" ] && return 0
  if [ -n "$want" ]; then echo "$want" >"$STATE/servers/failing"; else : >"$STATE/servers/failing"; fi
  stop_daemon resetter
  write_vhosts
  nsx server nginx -e "$STATE/nginx/error.log" -p "$STATE/nginx" -c "$STATE/nginx/nginx.conf" \
    -s reload >>"$STATE/nginx/stdout.log" 2>&1 || { show_log nginx; die "nginx did not reload"; }
  if [ -s "$STATE/servers/reset-endpoints" ]; then
    start resetter server perl "$LAB_DIR/reset_listener.pl" "$STATE/servers/reset-endpoints"
  fi
  # shellcheck disable=SC2046 # the names: one word each
  wait_servers $(awk '{print $2}' <<<"$had"$'\n'"$want" | sort -u) ||
    { show_log nginx; show_log resetter; die "the servers do not fail as the scenario says"; }
}

wait_servers() { # wait_servers NAME...: until each answers as STATE/servers/failing says
  local deadline=$(( $(now_ms) + 8000 )) name mode v4 code rc pending
  declare -A want=()
  while read -r mode name; do [ -n "$name" ] && want[$name]=$mode; done <"$STATE/servers/failing"
  while :; do
    pending=()
    for name in "$@"; do
      v4=$(awk -F, -v n="$name" '$1 == n {print $4}' "$ENDPOINTS")
      rc=0
      code=$(nsx control curl -s -o /dev/null --max-time 2 -w '%{http_code}' -H "Host: $name" \
             "http://$v4/" 2>/dev/null) || rc=$?
      case ${want[$name]:-ok} in
        ok) [ "$code" = 200 ] ;;
        http_503) [ "$code" = 503 ] ;;
        tcp_reset) [ "$rc" = 56 ] ;;  # curl: recv failure, connection reset
      esac || pending+=("$name")
    done
    [ ${#pending[@]} = 0 ] && return 0
    if [ "$(now_ms)" -ge "$deadline" ]; then say "not yet as the scenario says: ${pending[*]}"; return 1; fi
    sleep 0.1
  done
}

# --- checks -----------------------------------------------------------------------------

# Runs inside vgl-control (uncensored path to the servers) as `lab.sh __check STATE`.
# Prints "FAIL <daemon> <what>" lines; exit status = number of failures.
check_inside() {
  local fails=0 out
  fail() { echo "FAIL $1 $2"; fails=$((fails + 1)); }
  local ca=$STATE/ca.pem
  local c=(curl -sS --max-time 3 --cacert "$ca" -o /dev/null -w '%{http_code}')
  # DNS: every host name, A and AAAA, from the authoritative source
  local q="$STATE/dig-batch.txt" exp="$STATE/dig-expected.txt" name kind real v4 v6 rest
  : >"$q"; : >"$exp"
  while IFS=, read -r name kind real v4 v6 rest; do
    [ "$kind" = host ] || continue
    echo "$name A" >>"$q"; echo "$name AAAA" >>"$q"
    echo "$v4" >>"$exp"; echo "$v6" >>"$exp"
  done <"$STATE/endpoints.csv"
  out=$(dig @198.18.20.53 +short +tries=1 +time=2 -f "$q" 2>&1) || true
  [ "$out" = "$(cat "$exp")" ] || fail unbound-server "authoritative answers differ from endpoints.csv"
  out=$(dig @198.18.20.53 +tries=1 +time=2 nosuchname.whatsapp.net A 2>&1) || true
  grep -q 'status: NXDOMAIN' <<<"$out" || fail unbound-server "unknown name under a lab zone is not NXDOMAIN"
  out=$(dig @fd00:20::53 +short +tries=1 +time=2 web.whatsapp.com AAAA 2>&1) || true
  [ "$out" = "fd00:64::71:3" ] || fail unbound-server "no answer over IPv6 ($out)"
  # HTTP/HTTPS, one of each kind
  [ "$("${c[@]}" https://web.whatsapp.com/)" = 200 ] || fail nginx "https://web.whatsapp.com/"
  out=$(curl -sS --max-time 3 --cacert "$ca" https://web.telegram.org/ 2>&1) || true
  grep -q '<title>Telegram (lab)</title>' <<<"$out" || fail nginx "https://web.telegram.org/ title"
  [ "$("${c[@]}" -6 https://web.whatsapp.com/)" = 200 ] || fail nginx "https://web.whatsapp.com/ over IPv6"
  [ "$("${c[@]}" http://www.lab.test/)" = 200 ] || fail nginx "http://www.lab.test/"
  [ "$("${c[@]}" https://v.whatsapp.net/v2/register)" = 200 ] || fail nginx "https://v.whatsapp.net/v2/register"
  [ "$("${c[@]}" -X POST -d x http://198.18.70.1/)" = 200 ] || fail nginx "POST http://<DC1>/"
  [ "$("${c[@]}" -X POST -d x http://198.18.70.2:443/)" = 200 ] || fail nginx "POST http://<DC2>:443/"
  [ "$("${c[@]}" http://long.weixin.qq.com:8080/)" = 200 ] || fail nginx "http://long.weixin.qq.com:8080/"
  [ "$("${c[@]}" -X POST -d x http://short.weixin.qq.com/mmtls/0a1b2c)" = 200 ] || fail nginx "POST short.weixin.qq.com/mmtls/"
  [ "$("${c[@]}" https://dns.weixin.qq.com/cgi-bin/micromsg-bin/newgetdns)" = 200 ] || fail nginx "newgetdns"
  [ "$("${c[@]}" https://www.minghui.org/)" = 200 ] || fail nginx "https://www.minghui.org/"
  out=$(curl -sS --max-time 5 --cacert "$ca" -o /dev/null -w '%{size_download}' https://www.lab.test/large 2>&1) || true
  [ "$out" = 10485760 ] || fail nginx "https://www.lab.test/large ($out bytes)"
  # XMPP, MQTT, STUN
  nc -z -w 2 chat.lab.test 5222 || fail prosody "chat.lab.test:5222"
  nc -z -w 2 e1.whatsapp.net 5222 || fail prosody "e1.whatsapp.net:5222"
  out=$(echo | timeout 5 openssl s_client -connect 198.18.64.10:5222 -starttls xmpp -xmpphost chat.lab.test \
        -CAfile "$ca" -verify_hostname chat.lab.test -verify_return_error 2>&1) || true
  grep -q 'Verify return code: 0' <<<"$out" || fail prosody "STARTTLS on chat.lab.test:5222"
  nc -z -w 2 edge-mqtt.facebook.com 1883 || fail mosquitto "edge-mqtt.facebook.com:1883"
  timeout 5 mosquitto_pub -h edge-mqtt.facebook.com -p 8883 --cafile "$ca" -t lab/check -m ok -q 1 \
    >/dev/null 2>&1 || fail mosquitto "MQTT publish over TLS to edge-mqtt.facebook.com:8883"
  timeout 5 mosquitto_pub -h mqtt.lab.test -p 1883 -t lab/check -m ok >/dev/null 2>&1 || fail mosquitto "mqtt.lab.test:1883"
  out=$(timeout 5 turnutils_stunclient -p 3478 198.18.73.9 2>&1) || true
  grep -q 'UDP reflexive addr: 198.18.30.2' <<<"$out" || fail coturn "STUN binding at stun.fbsbx.com (198.18.73.9:3478/udp)"
  nc -z -w 2 198.18.64.12 3478 || fail coturn "stun.lab.test:3478/tcp"
  return $fails
}

run_checks() {
  local deadline=$(( $(now_ms) + 8000 )) out rc
  while :; do
    rc=0
    out=$(nsx control bash "$LAB_DIR/lab.sh" __check --state "$STATE" 2>&1) || rc=$?
    [ $rc = 0 ] && break
    [ "$(now_ms)" -ge "$deadline" ] && break
    sleep 0.2
  done
  # the path through the censor: resolvers of both networks, and the hops
  if [ $rc = 0 ]; then
    local a
    a=$(nsx client dig +short +tries=1 +time=2 www.lab.test A 2>&1) || true
    [ "$a" = 198.18.64.1 ] || { out+="FAIL unbound-r1 dig www.lab.test via 198.18.1.1 from vgl-client: $a"$'\n'; rc=1; }
    a=$(nsx client2 dig +short +tries=1 +time=2 web.whatsapp.com AAAA 2>&1) || true
    [ "$a" = fd00:64::71:3 ] || { out+="FAIL unbound-r2 dig web.whatsapp.com via 198.18.2.1 from vgl-client2: $a"$'\n'; rc=1; }
    a=$(nsx client traceroute -n -q1 -w1 -m5 198.18.20.2 2>&1 | awk 'NR>1 {printf "%s ", $2}') || true
    [ "$a" = "198.18.1.1 198.18.11.2 198.18.20.2 " ] ||
      { out+="FAIL censor traceroute from vgl-client to 198.18.20.2: $a"$'\n'; rc=1; }
  fi
  if [ $rc != 0 ]; then
    echo "$out" | grep '^FAIL' >&2 || echo "$out" >&2
    local d
    for d in $(echo "$out" | awk '/^FAIL/ {print $2}' | sort -u); do show_log "$d"; done
    return 1
  fi
}

# --- commands ---------------------------------------------------------------------------

cmd_up() {
  [ "$(id -u)" = 0 ] || die "lab.sh up needs root (network namespaces)"
  local t0 tool
  t0=$(now_ms)
  for tool in ip ethtool unbound nginx prosody mosquitto turnserver openssl perl dig curl nc \
              traceroute ping mosquitto_pub turnutils_stunclient; do
    command -v "$tool" >/dev/null || die "$tool not installed (run scripts/setup.sh)"
  done
  local scen_file="" settings=""
  [ "$NO_CENSOR" = 1 ] || scen_file=$(resolve_scenario "$SCENARIO")
  [ "$NO_CENSOR" = 1 ] || find_censor >/dev/null ||
    die "lab_censor not found (looked at \$VIGIL_LAB_CENSOR and $REPO_DIR/build/dev/tests/lab/lab_censor); build it, or use --no-censor for a plain kernel bridge"
  [ "$NO_CENSOR" = 1 ] || settings=$(lab_settings "$scen_file")

  mkdir -p "$STATE"
  STATE=$(cd "$STATE" && pwd)
  teardown # a stale lab from a crashed run
  rm -rf "$STATE"/{pids,unbound-server,unbound-r1,unbound-r2,nginx,prosody,mosquitto,coturn,censor,resetter,platform,servers}
  rm -f "$STATE/truth.jsonl" "$STATE/platform-truth.jsonl" "$STATE/scenario"

  UP_DONE=0
  trap 'rc=$?; if [ "$UP_DONE" != 1 ]; then say "up failed (exit $rc), tearing down"; [ -n "${VIGIL_LAB_KEEP:-}" ] || teardown; fi; exit $rc' EXIT
  trap 'say "failed: $BASH_COMMAND (line $LINENO)"' ERR
  trap 'exit 130' INT
  trap 'exit 143' TERM

  build_topology
  make_certs
  perl "$LAB_DIR/make_mmdb.pl" "$ENDPOINTS" "$STATE"
  write_configs
  start_servers
  start_censor "$scen_file"
  start_platform "$scen_file" "$settings"
  if ! wait_path 5000; then
    say "no traffic passes vgl-client -> vgl-server through the censor"
    show_log censor
    exit 1
  fi
  run_checks || { say "servers did not come up"; exit 1; }
  apply_servers "$settings"

  UP_DONE=1
  trap - EXIT ERR INT TERM
  local t1
  t1=$(now_ms)
  say "up in $(( (t1 - t0) / 1000 )).$(printf '%03d' $(( (t1 - t0) % 1000 ))) s; scenario: $(cat "$STATE/scenario")"
  say "state: $STATE (ca.pem, asn.mmdb, country.mmdb, truth.jsonl, logs; lab.env)"
  echo "$STATE"
}

cmd_down() {
  [ "$(id -u)" = 0 ] || die "lab.sh down needs root"
  [ -d "$STATE" ] && STATE=$(cd "$STATE" && pwd)
  teardown
}

cmd_status() {
  local ns up=0 name pid
  for ns in "${NAMESPACES[@]}"; do ns_exists "$ns" && up=$((up + 1)); done
  if [ $up = 0 ]; then echo "lab: down"; return 3; fi
  echo "lab: $up/${#NAMESPACES[@]} namespaces up; state $STATE"
  echo "scenario: $(cat "$STATE/scenario" 2>/dev/null || echo '?')"
  for name in "${DAEMONS[@]}"; do
    pid=$(cat "$STATE/pids/$name.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      printf '  %-15s running (pid %s)\n' "$name" "$pid"
    elif [ "$name" = censor ] && [ "$(cat "$STATE/censor/mode" 2>/dev/null)" = bridge ]; then
      printf '  %-15s kernel bridge (--no-censor)\n' "$name"
    elif [ "$name" = resetter ] && [ -z "$pid" ]; then
      continue  # runs only while a scenario has tcp_reset servers
    elif [ "$name" = platform ] && [ -z "$pid" ]; then
      continue  # runs only while a scenario has a platform section
    else
      printf '  %-15s NOT RUNNING (log: %s)\n' "$name" "$(log_of "$name")"
    fi
  done
  [ -f "$STATE/truth.jsonl" ] && echo "truth: $STATE/truth.jsonl ($(wc -l <"$STATE/truth.jsonl") lines)"
  [ -s "$STATE/platform-truth.jsonl" ] &&
    echo "platform truth: $STATE/platform-truth.jsonl ($(wc -l <"$STATE/platform-truth.jsonl") lines)"
  [ $up = ${#NAMESPACES[@]} ] || return 1
}

cmd_exec() {
  [ $# -ge 2 ] || die "usage: lab.sh exec NS CMD..."
  local ns=${1#vgl-}; shift
  ns_exists "$ns" || die "no namespace vgl-$ns (is the lab up?)"
  exec ip netns exec "vgl-$ns" "$@"
}

cmd_scenario() {
  [ -n "${1:-}" ] || die "usage: lab.sh scenario NAME|FILE"
  ns_exists censor || die "the lab is not up"
  [ "$(cat "$STATE/censor/mode" 2>/dev/null)" != bridge ] || die "lab is up with --no-censor; run 'lab.sh up --scenario $1'"
  local file settings
  file=$(resolve_scenario "$1")
  settings=$(lab_settings "$file")
  stop_censor
  stop_platform
  apply_servers "$settings"
  start_censor "$file"
  start_platform "$file" "$settings"
  if ! wait_path 5000; then
    show_log censor
    die "no traffic passes through the censor with scenario $file"
  fi
  # After the new censor is up, so no query of the switch's gap lingers in them.
  if grep -qx 'keep_resolver_cache true' <<<"$settings"; then
    say "resolver caches kept (keep_resolver_cache: true)"
  else
    flush_resolvers
  fi
  say "censor restarted with $file; truth: $STATE/truth.jsonl"
  [ ! -s "$STATE/platform-truth.jsonl" ] || say "platform restarted; truth: $STATE/platform-truth.jsonl"
}

main() {
  [ $# -ge 1 ] || usage
  local cmd=$1; shift
  local args=()
  if [ "$cmd" = exec ]; then cmd_exec "$@"; fi
  while [ $# -gt 0 ]; do
    case $1 in
      --state) STATE=${2:?--state needs a directory}; shift 2 ;;
      --state=*) STATE=${1#*=}; shift ;;
      --scenario) SCENARIO=${2:?--scenario needs a name or file}; shift 2 ;;
      --scenario=*) SCENARIO=${1#*=}; shift ;;
      --no-censor) NO_CENSOR=1; shift ;;
      -h|--help) usage ;;
      *) args+=("$1"); shift ;;
    esac
  done
  case $cmd in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    scenario) cmd_scenario "${args[@]}" ;;
    __check) check_inside ;;
    -h|--help|help) usage ;;
    *) die "unknown command '$cmd' (up, down, status, exec, scenario)" ;;
  esac
}

main "$@"
