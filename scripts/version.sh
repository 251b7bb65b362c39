#!/bin/sh
# The version of a build, one string for every artefact: INITOS_VERSION when set (a build
# outside git), else `git describe` of the tree (tag v*, commits since, hash; -dirty when
# tracked files differ), else 0.0.0-COMMITS-gHASH when there is no tag yet. os-release's
# VERSION_ID rules hold: lower case, digits, '.', '-' only.
set -eu
if [ -n "${INITOS_VERSION:-}" ]; then
  echo "$INITOS_VERSION"
  exit 0
fi
cd "$(dirname "$0")/.."
if described=$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null); then
  echo "${described#v}"
elif hash=$(git rev-parse --short=12 HEAD 2>/dev/null); then
  dirty=$(git diff --quiet HEAD -- 2>/dev/null || echo -dirty)
  echo "0.0.0-$(git rev-list --count HEAD)-g$hash$dirty"
else
  echo 0.0.0-unknown
fi
