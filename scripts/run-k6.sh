#!/usr/bin/env bash
# Runs one k6 suite: scripts/run-k6.sh <test/k6/...ts> [<result.json>] [needs-consumers: true|false]
#        scripts/run-k6.sh --info
#
# - loads .env (without overriding variables already set);
# - when the suite needs consumers and KONG_ADMIN_URL is set, creates the standard test consumers
#   (test/shared/test-consumers.ts) in that Kong if missing (GET, then POST), and hands their ids to
#   k6 as TEST_CONSUMER_ID_<n>/TEST_CONSUMER_USERNAME_<n>;
# - k6 sees only the K6_*, TARGET_* and TEST_CONSUMER_* variables: the Kong Admin token never
#   reaches a k6 script (none needs it: the suites send Kong's consumer headers to the service);
# - writes k6's end-of-test summary to test/results/k6/ (or the given path);
# - with K6_THRESHOLDS_NON_BLOCKING=true, crossed thresholds (k6 exit 99) are reported, not fatal.
set -euo pipefail
cd "$(dirname "$0")/.."

info() {
  cat <<'EOF'
k6 suites (bun run <script>; variables in test/k6/README.md):
  k6:smoke:health         GET /health                      no consumers needed
  k6:smoke:metrics        GET /metrics                     no consumers needed
  k6:smoke:openapi        GET /                            no consumers needed
  k6:smoke:all-endpoints  health + metrics + openapi       no consumers needed
  k6:smoke:tokens         GET /tokens, anonymous refused   provisions consumers
  k6:load                 70% tokens, 20% journey, 10% metrics, ramping VUs   provisions consumers
  k6:stress               stepped to K6_STRESS_PEAK_VUS, mostly tokens         provisions consumers
  k6:spike                baseline -> K6_SPIKE_TARGET_VUS -> baseline          provisions consumers
  k6:quick                smoke:health then smoke:tokens
  k6:full                 every smoke suite, then load, stress and spike
Results: test/results/k6/<suite>.json. Target: TARGET_PROTOCOL://TARGET_HOST:TARGET_PORT (http://localhost:3000).
EOF
}

if [ "${1:-}" = "--info" ] || [ $# -eq 0 ]; then
  info
  exit 0
fi

script="$1"
result="${2:-test/results/k6/$(basename "${script%.ts}").json}"
needs_consumers="${3:-false}"

[ -f "$script" ] || { echo "no such k6 script: $script" >&2; exit 2; }

if [ -f .env ]; then
  while IFS='=' read -r name value; do
    [[ "$name" =~ ^[A-Z_][A-Z0-9_]*$ ]] || continue
    [ -n "${!name+x}" ] && continue
    value="${value%\"}"; value="${value#\"}"
    export "$name=$value"
  done < <(grep -E '^[A-Z_][A-Z0-9_]*=' .env)
fi

if ! command -v k6 >/dev/null 2>&1; then
  echo "k6 is not installed (https://grafana.com/docs/k6/latest/set-up/install-k6/)." >&2
  echo "Here, 'bun run bench' is the load tool; the k6 suites are type-checked by 'bun run typecheck:k6'." >&2
  exit 127
fi

k6_env=()
while IFS='=' read -r name _; do
  k6_env+=(-e "${name}=${!name}")
done < <(env | grep -E '^(K6_|TARGET_|TEST_CONSUMER_)[A-Z0-9_]*=' || true)
# Provisioned ids come later on the command line and so take precedence.
if [ "$needs_consumers" = "true" ]; then
  if [ -n "${KONG_ADMIN_URL:-}" ]; then
    admin="${KONG_ADMIN_URL%/}"
    auth=()
    prefix=""
    if [ "${KONG_MODE:-API_GATEWAY}" = "KONNECT" ]; then
      prefix="/core-entities"
      [ -n "${KONG_ADMIN_TOKEN:-}" ] && auth=(-H "Authorization: Bearer ${KONG_ADMIN_TOKEN}")
    else
      [ -n "${KONG_ADMIN_TOKEN:-}" ] && auth=(-H "Kong-Admin-Token: ${KONG_ADMIN_TOKEN}")
    fi
    n=0
    # username custom_id, one per line; the anonymous consumer comes last and gets no number.
    while read -r username custom_id; do
      body="$(curl -sS -f "${auth[@]}" "${admin}${prefix}/consumers/${username}" 2>/dev/null || true)"
      if [ -z "$body" ]; then
        echo "Creating consumer ${username} in Kong"
        body="$(curl -sS -f "${auth[@]}" -X POST -H 'Content-Type: application/json' \
          -d "{\"username\":\"${username}\",\"custom_id\":\"${custom_id}\",\"tags\":[\"auth-service-test\"]}" \
          "${admin}${prefix}/consumers")" || { echo "cannot create consumer ${username}" >&2; exit 1; }
      fi
      id="$(printf '%s' "$body" | bun -e 'console.log(JSON.parse(await Bun.stdin.text()).id)')"
      if [ "$username" != "anonymous" ]; then
        n=$((n + 1))
        k6_env+=(-e "TEST_CONSUMER_ID_${n}=${id}" -e "TEST_CONSUMER_USERNAME_${n}=${username}")
      fi
    done < <(bun -e '
      import { ANONYMOUS_CONSUMER, TEST_CONSUMERS } from "./test/shared/test-consumers.ts";
      for (const c of [...TEST_CONSUMERS, ANONYMOUS_CONSUMER]) console.log(`${c.username} ${c.custom_id}`);')
    echo "Consumers ready in ${admin}${prefix}"
  else
    echo "KONG_ADMIN_URL is not set: assuming the consumers of test/shared/test-consumers.ts exist (bun run local seeds them)."
  fi
fi

mkdir -p "$(dirname "$result")"
status=0
k6 run --include-system-env-vars=false "${k6_env[@]}" --summary-export "$result" "$script" || status=$?
if [ "$status" -eq 99 ] && [ "${K6_THRESHOLDS_NON_BLOCKING:-false}" = "true" ]; then
  echo "Thresholds crossed (K6_THRESHOLDS_NON_BLOCKING=true: reported, not failing). Summary: $result"
  exit 0
fi
echo "Summary: $result"
exit "$status"
