#!/bin/sh
# The token flow against the docker-compose.yml stack, with curl only:
#   docker compose run --rm demo                       (inside the stack)
#   API_KEY=local-demo-apikey-test-user-001 sh scripts/compose-demo.sh   (from the host)
# With CLIENT_ID and CLIENT_SECRET (an example consumer's basic-auth credential) it also asks for a token
# the OAuth 2.0 way: POST /tokens, client credentials as HTTP Basic, grant_type=client_credentials.
# Exits non-zero as soon as Kong or the service answers something other than what the flow expects.
set -eu

KONG="${KONG_PROXY_URL:-http://localhost:8000}"
API_KEY="${API_KEY:?set API_KEY to an example consumer API key (see docker-compose.yml)}"

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }
# Prints the body, then the status code on the last line.
call() { curl -sS --max-time 10 -w '\n%{http_code}' "$@"; }
status_of() { printf '%s\n' "$1" | tail -n 1; }
body_of() { printf '%s\n' "$1" | sed '$d'; }

step "Waiting for Kong at ${KONG}"
tries=0
until curl -s -o /dev/null --max-time 2 "${KONG}/"; do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || fail "Kong did not answer within 60 s"
  sleep 1
done

step "1. GET /tokens without an API key: Kong's key-auth refuses it"
response=$(call "${KONG}/tokens")
body_of "$response"
[ "$(status_of "$response")" = "401" ] || fail "expected 401, got $(status_of "$response")"

step "2. GET /tokens with the API key: the service returns a JWT"
response=$(call -H "apikey: ${API_KEY}" "${KONG}/tokens")
body_of "$response"
[ "$(status_of "$response")" = "200" ] || fail "expected 200, got $(status_of "$response")"
token=$(body_of "$response" | sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')
[ -n "$token" ] || fail "no access_token in the response"

if [ -n "${CLIENT_ID:-}" ]; then
  step "2b. POST /tokens with the OAuth 2.0 client credentials: the same kind of JWT"
  response=$(call -u "${CLIENT_ID}:${CLIENT_SECRET:?set CLIENT_SECRET with CLIENT_ID}" -d grant_type=client_credentials "${KONG}/tokens")
  body_of "$response"
  [ "$(status_of "$response")" = "200" ] || fail "expected 200, got $(status_of "$response")"
  body_of "$response" | grep -q '"token_type":"Bearer"' || fail "no Bearer token in the response"
fi

step "3. GET /api with the JWT: Kong's jwt plugin accepts it and the upstream answers"
response=$(call -H "Authorization: Bearer ${token}" "${KONG}/api/")
body_of "$response"
[ "$(status_of "$response")" = "200" ] || fail "expected 200, got $(status_of "$response")"

step "4. GET /api without a token: refused"
response=$(call "${KONG}/api/")
body_of "$response"
[ "$(status_of "$response")" = "401" ] || fail "expected 401, got $(status_of "$response")"

printf '\nThe whole flow works: apikey -> /tokens -> JWT -> protected call.\n'
