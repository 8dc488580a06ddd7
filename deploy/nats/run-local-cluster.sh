#!/usr/bin/env bash
# The 3-node JetStream cluster of nats-1.conf … nats-3.conf on ONE machine, all on 127.0.0.1
# with different ports: to try `ignite worker` against a real cluster, kill a node and watch the
# jobs go on. Not for production (three nodes on one disk survive no machine loss).
#
#   deploy/nats/run-local-cluster.sh start   # starts the three nodes, waits for a meta leader
#   deploy/nats/run-local-cluster.sh status  # each node's view: meta leader and peers
#   deploy/nats/run-local-cluster.sh stop [N] # stops them, or node N (SIGTERM); data is kept
#   deploy/nats/run-local-cluster.sh start   # again: starts what is not running, same data
#
# Ports: node i (1..3) listens for clients on BASE+i-1 (default 14222-14224), routes on
# BASE+2000+i-1 (16222-…), monitoring on BASE+4000+i-1 (18222-…). The default base is not
# 4222 because Debian's nats-server package runs a server on 127.0.0.1:4222 on systemd hosts.
# Configs, stores, logs and pid files go to NATS_LOCAL_DIR (default /tmp/ignite-nats-local).
set -euo pipefail

BASE="${NATS_LOCAL_PORT_BASE:-14222}"
DIR="${NATS_LOCAL_DIR:-/tmp/ignite-nats-local}"
NODES=(1 2 3)

log() { printf '[nats-local] %s\n' "$*" >&2; }

client_port() { echo $((BASE + $1 - 1)); }
route_port() { echo $((BASE + 2000 + $1 - 1)); }
monitor_port() { echo $((BASE + 4000 + $1 - 1)); }

urls() {
  local out="" i
  for i in "${NODES[@]}"; do out="${out:+$out,}nats://127.0.0.1:$(client_port "$i")"; done
  echo "$out"
}

# The same settings as nats-N.conf, with loopback addresses and this machine's ports.
write_config() {
  local i="$1" j routes=""
  for j in "${NODES[@]}"; do
    [ "$j" = "$i" ] || routes+="    nats-route://127.0.0.1:$(route_port "$j")"$'\n'
  done
  cat >"$DIR/nats-$i.conf" <<EOF
server_name: nats-$i
listen: 127.0.0.1:$(client_port "$i")
http: 127.0.0.1:$(monitor_port "$i")
jetstream {
  store_dir: "$DIR/nats-$i"
  max_memory_store: 256MB
  max_file_store: 2GB
}
cluster {
  name: ignite-local
  listen: 127.0.0.1:$(route_port "$i")
  routes: [
$routes  ]
}
EOF
}

# The pid of node i while it runs. A node that has exited but is not yet reaped (a zombie, state
# Z in /proc/PID/stat) does not count: kill -0 would still succeed on it.
pid_of() {
  local f="$DIR/nats-$1.pid" pid state
  [ -f "$f" ] || return 1
  pid="$(cat "$f")"
  state="$(sed 's/^.*) \(.\).*/\1/' "/proc/$pid/stat" 2>/dev/null)" || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ] && echo "$pid"
}

# "leader cluster_size current_peers" as node i's /jsz reports them ("" when it does not answer).
jsz_summary() {
  local jsz
  jsz="$(curl -fsS --max-time 2 "http://127.0.0.1:$(monitor_port "$1")/jsz" 2>/dev/null)" || return 0
  local leader size current
  leader="$(grep -o '"leader": *"[^"]*"' <<<"$jsz" | head -n1 | sed 's/.*: *"\(.*\)"/\1/')"
  size="$(grep -o '"cluster_size": *[0-9]*' <<<"$jsz" | head -n1 | grep -o '[0-9]*$')"
  current="$(grep -o '"current": *true' <<<"$jsz" | wc -l)"
  echo "${leader:--} ${size:-0} $current"
}

# Ready: every node answers /healthz, and all see the same meta leader in a cluster of 3 whose
# two other peers are current.
ready() {
  local i s l size current leader=""
  for i in "${NODES[@]}"; do
    curl -fsS --max-time 2 "http://127.0.0.1:$(monitor_port "$i")/healthz" >/dev/null 2>&1 || return 1
    read -r l size current <<<"$(jsz_summary "$i")"
    [ "${l:--}" != "-" ] && [ "${size:-0}" = 3 ] || return 1
    [ -z "$leader" ] || [ "$leader" = "$l" ] || return 1
    leader="$l"
  done
  # The meta leader lists the other two as replicas; both must be current.
  s="$(jsz_summary "${leader#nats-}")"
  [ "$(cut -d' ' -f3 <<<"$s")" -ge 2 ]
}

start() {
  command -v nats-server >/dev/null || PATH="$PATH:/usr/sbin"
  command -v nats-server >/dev/null || { log "nats-server is not installed (apt-get install nats-server)"; exit 1; }
  command -v curl >/dev/null || { log "curl is needed to wait for the cluster"; exit 1; }
  mkdir -p "$DIR"
  local i
  for i in "${NODES[@]}"; do
    if pid="$(pid_of "$i")"; then
      log "nats-$i already runs (pid $pid)"
      continue
    fi
    write_config "$i"
    nats-server -c "$DIR/nats-$i.conf" >>"$DIR/nats-$i.log" 2>&1 &
    echo $! >"$DIR/nats-$i.pid"
    log "nats-$i: pid $!, client port $(client_port "$i"), monitoring http://127.0.0.1:$(monitor_port "$i")"
  done
  for _ in $(seq 1 100); do
    if ready; then
      status
      log "ready: ignite worker --nats $(urls)"
      return 0
    fi
    sleep 0.2
  done
  log "no JetStream meta leader with 3 peers after 20 s; logs in $DIR/nats-*.log"
  status
  exit 1
}

status() {
  local i pid leader size current
  for i in "${NODES[@]}"; do
    if pid="$(pid_of "$i")"; then
      read -r leader size current <<<"$(jsz_summary "$i")"
      local peers=""
      [ "$leader" != "nats-$i" ] || peers=", $current other peers current"
      log "nats-$i (pid $pid): meta leader ${leader:--}, cluster size ${size:-?}$peers"
    else
      log "nats-$i: not running"
    fi
  done
}

# stop [N]: every node, or only node N (to watch the other two carry on).
stop() {
  local i pid
  for i in "${@:-${NODES[@]}}"; do
    if pid="$(pid_of "$i")"; then
      kill -TERM "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      log "nats-$i (pid $pid) stopped"
    fi
    rm -f "$DIR/nats-$i.pid"
  done
}

case "${1:-start}" in
  start) start ;;
  status) status ;;
  stop) shift; stop "$@" ;;
  urls) urls ;;
  *) echo "usage: $0 [start|status|stop [N]|urls]" >&2; exit 2 ;;
esac
