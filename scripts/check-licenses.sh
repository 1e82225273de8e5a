#!/usr/bin/env bash
# bun run check:licenses [--start <dir>]: fails when an installed dependency, production or
# development, carries a licence outside the allow-list (license-checker-rseidelsohn, pinned in
# package.json). The service itself is private and UNLICENSED, so private packages are left out.
#
# Allowed: permissive licences (MIT, ISC, Apache-2.0, BSD-2/3-Clause, 0BSD, BlueOak-1.0.0) and, for
# data-only packages (caniuse-lite, spdx-exceptions, spdx-license-ids), CC0-1.0, CC-BY-3.0 and CC-BY-4.0,
# which ask for attribution only. Anything else (GPL, LGPL, AGPL, SSPL, unknown) needs a decision
# before it is added here.
set -euo pipefail
cd "$(dirname "$0")/.."

allowed="MIT;ISC;Apache-2.0;BSD-2-Clause;BSD-3-Clause;0BSD;BlueOak-1.0.0;CC0-1.0;CC-BY-3.0;CC-BY-4.0"
# Under Bun, so no Node is needed.
exec bun node_modules/license-checker-rseidelsohn/bin/license-checker-rseidelsohn.js --excludePrivatePackages --summary --onlyAllow "$allowed" "$@"
