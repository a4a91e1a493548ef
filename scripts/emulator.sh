#!/usr/bin/env bash
# The emulated AWS (LocalStack 4.14.0): in Docker when a Docker engine answers, otherwise in host mode
# (LocalStack's runtime in-process from the project virtualenv, with the localstack-hostmode plugin
# for Lambda and DynamoDB). Usage: scripts/emulator.sh venv|up|down|status|logs
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly ROOT=$PWD
readonly VENV=$ROOT/.venv
readonly STATE_DIR=$ROOT/.localstack
readonly PID_FILE=$STATE_DIR/emulator.pid
readonly MODE_FILE=$STATE_DIR/emulator.mode
readonly LOG_FILE=$STATE_DIR/emulator.log
readonly RUNTIME_DIR=$STATE_DIR/lambda-runtime
readonly FILESYSTEM_ROOT=$STATE_DIR/filesystem
# Where the host-mode executor keeps unzipped code and environments: LocalStack's tmp directory.
readonly HOSTMODE_DIR=$FILESYSTEM_ROOT/tmp/localstack/hostmode
EMULATOR=${EMULATOR:-auto}

say() { printf '%s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The emulator's settings, defined once in emulator.env; a variable already in the environment
# (make's command line exports it) wins. Exported, so that LocalStack, its init hook and
# docker compose see the same values.
load_settings() {
  local key value
  while IFS='=' read -r key value; do
    [[ $key =~ ^[A-Z_][A-Z0-9_]*$ ]] || continue
    [[ -n ${!key+set} ]] || export "$key=$value"
  done <"$ROOT/emulator.env"
  if ! [[ $LOCALSTACK_PORT =~ ^[0-9]+$ ]] || ((10#$LOCALSTACK_PORT < 1 || 10#$LOCALSTACK_PORT > 65535)); then
    die "LOCALSTACK_PORT must be a TCP port number (got '$LOCALSTACK_PORT')"
  fi
  [[ -z $LOCALSTACK_DNS_PORT || $LOCALSTACK_DNS_PORT =~ ^[0-9]+$ ]] ||
    die "LOCALSTACK_DNS_PORT must be empty (no DNS server) or a UDP/TCP port number (got '$LOCALSTACK_DNS_PORT')"
  [[ ${SERVICES},${EXTRA_SERVICES} =~ ^[a-z0-9,-]*$ ]] ||
    die "SERVICES and EXTRA_SERVICES are comma-separated service names (got '$SERVICES' + '$EXTRA_SERVICES')"
}
load_settings
readonly PORT=$LOCALSTACK_PORT
readonly ENDPOINT=http://localhost:$PORT
# Every service LocalStack starts: the pipeline's plus the ones asked for.
readonly ALL_SERVICES=$SERVICES${EXTRA_SERVICES:+,$EXTRA_SERVICES}

# --- Python 3.13 and the virtualenv -------------------------------------------------------------

is_python313() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1; }

find_python313() {
  local candidate
  if [[ -n ${PYTHON:-} ]]; then
    command -v "$PYTHON"  # checked by check_requested_python
    return 0
  fi
  for candidate in python3.13 \
    "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python3.13 \
    /usr/local/bin/python3.13 /opt/homebrew/bin/python3.13 /usr/bin/python3.13; do
    [[ -n $candidate ]] && is_python313 "$candidate" && { command -v "$candidate"; return 0; }
  done
  return 1
}

stamp_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# PYTHON=... asks for an interpreter by name: that one or an error, never silently another.
check_requested_python() {
  [[ -z ${PYTHON:-} ]] || is_python313 "$PYTHON" && return 0
  local found
  found=$("$PYTHON" -c 'import sys; print("Python %d.%d.%d" % sys.version_info[:3])' 2>/dev/null) ||
    found="not a Python interpreter that runs"
  die "PYTHON=$PYTHON is $found; LocalStack 4.14.0 needs Python 3.13 (point PYTHON at a python3.13)"
}

ensure_venv() {
  check_requested_python
  if [[ ! -x $VENV/bin/python ]] || ! is_python313 "$VENV/bin/python"; then
    local python
    python=$(find_python313) || die "Python 3.13 is required (LocalStack 4.14.0 runs on 3.13 only) and was not found.
  Install it, e.g. 'pyenv install 3.13', 'uv python install 3.13', 'apt install python3.13' or
  'brew install python@3.13', or point to it: make up PYTHON=/path/to/python3.13"
    say "Creating the virtualenv .venv with $python"
    rm -rf "$VENV"
    "$python" -m venv "$VENV"
  fi
  local stamp
  stamp=$(stamp_of requirements/constraints.txt requirements/dev.in emulator/pyproject.toml pyproject.toml)
  if [[ $(cat "$VENV/.installed" 2>/dev/null) != "$stamp" ]]; then
    say "Installing pinned dependencies into .venv (requirements/constraints.txt)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
      -c requirements/constraints.txt -r requirements/dev.in -e ./emulator -e .
    # LocalStack finds plugins through plux's entry-point index in ~/.cache/plux, which can outlive
    # a change of the plugin's hooks (seen: a renamed hook silently not loaded): rebuilt on start.
    grep -l localstack_hostmode "${XDG_CACHE_HOME:-$HOME/.cache}"/plux/*.entry_points.txt 2>/dev/null \
      | xargs -r rm -f
    echo "$stamp" >"$VENV/.installed"
  fi
}

# The Lambda Python runtime that host-mode functions get instead of the virtualenv (see README): one
# directory per Python version Lambda runs (awslambdaric has a native extension), downloaded now so
# that `make up` needs no network later. A second run costs nothing (the installer keeps a stamp).
ensure_lambda_runtime() {
  # The layout before one directory per version: awslambdaric at the top.
  [[ -d $RUNTIME_DIR/awslambdaric ]] && rm -rf "$RUNTIME_DIR"
  "$VENV/bin/python" -m localstack_hostmode.runtimes install --into "$RUNTIME_DIR" \
    --requirements requirements/lambda-runtime.txt
}

# --- Docker -------------------------------------------------------------------------------------

docker_answers() { command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; }

compose() {
  if docker compose version >/dev/null 2>&1; then
    docker compose "$@"
  else
    docker-compose "$@"
  fi
}

# --- Process state ------------------------------------------------------------------------------

recorded_mode() { cat "$MODE_FILE" 2>/dev/null || true; }

host_pid() {
  local pid
  pid=$(cat "$PID_FILE" 2>/dev/null) || return 1
  # The pid must still be our LocalStack, not a recycled number.
  [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "localstack.runtime.main" && echo "$pid"
}

is_running() {
  case $(recorded_mode) in
    host) host_pid >/dev/null ;;
    docker) [[ -n $(compose ps --status running --quiet localstack 2>/dev/null) ]] ;;
    *) return 1 ;;
  esac
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

dns_port_free() {
  "$VENV/bin/python" - "$LOCALSTACK_DNS_PORT" <<'PY'
import socket, sys
for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as probe:
        try:
            probe.bind(("127.0.0.1", int(sys.argv[1])))
        except OSError:
            sys.exit(1)
PY
}

describe_port_owner() {
  if command -v ss >/dev/null 2>&1; then
    ss -ltnpH "sport = :$PORT" 2>/dev/null | sed 's/^/  /'
  fi
}

choose_mode() {
  case $EMULATOR in
    docker | host) echo "$EMULATOR" ;;
    auto) if docker_answers; then echo docker; else echo host; fi ;;
    *) die "EMULATOR must be docker, host or auto (got '$EMULATOR')" ;;
  esac
}

# --- Commands -----------------------------------------------------------------------------------

# Host mode runs the localstack-core that requirements/constraints.txt pins into .venv.
check_host_localstack_version() {
  local installed
  installed=$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("localstack-core"))')
  [[ $installed == "$LOCALSTACK_VERSION" ]] || die "LOCALSTACK_VERSION=$LOCALSTACK_VERSION, but host mode runs localstack-core $installed
  (pinned in requirements/constraints.txt). Change both together, then: make lock && make venv"
}

start_host() {
  ensure_lambda_runtime
  # LocalStack reads init hooks from $FILESYSTEM_ROOT/etc/localstack/init/ready.d in host mode:
  # point it at init/, the same files docker-compose mounts into the container.
  # OVERRIDE_IN_DOCKER=0: even when this machine is itself a container, LocalStack runs as a host
  # process here and must keep its files under FILESYSTEM_ROOT, not in /etc/localstack or /tmp.
  # TZ=UTC, as in its container and on AWS: LocalStack stamps S3 events with local time and a "Z",
  # so on a machine in another time zone every S3 event time would be off by hours.
  mkdir -p "$FILESYSTEM_ROOT/etc/localstack/init"
  ln -sfn "$ROOT/init" "$FILESYSTEM_ROOT/etc/localstack/init/ready.d"
  local dns_address=0 dns_upstream=${DNS_SERVER:-}  # 0: off (an empty value would mean 0.0.0.0:53)
  if [[ -n $LOCALSTACK_DNS_PORT ]]; then
    dns_address=127.0.0.1
    # Other names go to this machine's resolver. Named here because LocalStack would otherwise
    # probe for one by resolving localstack.cloud, and start no DNS server at all when offline.
    [[ -n $dns_upstream ]] || dns_upstream=$(awk '$1 == "nameserver" {print $2; exit}' /etc/resolv.conf 2>/dev/null)
    dns_upstream=${dns_upstream:-127.0.0.53}
  fi
  : >"$LOG_FILE"
  check_host_localstack_version
  say "Starting LocalStack $LOCALSTACK_VERSION in host mode (no Docker) on port $PORT; log: ${LOG_FILE#"$ROOT"/}"
  env \
    PATH="$VENV/bin:$PATH" \
    GATEWAY_LISTEN="127.0.0.1:$PORT" \
    LOCALSTACK_HOST="localhost:$PORT" \
    FILESYSTEM_ROOT="$FILESYSTEM_ROOT" \
    OVERRIDE_IN_DOCKER=0 \
    TZ=UTC \
    SERVICES="$ALL_SERVICES" \
    DNS_ADDRESS="$dns_address" DNS_PORT="${LOCALSTACK_DNS_PORT:-53}" DNS_SERVER="$dns_upstream" \
    SKIP_SSL_CERT_DOWNLOAD=1 \
    DISABLE_EVENTS=1 \
    SQS_ENDPOINT_STRATEGY=path \
    LAMBDA_RUNTIME_EXECUTOR=host-process \
    PROVIDER_OVERRIDE_DYNAMODB=moto \
    LAMBDA_RETRY_BASE_DELAY="$LAMBDA_RETRY_BASE_DELAY" \
    IN_MEMORY_CLIENT="$IN_MEMORY_CLIENT" \
    PIPELINE_ENDPOINT="$ENDPOINT" \
    HOSTMODE_LAMBDA_RUNTIME_DIR="$RUNTIME_DIR" \
    PIPELINE_ROOT="$ROOT" \
    PIPELINE_PYTHON="$VENV/bin/python" \
    setsid "$VENV/bin/python" -m localstack.runtime.main >>"$LOG_FILE" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  echo host >"$MODE_FILE"
}

start_docker() {
  say "Starting LocalStack in Docker (${LOCALSTACK_IMAGE:-localstack/localstack:$LOCALSTACK_VERSION}) on port $PORT"
  echo docker >"$MODE_FILE"
  compose up --detach --wait --wait-timeout "$STARTUP_TIMEOUT"
}

wait_until_ready() {
  local pid_arg=()
  [[ $(recorded_mode) == host ]] && pid_arg=(--pid "$(cat "$PID_FILE")")
  "$VENV/bin/python" scripts/emulator_ready.py --endpoint "$ENDPOINT" --timeout "$STARTUP_TIMEOUT" \
    --log "$LOG_FILE" "${pid_arg[@]}"
}

cmd_up() {
  mkdir -p "$STATE_DIR"
  ensure_venv
  if is_running; then
    say "The emulator is already running ($(recorded_mode) mode) at $ENDPOINT"
    return 0
  fi
  if port_in_use; then
    die "port $PORT is taken by another process, so LocalStack cannot listen on it.
$(describe_port_owner)
  Stop that process (another LocalStack? 'docker ps' / 'localstack stop') and run 'make up' again,
  or run this checkout's emulator on another port: export LOCALSTACK_PORT=4599, then make up"
  fi
  local mode
  mode=$(choose_mode)
  if [[ $mode == docker && ${HOT_RELOAD:-} == 1 ]]; then
    # LocalStack's Docker executor mounts the code directory only; this project keeps the
    # dependencies apart, so the functions could not import them (README: hot reload).
    die "HOT_RELOAD=1 is for host mode (EMULATOR=host); in Docker mode use make deploy after an edit"
  fi
  if [[ $mode == host && -n $LOCALSTACK_DNS_PORT ]] && ! dns_port_free; then
    # LocalStack would otherwise try to start its DNS server with sudo.
    die "LOCALSTACK_DNS_PORT=$LOCALSTACK_DNS_PORT is taken on 127.0.0.1; choose another port or leave it empty"
  fi
  "start_$mode"
  if ! wait_until_ready; then
    if [[ $mode == docker ]]; then compose logs --tail 50 localstack >&2 || true; fi
    cmd_down >&2
    die "the emulator did not become ready; see above (full log: make logs)"
  fi
  say "Emulator ready ($mode mode): AWS_ENDPOINT_URL=$ENDPOINT (region $AWS_DEFAULT_REGION, credentials test/test)"
}

cmd_down() {
  case $(recorded_mode) in
    host)
      local pid
      if pid=$(host_pid); then
        say "Stopping LocalStack (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
          say "LocalStack did not stop within 30 s; killing its process group"
          kill -KILL -- "-$pid" 2>/dev/null || true
        fi
      else
        say "The emulator is not running"
      fi
      ;;
    docker) compose down --volumes ;;
    *) say "The emulator is not running" ;;
  esac
  rm -f "$PID_FILE" "$MODE_FILE"
  # Host mode's unzipped code and execution environments (LocalStack clears them itself when it
  # stops normally; not after a kill -9). The code directories are read-only for the functions.
  if [[ -d $HOSTMODE_DIR ]]; then
    chmod -R u+w "$HOSTMODE_DIR" 2>/dev/null || true
    rm -rf "$HOSTMODE_DIR"
  fi
}

cmd_status() {
  if ! is_running; then
    say "The emulator is not running (start it with: make up)"
    return 3
  fi
  local detail=""
  [[ $(recorded_mode) == host ]] && detail=", pid $(host_pid)"
  say "The emulator is running in $(recorded_mode) mode$detail at $ENDPOINT"
  "$VENV/bin/python" scripts/emulator_ready.py --endpoint "$ENDPOINT" --status
}

cmd_logs() {
  case $(recorded_mode) in
    docker) compose logs --tail 200 localstack ;;
    *)
      if [[ -f $LOG_FILE ]]; then
        tail -n 200 "$LOG_FILE"
      else
        say "No emulator log yet (start it with: make up)"
      fi
      ;;
  esac
}

case ${1:-} in
  venv) ensure_venv && ensure_lambda_runtime ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  logs) cmd_logs ;;
  *) die "usage: $0 venv|up|down|status|logs" ;;
esac
